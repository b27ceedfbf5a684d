"""Writing files and folders without leaving a partial one behind, checking outputs before work starts.

Also the one JSON encoder and the one JSON Lines reader.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import json
import math
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np


def _file_id(path) -> tuple[int, int] | None:
    """(device, inode) of the file ``path`` leads to, or None when there is none."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def check_output(
    path, *, inputs=(), suffixes=(), force: bool = False, option: str = "the output", folder: bool = False, create: bool = True
) -> Path:
    """Check, before any work, that ``path`` can be written and that writing it destroys nothing.

    Refused, whatever ``force`` says: an output that is one of ``inputs``
    (however spelled: through ``..``, a symbolic link or a hard link), and a
    file where a folder is wanted or the other way round. Refused unless
    ``force``: an existing file whose suffix is not one of ``suffixes`` (the
    command's own kind of file; empty means any). Missing parent folders are
    created (with ``create=False``, nothing is: the nearest existing folder
    is checked instead); a folder that cannot be written in is reported.

    Parameters
    ----------
    path : str or Path
        The output file (or folder, with ``folder=True``).
    inputs : iterable of paths
        Files the command reads.
    suffixes : iterable of str
        Suffixes (with the dot, any case) of the files this command writes.
    force : bool
        Overwrite an existing file of another kind.
    option : str
        How the caller names this output in messages (``"--out"``, ``"out="``).
    folder : bool
        ``path`` is a folder to write into.
    create : bool
        Create missing folders now (False: leave the disk as it is, for a
        check made before work that may still fail for other reasons).

    Returns
    -------
    Path
        ``path``, absolute.

    Raises
    ------
    OutputError

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a.wav").write_bytes(b"RIFF")
    4
    >>> check_output(d / "b.wav", inputs=[d / "a.wav"]).name
    'b.wav'
    >>> check_output(d / "sub" / ".." / "a.wav", inputs=[d / "a.wav"])
    Traceback (most recent call last):
    ...
    workbench.errors.OutputError: ... is also an input of this command; choose another path for the output
    """
    from .errors import OutputError

    if "\0" in str(path):
        raise OutputError(f"{option} {str(path)!r} contains a NUL byte, which no file name can hold; choose another path")
    target = Path(path).expanduser().absolute()
    try:
        existing = _file_id(target.resolve())  # resolved: "missing/../a.wav" is a.wav once "missing" is created
    except (OSError, RuntimeError):  # a symbolic-link loop
        existing = None
    if existing is not None:  # only an existing file can be overwritten: compare it with each input, however spelled
        if any(_file_id(source) == existing for source in inputs):
            raise OutputError(f"{option} {path} is also an input of this command; choose another path for the output")
    if folder:
        if target.exists() and not target.is_dir():
            raise OutputError(f"{option} {path} is a file, not a folder; choose a folder for the output")
        place = target
    else:
        if target.is_dir():
            raise OutputError(f"{option} {path} is a folder; give a file name inside it (e.g. {target / 'out'}{next(iter(suffixes), '')})")
        wanted = {s.lower() for s in suffixes}
        if target.exists() and wanted and target.suffix.lower() not in wanted and not force:
            raise OutputError(
                f"{option} {path} already exists and is not a {'/'.join(sorted(wanted))} file; "
                "choose another path, or pass --force to overwrite it"
            )
        place = target.parent
    blocking = next((p for p in (place, *place.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise OutputError(f"{option} {path}: {blocking} is a file, not a folder; choose another path")
    if create:
        try:
            place.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {place} for {option} {path}: {exc.strerror or exc}; choose another path") from exc
    else:  # nothing is created yet: the nearest folder there is must take new files
        place = blocking if blocking is not None else place
    try:
        with tempfile.NamedTemporaryFile(dir=place, prefix=".workbench-write-check."):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write in {place} for {option} {path}: {exc.strerror or exc}; choose a folder you can write to") from exc
    return target


#: A temporary file left by a killed writer is removed by the next write of the same target once it is this old (seconds).
STALE_TEMP_SECONDS = 600
#: What marks the workbench's temporary files: ``.<target name>.<pid>.<random>.partial<suffix>``.
_TEMP_MARK = ".partial"


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; move it into place only on success.

    If the block raises, the temporary file is removed and ``path`` is left
    as it was (absent, or its previous content). The file gets the usual
    permissions (0666 less the umask), not the 0600 of a temporary file.

    The temporary file is named ``.<name>.<pid>.<random>.partial<suffix>``;
    one left behind by a killed writer (its process gone, or the file
    untouched for a day) is removed by a later write into the same folder
    once it is :data:`STALE_TEMP_SECONDS` old (see :func:`remove_stale_temps`).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_now_and_then(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=_TEMP_MARK + (suffix or target.suffix or ".tmp"), dir=target.parent
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (a permission error means it does)."""
    if pid == os.getpid() or os.name == "nt":  # on Windows os.kill(pid, 0) would end the process: assume it runs
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temps(path, *, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove the temporary files killed writes left in the folder of ``path``; return them.

    A temporary file of :func:`atomic_path` (``.<name>.<pid>.<random>.partial<suffix>``)
    is stale once it is ``older_than`` seconds old and its writer's process
    is gone, or once nothing has touched it for a day. A file of the older
    scheme (``.<stem>.<random><suffix>``, mode 0600, beside the ``<stem><suffix>``
    it was to replace, or named for ``path`` itself) carries no process id
    and is removed after a day. Files that cannot be removed are left alone.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> old = d / ".report.html.999999999.abcd1234.partial.html"
    >>> _ = old.write_text("half a report")
    >>> os.utime(old, (0, 0))
    >>> [p.name for p in remove_stale_temps(d / "report.html")]
    ['.report.html.999999999.abcd1234.partial.html']
    """
    import re
    import time

    target = Path(path)
    ours = re.compile(rf"\.(.+)\.(\d+)\.[a-z0-9_]+{re.escape(_TEMP_MARK)}(\.[^./]*)?")
    legacy = re.compile(r"\.(.+)\.[a-z0-9_]{8}(\.[^./]*)")
    now, day = time.time(), 86400.0
    removed = []
    try:
        with os.scandir(target.parent) as listing:
            hidden = [(entry.name, entry) for entry in listing if entry.name.startswith(".")]
    except OSError:
        return removed
    for name, entry in hidden:
        match = ours.fullmatch(name)
        old = None if match else legacy.fullmatch(name)
        if match is None and old is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        age = now - info.st_mtime
        if match is not None:
            stale = age >= older_than and (age >= day or not _process_alive(int(match.group(2))))
        else:
            replaced = old.group(1) + old.group(2)
            stale = (
                age >= max(older_than, day)
                and stat.S_IMODE(info.st_mode) == 0o600  # mkstemp's mode: never a file someone saved
                and (replaced == target.name or (target.parent / replaced).exists())
            )
        if stale:
            with contextlib.suppress(OSError):
                os.remove(entry.path)
                removed.append(Path(entry.path))
    return removed


#: When :func:`atomic_path` last looked for stale temporary files in each folder (``time.monotonic()``).
_LAST_SWEEP: dict[str, float] = {}


def _sweep_now_and_then(target: Path) -> None:
    """:func:`remove_stale_temps` for ``target``'s folder, at most once per :data:`STALE_TEMP_SECONDS` per folder.

    Writing thousands of clips into one folder must not list it thousands of times.
    """
    import time

    folder = os.path.abspath(target.parent)
    now = time.monotonic()
    last = _LAST_SWEEP.get(folder)
    if last is not None and now - last < STALE_TEMP_SECONDS:
        return
    _LAST_SWEEP[folder] = now
    remove_stale_temps(target)


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_mode() -> int:
    return 0o666 & ~_umask()


def normal_permissions(folder) -> None:
    """Give ``folder``, its subfolders and files the usual permissions.

    Temporary folders (``mkdtemp``) are created 0700 and some writers create
    files 0600; a folder moved into a shared cache should read like any
    other: 0777 and 0666 less the umask.
    """
    mask = _umask()
    os.chmod(folder, 0o777 & ~mask)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o777 & ~mask)
        for name in files:
            os.chmod(os.path.join(root, name), 0o666 & ~mask)


def replace_folder(new, target) -> None:
    """Rename the folder ``new`` to ``target``, replacing a folder already there.

    A previous ``target`` is first renamed aside and deleted only once
    ``new`` is in place; if that fails it is put back.
    """
    new, target = Path(new), Path(target)
    if not target.exists():
        os.replace(new, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.rmdir(old)
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path, suffix: str = ".partial"):
    """Yield a new empty folder beside ``path``; it becomes ``path`` only on success.

    The folder's content is written inside the block. When the block
    completes, the folder gets the usual permissions and replaces ``path``
    (see :func:`replace_folder`); if it raises, the folder is removed and
    ``path`` is left as it was (absent, or its previous content).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent))
    try:
        yield tmp
        normal_permissions(tmp)
        replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


#: Audio files the workbench writes, by suffix: the container soundfile writes for each.
AUDIO_OUTPUTS = {".wav": "WAV", ".wave": "WAV", ".flac": "FLAC"}


#: Frames written per block by :func:`write_wav` (a block at a time is converted and clipped).
WRITE_BLOCK_FRAMES = 1 << 20


def write_wav(path, clip, subtype: str = "PCM_16", format: str = "WAV") -> Path:
    """Write a :class:`~workbench.audio.Clip` as a WAV file (or ``format="FLAC"``), atomically.

    Samples are clipped to [-1, 1] before integer conversion; use
    ``subtype="FLOAT"`` (WAV only) to keep them exactly. The clip is written
    block by block, so a long one is never copied whole.
    """
    import soundfile as sf

    samples = clip.samples
    with atomic_path(path, suffix=f".{format.lower()}") as tmp:
        with sf.SoundFile(str(tmp), "w", clip.sample_rate, samples.shape[0], subtype=subtype, format=format) as out:
            for start in range(0, samples.shape[1], WRITE_BLOCK_FRAMES):
                block = np.asarray(samples[:, start : start + WRITE_BLOCK_FRAMES], dtype=np.float32).T
                out.write(block if subtype == "FLOAT" else np.clip(block, -1.0, 1.0))
    return Path(path)


def to_jsonable(value):
    """``value`` as plain JSON types: the workbench's one JSON encoder.

    Dicts (keys made strings), lists, tuples and sets recurse; numpy scalars
    become Python numbers; NaN and infinities (JSON has none; -inf dB is
    digital silence) become ``None``; paths and any other object become
    strings; dataclasses become dicts.

    Examples
    --------
    >>> to_jsonable({"cer": float("nan"), "peak_db": float("-inf"), "rate": np.int64(16000), "n": (1, 2)})
    {'cer': None, 'peak_db': None, 'rate': 16000, 'n': [1, 2]}
    >>> to_jsonable(Path("a") / "b.wav")
    'a/b.wav'
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, Path):
        return str(value)
    return str(value)


def dumps(value, **kwargs) -> str:
    """``json.dumps`` of :func:`to_jsonable` (non-ASCII kept, never a bare ``NaN``).

    Examples
    --------
    >>> dumps({"text": "佢哋", "cer": float("inf")})
    '{"text": "佢哋", "cer": null}'
    """
    kwargs.setdefault("ensure_ascii", False)
    return json.dumps(to_jsonable(value), allow_nan=False, **kwargs)


class JsonLine(NamedTuple):
    """One non-blank line of a JSON Lines text, parsed."""

    number: int
    """The line's number, from 1."""
    value: object
    """The parsed value; ``None`` when the line is not JSON."""
    error: ValueError | None
    """Why the line is not JSON (a ``json.JSONDecodeError``, or a ``UnicodeDecodeError`` for bytes that are not UTF-8), or ``None``."""
    complete: bool
    """False for a last line with no newline after it (possibly a write cut short)."""


def parse_json_lines(text: str | bytes) -> Iterator[JsonLine]:
    """Each non-blank line of the JSON Lines ``text``: its number and its value or the error parsing it.

    Lines end at ``"\\n"`` only (a JSON string may hold other line
    separators, such as U+2028, unescaped); a ``"\\r"`` before it is
    whitespace to JSON. Given bytes, each line is decoded as UTF-8 on its
    own (a byte-order mark at the start is skipped), so one line that is
    not UTF-8 is one line in error, not a whole file unread. What to do
    with a line that is not JSON is the caller's choice.

    Examples
    --------
    >>> [(line.number, line.value, line.complete) for line in parse_json_lines('{"a": 1}\\n\\n[2]\\n3')]
    [(1, {'a': 1}, True), (3, [2], True), (4, 3, False)]
    >>> bad = next(parse_json_lines('{"a": '))
    >>> bad.value, type(bad.error).__name__, bad.complete
    (None, 'JSONDecodeError', False)
    >>> [(line.number, type(line.error).__name__) for line in parse_json_lines(b'{"a": 1}\\n\\xff\\n')]
    [(1, 'NoneType'), (2, 'UnicodeDecodeError')]
    """
    if isinstance(text, (bytes, bytearray)):
        data = bytes(text)
        lines = (data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data).split(b"\n")
    else:
        lines = text.split("\n")
    last = len(lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            if isinstance(line, bytes):
                line = line.decode("utf-8")
            yield JsonLine(number, json.loads(line), None, number < last)
        except ValueError as exc:  # json.JSONDecodeError, UnicodeDecodeError
            yield JsonLine(number, None, exc, number < last)


def read_json_lines(path, encoding: str = "utf-8-sig") -> Iterator[JsonLine]:
    """Each non-blank line of the JSON Lines file ``path``, as :func:`parse_json_lines` gives it.

    The file is read whole, at once, so the lines come from one state of it
    and a missing file raises here. In UTF-8 (the default; a byte-order
    mark is skipped) a line that is not UTF-8 is a line in error.
    """
    if encoding.lower().replace("_", "-") in ("utf-8", "utf-8-sig", "utf8"):
        return parse_json_lines(Path(path).read_bytes())
    return parse_json_lines(Path(path).read_text(encoding=encoding))
