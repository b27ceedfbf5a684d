"""The results store: an append-only JSON Lines file, safe to kill at any moment.

One self-contained JSON object per line, written with a single ``write``
and ``fsync``. A run killed at any point (even ``kill -9``) leaves at worst
one torn last line, which the next run cuts off before it resumes; every
complete line is a finished result. Lines that are not result rows (edited
by hand, damaged) are skipped, counted and reported, and never rewritten.
:func:`load_results` reads the store as a table.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..errors import ExperimentWarning
from ..io import dumps, read_json_lines
from .settings import ExperimentError

#: How the result rows' format is versioned (bumped if a field changes meaning).
RESULTS_FORMAT = 1
#: Result column naming a clip's source recording (the manifest's ``recording`` column).
RECORDING_COLUMN = "recording"
#: Suffixes of a results store: an existing file with another is not appended to unless forced.
RESULTS_SUFFIXES = (".jsonl", ".ndjson")


class ResultsStore:
    """An append-only JSON Lines file of results, safe to kill at any moment.

    Opening it takes two locks on the real file (symbolic links and ``..``
    resolved): a ``<file>.lock`` beside it, and (where the system has
    ``flock``) an OS lock on the store itself, which no other spelling of
    the path, hard links included, gets around. Two runs cannot append to
    one store at once. It then cuts off a torn last line (left by a writer
    killed mid-line); a last line that parses and lacks only its newline is
    kept and given one. Each :meth:`append` is one ``write`` of one
    complete line, then ``fsync``: a line is either wholly there or not at
    all; a failed write (a full disk) is taken back and raised as an
    :class:`ExperimentError`.
    """

    def __init__(self, path, *, fsync: bool = True):
        self.path = Path(path)
        self.fsync = fsync
        self._fd: int | None = None
        self._lock = None
        self.repaired_bytes = 0
        self.completed_line = False
        self.appended = 0

    # -- context -------------------------------------------------------------
    def __enter__(self) -> "ResultsStore":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _busy(self, lock_file) -> ExperimentError:
        return ExperimentError(
            f"another run is writing to {self.path} (lock file {lock_file}); wait for it to finish, or use another results file"
        )

    def open(self) -> "ResultsStore":
        import filelock

        if self.path.is_dir():
            raise ExperimentError(f"results store {self.path} is a folder; give a file name such as {self.path / 'results.jsonl'}")
        real = self.path.resolve()  # every spelling of the path (a link, "..") locks one file
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExperimentError(
                f"cannot create the folder of results store {self.path}: {exc.strerror or exc}; choose another path"
            ) from exc
        lock = filelock.FileLock(str(real) + ".lock")
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            raise self._busy(lock.lock_file) from None
        except OSError as exc:
            raise ExperimentError(
                f"cannot lock results store {self.path}: {exc.strerror or exc}; choose a folder you can write to"
            ) from exc
        try:
            fd = os.open(real, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
        except OSError as exc:
            lock.release()
            raise ExperimentError(f"cannot open results store {self.path}: {exc.strerror or exc}; choose a file you can write to") from exc
        try:
            # Windows locks are mandatory: one on the store would stop this very process reading it, so it is for flock only.
            if filelock.has_fcntl and not filelock.lock_descriptor(fd, blocking=False):
                raise self._busy(lock.lock_file)
            self.repaired_bytes, self.completed_line = _repair_tail(fd)
        except BaseException:
            os.close(fd)
            lock.release()
            raise
        self._fd, self._lock = fd, lock
        return self

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock on the store itself
            self._fd = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- rows ----------------------------------------------------------------
    def append(self, row: dict) -> None:
        """Write one result as one line, durably.

        Raises
        ------
        ExperimentError
            The store is not open, or the line could not be written (a full
            disk...): whatever part of it was written is taken back, and the
            rows appended before are kept.
        """
        if self._fd is None:
            raise ExperimentError(f"results store {self.path} is not open")
        line = (dumps(row, separators=(",", ":")) + "\n").encode("utf-8")
        start = os.fstat(self._fd).st_size
        try:
            view = memoryview(line)
            while view:  # os.write may write less than asked (signals, pipes); finish the line
                view = view[os.write(self._fd, view) :]
            if self.fsync:
                os.fsync(self._fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)  # no half line left behind
            raise ExperimentError(
                f"cannot write to results store {self.path}: {exc.strerror or exc}; the {self.appended} result(s) this run "
                "wrote before are kept: free some space (or fix the cause) and run the same command again to resume"
            ) from exc
        self.appended += 1

    def rows(self) -> list[dict]:
        """Every complete, well-formed row in the file (see :func:`read_rows`)."""
        return read_rows(self.path)

    def keys(self) -> set[str]:
        return {r["key"] for r in self.rows()}


def _read_at(fd: int, size: int, offset: int) -> bytes:
    """``size`` bytes of ``fd`` from ``offset`` (``os.pread`` is not everywhere; appends ignore the position)."""
    os.lseek(fd, offset, os.SEEK_SET)
    chunks = []
    while size > 0:
        chunk = os.read(fd, size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _repair_tail(fd: int) -> tuple[int, bool]:
    """Make the store end in a newline: (bytes cut, whether a newline was added).

    A last line without its newline is a write cut short when it does not
    parse and starts like a row (``{``): it is cut. One that parses (a row
    complete but for its newline) is kept, as is one that is not the start
    of a row (a line written by hand, read as unreadable and left alone):
    a newline is added so the next row starts on a line of its own.
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return 0, False
    if _read_at(fd, 1, size - 1) == b"\n":
        return 0, False
    # scan back for the last newline, a block at a time
    block, end, keep = 65536, size, 0
    while end > 0:
        start = max(0, end - block)
        nl = _read_at(fd, end - start, start).rfind(b"\n")
        if nl >= 0:
            keep = start + nl + 1
            break
        end = start
    tail = _read_at(fd, size - keep, keep)
    if tail.startswith(codecs.BOM_UTF8):
        tail = tail[len(codecs.BOM_UTF8) :]
    if not tail.strip():
        return 0, False
    try:
        json.loads(tail.decode("utf-8"))
        parses = True
    except ValueError:
        parses = False
    if parses or not tail.lstrip().startswith(b"{"):
        os.write(fd, b"\n")  # the descriptor appends
        os.fsync(fd)
        return 0, True
    os.ftruncate(fd, keep)
    os.fsync(fd)
    return size - keep, False


#: Result fields and the JSON types each may hold (``None`` is always allowed); a row breaking this is not read.
_FIELD_TYPES = {
    **dict.fromkeys(
        ("setting_id", "clip", "path", "error", "hypothesis", "metric", "clip_language", "reference", "decoded_as", RECORDING_COLUMN),
        (str,),
    ),
    **dict.fromkeys(("settings", "breakdown", "timings", "audio", "versions"), (dict,)),
    **dict.fromkeys(("error_rate", "lenient_error_rate"), (int, float)),
    **dict.fromkeys(("errors", "substitutions", "deletions", "insertions", "reference_length"), (int,)),
}
_JSON_NAMES = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false", type(None): "null"}


def _row_problem(value) -> str | None:
    """Why a parsed line is not a result row, or None when it is one."""
    if not isinstance(value, dict):
        return f"{_JSON_NAMES.get(type(value), type(value).__name__)}, not a result object"
    key = value.get("key")
    if not isinstance(key, str) or not key:
        return "no 'key'" if key is None else f"'key' is {_JSON_NAMES.get(type(key), type(key).__name__)}, not text"
    for name, types in _FIELD_TYPES.items():
        field_value = value.get(name)
        if field_value is None:
            continue
        if isinstance(field_value, bool) or not isinstance(field_value, types):
            wanted = " or ".join(dict.fromkeys(_JSON_NAMES[t] for t in types))
            return f"{name!r} is {_JSON_NAMES.get(type(field_value), type(field_value).__name__)}, not {wanted}"
    return None


class UnreadableLine(NamedTuple):
    """A line of a results store that is not a result row: left in the file as it is, and not read."""

    number: int
    reason: str


def scan_rows(path) -> tuple[list[dict], list[UnreadableLine]]:
    """The rows of a results store, and the lines that are not rows.

    A line that is not UTF-8, not JSON, not an object, or whose fields have
    the wrong types (``"key"`` not text, ``"settings"`` not an object,
    ``"error_rate"`` not a number...) is not read; it is listed with its
    reason and left in the file untouched. A torn last line (a killed
    writer) is left out silently.

    Raises
    ------
    ExperimentError
        No such file.
    """
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(
            f"{path}: no results file here; run an experiment first (workbench.experiments.run or python -m workbench run CONFIG.yaml)"
        )
    rows, unreadable = [], []
    for line in read_json_lines(path):
        if line.error is not None:
            if not line.complete:
                continue  # a write cut short: the next run cuts it off
            if isinstance(line.error, UnicodeDecodeError):
                reason = f"not UTF-8 text (byte 0x{line.error.object[line.error.start]:02x})"
            else:
                reason = "not JSON"
            unreadable.append(UnreadableLine(line.number, reason))
            continue
        problem = _row_problem(line.value)
        if problem is None:
            rows.append(line.value)
        else:
            unreadable.append(UnreadableLine(line.number, problem))
    return rows, unreadable


def describe_unreadable(path, unreadable: list[UnreadableLine], limit: int = 5) -> str:
    """One line naming the store's unreadable lines (the first ``limit``) and what to do."""
    shown = ", ".join(f"line {u.number} ({u.reason})" for u in unreadable[:limit])
    more = f" and {len(unreadable) - limit} more" if len(unreadable) > limit else ""
    return (
        f"{path}: {len(unreadable)} line(s) are not result rows and were skipped: {shown}{more}; "
        "they are left in the file as they are: fix or delete them by hand if they matter"
    )


def read_rows(path) -> list[dict]:
    """The rows of a results store (JSON Lines); lines that are not rows are skipped with one warning.

    See :func:`scan_rows` for what is skipped; a torn last line (a killed
    writer) is ignored silently.
    """
    rows, unreadable = scan_rows(path)
    if unreadable:
        warnings.warn(describe_unreadable(path, unreadable), ExperimentWarning, stacklevel=2)
    return rows


def load_results(results, *, include_errors: bool = False) -> pd.DataFrame:
    """An experiment's results store (JSON Lines, see :class:`ResultsStore`) as a table: one row per (clip, setting).

    Settings become columns (``resampler``, ``beam_size``...), as do the
    error causes and the timings; a row computed again (``retry_errors``)
    replaces the older one. ``recording`` is the manifest's source recording
    of the clip (``""`` when it named none; missing in results written
    before rows kept it).

    Parameters
    ----------
    results : path or DataFrame
    include_errors : bool
        Keep rows that failed (``error`` set, rates missing).

    Notes
    -----
    The benchmark harness's result files (one JSON object each) are read by
    :func:`workbench.benchmarks.load_harness_results`.
    """
    if isinstance(results, pd.DataFrame):
        frame = results
    else:
        rows = read_rows(results)
        if not rows:
            return pd.DataFrame()
        flat = []
        for r in rows:
            out = {k: v for k, v in r.items() if k not in ("settings", "breakdown", "timings", "versions", "audio")}
            out.update(r.get("settings") or {})
            out.update(r.get("breakdown") or {})
            out.update(r.get("timings") or {})
            out["versions"] = r.get("versions")
            flat.append(out)
        frame = pd.DataFrame(flat).drop_duplicates("key", keep="last")
    if not include_errors and "error" in frame:
        frame = frame[frame["error"].isna()]
    return frame.reset_index(drop=True)
