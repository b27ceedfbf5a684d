"""Writing files without ever leaving a partial one behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; move it into place only on success.

    If the block raises, the temporary file is removed and ``path`` is left
    as it was (absent, or its previous content).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix or target.suffix or ".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text(path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_wav(path, clip, subtype: str = "PCM_16") -> Path:
    """Write a :class:`~workbench.audio.Clip` as a WAV file, atomically.

    Samples are clipped to [-1, 1] before integer conversion; use
    ``subtype="FLOAT"`` to keep them exactly.
    """
    import soundfile as sf

    data = np.asarray(clip.samples, dtype=np.float32).T
    if subtype != "FLOAT":
        data = np.clip(data, -1.0, 1.0)
    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(str(tmp), data, clip.sample_rate, subtype=subtype, format="WAV")
    return Path(path)
