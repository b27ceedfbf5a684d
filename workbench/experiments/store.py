"""The results store: an append-only JSON Lines file, safe to kill at any moment.

One self-contained JSON object per line, written with a single ``write``
and ``fsync``. A run killed at any point (even ``kill -9``) leaves at worst
one torn last line, which the next run cuts off before it resumes; every
complete line is a finished result. :func:`load_results` reads the store
as a table.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from ..errors import ExperimentWarning
from ..io import dumps, read_json_lines
from .settings import ExperimentError

#: How the result rows' format is versioned (bumped if a field changes meaning).
RESULTS_FORMAT = 1
#: Result column naming a clip's source recording (the manifest's ``recording`` column).
RECORDING_COLUMN = "recording"


class ResultsStore:
    """An append-only JSON Lines file of results, safe to kill at any moment.

    Opening it cuts off a torn last line (left by a writer killed mid-line)
    and takes a lock, so two runs cannot append to one store at once.
    Each :meth:`append` is one ``write`` of one complete line, then
    ``fsync``: a line is either wholly there or not at all.
    """

    def __init__(self, path, *, fsync: bool = True):
        self.path = Path(path)
        self.fsync = fsync
        self._fd: int | None = None
        self._lock = None
        self.repaired_bytes = 0

    # -- context -------------------------------------------------------------
    def __enter__(self) -> "ResultsStore":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> "ResultsStore":
        from filelock import FileLock, Timeout

        if self.path.is_dir():
            raise ExperimentError(f"results store {self.path} is a folder; give a file name such as {self.path / 'results.jsonl'}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path) + ".lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise ExperimentError(
                f"another run is writing to {self.path} (lock file {self.path}.lock); wait for it to finish, or use another results file"
            ) from None
        self._lock = lock
        self.repaired_bytes = _cut_torn_tail(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
        return self

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- rows ----------------------------------------------------------------
    def append(self, row: dict) -> None:
        """Write one result as one line, durably."""
        if self._fd is None:
            raise ExperimentError(f"results store {self.path} is not open")
        line = (dumps(row, separators=(",", ":")) + "\n").encode("utf-8")
        view = memoryview(line)
        while view:  # os.write may write less than asked (signals, pipes); finish the line
            view = view[os.write(self._fd, view) :]
        if self.fsync:
            os.fsync(self._fd)

    def rows(self) -> list[dict]:
        """Every complete row in the file."""
        return read_rows(self.path)

    def keys(self) -> set[str]:
        return {r["key"] for r in self.rows() if "key" in r}


def _cut_torn_tail(path: Path) -> int:
    """Truncate a partial last line; return how many bytes were cut."""
    if not path.is_file():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return 0
        # scan back for the last newline, a block at a time
        block, end = 65536, size
        while end > 0:
            start = max(0, end - block)
            f.seek(start)
            chunk = f.read(end - start)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            end = start
        else:
            keep = 0
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    return size - keep


def read_rows(path) -> list[dict]:
    """The rows of a results store (JSON Lines); a torn last line (a killed writer) is ignored."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(
            f"{path}: no results file here; run an experiment first (workbench.experiments.run or python -m workbench run CONFIG.yaml)"
        )
    rows = []
    for line in read_json_lines(path):
        if line.error is None:
            rows.append(line.value)
        elif line.complete:  # an incomplete last line is a write cut short: left out silently
            warnings.warn(
                f"{path}, line {line.number}: not a JSON object, skipped (was the file edited by hand?)", ExperimentWarning, stacklevel=2
            )
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
