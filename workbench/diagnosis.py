"""The resampling diagnosis: how much error comes from the audio path, and how
much from script, punctuation, numerals, colloquial-vs-written and real
recognition errors?

Every clip of a dataset goes through every resampler (good, common and bad)
with the same model and settings, and each transcript is scored. What one
resampler adds over the reference pipeline (:data:`REFERENCE_RESAMPLER`) on
the *same* clip is the resampler's share of the error; the score's
breakdown splits the rest into what a fair comparison forgives (script,
punctuation, colloquial Cantonese written as standard Chinese, numeral
style), repetition loops (hallucination) and real recognition errors.

Three more audio-path causes are measured, each with its evidence:

* **down-mixing**: every channel of a multichannel file is transcribed on its
  own as well as the mean, and the channel levels and correlation say why a
  down-mix lost the speech (a polarity-inverted channel cancels it);
* **a mislabelled rate**: samples handed over at the wrong declared rate run
  apart, in their own table, since their errors dwarf everything else;
* **decoders**: one file (an MP3 or a stereo file where choices differ)
  decoded by every decoder and down-mixed three ways.

Summaries are medians per condition (clean, each stress kind, channel
layout), never one pooled mean: a single repetition loop can turn a run's
error rate into 7 and would swamp any average.
"""

from __future__ import annotations

import hashlib
import math
import os
import queue
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .audio import BACKENDS, backend_status, load_audio
from .datasets import ManifestEntry
from .errors import WorkbenchError, first_line
from .resampling import RESAMPLERS
from .scoring import CAUSES, score
from .transcription import TranscriptionWarning, transcribe

#: The reference pipeline every resampler is compared with, clip by clip.
REFERENCE_RESAMPLER = "soxr_vhq"
#: Resamplers compared by default, cleanest first: the reference, the workbench's default, the one
#: most tutorials use, and two with no filter at all (the mislabelled-rate bug runs apart, see
#: :data:`MISLABELLED`). Every run costs one 30-s encoder pass, so the default stays small; pass
#: ``resamplers=`` (``--resamplers`` on the command line) to add others, e.g. ``scipy_poly``.
DIAGNOSIS_RESAMPLERS = ("soxr_vhq", "soxr_hq", "torchaudio_default", "linear", "naive_decimation")
#: The mislabelled-rate bug: samples declared at 16 kHz whatever their real rate.
MISLABELLED = "mislabelled"
#: Resampler used for the per-channel and decoder comparisons.
CHANNEL_RESAMPLER = REFERENCE_RESAMPLER
#: Conditions on which the mislabelled-rate bug is run (mono clips only): its effect needs no stress to show.
UNSTRESSED_CONDITIONS = ("clean", "as recorded")
#: Channel handlings compared in the decoder table.
CHANNEL_MODES = ("mean", 0, 1)
#: Most channels transcribed one by one for a multichannel file.
MAX_CHANNELS = 8
#: A median paired CER difference at most this large is "no difference".
SAME_CER = 0.05
#: A median paired CER difference at least this large is "clearly worse".
CLEARLY_WORSE_CER = 0.15
#: Error rates above this are drawn at this height in charts (the table and the hover keep the raw value).
CHART_CAP = 1.0
#: Fast decoding for a diagnosis: greedy, one sample per fallback temperature
#: (as the transformers pipeline draws), no timestamps, and a visible fallback
#: to ``zh`` for models without a Cantonese token. Whisper's safeguards
#: (temperature fallback, compression-ratio, log-prob and no-speech checks)
#: keep their usual values.
DIAGNOSIS_OPTIONS = {"beam_size": 1, "best_of": 1, "timestamps": "none", "language_fallback": True}
#: Generated tokens allowed per second of audio (and a floor): speech cannot justify more,
#: and a repetition loop stops there instead of running to the 448-token limit.
TOKENS_PER_SECOND = 10  # fast Cantonese is about 6 characters a second, about 1.5 tokens each in Whisper's vocabulary
MIN_TOKENS = 16
MAX_TOKENS = 224  # Whisper's own default sample length: half the 448-token context, leaving room for the prompt
#: Run columns that identify a run.
KEY_COLUMNS = ("clip", "recording", "condition", "resampler")


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
    engine: str = "faster-whisper"
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


def token_cap(seconds: float) -> int:
    """Generated tokens one 30-s window may hold for ``seconds`` of audio.

    >>> token_cap(2.0), token_cap(13.2), token_cap(120.0)
    (36, 148, 224)
    """
    return int(min(MAX_TOKENS, MIN_TOKENS + math.ceil(TOKENS_PER_SECOND * min(seconds, 30.0))))


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
    engine: str = "faster-whisper",
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

    from .audiocheck import check_clip

    loaded, unreadable = [], []
    for entry in entries:
        try:
            clip = load_audio(entry.path, channel="all")
        except WorkbenchError as exc:  # one bad file is reported; the rest are diagnosed
            unreadable.append(f"{entry.path.name}: {first_line(exc)}")
            continue
        loaded.append((entry, clip, check_clip(clip)))
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
    inputs = _prepared_inputs(jobs, loaded, chosen, model, engine, opts)
    expected = len(jobs) + (len(BACKENDS) + len(CHANNEL_MODES) - 1 if chosen is not None else 0)
    keys, cache = _transcribe_all(inputs, expected, model, engine, opts, workers=workers, progress=progress)
    rows, channel_rows, scores, checks = _assemble(jobs, keys, cache, loaded)
    runs = _order(pd.DataFrame(rows))
    channel_table = _channel_table(runs, pd.DataFrame(channel_rows), checks, reference)
    table = audio_path_table(chosen, model, engine, opts, progress, cache=cache) if chosen is not None else pd.DataFrame()
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


def _prepared_inputs(jobs, loaded, chosen: ManifestEntry | None, model, engine, opts):
    """What the model hears, job by job, then for the decoder table of ``chosen``: ``_prepare`` tuples, in order.

    A generator, so the engines start on the first inputs while the rest
    are still being decoded and resampled (and the decoders for the table,
    some of which take seconds to import, are still loading).
    """
    mono_cache: dict = {}
    for i, job in jobs:
        entry = loaded[i][0]
        if isinstance(job, int):  # one channel alone, through the reference resampler
            yield _prepare(load_audio(entry.path, channel=job), entry, model, engine, CHANNEL_RESAMPLER, opts)
            continue
        if i not in mono_cache:
            mono_cache = {i: load_audio(entry.path)}  # the default down-mix, as users get it; decoded once per clip
        yield _prepare(mono_cache[i], entry, model, engine, job, opts)
    for _, _, clip in _audio_path_clips(chosen) if chosen is not None else ():
        if not isinstance(clip, Exception):
            yield _prepare(clip, chosen, model, engine, CHANNEL_RESAMPLER, opts)


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
            channel_rows.append({"clip": name, "choice": f"channel {job}", **_channel_row(row, check, job)})
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
    key = (digest, model, engine, entry.language, entry.reference, tuple(sorted(opts.items())))
    return key, heard, entry, resampler


def _run(clip, entry: ManifestEntry, model, engine, resampler, opts, cache: dict | None = None) -> tuple[dict, object]:
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
    from .options import FASTER_WHISPER, resolve_device

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

    from .engines import engine_replica

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
        t = transcribe(heard, model=model, engine=engine, language=entry.language or None, resampler=resampler, **run_opts)
    s = score(t.text, entry.reference, language=entry.language or t.language, audio_seconds=seconds)
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
    from .audiocheck import check_rate

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
    engine: str = "faster-whisper",
    opts: dict | None = None,
    progress: bool = False,
    *,
    cache: dict | None = None,
) -> pd.DataFrame:
    """The same file through every decoder, and every channel handling, with the reference resampler.

    Each decoder available here reads the file with the default down-mix
    (the mean of the channels); the first decoder that reads it also gives
    each channel alone. Decoders and channel choices are separate questions,
    so their cross product would only repeat the same transcriptions. One
    row per (decoder, channel handling): frames decoded, strict and lenient
    CER and the transcript; a decoder that cannot read the file, or a
    channel the file lacks, gives a row that says why.
    """
    opts = {**DIAGNOSIS_OPTIONS, **(opts or {})}
    cache = cache if cache is not None else {}
    rows = []
    for backend, channel, clip in _audio_path_clips(entry):
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


# ----------------------------------------------------------------------------
# Summaries
# ----------------------------------------------------------------------------


def diff_column(reference: str = REFERENCE_RESAMPLER) -> str:
    """Name of the paired-difference column: what it is, in its name."""
    return f"median_cer_minus_{reference}"


def _paired(runs: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Each run with ``cer_minus_reference``: its CER minus the reference resampler's on the same clip."""
    ref = runs[runs["resampler"] == reference].set_index("clip")["cer"]
    out = runs.copy()
    out["cer_minus_reference"] = out["cer"] - out["clip"].map(ref)
    return out


def summarise(runs: pd.DataFrame, *, reference: str = REFERENCE_RESAMPLER) -> pd.DataFrame:
    """Per condition and resampler (mislabelled runs excluded: see :func:`mislabelled_table`).

    Columns: ``condition``, ``resampler``, ``kind``, ``clips``,
    ``median_cer``, ``mean_cer``, ``median_lenient_cer``, the median paired
    difference against ``reference`` on the same clips
    (``median_cer_minus_<reference>``) and ``looped`` (runs flagged as
    repetition loops or hallucination).
    """
    if runs.empty:
        return pd.DataFrame()
    normal = _paired(runs[runs["resampler"] != MISLABELLED], reference)
    conditions = list(dict.fromkeys(normal["condition"]))
    order = list(dict.fromkeys(normal["resampler"]))
    rows = []
    for condition in conditions:
        for resampler in order:
            g = normal[(normal["condition"] == condition) & (normal["resampler"] == resampler)]
            if g.empty:
                continue
            rows.append(
                {
                    "condition": condition,
                    "resampler": resampler,
                    "kind": g["kind"].iloc[0],
                    "clips": len(g),
                    "median_cer": float(g["cer"].median()),
                    "mean_cer": float(g["cer"].mean()),
                    "median_lenient_cer": float(g["lenient_cer"].median()),
                    diff_column(reference): float(g["cer_minus_reference"].median()),
                    "looped": int(g["looped"].sum()),
                }
            )
    return pd.DataFrame(rows)


def mislabelled_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The mislabelled-rate runs, one row per clip, with the evidence."""
    if runs.empty or not (runs["resampler"] == MISLABELLED).any():
        return pd.DataFrame()
    m = runs[runs["resampler"] == MISLABELLED]
    cols = ["clip", "condition", "sample_rate", "declared_rate", "duration_ratio", "cer", "lenient_cer", "looped", "text"]
    return m[[c for c in cols if c in m]].reset_index(drop=True)


def cause_table(runs: pd.DataFrame, channels: pd.DataFrame, *, reference: str = REFERENCE_RESAMPLER) -> pd.DataFrame:
    """Per condition, where the errors come from, as errors per reference character (medians over clips).

    ``script`` and ``punctuation`` are differences no rate counts; the
    strict CER of the reference pipeline splits into ``colloquial``,
    ``numerals``, ``hallucination``, ``audio_fault`` (what a detected fault
    such as a cancelling down-mix costs against the best single channel) and
    ``real_errors``; the audio path adds
    ``worst_resampler_adds`` (the largest median paired difference of any
    resampler) and ``downmix_adds`` (mean down-mix against the best single
    channel).
    """
    if runs.empty:
        return pd.DataFrame()
    normal = _paired(runs[runs["resampler"] != MISLABELLED], reference)
    rows = []
    for condition, group in normal.groupby("condition", sort=False):
        ref = group[group["resampler"] == reference]
        if ref.empty:
            continue

        def per_char(col, ref=ref):
            return float((ref[col] / ref["reference_length"].clip(lower=1)).median())

        by_resampler = group[group["resampler"] != reference].groupby("resampler", sort=False)["cer_minus_reference"].median()
        worst = by_resampler.idxmax() if not by_resampler.empty else None
        # Where the audio check found a fault (a cancelling down-mix, a silent channel...), what the mean down-mix
        # loses against the best channel is the audio path's, not the model's.
        other = ref["other"] / ref["reference_length"].clip(lower=1)
        faulty = [
            _downmix_loss(channels, clip) if causes else 0.0
            for clip, causes in zip(ref["clip"], ref.get("audio_causes", pd.Series([""] * len(ref))).fillna(""), strict=True)
        ]
        audio_path = np.minimum(np.array(faulty), other.to_numpy())
        row = {
            "condition": condition,
            "clips": len(ref),
            "reference_cer": float(ref["cer"].median()),
            "script": per_char("script"),
            "punctuation": per_char("punctuation_width"),
            "colloquial": per_char("colloquial"),
            "numerals": per_char("numerals"),
            "hallucination": per_char("hallucination") if "hallucination" in ref else 0.0,
            "audio_fault": float(np.median(audio_path)),
            "real_errors": float(np.median(other.to_numpy() - audio_path)),
            "worst_resampler": worst or "",
            "worst_resampler_adds": float(by_resampler.max()) if worst else 0.0,
            "downmix_adds": _downmix_adds(channels, ref["clip"]),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _downmix_loss(channels: pd.DataFrame, clip: str) -> float:
    """Mean down-mix CER minus the best channel's for one clip (0 when it has no channel runs)."""
    if channels.empty:
        return 0.0
    c = channels[channels["clip"] == clip]
    if c.empty or not (c["choice"] == "mean").any():
        return 0.0
    return max(0.0, float(c.loc[c["choice"] == "mean", "cer"].iloc[0] - c["cer"].min()))


def _downmix_adds(channels: pd.DataFrame, clips) -> float:
    """Median over the multichannel clips among ``clips``: mean down-mix CER minus the best channel's."""
    if channels.empty:
        return 0.0
    adds = []
    for clip in clips:
        c = channels[channels["clip"] == clip]
        if c.empty or not (c["choice"] == "mean").any():
            continue
        adds.append(float(c.loc[c["choice"] == "mean", "cer"].iloc[0] - c["cer"].min()))
    return float(np.median(adds)) if adds else 0.0


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


#: How the reference pipeline's errors are named in a verdict, largest first; shares under 0.01 are left out.
_SHARES = (
    ("real_errors", "real recognition errors"),
    ("audio_fault", "the audio-path fault"),
    ("colloquial", "colloquial-vs-written"),
    ("numerals", "numeral style"),
    ("hallucination", "loops"),
)


def _split(base) -> str:
    """ ", of which real recognition errors 0.21, colloquial-vs-written 0.04 (...)": the non-zero shares, then what no rate counts."""
    shares = sorted(((float(base[k]), label) for k, label in _SHARES if float(base[k]) >= 0.01), reverse=True)
    text = f", of which {', '.join(f'{label} {_fmt(v)}' for v, label in shares)}" if shares else ""
    ignored = float(base["script"] + base["punctuation"])
    if ignored >= 0.01:
        text += f" (script and punctuation differences, {_fmt(ignored)} per character, are not counted)"
    return text


def _fmt(v: float) -> str:
    return f"{v:.2f}"


def _signed(v: float) -> str:
    return f"{v:+.2f}"


def verdicts(diagnosis: Diagnosis) -> list[str]:
    """Plain-English answers, one per condition, then the down-mix and mislabelled-rate findings."""
    ref = diagnosis.reference
    summary = diagnosis.summary()
    if summary.empty:
        return ["Nothing was transcribed: no clip had a reference."]
    col = diff_column(ref)
    causes = diagnosis.causes().set_index("condition")
    out = []
    for condition, g in summary.groupby("condition", sort=False):
        others = g[g["resampler"] != ref]
        worse = others[others[col] >= CLEARLY_WORSE_CER].sort_values(col, ascending=False)
        same = others[others[col].abs() <= SAME_CER]
        n = int(g["clips"].max())
        base = causes.loc[condition] if condition in causes.index else None
        head = f"{condition} ({_plural(n, 'clip')}): "
        parts = []
        if base is not None and base["audio_fault"] >= SAME_CER:
            parts.append(
                f"the down-mix destroys the speech, an audio-path fault that costs {_fmt(base['audio_fault'])} CER (see the down-mix "
                "finding below)"
            )
        if not worse.empty:
            named = ", ".join(f"{r.resampler} ({_signed(getattr(r, col))})" for r in worse.itertuples())
            text = f"the resampler matters: {named} {'is' if len(worse) == 1 else 'are'} clearly worse than {ref}"
            if not same.empty:
                text += f", while {', '.join(same['resampler'])} {'stays' if len(same) == 1 else 'stay'} within {SAME_CER} of it"
            parts.append(text)
        elif len(same) == len(others):
            parts.append(f"the resampler does not matter: every resampler is within {SAME_CER} CER of {ref}")
        else:
            parts.append(f"small resampler effects only (largest {_signed(others[col].max())} CER against {ref})")
        if base is not None:
            parts.append(f"with {ref}, median strict CER is {_fmt(base['reference_cer'])}{_split(base)}")
        loops = int(g["looped"].sum())
        if loops:
            parts.append(f"{_plural(loops, 'run')} looped (flagged as hallucination)")
        text = "; ".join(parts)
        out.append(head + text[0].upper() + text[1:] + ".")
    ch = diagnosis.channels
    if not ch.empty:
        for clip, c in ch.groupby("clip", sort=False):
            mean = c[c["choice"] == "mean"]
            best = c[c["best"]].iloc[0]
            if mean.empty or best["choice"] == "mean":
                continue
            loss = float(mean["cer"].iloc[0] - best["cer"])
            if loss < SAME_CER:
                continue
            check = diagnosis.checks.get(clip)
            if check is not None and check.causes:
                why = f": {' '.join(check.messages)}"
            else:
                corr = c["correlation"].iloc[0]
                shown = f" (correlation {corr:.2f})" if corr is not None and np.isfinite(corr) else ""
                why = (
                    f"; the channels show no fault{shown}, so on one clip this can be decoding noise or the comb filter a delay "
                    "between channels makes"
                )
            out.append(
                f"Down-mix, {clip}: averaging the channels costs {_signed(loss)} CER against {best['choice']} alone{why}".rstrip(".") + "."
            )
    mis = diagnosis.mislabelled()
    if not mis.empty:
        out.append(
            "A mislabelled sample rate (samples handed over as 16 kHz without resampling, audio "
            f"{mis['duration_ratio'].min():g}–{mis['duration_ratio'].max():g}× too long) "
            f"is catastrophic: median strict CER {_fmt(mis['cer'].median())} over {len(mis)} clips, shown apart from everything else."
        )
    return out


# ----------------------------------------------------------------------------
# Chart
# ----------------------------------------------------------------------------


def condition_chart(summary: pd.DataFrame, *, reference: str = REFERENCE_RESAMPLER, cap: float = CHART_CAP):
    """What each resampler adds to the reference pipeline's strict CER, per condition: one bar per resampler.

    Bars are the median over clips of the paired difference (a run's CER
    minus the reference's on the same clip), so decoding noise between clips
    cannot rank a resampler; they are capped at ``cap`` with the raw value,
    the median CER and the looped runs in the hover. Mislabelled-rate runs
    are not in ``summary`` (see :func:`mislabelled_table`).
    """
    import plotly.graph_objects as go

    from .figures import resampler_colour

    col = diff_column(reference)
    fig = go.Figure()
    for resampler, g in summary[summary["resampler"] != reference].groupby("resampler", sort=False):
        raw = g[col].to_numpy()
        fig.add_bar(
            x=g["condition"],
            y=np.clip(raw, -cap, cap),
            name=resampler,
            marker_color=resampler_colour(resampler),
            customdata=np.stack([raw, g["median_cer"].to_numpy(), g["looped"].to_numpy(), g["clips"].to_numpy()], axis=1),
            hovertemplate=(
                f"<b>{resampler}</b><br>%{{x}}<br>adds %{{customdata[0]:+.3f}} CER to {reference} (median, paired)"
                "<br>median strict CER %{customdata[1]:.3f}<br>looped runs %{customdata[2]} of %{customdata[3]}<extra></extra>"
            ),
        )
    fig.add_hline(y=CLEARLY_WORSE_CER, line_dash="dot", line_color="#999", annotation_text="clearly worse", annotation_position="top left")
    low = min(-0.1, float(np.clip(summary[col].min(), -cap, 0)) - 0.05) if not summary.empty else -0.1
    fig.update_layout(
        barmode="group",
        title=f"What each resampler adds to the strict CER of {reference}, per condition (median paired difference, capped at {cap:g})",
        yaxis=dict(title=f"CER minus {reference}", range=[low, cap * 1.05]),
        xaxis_title="condition",
        legend_title="resampler",
        height=440,
        margin=dict(l=60, r=20, t=60, b=60),
    )
    return fig


def cause_chart(summary: pd.DataFrame, *, cap: float = CHART_CAP):
    """Alias kept for notebooks: :func:`condition_chart`."""
    return condition_chart(summary, cap=cap)
