"""Running an experiment: every (clip × setting) transcribed, scored and stored.

:func:`run` expands the grid, skips what the results store already holds,
and hands the rest to a :class:`Runner` in this process or to Ray actors
(one :class:`Runner` each); every row is appended to the store the moment
it exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ..errors import ExperimentWarning, WorkbenchError, install_hint
from ..io import check_output
from .settings import MANIFEST_LANGUAGE, OPTION_SETTINGS, ExperimentError, expand_grid, setting_id
from .stats import Comparison, compare, summarise
from .store import RECORDING_COLUMN, RESULTS_FORMAT, RESULTS_SUFFIXES, ResultsStore, describe_unreadable, load_results, scan_rows

#: Clips per Ray work item: small enough that results stream back steadily.
RAY_BATCH = 4


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
    """Every (clip × setting), once each, ordered so each model loads once and each file decodes once per setting group."""
    tasks, seen = [], set()
    for setting in settings:
        sid = setting_id(setting)
        for entry in entries:
            clip = _clip_id(entry, root)
            blob = json.dumps([clip, entry.reference, entry.language, sid], ensure_ascii=False)
            key = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]
            if key in seen:  # one clip listed twice: computed and stored once
                continue
            seen.add(key)
            tasks.append(Task(key, clip, entry, setting, sid))

    def order(t: Task):
        s = t.setting
        return (
            s["model"],
            s["engine"],
            str(s["device"]),
            s["dtype"],
            s["compute_type"],
            t.clip,
            s["decoder"],
            str(s["channel"]),
            s["resampler"],
        )

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
        from ..audio import load_audio
        from ..scoring import CAUSES, score
        from ..transcription import TranscriptionWarning, transcribe

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
                    "audio": {
                        k: t.settings["audio"].get(k)
                        for k in ("decoder", "sample_rate", "original_sample_rate", "channels", "channel_mode", "codec")
                        if k in t.settings["audio"]
                    },
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
        Clips left out of the dataset (missing or unreadable files, repeats).
    unreadable : int
        Lines of the results store that are not result rows (edited by hand,
        damaged): skipped, reported and left in the file as they are.
    """

    results: Path
    settings: list[dict]
    total: int
    computed: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)
    unreadable: int = 0

    @property
    def frame(self) -> pd.DataFrame:
        """Every row of the store as a table (see :func:`load_results`)."""
        return load_results(self.results)

    def summary(self, **kwargs) -> pd.DataFrame:
        return summarise(self.results, **kwargs)

    def compare(self, a, b, **kwargs) -> "Comparison":
        return compare(self.results, a, b, **kwargs)


def _entries(dataset) -> tuple[list, list[str], Path | None, list[Path]]:
    """(entries, problems, root, sources): each clip once, what was left out, the clips' folder, the files read besides clips."""
    from ..datasets import Dataset, ManifestEntry, drop_repeats, load_manifest

    if isinstance(dataset, (str, os.PathLike)):
        dataset = load_manifest(dataset)
    if isinstance(dataset, Dataset):
        entries, repeats = drop_repeats(dataset.entries)
        return entries, [*dataset.problems, *repeats], dataset.root, list(dataset.sources)
    entries = list(dataset)
    bad = [type(e).__name__ for e in entries if not isinstance(e, ManifestEntry)]
    if bad:
        raise ExperimentError(f"dataset must be a manifest path, a Dataset or ManifestEntry items; got {bad[0]}")
    entries, repeats = drop_repeats(entries)
    parents = sorted({str(Path(e.path).resolve().parent) for e in entries})
    try:
        root = Path(os.path.commonpath(parents)) if parents else None  # clip ids stay portable across machines
    except ValueError:  # different drives (Windows): no common folder
        root = None
    return entries, repeats, root, []


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
    force: bool = False,
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
        (same clip, same setting) are skipped; others are appended as they
        finish. Lines in it that are not result rows are skipped, reported
        and left as they are. Refused before any work: a store that is one
        of the dataset's files, or an existing file that is not ``.jsonl``
        (unless ``force``).
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
    force : bool
        Append to an existing ``results`` file even if it is not ``.jsonl``.

    Returns
    -------
    Experiment

    Raises
    ------
    ExperimentError
        A bad grid, no usable clips, another run writing to the store, or a
        failed write (a full disk: the rows written so far are kept, and the
        same call resumes).
    OutputError
        ``results`` is one of the dataset's files or cannot be written.
    """
    from tqdm.auto import tqdm

    if executor not in ("local", "ray"):
        raise ExperimentError(f"executor must be 'local' or 'ray'; got {executor!r}")
    entries, problems, root, sources = _entries(dataset)
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
    check_output(results, inputs=[*sources, *(e.path for e in entries)], suffixes=RESULTS_SUFFIXES, force=force, option="results")
    tasks = make_tasks(entries, settings, root)
    exp = Experiment(Path(results), settings, len(tasks), problems=problems)
    with ResultsStore(results) as store:
        if store.repaired_bytes:
            warnings.warn(
                f"{store.path}: cut {store.repaired_bytes} bytes of a result that was being written when the last run stopped",
                ExperimentWarning,
                stacklevel=2,
            )
        rows, unreadable = scan_rows(store.path)
        if unreadable:
            exp.unreadable = len(unreadable)
            warnings.warn(describe_unreadable(store.path, unreadable), ExperimentWarning, stacklevel=2)
        done = {}
        for r in rows:
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
            bar.write(f"interrupted: {exp.computed} new row(s) are saved in {store.path}; run the same command again to resume")
            raise
        finally:
            bar.close()
    return exp


def _run_on_ray(
    tasks: list[Task], keep, *, address=None, workers=None, cpus_per_worker=1, gpus_per_worker=0, batch=RAY_BATCH, runtime_env=None
) -> None:
    """Spread tasks over Ray actors; each loads its models once and returns rows batch by batch."""
    if not tasks:
        return
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise ExperimentError(f"the Ray executor needs Ray: {install_hint(extra='ray')}") from None
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
