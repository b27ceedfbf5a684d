"""Self-contained HTML reports (tables plus interactive figures, viewable offline)."""

from __future__ import annotations

import html
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .audio import SAMPLE_RATE
from .io import write_text
from .resampling import DEFAULT_RESAMPLER, RESAMPLERS, resample
from .signals import band_limited_noise, log_sweep, speech_like

#: Methods shown in the report's sweep figure: the default, the common ones and the bad ones.
SWEEP_METHODS = ("soxr_hq", "torchaudio_default", "scipy_poly", "ffmpeg_swr", "linear", "naive_decimation")
SWEEP_SECONDS = 4.0

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f4f4f4; } td:nth-child(3), td:nth-child(4), td:last-child { text-align: left; }
.note { color: #555; font-size: 0.9rem; max-width: 60rem; }
footer { margin-top: 3rem; color: #777; font-size: 0.8rem; }
"""


def render_html(title: str, sections: list[tuple[str, str]], *, meta: dict | None = None) -> str:
    """Assemble a standalone page from ``(heading, html_fragment)`` pairs.

    Figures are embedded with :func:`figure_html`; the first one carries
    plotly.js inline, so the page needs no network to display.
    """
    body = "\n".join(f"<h2>{html.escape(h)}</h2>\n{frag}" if h else frag for h, frag in sections)
    footer = ""
    if meta:
        footer = "<footer><pre>" + html.escape(json.dumps(meta, indent=2, ensure_ascii=False, default=str)) + "</pre></footer>"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n{footer}</body></html>\n"
    )


class _FigureEmbedder:
    """Embeds figures into one page, inlining plotly.js only once."""

    def __init__(self):
        self.first = True

    def __call__(self, fig) -> str:
        frag = fig.to_html(full_html=False, include_plotlyjs=self.first, config={"displaylogo": False})
        self.first = False
        return frag


def _environment_meta() -> dict:
    from . import __version__

    meta = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "workbench": __version__, "python": platform.python_version(), "platform": platform.platform()}
    for mod in ("numpy", "scipy", "soxr", "torch", "torchaudio", "librosa"):
        try:
            meta[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - a missing optional library is just not listed
            pass
    return meta


def sweep_results(orig_sr: int = 48_000, target_sr: int = SAMPLE_RATE, methods=SWEEP_METHODS, duration: float = SWEEP_SECONDS) -> dict:
    """A full-band log sweep at ``orig_sr`` resampled by each method: ``{name: (samples, rate)}``.

    The first entry is the original sweep, labelled with its rate.
    """
    x = log_sweep(sr=orig_sr, duration=duration)
    out = {"original": (x, orig_sr)}
    for m in methods:
        if m in RESAMPLERS and RESAMPLERS[m].available()[0]:
            out[m] = (resample(x, orig_sr, target_sr, m), target_sr)
    return out


def stress_example(orig_sr: int = 48_000, duration: float = 10.0):
    """Speech-like harmonics plus hiss confined to 9-22 kHz at the same level.

    Synthetic (not speech). The hiss is inaudible after a good resampler and
    folds into the speech band after a bad one.
    """
    speech = speech_like(sr=orig_sr, duration=duration)
    hiss = band_limited_noise(sr=orig_sr, duration=duration, low=9_000, high=0.95 * orig_sr / 2, seed=7)
    hiss *= np.sqrt(np.mean(speech**2) / np.mean(hiss**2))
    return (speech + hiss).astype(np.float32)


def write_resampling_report(df, out_dir, *, target_sr: int = SAMPLE_RATE, sweep_rate: int = 48_000) -> list[Path]:
    """Write ``resampling-report.{csv,json,html}`` into ``out_dir``; return the paths."""
    from . import figures

    out_dir = Path(out_dir)
    csv_path = write_text(out_dir / "resampling-report.csv", df.to_csv(index=False))
    records = json.loads(df.to_json(orient="records"))
    json_path = write_text(out_dir / "resampling-report.json", json.dumps({"rows": records, "skipped": df.attrs.get("skipped", {}), "environment": _environment_meta()}, indent=2))

    embed = _FigureEmbedder()
    sweeps = sweep_results(sweep_rate, target_sr)
    stress = stress_example(sweep_rate)
    good = resample(stress, sweep_rate, target_sr, DEFAULT_RESAMPLER)
    bad = resample(stress, sweep_rate, target_sr, "naive_decimation")
    table = df.drop(columns=["description"]).to_html(index=False, float_format=lambda v: f"{v:.1f}", na_rep="n/a", border=0)
    sections = [
        (
            "",
            "<p class='note'>Every resampler in the workbench measured on synthetic signals. "
            "<b>alias dB</b>: energy that comes out when the input holds only content above the new Nyquist "
            f"(noise or a log sweep from {target_sr // 2 + 1000} Hz up), relative to the input: lower is better, "
            "0 dB means everything folded into the speech band. <b>ripple dB</b>: largest tone gain error up to "
            f"{0.875 * target_sr / 2:.0f} Hz, measured at the tone's true frequency. <b>x realtime</b>: seconds of audio per second of work.</p>",
        ),
        ("Quality table", table),
        ("Sweep test: aliasing shows as mirrored lines", embed(figures.sweep_figure(sweeps, title=f"Log sweep 50 Hz–{0.95 * sweep_rate / 2000:.1f} kHz at {sweep_rate} Hz, resampled to {target_sr} Hz"))),
        (
            f"Before and after {DEFAULT_RESAMPLER} (synthetic speech-like signal plus 9–22 kHz hiss)",
            embed(figures.before_after_figure((stress, sweep_rate), (good, target_sr), labels=("original", DEFAULT_RESAMPLER))),
        ),
        (
            "Before and after naive decimation: the hiss folds into the speech band",
            embed(figures.before_after_figure((stress, sweep_rate), (bad, target_sr), labels=("original", "naive_decimation"))),
        ),
        ("Difference: naive decimation minus soxr_hq, in the speech band", embed(figures.difference_figure((good, target_sr), (bad, target_sr), title=f"naive_decimation minus {DEFAULT_RESAMPLER} (dB): red is aliased hiss"))),
    ]
    meta = _environment_meta()
    meta["skipped"] = df.attrs.get("skipped", {})
    html_path = write_text(out_dir / "resampling-report.html", render_html("Whisper Workbench: resampling report", sections, meta=meta))
    return [csv_path, json_path, html_path]


def write_diagnosis_report(diagnosis, out_dir, *, figure_clip=None, bad: str = "naive_decimation") -> Path:
    """Write ``cantonese-diagnosis.html`` (and the runs as CSV) into ``out_dir``; return the HTML path.

    ``figure_clip`` (a :class:`~workbench.datasets.ManifestEntry`) gets
    before/after spectrograms with the default resampler and with ``bad``.
    """
    from . import figures
    from .audio import load_audio
    from .diagnosis import cause_chart

    out_dir = Path(out_dir)
    runs, summary = diagnosis.runs, diagnosis.summary()
    write_text(out_dir / "cantonese-diagnosis-runs.csv", runs.to_csv(index=False))
    embed = _FigureEmbedder()
    fmt = lambda v: f"{v:.3f}"  # noqa: E731
    sections = [
        (
            "",
            "<p class='note'>Each clip is transcribed after each resampler with the same model and settings "
            f"(model <b>{html.escape(diagnosis.model)}</b>, engine <b>{html.escape(diagnosis.engine)}</b>, greedy decoding), "
            "then scored against its reference. <b>Strict CER</b> ignores only script (Traditional/Simplified) and punctuation/width; "
            "<b>lenient CER</b> also forgives colloquial Cantonese written as standard Chinese (呢/這, 唔/不, 嘅/的...) and numeral style. "
            "<b>cer_vs_best</b> is what the audio path adds over the cleanest resampler. "
            "Speech in the bundled clips is <b>synthetic</b> (espeak-ng), labelled as such below.</p>",
        ),
        ("Summary: mean error rates per resampler", summary.to_html(index=False, float_format=fmt, border=0)),
        ("Where the errors come from", embed(cause_chart(summary))),
    ]
    if figure_clip is not None:
        clip = load_audio(figure_clip.path)
        good = clip.resample(SAMPLE_RATE, DEFAULT_RESAMPLER)
        worse = clip.resample(SAMPLE_RATE, bad)
        sections.append((f"Before and after: {figure_clip.path.name} ({figure_clip.meta.get('source', '')})", embed(figures.before_after_figure(clip, good))))
        sections.append((f"The same clip after {bad}", embed(figures.before_after_figure(clip, worse))))
    for clip_name, group in runs.groupby("clip", sort=False):
        parts = [f"<p class='note'>{html.escape(str(group['source'].iloc[0]))}; reference: {html.escape(group['reference'].iloc[0])}</p>"]
        for _, row in group.iterrows():
            s = diagnosis.scores.get((clip_name, row["resampler"]))
            fallback = f" <small>({html.escape(row['fallbacks'])})</small>" if row["fallbacks"] else ""
            parts.append(f"<h3>{html.escape(row['resampler'])}: CER {row['cer']:.3f}, lenient {row['lenient_cer']:.3f}{fallback}</h3>")
            parts.append(s.to_html() if s is not None else html.escape(row["text"]))
        sections.append((f"Clip {clip_name}", "\n".join(parts)))
    if not diagnosis.audio_path.empty:
        cols = ["clip", "decoder", "channel", "frames", "cer", "lenient_cer", "text"]
        sections.append(
            (
                "What the seed blamed on the operating system: one file, different decoders and down-mixing, one machine",
                diagnosis.audio_path[cols].to_html(index=False, float_format=fmt, border=0),
            )
        )
    meta = _environment_meta()
    meta["notes"] = diagnosis.notes
    return write_text(out_dir / "cantonese-diagnosis.html", render_html("Whisper Workbench: Cantonese resampling diagnosis", sections, meta=meta))


def run_demo(out_dir="reports", *, quick: bool = False, model: str = "embedded", engine: str = "faster-whisper"):
    """The headless main job: the Cantonese resampling diagnosis on the bundled clips.

    Returns ``(summary_table, html_path)``.
    """
    from .datasets import bundled
    from .diagnosis import DIAGNOSIS_RESAMPLERS, diagnose

    entries = [e for e in bundled() if e.language == "yue"]
    if quick:
        entries = entries[:2]
    resamplers = ("soxr_hq", "torchaudio_default", "naive_decimation", "mislabelled") if quick else DIAGNOSIS_RESAMPLERS
    stress = next((e for e in entries if "stress" in e.path.stem), entries[0] if entries else None)
    order = [stress] + [e for e in entries if e is not stress] if stress else entries
    diagnosis = diagnose(order, resamplers, model=model, engine=engine, decoder_clip=0 if order else None)
    path = write_diagnosis_report(diagnosis, out_dir, figure_clip=stress)
    return diagnosis.summary(), path
