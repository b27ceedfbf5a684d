"""Running the diagnosis: every clip through every resampler, channel and decoder, transcribed and scored."""

from __future__ import annotations

import hashlib
import os
import queue
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..audio import BACKENDS, backend_status, load_audio
from ..datasets import ManifestEntry
from ..errors import WorkbenchError, first_line
from ..options import FASTER_WHISPER
from ..resampling import RESAMPLERS
from ..scoring import CAUSES, score
from ..transcription import TranscriptionWarning, transcribe
from .settings import (
    CHANNEL_MODES,
    CHANNEL_RESAMPLER,
    DIAGNOSIS_OPTIONS,
    DIAGNOSIS_RESAMPLERS,
    KEY_COLUMNS,
    MAX_CHANNELS,
    MISLABELLED,
    REFERENCE_RESAMPLER,
    UNSTRESSED_CONDITIONS,
    token_cap,
)
from .summaries import _plural, cause_table, mislabelled_table, summarise, verdicts


@dataclass
class Diagnosis:
    """Every run of a diagnosis, and the tables built from them.

    Attributes
    ----------
    runs : pandas.DataFrame
        One row per (clip, resampler), mislabelled-rate runs included
        (``resampler == "mislabelled"``): transcript, strict and lenient
        error rates, the error count per cause, whether it looped, the
        audio-path findings and timings.
    channels : pandas.DataFrame
        One row per (multichannel clip, channel choice): the mean down-mix
        and each channel alone, with levels, correlation and the best choice.
    audio_path : pandas.DataFrame
        One file through every decoder and channel handling.
    scores : dict
        ``(clip, resampler) -> Score`` for the alignments (channel runs as
        ``(clip, "channel N")``).
    checks : dict
        ``clip -> AudioPathReport`` from :func:`workbench.audiocheck.check_clip`.
    """

    runs: pd.DataFrame
    channels: pd.DataFrame = field(default_factory=pd.DataFrame)
    audio_path: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: dict = field(default_factory=dict, repr=False)
    checks: dict = field(default_factory=dict, repr=False)
    model: str = "embedded"
    engine: str = FASTER_WHISPER
    options: dict = field(default_factory=dict)
    reference: str = REFERENCE_RESAMPLER
    notes: list[str] = field(default_factory=list)
    audio_path_clip: str | None = None

    def summary(self) -> pd.DataFrame:
        """Per condition and resampler: median/mean strict CER, lenient CER, paired difference, loops."""
        return summarise(self.runs, reference=self.reference)

    def mislabelled(self) -> pd.DataFrame:
        """The mislabelled-rate runs on their own: declared and true rate, duration ratio, error rates."""
        return mislabelled_table(self.runs)

    def causes(self) -> pd.DataFrame:
        """Per condition: where the errors come from (audio path vs script, colloquial, real errors...)."""
        return cause_table(self.runs, self.channels, reference=self.reference)

    def verdicts(self) -> list[str]:
        """One plain-English sentence per condition, then one per audio-path finding."""
        return verdicts(self)


# ----------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------


def _recording(entry: ManifestEntry) -> str:
    return str(entry.meta.get("recording") or entry.path.stem)


def _condition(entry: ManifestEntry) -> str:
    return str(entry.meta.get("condition") or "as recorded")


def _unstressed(entry: ManifestEntry, clip) -> bool:
    """Mono clips as recorded (no added stress): where the mislabelled-rate bug is shown."""
    return _condition(entry) in UNSTRESSED_CONDITIONS and clip.num_channels == 1


def diagnose(
    entries,
    resamplers=DIAGNOSIS_RESAMPLERS,
    *,
    model: str = "embedded",
    engine: str = FASTER_WHISPER,
    mislabelled: bool = True,
    channels: bool = True,
    audio_path_clip: int | str | None = "auto",
    progress: bool = True,
    workers: int | None = None,
    **options,
) -> Diagnosis:
    """Run the diagnosis over manifest entries.

    Parameters
    ----------
    entries : list of ManifestEntry
        Clips with references (see :func:`workbench.datasets.read_manifest`).
        Optional manifest columns ``recording`` (the source recording a clip
        was made from) and ``condition`` (``clean``, ``hiss``...) group the
        summaries; without them each file is its own recording and all share
        the condition "as recorded".
    resamplers : sequence of str
        Names from :data:`~workbench.resampling.RESAMPLERS`, the reference
        (:data:`REFERENCE_RESAMPLER`) first; unavailable ones are skipped
        and noted. ``"mislabelled"`` here is ignored: see ``mislabelled``.
    model, engine :
        As for :func:`workbench.transcribe`.
    mislabelled : bool
        Also run the mislabelled-rate bug on every clip not already at 16 kHz
        that is mono and clean or "as recorded" (see :data:`UNSTRESSED_CONDITIONS`).
    channels : bool
        Transcribe each channel of multichannel clips on its own.
    audio_path_clip : "auto", int, str or None
        The entry (index or file name) for the decoder / down-mix table;
        ``"auto"`` picks an MP3 or a multichannel file; None skips it.
    workers : int, optional
        Engine copies transcribing side by side; default from
        :func:`diagnosis_workers` (two for faster-whisper on a multi-core
        CPU). Results repeat from run to run for a given number of copies.
    options :
        Transcription options; default greedy decoding, no timestamps, a
        recorded fallback to ``zh`` when the model cannot do Cantonese, and
        generated tokens capped by the clip's duration (:func:`token_cap`).

    Returns
    -------
    Diagnosis
    """

    opts = {**DIAGNOSIS_OPTIONS, **options}
    wanted = [r for r in resamplers if r != MISLABELLED]
    usable = [r for r in wanted if r in RESAMPLERS and RESAMPLERS[r].available()[0]]
    notes = [
        f"resampler {r} skipped: {RESAMPLERS[r].available()[1] if r in RESAMPLERS else 'unknown resampler'}"
        for r in wanted
        if r not in usable
    ]
    reference = usable[0] if usable else REFERENCE_RESAMPLER
    skipped = [e for e in entries if not e.reference]
    if skipped:
        notes.append(f"{len(skipped)} clip(s) without a reference left out: {', '.join(e.path.name for e in skipped)}")
    entries = [e for e in entries if e.reference]

    from ..audiocheck import check_clip

    loaded, unreadable = [], []
    for entry in entries:
        try:
            clip = load_audio(entry.path, channel="all")
        except WorkbenchError as exc:  # one bad file is reported; the rest are diagnosed
            unreadable.append(f"{entry.path.name}: {first_line(exc)}")
            continue
        loaded.append([entry, clip, None])  # its audio check is made while the engines work
    if unreadable:
        notes.append(
            f"{_plural(len(unreadable), 'clip')} could not be read and {'was' if len(unreadable) == 1 else 'were'} left out: "
            + "; ".join(unreadable)
        )
    if not loaded:
        raise WorkbenchError("no clip could be diagnosed: " + ("; ".join(unreadable) or "none has a reference transcript"))
    entries = [entry for entry, _, _ in loaded]
    jobs = [(i, r) for i, (_, clip, _) in enumerate(loaded) for r in usable]
    if mislabelled:
        jobs += [(i, MISLABELLED) for i, (entry, clip, _) in enumerate(loaded) if clip.sample_rate != 16_000 and _unstressed(entry, clip)]
    if channels:
        jobs += [
            (i, c) for i, (_, clip, _) in enumerate(loaded) if clip.num_channels > 1 for c in range(min(clip.num_channels, MAX_CHANNELS))
        ]

    chosen = _audio_path_entry(entries, audio_path_clip)
    decoded: list = []  # the decoder table's clips, decoded once
    inputs = _prepared_inputs(jobs, loaded, chosen, model, engine, opts, decoded)
    expected = len(jobs) + (len(BACKENDS) + len(CHANNEL_MODES) - 1 if chosen is not None else 0)
    keys, cache = _transcribe_all(inputs, expected, model, engine, opts, workers=workers, progress=progress)
    for item in loaded:
        if item[2] is None:
            item[2] = check_clip(item[1])
    rows, channel_rows, scores, checks = _assemble(jobs, keys, cache, loaded)
    runs = _order(pd.DataFrame(rows))
    channel_table = _channel_table(runs, pd.DataFrame(channel_rows), checks, reference)
    table = audio_path_table(chosen, model, engine, opts, progress, cache=cache, clips=decoded) if chosen is not None else pd.DataFrame()
    return Diagnosis(
        runs,
        channel_table,
        table,
        scores,
        checks,
        model,
        engine,
        opts,
        reference,
        notes,
        chosen.path.name if chosen is not None else None,
    )


def _prepared_inputs(jobs, loaded, chosen: ManifestEntry | None, model, engine, opts, decoded: list):
    """What the model hears, job by job, then for the decoder table of ``chosen``: ``_prepare`` tuples, in order.

    A generator, so the engines start on the first inputs while the rest
    are still being decoded and resampled (and the decoders for the table,
    some of which take seconds to import, are still loading). Between
    inputs it also makes each clip's audio check (``loaded[i][2]``), and
    keeps the decoder table's clips in ``decoded``.
    """
    from ..audiocheck import check_clip

    mono_cache: dict = {}
    for i, job in jobs:
        entry = loaded[i][0]
        if i not in mono_cache and mono_cache:
            previous = next(iter(mono_cache))
            if loaded[previous][2] is None:
                loaded[previous][2] = check_clip(loaded[previous][1])
        if isinstance(job, int):  # one channel alone, through the reference resampler
            yield _prepare(
                load_audio(entry.path, channel=job),
                entry,
                model,
                engine,
                CHANNEL_RESAMPLER,
                opts,
            )
            continue
        if i not in mono_cache:
            mono_cache = {i: load_audio(entry.path)}  # the default down-mix, as users get it; decoded once per clip
        yield _prepare(mono_cache[i], entry, model, engine, job, opts)
    for item in _audio_path_clips(chosen) if chosen is not None else ():
        decoded.append(item)
        if not isinstance(item[2], Exception):
            yield _prepare(item[2], chosen, model, engine, CHANNEL_RESAMPLER, opts)


def _assemble(jobs, keys, cache: dict, loaded) -> tuple[list, list, dict, dict]:
    """Rows per resampler run and per channel, scores and audio checks, from the transcriptions."""
    rows, channel_rows, scores, checks = [], [], {}, {}
    for (i, job), key in zip(jobs, keys[: len(jobs)], strict=True):
        entry, clip, check = loaded[i]
        name = entry.path.stem
        checks[name] = check
        row, s = cache[key]
        row = dict(row)
        if isinstance(job, int):
            channel_rows.append(
                {
                    "clip": name,
                    "choice": f"channel {job}",
                    **_channel_row(row, check, job),
                }
            )
            scores[(name, f"channel {job}")] = s
            continue
        row.update(
            {
                "clip": name,
                "recording": _recording(entry),
                "condition": _condition(entry),
                "resampler": job,
                "kind": RESAMPLERS[job].kind,
                "sample_rate": clip.sample_rate,
                "channels": clip.num_channels,
                "audio_causes": "; ".join(check.causes),
            }
        )
        if job == MISLABELLED:
            row.update(_rate_evidence(clip))
            row["audio_causes"] = "; ".join((*check.causes, "mislabelled_rate"))
        rows.append(row)
        scores[(name, job)] = s
    return rows, channel_rows, scores, checks


def _order(runs: pd.DataFrame) -> pd.DataFrame:
    if runs.empty:
        return runs
    first = [c for c in (*KEY_COLUMNS, "kind", "cer", "lenient_cer", "looped", "text") if c in runs]
    return runs[first + [c for c in runs.columns if c not in first]]


def _prepare(clip, entry: ManifestEntry, model, engine, resampler, opts) -> tuple[tuple, object, ManifestEntry, str]:
    """``clip`` (mono) resampled to 16 kHz with ``resampler``: (key, what the model hears, entry, resampler).

    The key is what decides the transcript: the samples (up to their
    polarity, which Whisper's log-mel input does not see), the model, the
    reference and the options. Identical 16 kHz samples (linear
    interpolation and naive decimation agree at 48 kHz, every resampler
    agrees on digital silence, decoders often agree bit for bit) share a key
    and are transcribed once.
    """
    heard = clip.resample(16_000, resampler)
    samples = np.ascontiguousarray(heard.samples)
    nonzero = np.flatnonzero(samples)
    if nonzero.size and samples.flat[nonzero[0]] < 0:
        samples = -samples  # Whisper hears power spectra: a polarity-inverted channel is transcribed the same
    digest = hashlib.blake2b(samples.tobytes(), digest_size=16).hexdigest()
    key = (
        digest,
        model,
        engine,
        entry.language,
        entry.reference,
        tuple(sorted(opts.items())),
    )
    return key, heard, entry, resampler


def _run(
    clip,
    entry: ManifestEntry,
    model,
    engine,
    resampler,
    opts,
    cache: dict | None = None,
) -> tuple[dict, object]:
    """Resample ``clip`` to 16 kHz with ``resampler``, then transcribe and score it (once per ``cache``)."""
    key, heard, _, _ = _prepare(clip, entry, model, engine, resampler, opts)
    if cache is not None and key in cache:
        row, s = cache[key]
        return dict(row), s
    row, s = _transcribe_and_score(heard, entry, model, engine, resampler, opts)
    if cache is not None:
        cache[key] = (dict(row), s)
    return row, s


def diagnosis_workers(engine: str, device: str = "auto") -> tuple[int, int]:
    """(engine copies, CPU threads each) for transcribing many short clips.

    faster-whisper on a CPU with two or more cores runs two copies side by
    side, each on half the cores (see :func:`workbench.engines.engine_replica`);
    anything else runs one.
    """
    from ..options import FASTER_WHISPER, resolve_device

    cores = os.cpu_count() or 1
    if engine != FASTER_WHISPER or cores < 2 or resolve_device(device, engine) != "cpu":
        return 1, 0
    return 2, cores // 2


def _transcribe_all(prepared, total: int, model, engine, opts, *, workers: int | None, progress: bool) -> tuple[list, dict]:
    """Transcribe and score every distinct prepared input, as they are prepared.

    ``prepared`` yields ``_prepare`` tuples (about ``total`` of them, the
    progress bar's first estimate). Returns their
    keys in order, and key -> (row, score) for each distinct key. The distinct
    inputs are dealt to the engine copies in order of first appearance, each
    resampler's runs in turn, so each copy decodes the same clips in the same order on every
    run (its sampling generator, used by the temperature fallback, then
    repeats too), however long the preparation of each takes.
    """
    from tqdm.auto import tqdm

    from ..engines import engine_replica

    copies, threads = diagnosis_workers(engine, opts.get("device", "auto"))
    copies = max(1, copies if workers is None else workers)
    if copies > 1 and threads == 0:
        threads = max(1, (os.cpu_count() or 1) // copies)
    bar = tqdm(total=total, desc="diagnosis", unit="run", disable=not progress)
    done: dict = {}
    keys: list = []

    def transcribe_one(key, heard, entry, resampler) -> None:
        done[key] = _transcribe_and_score(heard, entry, model, engine, resampler, opts)
        bar.update(1)

    try:
        if copies == 1:
            for key, heard, entry, resampler in prepared:
                keys.append(key)
                if key in done:
                    bar.update(1)
                else:
                    transcribe_one(key, heard, entry, resampler)
                bar.total = max(bar.total, len(keys))
            return keys, done
        queues = [queue.SimpleQueue() for _ in range(copies)]

        def work(w: int) -> None:
            with engine_replica(w, threads):
                while (item := queues[w].get()) is not None:
                    transcribe_one(*item)

        with ThreadPoolExecutor(max_workers=copies, thread_name_prefix="diagnosis") as pool:
            futures = [pool.submit(work, w) for w in range(copies)]
            dealt: set = set()
            per_resampler: dict[str, list[int]] = {}  # resampler -> [its place among resamplers, runs dealt so far]
            try:
                for key, heard, entry, resampler in prepared:
                    keys.append(key)
                    if key in dealt:
                        bar.update(1)
                        continue
                    # Each resampler's runs alternate between the copies: the slow ones (a bad resampler on a
                    # stressed clip falls back to sampling) are shared out instead of landing on one copy.
                    place = per_resampler.setdefault(resampler, [len(per_resampler), 0])
                    queues[(place[0] + place[1]) % copies].put((key, heard, entry, resampler))
                    place[1] += 1
                    dealt.add(key)
            finally:
                for q in queues:
                    q.put(None)
                bar.total = len(keys)
                bar.refresh()
            for future in futures:
                future.result()
        return keys, done
    finally:
        bar.close()


def _transcribe_and_score(heard, entry: ManifestEntry, model, engine, resampler, opts) -> tuple[dict, object]:
    seconds = heard.num_frames / heard.sample_rate
    run_opts = dict(opts)
    run_opts.setdefault("max_new_tokens", token_cap(seconds))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TranscriptionWarning)  # fallbacks are recorded in the row instead
        t = transcribe(
            heard,
            model=model,
            engine=engine,
            language=entry.language or None,
            resampler=resampler,
            **run_opts,
        )
    s = score(
        t.text,
        entry.reference,
        language=entry.language or t.language,
        audio_seconds=seconds,
    )
    h = s.hallucination
    row = {
        "language": entry.language,
        "decoded_as": t.language,
        "text": t.text,
        "reference": entry.reference,
        "cer": s.error_rate,
        "lenient_cer": s.lenient_error_rate,
        "reference_length": s.reference_length,
        "errors": s.errors,
        **{cause: s.breakdown.get(cause, 0) for cause in CAUSES},
        "looped": bool(h is not None and h.looped),
        "loop_evidence": "; ".join(h.reasons) if h is not None and h.looped else "",
        "inference_s": t.timings["inference_s"],
        "fallbacks": "; ".join(t.fallbacks),
        "source": entry.meta.get("source", ""),
    }
    return row, s


def _rate_evidence(clip) -> dict:
    """What the mislabelled-rate bug did to this clip, as numbers."""
    from ..audiocheck import check_rate

    true_seconds = clip.num_frames / clip.sample_rate
    report = check_rate(16_000, clip.samples, expected_seconds=true_seconds)
    return {
        "declared_rate": 16_000,
        "duration_ratio": round(clip.sample_rate / 16_000, 3),
        "rate_evidence": "; ".join(report.messages),
    }


def _channel_row(row: dict, check, channel: int) -> dict:
    levels = check.evidence.get("channel_levels_dbfs") or []
    return {
        "cer": row["cer"],
        "lenient_cer": row["lenient_cer"],
        "looped": row["looped"],
        "level_dbfs": levels[channel] if channel < len(levels) else None,
        "text": row["text"],
    }


def _channel_table(runs: pd.DataFrame, channel_rows: pd.DataFrame, checks: dict, reference: str) -> pd.DataFrame:
    """Per multichannel clip: the mean down-mix (from the reference runs) beside each channel alone."""
    if channel_rows.empty or runs.empty:
        return pd.DataFrame()
    out = []
    for clip, group in channel_rows.groupby("clip", sort=False):
        mean = runs[(runs["clip"] == clip) & (runs["resampler"] == reference)]
        check = checks[clip]
        evidence = check.evidence
        base = {
            "correlation": evidence.get("correlation"),
            "downmix_loss_db": evidence.get("downmix_loss_db"),
            "findings": "; ".join(check.causes) or "none",
        }
        rows = []
        if not mean.empty:
            m = mean.iloc[0]
            rows.append(
                {
                    "clip": clip,
                    "choice": "mean",
                    "cer": m["cer"],
                    "lenient_cer": m["lenient_cer"],
                    "looped": m["looped"],
                    "level_dbfs": evidence.get("downmix_dbfs"),
                    "text": m["text"],
                }
            )
        rows += group.to_dict(orient="records")
        best = min(rows, key=lambda r: (r["cer"], r["choice"] != "mean"))
        for r in rows:
            out.append({**r, **base, "best": r is best})
    return pd.DataFrame(out)


def _audio_path_entry(entries, which) -> ManifestEntry | None:
    if which is None or not entries:
        return None
    if isinstance(which, int):
        return entries[which]
    if which != "auto":
        found = [e for e in entries if e.path.name == which or e.path.stem == which]
        return found[0] if found else None
    lossy = [e for e in entries if e.path.suffix.lower() in (".mp3", ".m4a", ".aac", ".ogg", ".opus")]
    multichannel = [e for e in entries if str(e.meta.get("channels", "")) not in ("", "1")]
    both = [e for e in lossy if e in multichannel]
    return (both or lossy or multichannel or entries)[0]


def audio_path_table(
    entry: ManifestEntry,
    model: str = "embedded",
    engine: str = FASTER_WHISPER,
    opts: dict | None = None,
    progress: bool = False,
    *,
    cache: dict | None = None,
    clips: list | None = None,
) -> pd.DataFrame:
    """The same file through every decoder, and every channel handling, with the reference resampler.

    Each decoder available here reads the file with the default down-mix
    (the mean of the channels); the first decoder that reads it also gives
    each channel alone. Decoders and channel choices are separate questions,
    so their cross product would only repeat the same transcriptions. One
    row per (decoder, channel handling): frames decoded, strict and lenient
    CER and the transcript; a decoder that cannot read the file, or a
    channel the file lacks, gives a row that says why. ``clips``: the
    (decoder, channel handling, Clip or exception) triples already decoded,
    if any.
    """
    opts = {**DIAGNOSIS_OPTIONS, **(opts or {})}
    cache = cache if cache is not None else {}
    rows = []
    for backend, channel, clip in clips or _audio_path_clips(entry):
        if isinstance(clip, Exception):
            rows.append(
                {
                    "clip": entry.path.stem,
                    "decoder": backend,
                    "channel": str(channel),
                    "frames": None,
                    "cer": None,
                    "lenient_cer": None,
                    "text": f"not decoded: {first_line(clip)}",
                }
            )
            continue
        row, _ = _run(clip, entry, model, engine, CHANNEL_RESAMPLER, opts, cache)
        rows.append(
            {
                "clip": entry.path.stem,
                "decoder": backend,
                "channel": clip.info.channel_mode,
                "frames": clip.num_frames,
                "cer": row["cer"],
                "lenient_cer": row["lenient_cer"],
                "text": row["text"],
            }
        )
    return pd.DataFrame(rows)


def _audio_path_clips(entry: ManifestEntry):
    """(decoder, channel handling, Clip or the exception) for the decoder / down-mix table.

    Every available decoder with the default down-mix; the first decoder that
    reads the file also with each channel alone.
    """
    status = backend_status()
    channels_done = False
    for backend in [b for b in BACKENDS if status[b][0]]:
        modes = CHANNEL_MODES if not channels_done else CHANNEL_MODES[:1]
        for channel in modes:
            try:
                clip = load_audio(entry.path, backend=backend, channel=channel)
            except Exception as exc:  # noqa: BLE001 - e.g. channel 1 of a mono file, or a decoder that cannot read it
                clip = exc
            yield backend, channel, clip
            if channel == CHANNEL_MODES[0] and isinstance(clip, Exception):
                break  # this decoder cannot read the file: its channels are not tried
        else:
            channels_done = True
