"""The Cantonese resampling diagnosis: how much error comes from the audio path,
and how much from script or colloquial-vs-written differences?

For every clip and every resampler (good, common, bad, and the mislabelled
rate bug) the clip is transcribed and scored; the score's error breakdown
separates what the comparison forgives (script, punctuation, colloquial
Cantonese vs written Chinese, numeral style) from real recognition errors,
and comparing each resampler with the cleanest one isolates what the audio
path adds. A second table shows what the seed blamed on the operating
system: the same file decoded by different decoders and down-mixed
differently, on one machine.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from .audio import BACKENDS, backend_status, load_audio
from .datasets import ManifestEntry
from .resampling import RESAMPLERS
from .scoring import CAUSES, score
from .transcription import TranscriptionWarning, transcribe

#: Resamplers compared, best first: the first is the reference for "audio path" effects.
DIAGNOSIS_RESAMPLERS = ("soxr_vhq", "soxr_hq", "torchaudio_default", "scipy_poly", "ffmpeg_swr", "linear", "naive_decimation", "mislabelled")
#: Channel handlings compared in the decoder/down-mix table.
CHANNEL_MODES = ("mean", "first", 1)
#: Fast, deterministic decoding for a diagnosis: greedy, no timestamps.
DIAGNOSIS_OPTIONS = {"beam_size": 1, "timestamps": "none", "language_fallback": True}


@dataclass
class Diagnosis:
    """Every run of a diagnosis, and the tables built from them.

    Attributes
    ----------
    runs : pandas.DataFrame
        One row per (clip, resampler): transcript, strict and lenient error
        rates, the error count per cause, timings and the settings used.
    audio_path : pandas.DataFrame
        One row per (clip, decoder, channel handling) with the default resampler.
    scores : dict
        ``(clip, resampler) -> Score`` for the alignments.
    model, engine : str
    """

    runs: pd.DataFrame
    audio_path: pd.DataFrame
    scores: dict = field(default_factory=dict, repr=False)
    model: str = "embedded"
    engine: str = "faster-whisper"
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Per resampler, averaged over clips: strict and lenient CER, the change against
        the cleanest resampler, and the error rate per cause."""
        return summarise(self.runs)


def _clip_label(entry: ManifestEntry) -> str:
    return entry.path.stem


def diagnose(
    entries,
    resamplers=DIAGNOSIS_RESAMPLERS,
    *,
    model: str = "embedded",
    engine: str = "faster-whisper",
    decoder_clip: int | None = 0,
    progress: bool = True,
    **options,
) -> Diagnosis:
    """Run the diagnosis over manifest entries.

    Parameters
    ----------
    entries : list of ManifestEntry
        Clips with references (see :func:`workbench.datasets.read_manifest`).
    resamplers : sequence of str
        Names from :data:`~workbench.resampling.RESAMPLERS`; unavailable ones are skipped and noted.
    model, engine :
        As for :func:`workbench.transcribe`.
    decoder_clip : int or None
        Index of the entry used for the decoder / down-mix comparison (None skips it).
    options :
        Transcription options; default greedy decoding, no timestamps, and a
        recorded fallback to ``zh`` when the model cannot do Cantonese.

    Returns
    -------
    Diagnosis
    """
    from tqdm.auto import tqdm

    opts = {**DIAGNOSIS_OPTIONS, **options}
    usable = [r for r in resamplers if r in RESAMPLERS and RESAMPLERS[r].available()[0]]
    notes = [f"resampler {r} skipped: {RESAMPLERS[r].available()[1] if r in RESAMPLERS else 'unknown'}" for r in resamplers if r not in usable]
    entries = [e for e in entries if e.reference]
    rows, scores = [], {}
    jobs = [(e, r) for e in entries for r in usable]
    decoded: dict = {}
    for entry, resampler in tqdm(jobs, desc="diagnosis", unit="run", disable=not progress):
        if entry.path not in decoded:  # decode each file once, resample it many times
            decoded = {entry.path: load_audio(entry.path)}
        row, s = _run(decoded[entry.path], entry, model, engine, resampler, opts)
        row.update({"clip": _clip_label(entry), "resampler": resampler, "kind": RESAMPLERS[resampler].kind})
        rows.append(row)
        scores[(row["clip"], resampler)] = s
    runs = pd.DataFrame(rows)
    audio_path = _audio_path_table(entries[decoder_clip], model, engine, opts, progress) if decoder_clip is not None and entries else pd.DataFrame()
    return Diagnosis(runs, audio_path, scores, model, engine, notes)


def _run(clip, entry: ManifestEntry, model, engine, resampler, opts) -> tuple[dict, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TranscriptionWarning)  # fallbacks are recorded in the row instead
        t = transcribe(clip, model=model, engine=engine, language=entry.language or None, resampler=resampler, **opts)
    s = score(t.text, entry.reference, language=entry.language)
    row = {
        "language": entry.language,
        "decoded_as": t.language,
        "text": t.text,
        "reference": entry.reference,
        "cer": s.error_rate,
        "lenient_cer": s.lenient_error_rate,
        "reference_length": s.reference_length,
        **{cause: s.breakdown[cause] for cause in CAUSES},
        "inference_s": t.timings["inference_s"],
        "fallbacks": "; ".join(t.fallbacks),
        "source": entry.meta.get("source", ""),
    }
    return row, s


def _audio_path_table(entry: ManifestEntry, model, engine, opts, progress) -> pd.DataFrame:
    """The same file through every decoder and channel handling, with the default resampler."""
    status = backend_status()
    rows = []
    for backend in [b for b in BACKENDS if status[b][0]]:
        for channel in CHANNEL_MODES:
            try:
                clip = load_audio(entry.path, backend=backend, channel=channel)
            except ValueError:  # e.g. channel 1 of a mono file
                continue
            row, _ = _run(clip, entry, model, engine, "soxr_hq", opts)
            rows.append({"clip": _clip_label(entry), "decoder": backend, "channel": clip.info.channel_mode, "frames": clip.num_frames, **row})
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean rates per resampler, in the order given, with each cause as a rate of reference characters."""
    if runs.empty:
        return runs
    order = list(dict.fromkeys(runs["resampler"]))
    g = runs.groupby("resampler", sort=False)
    length = g["reference_length"].sum()
    out = pd.DataFrame(
        {
            "kind": g["kind"].first(),
            "cer": g.apply(lambda d: (d["cer"] * d["reference_length"]).sum(), include_groups=False) / length,
            "lenient_cer": g.apply(lambda d: (d["lenient_cer"] * d["reference_length"]).sum(), include_groups=False) / length,
        }
    )
    for cause in CAUSES:
        out[f"{cause}_rate"] = g[cause].sum() / length
    best = out["cer"].iloc[0]
    out.insert(3, "cer_vs_best", out["cer"] - best)
    return out.loc[order].reset_index()


def cause_chart(summary: pd.DataFrame):
    """Stacked bars per resampler: the error rate each cause contributes.

    Real errors ("other") sit at the bottom; what a lenient comparison
    forgives (colloquial, numerals) and what even a strict one ignores
    (script, punctuation/width) stack above.
    """
    import plotly.graph_objects as go

    from .scoring import CAUSE_COLOURS, CAUSE_LABELS

    fig = go.Figure()
    for cause in ("other", "numerals", "colloquial", "script", "punctuation_width"):
        fig.add_bar(x=summary["resampler"], y=summary[f"{cause}_rate"], name=CAUSE_LABELS.get(cause, cause), marker_color=CAUSE_COLOURS.get(cause))
    fig.add_scatter(x=summary["resampler"], y=summary["cer"], mode="markers+lines", name="strict CER", marker=dict(color="black", size=9))
    fig.update_layout(
        barmode="stack",
        title="Where the errors come from, per resampler (rate per reference character)",
        yaxis_title="errors per reference character",
        xaxis_title="resampler (cleanest first)",
        legend_title="cause",
        height=460,
    )
    return fig
