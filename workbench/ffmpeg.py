"""FFmpeg on this machine: the binaries, TorchCodec's shared libraries, and how to install what is missing.

The workbench meets FFmpeg in three ways, and each fails differently:

* the ``ffmpeg`` and ``ffprobe`` **binaries** on PATH, run as programs by
  the ``ffmpeg`` decoder and the ``ffmpeg_*`` resamplers;
* **TorchCodec**, what ``torchaudio.load`` uses since torchaudio 2.9. It
  ships no FFmpeg of its own: importing it loads ``libtorchcodec``, which is
  linked against FFmpeg's *shared libraries* (libavcodec, libavformat...)
  and tries those of FFmpeg 8, 7, 6, 5 and 4 in turn. A static ``ffmpeg``
  executable on PATH does not provide them, so TorchCodec can fail to load
  on a machine where ``ffmpeg`` runs fine; its own message ("Could not load
  libtorchcodec", then a list of likely causes) does not say which to fix.
  :func:`explain_torchcodec_error` says it in one sentence, with the fix for
  this operating system;
* **PyAV**, which bundles its own FFmpeg and needs nothing installed.

Only the standard library is imported here; TorchCodec is imported inside
:func:`torchcodec_status`, when it is asked about.
"""

from __future__ import annotations

import platform
import shutil

from .errors import first_line, install_hint

#: What TorchCodec lacks when ``libtorchcodec`` cannot load, in words.
LIBTORCHCODEC_PROBLEM = "could not load libtorchcodec: the FFmpeg shared libraries it needs (libavcodec 4-8) are missing"

#: How to install FFmpeg's shared libraries where TorchCodec finds them, per operating system family.
_TORCHCODEC_FFMPEG_FIX = {
    "windows": 'conda install -c conda-forge "ffmpeg<8" in this environment (a static ffmpeg.exe on PATH is not enough)',
    "macos": 'brew install ffmpeg (or conda install -c conda-forge "ffmpeg<8")',
    "linux": 'sudo apt-get install ffmpeg (or conda install -c conda-forge "ffmpeg<8")',
}


def ffmpeg_binary() -> str | None:
    """Path of the ``ffmpeg`` executable on PATH, or ``None``."""
    return shutil.which("ffmpeg")


def ffprobe_binary() -> str | None:
    """Path of the ``ffprobe`` executable on PATH, or ``None``."""
    return shutil.which("ffprobe")


def os_family() -> str:
    """``"windows"``, ``"macos"``, ``"linux"`` or the lower-case system name: what install advice depends on."""
    system = platform.system()
    return {"Windows": "windows", "Darwin": "macos", "Linux": "linux"}.get(system, system.lower())


def torchcodec_ffmpeg_fix(family: str | None = None) -> str:
    """The command that installs FFmpeg's shared libraries for TorchCodec on ``family`` (default: this machine's)."""
    return _TORCHCODEC_FFMPEG_FIX.get(family or os_family(), _TORCHCODEC_FFMPEG_FIX["linux"])


def explain_torchcodec_error(exc: BaseException) -> str:
    """Turn TorchCodec's load failure into one sentence with the fix for this OS.

    Examples
    --------
    >>> explain_torchcodec_error(RuntimeError("Could not load libtorchcodec. Likely causes: ..."))  # doctest: +ELLIPSIS
    'Could not load libtorchcodec: the FFmpeg shared libraries it needs (libavcodec 4-8) are missing; install them: ...'
    """
    if "libtorchcodec" in str(exc):
        problem = LIBTORCHCODEC_PROBLEM[0].upper() + LIBTORCHCODEC_PROBLEM[1:]
        return f"{problem}; install them: {torchcodec_ffmpeg_fix()}. Other decoders are used meanwhile."
    return f"TorchCodec failed to load: {first_line(exc)}"


def torchcodec_status() -> tuple[bool, str]:
    """Whether TorchCodec's native libraries load, and the reason in plain words if not.

    Importing ``torchcodec`` is the check: it loads ``libtorchcodec`` and the
    FFmpeg libraries it finds, and exposes the FFmpeg major version it
    settled on as ``torchcodec.ffmpeg_major_version``.
    """
    try:
        import torchcodec
    except ImportError as exc:
        return False, f"torchcodec is not installed ({exc}); {install_hint('torchcodec')}"
    except Exception as exc:  # RuntimeError("Could not load libtorchcodec ...") and friends
        return False, explain_torchcodec_error(exc)
    try:
        ff = torchcodec_ffmpeg_versions().get("ffmpeg_version", "?")
    except Exception:  # pragma: no cover - a TorchCodec without the internal function
        ff = "?"
    return True, f"FFmpeg {getattr(torchcodec, 'ffmpeg_major_version', '?')} shared libraries ({ff})"


def torchcodec_ffmpeg_versions() -> dict:
    """Versions of the FFmpeg libraries TorchCodec loaded.

    ``{"ffmpeg_version": "5.1.6", "libavcodec": [59, 37, 100], ...}``.
    TorchCodec's public API gives only the major version
    (``torchcodec.ffmpeg_major_version``); the full versions come from its
    internal ``get_ffmpeg_library_versions``, asked here and nowhere else,
    so a TorchCodec release that moves it costs this detail only.

    Raises
    ------
    Exception
        Whatever importing TorchCodec raises; ``AttributeError`` when this
        TorchCodec has no such function.
    """
    import torchcodec

    return dict(torchcodec._core.get_ffmpeg_library_versions())
