"""Experiments: every clip under every setting of a grid, kept as it is computed.

A single clip answers "what happened here?"; an experiment answers "how
often, how much, and how fast?". :func:`run` transcribes and scores every
(clip × setting) of a grid over decoder, channel handling, resampler, model,
engine, language and decoding options, and appends each result to a results
store the moment it exists.

The store is JSON Lines: one self-contained JSON object per line, written
with a single ``write`` and ``fsync``. A run killed at any point (even
``kill -9``) leaves at worst one torn last line, which the next run cuts off
before it resumes; every complete line is a finished result. Parquet would
read faster, but a Parquet file cannot be appended to one row at a time:
each result would mean rewriting the file or adding a file per row. Tables
come from :func:`load_results` (pandas), and Parquet is one
``DataFrame.to_parquet`` away.

Every row is keyed by its clip and its *setting id* (a hash of every setting
with defaults filled in), so a resumed run skips exactly what is done and a
changed setting is a new row, never an overwrite.

:func:`summarise` gives per-setting mean error rates with bootstrap
confidence intervals; :func:`compare` tests whether two settings really
differ on the same clips (paired bootstrap and sign-flip permutation test).

Several clips may be variants of one recording (the same speech at 44.1 kHz,
at 48 kHz in stereo, with added noise...). They are not independent: a
model that stumbles on one speaker stumbles on every variant. A manifest's
optional ``recording`` column names each clip's source recording; every
result row keeps it, and when every row names one the statistics work on
recordings, not files: per-clip values (or paired differences) are averaged
within each recording, the bootstrap resamples recordings and the sign-flip
test flips recordings. An exact two-sided sign-flip test over ``n``
independent units can never give a p-value below ``2 / 2**n``, so with five
recordings or fewer no difference, however large, reaches p < 0.05;
:meth:`Comparison.verdict` says so rather than "not distinguishable".

Examples
--------
>>> from workbench import datasets, experiments
>>> exp = experiments.run(datasets.bundled(), {"resampler": ["soxr_hq", "naive_decimation"]},
...                       results="results/resamplers.jsonl")            # doctest: +SKIP
>>> experiments.summarise(exp.results)                                  # doctest: +SKIP
>>> experiments.compare(exp.results, {"resampler": "soxr_hq"}, {"resampler": "naive_decimation"})  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import socket
import time
import warnings
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ExperimentWarning, WorkbenchError

#: How the result rows' format is versioned (bumped if a field changes meaning).
RESULTS_FORMAT = 1
#: Settings of the audio path, applied before the model sees the audio.
AUDIO_SETTINGS = ("decoder", "channel", "resampler")
#: Default grid values that are not transcription options.
BASE_DEFAULTS = {"decoder": "auto", "channel": "mean", "model": "embedded", "engine": "faster-whisper", "language": "manifest"}
#: Transcription options an experiment may vary (see :class:`~workbench.options.TranscriptionOptions`).
OPTION_SETTINGS = (
    "task",
    "beam_size",
    "temperature",
    "max_new_tokens",
    "chunk_length_s",
    "batch_size",
    "timestamps",
    "initial_prompt",
    "device",
    "dtype",
    "compute_type",
    "language_fallback",
    "temperature_increment",
    "compression_ratio_threshold",
    "log_prob_threshold",
    "no_speech_threshold",
    "condition_on_previous_text",
    "vad_filter",
    "seed",
)
#: Experiment defaults that differ from a single transcription's: no timestamps
#: (nothing scores them), and a recorded ``zh`` fallback when a model has no Cantonese.
EXPERIMENT_OPTION_DEFAULTS = {"timestamps": "none", "language_fallback": True}
#: ``language`` value meaning "each clip's own language from the manifest".
MANIFEST_LANGUAGE = "manifest"
#: Clips per Ray work item: small enough that results stream back steadily.
RAY_BATCH = 4
#: Bootstrap resamples for confidence intervals.
BOOTSTRAP_RESAMPLES = 9999
#: Confidence level of the intervals.
CONFIDENCE = 0.95
#: Result column naming a clip's source recording (the manifest's ``recording`` column).
RECORDING_COLUMN = "recording"
#: Paired differences (or per-recording mean differences) this close to zero count as ties.
TIE_TOLERANCE = 1e-12


class ExperimentError(WorkbenchError, ValueError):
    """An experiment cannot run as configured (grid, dataset, results store)."""


# --------------------------------------------------------------------------
# Settings and the grid
# --------------------------------------------------------------------------


def _option_defaults() -> dict:
    from .options import TranscriptionOptions

    defaults = {f.name: f.default for f in fields(TranscriptionOptions) if f.name in OPTION_SETTINGS}
    return {**defaults, **EXPERIMENT_OPTION_DEFAULTS}


def setting_keys() -> tuple[str, ...]:
    """Every key a grid may vary, in the order settings are shown."""
    return (*AUDIO_SETTINGS, "model", "engine", "language", *OPTION_SETTINGS)


def default_setting() -> dict:
    """The setting used for every key a grid leaves out."""
    from .resampling import DEFAULT_RESAMPLER

    base = {**BASE_DEFAULTS, "resampler": DEFAULT_RESAMPLER, **_option_defaults()}
    return {k: base[k] for k in setting_keys()}


def setting_id(setting: dict) -> str:
    """A short, stable id for a complete setting (same values, same id, on any machine)."""
    blob = json.dumps(setting, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def _canonical(setting: dict, where: str) -> dict:
    """Fill defaults, normalise names and check every value once, before any work."""
    from .audio import BACKENDS
    from .languages import normalise_language
    from .options import ENGINES, OptionsError, TranscriptionOptions
    from .resampling import RESAMPLERS

    unknown = sorted(set(setting) - set(setting_keys()))
    if unknown:
        raise ExperimentError(f"{where}: unknown setting(s) {', '.join(unknown)}; an experiment can vary: {', '.join(setting_keys())}")
    full = {**default_setting(), **setting}
    if full["decoder"] not in ("auto", *BACKENDS):
        raise ExperimentError(f"{where}: decoder {full['decoder']!r} is not one of auto, {', '.join(BACKENDS)}")
    channel = full["channel"]
    if isinstance(channel, str) and channel.lstrip("-").isdigit():
        channel = int(channel)
    if not (isinstance(channel, int) or channel in ("mean", "first")):
        raise ExperimentError(f"{where}: channel {channel!r} must be 'mean', 'first' or a channel index (a whole number)")
    full["channel"] = channel
    if full["resampler"] not in RESAMPLERS:
        raise ExperimentError(f"{where}: unknown resampler {full['resampler']!r}; choose from: {', '.join(RESAMPLERS)}")
    if full["engine"] not in ENGINES:
        raise ExperimentError(f"{where}: unknown engine {full['engine']!r}; choose one of: {', '.join(ENGINES)}")
    if not isinstance(full["model"], str) or not full["model"]:
        raise ExperimentError(f"{where}: model must be a name ('embedded', a Hugging Face id, 'ms:<id>' or a folder); got {full['model']!r}")
    if full["language"] not in (MANIFEST_LANGUAGE, None):
        try:
            full["language"] = normalise_language(full["language"])
        except WorkbenchError as exc:
            raise ExperimentError(f"{where}: {exc}") from None
    try:
        TranscriptionOptions(**{k: full[k] for k in OPTION_SETTINGS})
    except (OptionsError, TypeError) as exc:
        raise ExperimentError(f"{where}: {exc}") from None
    return full


def expand_grid(grid: dict | list, fixed: dict | None = None) -> list[dict]:
    """Every setting of a grid, complete and checked.

    Parameters
    ----------
    grid : dict or list of dict
        ``{key: [values...]}``: the cartesian product of the lists (a single
        value counts as a one-item list), or an explicit list of settings.
        Keys are from :func:`setting_keys`.
    fixed : dict, optional
        Values applied to every setting (a grid value wins).

    Returns
    -------
    list of dict
        Complete settings (defaults filled in), without repeats, in grid order.

    Raises
    ------
    ExperimentError
        An unknown key or a value that cannot work, named with its setting.
    """
    fixed = dict(fixed or {})
    if isinstance(grid, dict):
        keys = list(grid)
        values = [v if isinstance(v, (list, tuple)) else [v] for v in grid.values()]
        empty = [k for k, v in zip(keys, values) if not v]
        if empty:
            raise ExperimentError(f"grid: {', '.join(empty)} has no values; give at least one value or leave the key out")
        raw = [dict(zip(keys, combo)) for combo in itertools.product(*values)]
    elif isinstance(grid, (list, tuple)) and all(isinstance(s, dict) for s in grid):
        raw = [dict(s) for s in grid]
    else:
        raise ExperimentError(f"grid must be a mapping of setting -> list of values, or a list of settings; got {type(grid).__name__}")
    out, seen = [], set()
    for i, setting in enumerate(raw):
        label = ", ".join(f"{k}={v}" for k, v in setting.items()) or "defaults"
        full = _canonical({**fixed, **setting}, f"grid setting {i + 1} ({label})")
        sid = setting_id(full)
        if sid not in seen:
            seen.add(sid)
            out.append(full)
    return out


# --------------------------------------------------------------------------
# The results store
# --------------------------------------------------------------------------


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
            raise ExperimentError(f"another run is writing to {self.path} (lock file {self.path}.lock); wait for it to finish, or use another results file") from None
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
        line = (json.dumps(_jsonable(row), ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
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
    """The rows of a results file; a torn last line (a killed writer) is ignored."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: no results file here; run an experiment first (workbench.experiments.run or python -m workbench run CONFIG.yaml)")
    rows = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    last = len(lines) - 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number - 1 == last:  # no newline after it: a write cut short
                continue
            warnings.warn(f"{path}, line {number}: not a JSON object, skipped (was the file edited by hand?)", ExperimentWarning, stacklevel=2)
    return rows


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


# --------------------------------------------------------------------------
# Work items
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One clip under one setting: the unit of work and of the results store."""

    key: str
    clip: str
    entry: object  # ManifestEntry
    setting: dict
    setting_id: str


def _clip_id(entry, root: Path | None) -> str:
    path = Path(entry.path)
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def make_tasks(entries, settings: list[dict], root: Path | None = None) -> list[Task]:
    """Every (clip × setting), ordered so each model loads once and each file decodes once per setting group."""
    tasks = []
    for setting in settings:
        sid = setting_id(setting)
        for entry in entries:
            clip = _clip_id(entry, root)
            blob = json.dumps([clip, entry.reference, entry.language, sid], ensure_ascii=False)
            key = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]
            tasks.append(Task(key, clip, entry, setting, sid))

    def order(t: Task):
        s = t.setting
        return (s["model"], s["engine"], str(s["device"]), s["dtype"], s["compute_type"], t.clip, s["decoder"], str(s["channel"]), s["resampler"])

    return sorted(tasks, key=order)


def _recording(entry) -> str:
    """The source recording a manifest entry names (its ``recording`` column), or ``""``."""
    value = (getattr(entry, "meta", None) or {}).get(RECORDING_COLUMN)
    return "" if value is None else str(value).strip()


class Runner:
    """Runs tasks in one process: engines stay loaded, each file is decoded once per decoder/channel."""

    def __init__(self):
        self._decoded: tuple | None = None
        self.host = socket.gethostname()

    def __call__(self, task: Task) -> dict:
        return self.run(task)

    def run(self, task: Task) -> dict:
        """Transcribe and score one task; a failure becomes a row with ``error`` set."""
        from .audio import load_audio
        from .scoring import CAUSES, score
        from .transcription import TranscriptionWarning, transcribe

        s, entry = task.setting, task.entry
        row = {
            "format": RESULTS_FORMAT,
            "key": task.key,
            "setting_id": task.setting_id,
            "clip": task.clip,
            "path": str(entry.path),
            "clip_language": entry.language,
            "reference": entry.reference,
            RECORDING_COLUMN: _recording(entry),
            "settings": s,
            "error": None,
        }
        timings = {}
        try:
            t0 = time.perf_counter()
            cache_key = (str(entry.path), s["decoder"], s["channel"])
            if self._decoded is None or self._decoded[0] != cache_key:
                self._decoded = None  # free the last file before decoding the next
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # decoder notes are recorded in the clip's info
                    self._decoded = (cache_key, load_audio(entry.path, backend=s["decoder"], channel=s["channel"]))
            clip = self._decoded[1]
            timings["decode_s"] = time.perf_counter() - t0
            language = (entry.language or None) if s["language"] == MANIFEST_LANGUAGE else s["language"]
            options = {k: s[k] for k in OPTION_SETTINGS}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TranscriptionWarning)  # fallbacks are recorded in the row
                t = transcribe(clip, model=s["model"], engine=s["engine"], language=language, resampler=s["resampler"], **options)
            timings.update(t.timings)
            sc = score(t.text, entry.reference, language=entry.language or t.language or "en")
            row.update(
                {
                    "hypothesis": t.text,
                    "decoded_as": t.language,
                    "metric": sc.metric,
                    "error_rate": sc.error_rate,
                    "lenient_error_rate": sc.lenient_error_rate,
                    "errors": sc.errors,
                    "substitutions": sc.substitutions,
                    "deletions": sc.deletions,
                    "insertions": sc.insertions,
                    "reference_length": sc.reference_length,
                    "breakdown": {c: sc.breakdown[c] for c in CAUSES},
                    "fallbacks": t.fallbacks,
                    "device": t.settings["device"],
                    "precision": t.settings["precision"],
                    "audio": {k: t.settings["audio"].get(k) for k in ("decoder", "sample_rate", "original_sample_rate", "channels", "channel_mode", "codec") if k in t.settings["audio"]},
                    "versions": t.versions,
                }
            )
        except (WorkbenchError, ValueError, OSError) as exc:  # the clip or setting cannot work: keep the reason, go on
            row["error"] = f"{type(exc).__name__}: {exc}"
        row["timings"] = timings
        row["host"] = self.host
        row["pid"] = os.getpid()
        row["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return row


# --------------------------------------------------------------------------
# Running an experiment
# --------------------------------------------------------------------------


@dataclass
class Experiment:
    """What a run did: where its results are and what it computed this time.

    Attributes
    ----------
    results : Path
        The JSON Lines store (see :func:`load_results`).
    settings : list of dict
        Every setting of the grid.
    total : int
        Clip × setting pairs in the experiment.
    computed, skipped, failed : int
        Rows computed by this run, found already done, and computed with an error.
    problems : list of str
        Clips left out of the dataset (missing or unreadable files).
    """

    results: Path
    settings: list[dict]
    total: int
    computed: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def frame(self) -> pd.DataFrame:
        """Every row of the store as a table (see :func:`load_results`)."""
        return load_results(self.results)

    def summary(self, **kwargs) -> pd.DataFrame:
        return summarise(self.results, **kwargs)

    def compare(self, a, b, **kwargs) -> "Comparison":
        return compare(self.results, a, b, **kwargs)


def _entries(dataset) -> tuple[list, list[str], Path | None]:
    from .datasets import Dataset, ManifestEntry, load_manifest

    if isinstance(dataset, (str, os.PathLike)):
        dataset = load_manifest(dataset)
    if isinstance(dataset, Dataset):
        return list(dataset.entries), list(dataset.problems), dataset.root
    entries = list(dataset)
    bad = [type(e).__name__ for e in entries if not isinstance(e, ManifestEntry)]
    if bad:
        raise ExperimentError(f"dataset must be a manifest path, a Dataset or ManifestEntry items; got {bad[0]}")
    parents = sorted({str(Path(e.path).resolve().parent) for e in entries})
    try:
        root = Path(os.path.commonpath(parents)) if parents else None  # clip ids stay portable across machines
    except ValueError:  # different drives (Windows): no common folder
        root = None
    return entries, [], root


def run(
    dataset,
    grid,
    results,
    *,
    fixed: dict | None = None,
    executor: str = "local",
    ray: dict | None = None,
    limit: int | None = None,
    retry_errors: bool = False,
    progress: bool = True,
) -> Experiment:
    """Run every clip of ``dataset`` under every setting of ``grid``; resume if ``results`` has some.

    Parameters
    ----------
    dataset : path, Dataset or list of ManifestEntry
        A manifest file (CSV, TSV or JSONL), or what an importer in
        :mod:`workbench.datasets` returned. Missing clips are reported once,
        all together, and the rest run. A ``recording`` column (optional)
        names each clip's source recording; every row keeps it (``""`` when
        absent) so that :func:`summarise` and :func:`compare` can count
        variants of one recording once.
    grid : dict or list of dict
        See :func:`expand_grid`.
    results : path
        The JSON Lines results store, created if absent. Rows already there
        (same clip, same setting) are skipped; others are appended as they finish.
    fixed : dict, optional
        Settings applied to the whole grid.
    executor : {"local", "ray"}
        ``"ray"`` spreads the work over a Ray cluster (``pip install "whisper-workbench[ray]"``);
        results still stream into the same store.
    ray : dict, optional
        For the Ray executor: ``address`` (None starts a local instance;
        ``"auto"`` or ``"ray://head:10001"`` joins a cluster), ``workers``,
        ``cpus_per_worker``, ``gpus_per_worker``, ``batch`` (tasks per work
        item), ``runtime_env``.
    limit : int, optional
        Use only the first ``limit`` clips (a quick look before the full run).
    retry_errors : bool
        Compute again the rows stored with an error (the newer row is the one read).
    progress : bool
        Show a progress bar with the time left.

    Returns
    -------
    Experiment
    """
    from tqdm.auto import tqdm

    if executor not in ("local", "ray"):
        raise ExperimentError(f"executor must be 'local' or 'ray'; got {executor!r}")
    entries, problems, root = _entries(dataset)
    unscored = [e for e in entries if not (e.reference or "").strip()]
    if unscored:
        problems = [*problems, *(f"{e.path}: no reference transcript, nothing to score against" for e in unscored)]
        entries = [e for e in entries if e not in unscored]
    if limit is not None:
        entries = entries[: int(limit)]
    if problems:
        warnings.warn(f"{len(problems)} clip(s) left out of the experiment:\n  " + "\n  ".join(problems), ExperimentWarning, stacklevel=2)
    if not entries:
        raise ExperimentError("the dataset has no usable clips" + (f" ({len(problems)} problem(s), listed above)" if problems else ""))
    settings = expand_grid(grid, fixed)
    tasks = make_tasks(entries, settings, root)
    exp = Experiment(Path(results), settings, len(tasks), problems=problems)
    with ResultsStore(results) as store:
        if store.repaired_bytes:
            warnings.warn(f"{store.path}: cut {store.repaired_bytes} bytes of a result that was being written when the last run stopped", ExperimentWarning, stacklevel=2)
        done = {}
        for r in store.rows():
            if "key" in r:
                done[r["key"]] = r.get("error") is None or done.get(r["key"], False)
        todo = [t for t in tasks if t.key not in done or (retry_errors and not done[t.key])]
        exp.skipped = len(tasks) - len(todo)
        bar = tqdm(total=len(tasks), initial=exp.skipped, desc="experiment", unit="run", disable=not progress, smoothing=0.1)

        def keep(row: dict) -> None:
            store.append(row)
            exp.computed += 1
            exp.failed += row.get("error") is not None
            bar.update()
            if row.get("error") is not None:
                bar.write(f"{row['clip']}: {row['error']}")

        try:
            if executor == "local":
                runner = Runner()
                for task in todo:
                    bar.set_postfix_str(f"{task.clip} {task.setting_id}", refresh=False)
                    keep(runner.run(task))
            else:
                _run_on_ray(todo, keep, **(ray or {}))
        except KeyboardInterrupt:
            exp.interrupted = True
            bar.write(f"interrupted: {exp.computed} new row(s) are saved in {store.path}; run the same command again to resume")
            raise
        finally:
            bar.close()
    return exp


def _run_on_ray(tasks: list[Task], keep, *, address=None, workers=None, cpus_per_worker=1, gpus_per_worker=0, batch=RAY_BATCH, runtime_env=None) -> None:
    """Spread tasks over Ray actors; each loads its models once and returns rows batch by batch."""
    if not tasks:
        return
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise ExperimentError('the Ray executor needs Ray: pip install "whisper-workbench[ray]"') from None
    if not ray.is_initialized():
        kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address is None:
            kwargs["num_cpus"] = int(workers * cpus_per_worker) if workers else None
        ray.init(address=address, runtime_env=runtime_env, **kwargs)
    if workers is None:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_worker))
    remote = ray.remote(num_cpus=cpus_per_worker, num_gpus=gpus_per_worker)(_RayWorker)
    actors = [remote.remote() for _ in range(min(workers, len(tasks)))]
    batches = [tasks[i : i + batch] for i in range(0, len(tasks), batch)]  # tasks are sorted: a batch shares model and clip
    pool = ActorPool(actors)
    try:
        for rows in pool.map_unordered(lambda actor, b: actor.run.remote(b), batches):
            for row in rows:
                keep(row)
    finally:
        for actor in actors:
            ray.kill(actor)


class _RayWorker:
    """A Ray actor: one process with its own loaded engines, running batches of tasks."""

    def __init__(self):
        self.runner = Runner()

    def run(self, tasks: list[Task]) -> list[dict]:
        return [self.runner.run(t) for t in tasks]


# --------------------------------------------------------------------------
# Configuration files
# --------------------------------------------------------------------------

#: Dataset layouts a configuration file can name, and the importer for each.
DATASET_LAYOUTS = ("manifest", "common_voice", "mdcc", "folder", "hf")


@dataclass
class ExperimentConfig:
    """An experiment as written in a YAML file (see :func:`load_config`)."""

    dataset: object
    grid: dict | list
    results: Path
    fixed: dict = field(default_factory=dict)
    executor: str = "local"
    ray: dict = field(default_factory=dict)
    limit: int | None = None
    source: Path | None = None

    def run(self, **overrides) -> Experiment:
        kwargs = {"fixed": self.fixed, "executor": self.executor, "ray": self.ray, "limit": self.limit, **overrides}
        return run(self.dataset, self.grid, self.results, **kwargs)


def load_config(path) -> ExperimentConfig:
    """Read an experiment from YAML; relative paths are relative to the file.

    Example file::

        dataset: ../data/manifest.csv          # or {common_voice: DIR, split: test}, {hf: ID, out: DIR, config: zh-HK}, ...
        results: results/resamplers.jsonl
        grid:
          resampler: [soxr_hq, torchaudio_default, naive_decimation, mislabelled]
          beam_size: [1, 5]
        fixed:
          engine: faster-whisper
          language: yue
        executor: local                        # or ray
        ray: {address: null, workers: 2}

    Raises
    ------
    ExperimentError
        Unreadable YAML, a missing key, or an unknown dataset layout.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: no such experiment file; see python -m workbench run --help for an example")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ExperimentError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ExperimentError(f"{path}: expected a mapping with dataset, results and grid")
    allowed = {"dataset", "grid", "results", "fixed", "executor", "ray", "limit"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ExperimentError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    missing = [k for k in ("dataset", "results") if not data.get(k)]
    if missing:
        raise ExperimentError(f"{path}: missing {', '.join(missing)} (see python -m workbench run --help for an example)")
    base = path.parent
    dataset = _dataset_from_config(data["dataset"], base, path)
    return ExperimentConfig(
        dataset=dataset,
        grid=data.get("grid") or {},
        results=base / data["results"],
        fixed=data.get("fixed") or {},
        executor=data.get("executor", "local"),
        ray=data.get("ray") or {},
        limit=data.get("limit"),
        source=path,
    )


def _dataset_from_config(spec, base: Path, where: Path):
    from . import datasets

    if isinstance(spec, str):
        return datasets.load_manifest(base / spec)
    if not isinstance(spec, dict):
        raise ExperimentError(f"{where}: dataset must be a manifest path or a mapping with one of: {', '.join(DATASET_LAYOUTS)}")
    spec = dict(spec)
    layouts = [k for k in DATASET_LAYOUTS if k in spec]
    if len(layouts) != 1:
        raise ExperimentError(f"{where}: dataset needs exactly one of {', '.join(DATASET_LAYOUTS)}; got {', '.join(spec) or 'nothing'}")
    layout = layouts[0]
    source = spec.pop(layout)
    if layout == "manifest":
        return datasets.load_manifest(base / source, **spec)
    if layout == "common_voice":
        return datasets.import_common_voice(base / source, **spec)
    if layout == "mdcc":
        return datasets.import_mdcc(base / source, **spec)
    if layout == "folder":
        return datasets.import_folder(base / source, **spec)
    if "out" not in spec:
        raise ExperimentError(f"{where}: a Hugging Face dataset needs out: a folder to keep its clips and manifest in")
    spec["out"] = base / spec["out"]
    local = base / str(source)
    return datasets.import_hf(local if local.exists() else source, **spec)  # a local snapshot, else a hub id


# --------------------------------------------------------------------------
# Reading results
# --------------------------------------------------------------------------


def load_results(results, *, include_errors: bool = False) -> pd.DataFrame:
    """The results store as a table: one row per (clip, setting).

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


def varying_settings(frame: pd.DataFrame) -> list[str]:
    """The setting columns that take more than one value in ``frame``."""
    return [k for k in setting_keys() if k in frame and frame[k].astype(str).nunique() > 1]


def _label(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    if not columns:
        return frame["setting_id"]
    return frame[columns].astype(str).agg(lambda r: ", ".join(f"{k}={v}" for k, v in zip(columns, r)), axis=1)


def bootstrap_ci(values, *, confidence: float = CONFIDENCE, n_resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Bootstrap confidence interval of the mean (BCa; percentile where BCa is undefined).

    One value gives no interval (NaN, NaN); identical values give a zero-width one.
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return (math.nan, math.nan)
    if np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BCa warns, then gives NaN, on degenerate resamples
        res = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=n_resamples, method="BCa", random_state=rng)
    low, high = res.confidence_interval
    if not (math.isfinite(low) and math.isfinite(high)):
        res = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=n_resamples, method="percentile", random_state=np.random.default_rng(seed))
        low, high = res.confidence_interval
    return float(low), float(high)


def min_sign_flip_p(n: int) -> float:
    """The smallest p-value an exact two-sided sign-flip test can give over ``n`` non-zero differences.

    Under "no difference" each of the ``2**n`` sign patterns is equally
    likely, and the observed one and its mirror image are the two most
    extreme: ``2 / 2**n`` (1 for ``n`` <= 1). Four differences give 0.125,
    five 0.0625: below six, no difference reaches p < 0.05, however large.
    """
    n = int(n)
    return 1.0 if n <= 1 else math.ldexp(1.0, 1 - n)


def units_needed(alpha: float = 1 - CONFIDENCE) -> int:
    """The fewest independent non-zero differences for which a sign-flip test can reach ``p < alpha`` (6 for 0.05)."""
    if not 0 < alpha <= 1:
        raise ExperimentError(f"significance level must be in (0, 1]; got {alpha!r}")
    n = 1
    while min_sign_flip_p(n) >= alpha:
        n += 1
    return n


def _named(values: pd.Series) -> np.ndarray:
    """Which values name something (not missing, not blank)."""
    return (values.notna() & (values.astype(str).str.strip() != "")).to_numpy()


def _grouping(frame: pd.DataFrame, group_by, where: str) -> str | None:
    """The column whose values group clips into independent units, or None (each clip its own unit)."""
    if group_by is None:
        if RECORDING_COLUMN not in frame or frame.empty:
            return None
        named = _named(frame[RECORDING_COLUMN])
        if named.all():
            return RECORDING_COLUMN
        if named.any():
            warnings.warn(
                f"{where}: {int((~named).sum())} of {len(frame)} result rows name no recording (rows written before the manifest had a "
                f"recording column?), so every clip counts as independent; to group by recording, fill the {RECORDING_COLUMN!r} column "
                "of load_results(...)'s table and pass the table",
                ExperimentWarning,
                stacklevel=3,
            )
        return None
    if group_by is False or group_by == "clip":
        return None
    if not isinstance(group_by, str) or not group_by:
        raise ExperimentError(f"{where}: group_by must be a column such as 'recording', 'clip' (each clip on its own) or None (by recording when every row names one); got {group_by!r}")
    if group_by not in frame:
        hint = " (results written from a manifest without a recording column have none)" if group_by == RECORDING_COLUMN else ""
        raise ExperimentError(f"{where}: cannot group by {group_by!r}: not a column of these results{hint}")
    named = _named(frame[group_by])
    if not named.all():
        raise ExperimentError(
            f"{where}: {int((~named).sum())} of {len(frame)} result rows have no {group_by!r} value; give every clip one "
            "(a clip that is its own recording can name itself), or pass group_by='clip' to count every clip as independent"
        )
    return group_by


def summarise(
    results,
    by=None,
    *,
    group_by=None,
    metric: str = "error_rate",
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Per setting: mean error rate over clips with a bootstrap confidence interval.

    Parameters
    ----------
    results : path or DataFrame
        A results store or :func:`load_results`' table.
    by : str or list of str, optional
        Setting columns to group by (others pooled). Default: each distinct
        setting, labelled by the settings that vary.
    group_by : str, optional
        A result column whose values mark clips that are not independent,
        such as ``"recording"`` (variants of one source recording). The
        clips of each group are averaged first; the mean is over groups and
        the bootstrap resamples groups, not files. Default: ``"recording"``
        when every row names one, else clip by clip (``"clip"`` asks for
        clip by clip explicitly).
    metric : str
        ``"error_rate"`` (strict CER/WER) or ``"lenient_error_rate"``.

    Returns
    -------
    pandas.DataFrame
        One row per group: the settings, ``clips``, ``groups`` (independent
        units the interval resampled: recordings, or clips), ``mean``,
        ``ci_low``, ``ci_high``, ``lenient_mean``, ``pooled`` (errors /
        reference units over all clips), ``rtf`` (mean real-time factor) and
        ``failed``; best first. ``attrs["grouped_by"]`` names the grouping
        column (None: clip by clip).
    """
    all_rows = load_results(results, include_errors=True)
    if all_rows.empty:
        raise ExperimentError("no results to summarise yet")
    frame = all_rows[all_rows["error"].isna()] if "error" in all_rows else all_rows
    if frame.empty:
        raise ExperimentError(f"every one of the {len(all_rows)} result(s) failed; see their error column (load_results(..., include_errors=True))")
    if metric not in frame:
        raise ExperimentError(f"no column {metric!r} in the results; use error_rate or lenient_error_rate")
    columns = [by] if isinstance(by, str) else list(by) if by else varying_settings(frame)
    unknown = [c for c in columns if c not in frame]
    if unknown:
        raise ExperimentError(f"cannot group by {', '.join(unknown)}: not a column of the results (settings: {', '.join(k for k in setting_keys() if k in frame)})")
    unit = _grouping(frame, group_by, "summarise")
    group_keys = columns if by else ["setting_id"]
    failed = all_rows[all_rows["error"].notna()].groupby(group_keys).size() if "error" in all_rows else pd.Series(dtype=int)
    out = []
    for key, g in frame.groupby(group_keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(group_keys, key))
        if not by:
            row.update({c: g[c].iloc[0] for c in columns})
        rates = g[list(dict.fromkeys([metric, "lenient_error_rate"]))]
        if unit is not None:
            rates = rates.groupby(g[unit].astype(str), sort=False).mean()
        low, high = bootstrap_ci(rates[metric], confidence=confidence, n_resamples=n_resamples, seed=seed)
        length = g["reference_length"].sum()
        row.update(
            {
                "metric": "/".join(sorted(set(g["metric"]))),
                "clips": int(g["clip"].nunique()),
                "groups": int(len(rates)),
                "mean": float(rates[metric].mean()),
                "ci_low": low,
                "ci_high": high,
                "lenient_mean": float(rates["lenient_error_rate"].mean()),
                "pooled": float(g["errors"].sum() / length) if length else math.nan,
                "rtf": float(g["real_time_factor"].mean()) if "real_time_factor" in g else math.nan,
                "failed": int(failed.get(key if len(key) > 1 else key[0], 0)),
            }
        )
        out.append(row)
    table = pd.DataFrame(out).sort_values("mean", kind="stable").reset_index(drop=True)
    table.attrs.update({"metric": metric, "confidence": confidence, "columns": columns, "grouped_by": unit})
    return table


@dataclass
class Comparison:
    """Two settings on the same clips: is the difference real?

    When clips are grouped (``grouped_by``, e.g. variants of one
    recording), the per-clip differences are averaged within each group
    first, and the means, the interval and the test are over groups: the
    independent units. Otherwise each clip is a unit.

    Attributes
    ----------
    a, b : str
        The settings compared, as labels.
    clips : int
        Clips both settings finished.
    mean_a, mean_b, mean_diff : float
        Mean rates and the mean of the paired differences (b − a), over
        units (groups, or clips).
    ci_low, ci_high : float
        Bootstrap confidence interval of ``mean_diff`` (resampling units;
        NaN from a single unit).
    p_value : float
        Sign-flip permutation test of "no difference" over the units with a
        non-zero difference (exact for up to 13 of them).
    wins, losses, ties : int
        Clips where b is better, worse, the same (a tie carries no sign information).
    per_clip : pandas.DataFrame
        ``clip, a, b, diff`` (and the grouping column when grouped).
    grouped_by : str or None
        The column that grouped clips (``"recording"``), or None: clip by clip.
    n_groups : int or None
        Groups with at least one paired clip (None when not grouped).
    n_units : int
        Independent units (groups, or clips) whose difference is not zero:
        the ones the sign-flip test can use.
    unit_ties : int
        Units whose difference is zero (for clips, the same as ``ties``).
    per_group : pandas.DataFrame or None
        ``<grouped_by>, clips, a, b, diff``: the group means (None when not grouped).
    min_p_value : float
        The smallest p-value the test could give with ``n_units``: ``2 / 2**n_units``.
    """

    a: str
    b: str
    metric: str
    confidence: float
    clips: int
    mean_a: float
    mean_b: float
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    wins: int
    losses: int
    ties: int
    per_clip: pd.DataFrame = field(repr=False)
    grouped_by: str | None = None
    n_groups: int | None = None
    n_units: int | None = None
    unit_ties: int | None = None
    per_group: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.n_units is None or self.unit_ties is None:
            units = self.per_group if self.per_group is not None else self.per_clip
            tied = np.abs(units["diff"].to_numpy(dtype=float)) <= TIE_TOLERANCE
            self.n_units, self.unit_ties = int((~tied).sum()), int(tied.sum())

    @property
    def alpha(self) -> float:
        """The significance level: 1 − confidence."""
        return 1 - self.confidence

    @property
    def min_p_value(self) -> float:
        """The smallest p-value an exact sign-flip test over ``n_units`` differences can give (see :func:`min_sign_flip_p`)."""
        return min_sign_flip_p(self.n_units)

    @property
    def too_few(self) -> bool:
        """True when no test on this many units could reach p < alpha, whatever the data."""
        return self.min_p_value >= self.alpha

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero and p < 1 − confidence."""
        return bool(self.clips >= 2 and (self.ci_low > 0 or self.ci_high < 0) and self.p_value < self.alpha)

    def _unit_names(self) -> tuple[str, str]:
        if self.grouped_by is None:
            return "clip", "clips"
        if self.grouped_by == RECORDING_COLUMN:
            return "recording", "recordings"
        return f"{self.grouped_by} group", f"{self.grouped_by} groups"

    def _evidence(self) -> str:
        one, many = self._unit_names()
        text = f"{self.clips} clips" + (f" from {self.n_groups} {one if self.n_groups == 1 else many}" if self.grouped_by is not None else "")
        if self.ties:
            text += f"; {self.ties} of {self.clips} clip pairs identical, carrying no sign information"
        if self.grouped_by is not None and self.unit_ties:
            text += f"; {self.unit_ties} of {self.n_groups} {many} with no net difference"
        return text

    def _interval(self) -> str:
        if not (math.isfinite(self.ci_low) and math.isfinite(self.ci_high)):
            return f"no {self.confidence:.0%} interval from a single {self._unit_names()[0]}"
        return f"{self.confidence:.0%} CI {self.ci_low:+.3f} to {self.ci_high:+.3f}"

    def verdict(self) -> str:
        """The comparison in one sentence, saying when the sample is too small for any test to decide."""
        if self.clips < 2:
            return f"only {self.clips} clip(s) in common: too few to tell"
        one, many = self._unit_names()
        evidence = self._evidence()
        if self.n_units == 0:
            if self.ties == self.clips:
                return f"{self.b} vs {self.a}: the same {self.metric} on every one of the {self.clips} clips: no difference to test"
            return f"{self.b} vs {self.a}: no {one} shows a net difference in {self.metric} ({evidence}): no difference to test"
        ci = self._interval()
        if self.significant:
            direction = "worse" if self.mean_diff > 0 else "better"
            return f"{self.b} is {direction} than {self.a} by {abs(self.mean_diff):.3f} {self.metric} ({ci}, p={self.p_value:.3g}, {evidence}): a real difference"
        if self.too_few:
            which = f"{many} with a difference" if self.unit_ties else many
            return (
                f"{self.b} vs {self.a}: too few independent {which} ({self.n_units}) for any test to reach p < {self.alpha:g}: "
                f"at least {units_needed(self.alpha)} are needed; the observed difference was {self.mean_diff:+.3f} {self.metric} ({ci}, {evidence})"
            )
        return f"{self.b} vs {self.a}: {self.mean_diff:+.3f} {self.metric} ({ci}, p={self.p_value:.3g}, {evidence}): not distinguishable from chance"

    def to_frame(self) -> pd.DataFrame:
        keys = (
            "a", "b", "metric", "clips", "mean_a", "mean_b", "mean_diff", "ci_low", "ci_high", "p_value", "wins", "losses", "ties",
            "grouped_by", "n_groups", "n_units", "unit_ties", "min_p_value",
        )  # fmt: skip
        return pd.DataFrame([{**{k: getattr(self, k) for k in keys}, "significant": self.significant}])

    def chart(self):
        """Per-clip rates under a (x) and b (y): points above the diagonal are clips b made worse."""
        return paired_chart(self)


def _select(frame: pd.DataFrame, which, name: str) -> tuple[pd.DataFrame, str]:
    if isinstance(which, str):
        if which in set(frame["setting_id"]):
            chosen = frame[frame["setting_id"] == which]
        else:
            try:
                which = dict(part.split("=", 1) for part in which.split(",") if part.strip())
            except ValueError:
                raise ExperimentError(f"setting {name} {which!r}: give a setting id or key=value[,key=value]") from None
    if isinstance(which, dict):
        unknown = [k for k in which if k not in frame]
        if unknown:
            raise ExperimentError(f"setting {name}: {', '.join(unknown)} is not a setting in these results (settings: {', '.join(k for k in setting_keys() if k in frame)})")
        mask = np.ones(len(frame), dtype=bool)
        for k, v in which.items():
            mask &= frame[k].astype(str).to_numpy() == str(v)
        chosen = frame[mask]
    elif not isinstance(which, str):
        raise ExperimentError(f"setting {name} must be a setting id, 'key=value,...' or a dict; got {type(which).__name__}")
    ids = list(dict.fromkeys(chosen["setting_id"]))
    varying = varying_settings(frame)
    if not ids:
        raise ExperimentError(f"setting {name} {which!r} matches no results; settings that vary here: {', '.join(varying) or 'none'}")
    if len(ids) > 1:
        labels = sorted(set(_label(chosen.drop_duplicates("setting_id"), varying)))
        raise ExperimentError(f"setting {name} {which!r} matches {len(ids)} settings; narrow it down: {'; '.join(labels)}")
    label = _label(chosen.iloc[:1], varying).iloc[0] if varying else ids[0]
    return chosen, label


def _sign_flip_p(x: np.ndarray, *, n_resamples: int, seed: int) -> float:
    """Two-sided sign-flip permutation test of "mean zero" (exact while 2**len(x) <= n_resamples)."""
    from scipy import stats

    if len(x) < 2:
        return 1.0
    res = stats.permutation_test(
        (x,), np.mean, permutation_type="samples", n_resamples=n_resamples, alternative="two-sided", random_state=np.random.default_rng(seed)
    )
    return float(res.pvalue)


def compare(
    results,
    a,
    b,
    *,
    group_by=None,
    metric: str = "error_rate",
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """Paired comparison of two settings on the clips both finished.

    Parameters
    ----------
    results : path or DataFrame
    a, b : str or dict
        A setting id, ``"key=value,key=value"`` or ``{key: value}`` that picks
        out exactly one setting, e.g. ``{"resampler": "soxr_hq"}``.
    group_by : str, optional
        A result column marking clips that are not independent, such as
        ``"recording"`` (the same speech at 44.1 kHz, at 48 kHz in stereo,
        with noise...). The paired differences are averaged within each
        group, and the bootstrap interval (resampling groups, not files) and
        the sign-flip test work on the group differences. Default:
        ``"recording"`` when every paired row names one, else clip by clip
        (``"clip"`` asks for clip by clip explicitly).
    metric : str
        ``"error_rate"`` or ``"lenient_error_rate"``.

    Returns
    -------
    Comparison
        Differences are b − a: positive means b has more errors. Its
        ``verdict()`` says when there are too few independent units for any
        test to reach significance (fewer than 6 at 95 %).

    Raises
    ------
    ExperimentError
        A setting that matches no results or several, no clips in common, an
        unknown ``group_by`` column, or a clip filed under different groups
        by the two settings.
    """
    frame = load_results(results)
    if frame.empty:
        raise ExperimentError("no finished results to compare")
    if metric not in frame:
        raise ExperimentError(f"no column {metric!r} in the results; use error_rate or lenient_error_rate")
    rows_a, label_a = _select(frame, a, "a")
    rows_b, label_b = _select(frame, b, "b")
    candidate = RECORDING_COLUMN if group_by is None else group_by if isinstance(group_by, str) and group_by not in ("clip", metric) else None
    extra = [candidate] if candidate is not None and candidate in frame else []
    paired = rows_a[["clip", metric, *extra]].merge(rows_b[["clip", metric, *extra]], on="clip", suffixes=("_a", "_b"))
    per_clip = pd.DataFrame({"clip": paired["clip"], "a": paired[f"{metric}_a"], "b": paired[f"{metric}_b"]})
    per_clip["diff"] = per_clip["b"] - per_clip["a"]
    n = len(per_clip)
    if n == 0:
        raise ExperimentError(f"settings {label_a!r} and {label_b!r} have no clips in common: nothing to pair")
    probe = pd.DataFrame({candidate: pd.concat([paired[f"{candidate}_a"], paired[f"{candidate}_b"]], ignore_index=True)}) if extra else pd.DataFrame(index=range(n))
    unit = _grouping(probe, group_by, "compare")
    per_group = None
    if unit is not None:
        ga, gb = paired[f"{unit}_a"].astype(str).str.strip(), paired[f"{unit}_b"].astype(str).str.strip()
        clash = paired.loc[ga != gb, "clip"]
        if len(clash):
            raise ExperimentError(
                f"compare: {len(clash)} clip(s) have a different {unit!r} under {label_a!r} and {label_b!r} (first: {clash.iloc[0]}, "
                f"{ga[ga != gb].iloc[0]!r} vs {gb[ga != gb].iloc[0]!r}); was the manifest changed between the runs?"
            )
        per_clip[unit] = ga.to_numpy()
        per_group = (
            per_clip.groupby(unit, sort=False).agg(clips=("clip", "size"), a=("a", "mean"), b=("b", "mean"), diff=("diff", "mean")).reset_index()
        )
    units = per_group if per_group is not None else per_clip
    u = units["diff"].to_numpy(dtype=float)
    tied = np.abs(u) <= TIE_TOLERANCE
    low, high = bootstrap_ci(u, confidence=confidence, n_resamples=n_resamples, seed=seed)
    p = _sign_flip_p(u[~tied], n_resamples=n_resamples, seed=seed)  # zeros carry no sign: leaving them out changes no exact p-value
    d = per_clip["diff"].to_numpy(dtype=float)
    return Comparison(
        a=label_a,
        b=label_b,
        metric=metric,
        confidence=confidence,
        clips=n,
        mean_a=float(units["a"].mean()),
        mean_b=float(units["b"].mean()),
        mean_diff=float(u.mean()),
        ci_low=low,
        ci_high=high,
        p_value=p,
        wins=int((d < -TIE_TOLERANCE).sum()),
        losses=int((d > TIE_TOLERANCE).sum()),
        ties=int((np.abs(d) <= TIE_TOLERANCE).sum()),
        per_clip=per_clip,
        grouped_by=unit,
        n_groups=None if per_group is None else len(per_group),
        n_units=int((~tied).sum()),
        unit_ties=int(tied.sum()),
        per_group=per_group,
    )


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------


def summary_chart(summary: pd.DataFrame, title: str | None = None):
    """Mean error rate per setting with its confidence interval, best first."""
    import plotly.graph_objects as go

    columns = summary.attrs.get("columns") or [c for c in setting_keys() if c in summary]
    labels = _label(summary, [c for c in columns if c in summary]) if columns else summary.get("setting_id")
    metric = "/".join(sorted(set(summary["metric"]))).upper() if "metric" in summary else "error rate"
    confidence = summary.attrs.get("confidence", CONFIDENCE)
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=summary["mean"],
            error_y=dict(type="data", symmetric=False, array=summary["ci_high"] - summary["mean"], arrayminus=summary["mean"] - summary["ci_low"]),
            customdata=np.stack([summary["clips"], summary["ci_low"], summary["ci_high"]], axis=1),
            hovertemplate="%{x}<br>mean %{y:.3f}<br>CI %{customdata[1]:.3f} to %{customdata[2]:.3f}<br>%{customdata[0]} clips<extra></extra>",
            marker_color="#4c78a8",
        )
    )
    fig.update_layout(
        title=title or f"Mean {metric} per setting, with {confidence:.0%} bootstrap confidence intervals",
        yaxis_title=f"mean {metric} per clip",
        xaxis_title="setting",
        height=440,
    )
    return fig


def paired_chart(comparison: Comparison):
    """Each clip's rate under setting a against setting b, with the no-difference line."""
    import plotly.graph_objects as go

    pc = comparison.per_clip
    top = float(max(pc["a"].max(), pc["b"].max(), 0.05)) * 1.05
    colours = np.where(pc["diff"] > 0, "#e45756", np.where(pc["diff"] < 0, "#54a24b", "#9d9d9d"))
    fig = go.Figure()
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", line=dict(color="#bbbbbb", dash="dash"), name="no difference", hoverinfo="skip")
    fig.add_scatter(
        x=pc["a"], y=pc["b"], mode="markers", marker=dict(color=colours, size=9), text=pc["clip"], name="clips",
        hovertemplate="%{text}<br>a %{x:.3f}<br>b %{y:.3f}<extra></extra>",
    )
    fig.update_layout(
        title=comparison.verdict(),
        xaxis_title=f"{comparison.metric} with {comparison.a}",
        yaxis_title=f"{comparison.metric} with {comparison.b}",
        height=480,
        title_font_size=12,
    )
    return fig


# --------------------------------------------------------------------------
# Command line: ``run`` and ``results``
# --------------------------------------------------------------------------

EXAMPLE_CONFIG = """\
example (paths relative to the file):
  dataset: ../data/manifest.csv
  results: results/resamplers.jsonl
  grid:
    resampler: [soxr_hq, naive_decimation, mislabelled]
    beam_size: [1, 5]
  fixed: {engine: faster-whisper, language: yue}
  executor: local          # or ray (pip install "whisper-workbench[ray]")
  ray: {address: null, workers: 2}
"""


def add_commands(sub) -> None:
    """Add ``run`` and ``results`` to the command line."""
    import argparse

    p = sub.add_parser(
        "run",
        help="run an experiment grid from a YAML file; resumes where it stopped",
        description="Transcribe and score every clip under every setting of the grid; each result is appended to the results file as soon as it exists, "
        "so the same command after a crash (even kill -9) picks up where it stopped.",
        epilog=EXAMPLE_CONFIG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="experiment YAML file")
    p.add_argument("--executor", choices=["local", "ray"], help="override the file's executor")
    p.add_argument("--ray-address", help="Ray cluster to join ('auto', 'ray://head:10001'); default: a local instance")
    p.add_argument("--workers", type=int, help="Ray workers")
    p.add_argument("--limit", type=int, help="only the first N clips")
    p.add_argument("--retry-errors", action="store_true", help="compute again the rows that failed")
    p.add_argument("--json", action="store_true", help="print the run's counts and summary as JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "results",
        help="summarise an experiment's results: mean error per setting with confidence intervals, or compare two settings",
        description="Reads a results file written by 'run'. --compare A B pairs two settings on the clips both finished.",
    )
    p.add_argument("results", help="results file (.jsonl)")
    p.add_argument("--by", help="comma-separated setting columns to group by (default: each setting)")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="two settings, each a setting id or key=value[,key=value]")
    p.add_argument("--lenient", action="store_true", help="use the lenient error rate")
    p.add_argument(
        "--group-by",
        metavar="COLUMN",
        help="average the clips of each group before the intervals and tests (default: recording, when every row names one; 'clip' for none)",
    )
    p.add_argument("--chart", help="also write the chart as HTML here")
    p.add_argument("--parquet", help="also write every result row as Parquet here")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_results)


def cmd_run(args) -> int:
    config = load_config(args.config)
    overrides = {}
    if args.executor:
        overrides["executor"] = args.executor
    ray_opts = dict(config.ray)
    if args.ray_address:
        ray_opts["address"] = args.ray_address
    if args.workers:
        ray_opts["workers"] = args.workers
    overrides["ray"] = ray_opts
    if args.limit is not None:
        overrides["limit"] = args.limit
    exp = config.run(progress=not args.json, retry_errors=args.retry_errors, **overrides)
    counts = {"results": str(exp.results), "total": exp.total, "computed": exp.computed, "skipped": exp.skipped, "failed": exp.failed, "problems": exp.problems}
    try:
        table = summarise(exp.results)
    except ExperimentError as exc:
        table, counts["summary_error"] = None, str(exc)
    if args.json:
        counts["summary"] = [] if table is None else json.loads(table.to_json(orient="records"))
        print(json.dumps(counts, ensure_ascii=False, indent=2))
        return 0
    print(f"{exp.total} run(s): {exp.computed} computed now, {exp.skipped} already in {exp.results}, {exp.failed} failed")
    if table is not None:
        print(format_summary(table))
    else:
        print(counts["summary_error"])
    return 0


def cmd_results(args) -> int:
    metric = "lenient_error_rate" if args.lenient else "error_rate"
    if args.parquet:
        from .io import atomic_path

        with atomic_path(args.parquet, suffix=".parquet") as tmp:
            load_results(args.results, include_errors=True).drop(columns=["versions"]).to_parquet(tmp)
    if args.compare:
        c = compare(args.results, args.compare[0], args.compare[1], group_by=args.group_by, metric=metric)
        fig = c.chart()
        if args.json:
            print(c.to_frame().to_json(orient="records", indent=2, force_ascii=False))
        else:
            print(c.to_frame().T.to_string(header=False))
            print(c.verdict())
    else:
        table = summarise(args.results, by=args.by.split(",") if args.by else None, group_by=args.group_by, metric=metric)
        fig = summary_chart(table)
        print(table.to_json(orient="records", indent=2, force_ascii=False) if args.json else format_summary(table))
    if args.chart:
        from .io import write_text

        write_text(args.chart, fig.to_html(include_plotlyjs=True, full_html=True))
        if not args.json:
            print(f"chart: {args.chart}")
    return 0


def format_summary(table: pd.DataFrame) -> str:
    """A summary table as text: settings, clips (and groups, when grouped), mean with CI, lenient, pooled, RTF."""
    columns = table.attrs.get("columns") or []
    groups = ["groups"] if table.attrs.get("grouped_by") and "groups" in table else []
    view = table[[*columns, "metric", "clips", *groups, "mean", "ci_low", "ci_high", "lenient_mean", "pooled", "rtf", "failed"]].copy()
    return view.to_string(index=False, float_format=lambda v: f"{v:.3f}")
