"""Self-contained HTML reports (tables plus interactive figures, viewable offline)."""

from __future__ import annotations

import html
import json
import platform
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .audio import SAMPLE_RATE
from .errors import WorkbenchWarning
from .io import dumps, write_text
from .options import FASTER_WHISPER
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
        footer = "<footer><pre>" + html.escape(dumps(meta, indent=2)) + "</pre></footer>"
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

    meta = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "workbench": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
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
    json_path = write_text(
        out_dir / "resampling-report.json",
        json.dumps({"rows": records, "skipped": df.attrs.get("skipped", {}), "environment": _environment_meta()}, indent=2),
    )

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
            f"{0.875 * target_sr / 2:.0f} Hz, measured at the tone's true frequency. <b>× real time</b>: seconds of audio per second of "
            "work.</p>",
        ),
        ("Quality table", table),
        (
            "Sweep test: aliasing shows as mirrored lines",
            embed(
                figures.sweep_figure(
                    sweeps, title=f"Log sweep 50 Hz–{0.95 * sweep_rate / 2000:.1f} kHz at {sweep_rate} Hz, resampled to {target_sr} Hz"
                )
            ),
        ),
        (
            f"Before and after {DEFAULT_RESAMPLER} (synthetic speech-like signal plus 9–22 kHz hiss)",
            embed(figures.before_after_figure((stress, sweep_rate), (good, target_sr), labels=("original", DEFAULT_RESAMPLER))),
        ),
        (
            "Before and after naive decimation: the hiss folds into the speech band",
            embed(figures.before_after_figure((stress, sweep_rate), (bad, target_sr), labels=("original", "naive_decimation"))),
        ),
        (
            "Difference: naive decimation minus soxr_hq, in the speech band",
            embed(
                figures.difference_figure(
                    (good, target_sr), (bad, target_sr), title=f"naive_decimation minus {DEFAULT_RESAMPLER} (dB): red is aliased hiss"
                )
            ),
        ),
    ]
    meta = _environment_meta()
    meta["skipped"] = df.attrs.get("skipped", {})
    html_path = write_text(out_dir / "resampling-report.html", render_html("Whisper Workbench: resampling report", sections, meta=meta))
    return [csv_path, json_path, html_path]


# ----------------------------------------------------------------------------
# The diagnosis report (the main job)
# ----------------------------------------------------------------------------

#: Fonts that render Chinese on Windows, macOS and Linux (Noto CJK from Debian's fonts-noto-cjk).
CJK_FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", "Microsoft JhengHei", "Microsoft YaHei", "PingFang TC", "PingFang SC", '
    '"Hiragino Sans", "Noto Sans CJK TC", "Noto Sans CJK SC", "Source Han Sans", "WenQuanYi Micro Hei", sans-serif'
)
_DIAGNOSIS_STYLE = f"""
body {{ font-family: {CJK_FONT_STACK}; margin: 1.5rem auto; max-width: 62rem; padding: 0 1rem; color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.5rem; }} h2 {{ font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }} h3 {{ font-size: 1rem; }}
.scroll {{ overflow-x: auto; max-width: 100%; }}
table {{ border-collapse: collapse; font-size: 0.82rem; margin: 0.5rem 0; }}
th, td {{ padding: 0.2rem 0.5rem; border-bottom: 1px solid #e4e4e4; text-align: right; vertical-align: top; }}
th {{ background: #f4f4f4; }} td.text, th.text {{ text-align: left; }}
.answer li {{ margin: 0.35rem 0; }} .note {{ color: #555; font-size: 0.9rem; }}
.worse {{ color: #b2182b; font-weight: 600; }} .loop {{ color: #8c510a; font-weight: 600; }}
details {{ margin: 0.4rem 0; }} summary {{ cursor: pointer; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; font-size: 0.85rem; }} dt {{ color: #555; }}
"""

#: Resolution of the report's spectrograms (time frames x frequency bins per panel): enough to see
#: aliasing, small enough to keep the page light.
SPECTROGRAM_FRAMES = 240
SPECTROGRAM_BINS = 96
#: Plain words for the tables' column names.
_COLUMN_LABELS = {
    "median_cer": "median strict CER",
    "mean_cer": "mean strict CER",
    "median_lenient_cer": "median lenient CER",
    "looped": "looped runs",
    "reference_cer": "strict CER (reference pipeline)",
    "real_errors": "real errors",
    "worst_resampler_adds": "worst resampler adds",
    "downmix_adds": "down-mix adds",
    "duration_ratio": "audio too long by",
    "declared_rate": "declared rate",
    "sample_rate": "true rate",
    "lenient_cer": "lenient CER",
    "cer": "strict CER",
    "level_dbfs": "level (dBFS)",
    "downmix_loss_db": "down-mix loss (dB)",
}


def _plotly_js() -> str:
    """plotly.js's cartesian bundle (bars, scatter, heatmaps), inlined once so the page opens offline."""
    from importlib.resources import files

    return files("workbench").joinpath("static/plotly-cartesian.min.js").read_text(encoding="utf-8")


def _figure(fig) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})


def _table(
    df,
    *,
    text_columns=("text", "clip", "condition", "resampler", "kind", "choice", "findings", "decoder", "channel", "worst_resampler"),
    digits: int = 3,
) -> str:
    """A readable HTML table: rounded numbers, plain column names, text columns left-aligned, escaped."""
    if df is None or df.empty:
        return "<p class='note'>Nothing to show.</p>"
    head = "".join(
        f"<th class='{'text' if c in text_columns else ''}'>{html.escape(_COLUMN_LABELS.get(c, c.replace('_', ' ')))}</th>"
        for c in df.columns
    )
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, rec, strict=True):
            if isinstance(v, (bool, np.bool_)):
                shown = "yes" if v else ""
            elif isinstance(v, (float, np.floating)):
                shown = "" if not np.isfinite(v) else (f"{v:.{digits}f}" if c not in ("duration_ratio",) else f"{v:g}×")
            elif v is None:
                shown = ""
            else:
                shown = str(v)
            cells.append(f"<td class='{'text' if c in text_columns else ''}'>{html.escape(shown)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"


def describe_data(entries) -> dict:
    """What a dataset is, in words, from its manifest: languages, real or synthetic, counts."""
    from .languages import language_name

    speech = [e for e in entries if e.reference]
    languages = sorted({e.language for e in speech if e.language})
    synthetic = [e for e in speech if "synthetic" in str(e.meta.get("source", "")).lower()]
    recordings = {str(e.meta.get("recording") or e.path.stem) for e in speech}
    if not synthetic:
        kind = "real"
    elif len(synthetic) == len(speech):
        kind = "synthetic"
    else:
        kind = "real and synthetic"
    names = [language_name(code) for code in languages] or ["unlabelled"]
    return {
        "languages": languages,
        "language_names": names,
        "kind": kind,
        "clips": len(speech),
        "recordings": len(recordings),
        "slug": "cantonese" if languages == ["yue"] else ("-".join(languages) or "speech"),
        "title": (
            f"Resampling diagnosis: {kind} {' and '.join(names)} speech "
            f"({len(recordings)} recording{'s' if len(recordings) != 1 else ''}, {len(speech)} clip{'s' if len(speech) != 1 else ''})"
        ),
    }


def _settings_list(diagnosis, about: dict) -> str:
    from . import __version__

    opts = ", ".join(f"{k}={v}" for k, v in sorted(diagnosis.options.items()))
    items = {
        "data": (
            f"{about['clips']} clips from {about['recordings']} recording{'s' if about['recordings'] != 1 else ''}; "
            f"{about['kind']} speech; languages: {', '.join(about['languages']) or 'none'}"
        ),
        "model": diagnosis.model,
        "engine": diagnosis.engine,
        "reference pipeline": f"{diagnosis.reference} resampler, mean down-mix",
        "decoding options": opts + "; generated tokens capped by each clip's duration",
        "workbench": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    meta = _environment_meta()
    items.update({k: v for k, v in meta.items() if k in ("numpy", "scipy", "soxr", "torch", "torchaudio", "librosa")})
    common = diagnosis.runs["fallbacks"].mode() if not diagnosis.runs.empty else []
    if len(common) and common.iloc[0]:
        items["fallback"] = common.iloc[0]
    for i, note in enumerate(diagnosis.notes, 1):
        items[f"note {i}"] = note
    return "<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in items.items()) + "</dl>"


_GLOSSARY = (
    "<p class='note'><b>Strict CER</b>: character errors per reference character, after Traditional/Simplified script and "
    "punctuation differences are set aside. <b>Lenient CER</b> also forgives colloquial Cantonese written as standard Chinese "
    "(呢/這, 唔/不, 嘢/東西…) and numeral style. <b>The reference pipeline</b> is the cleanest resampler with the usual mean "
    "down-mix; <b>CER minus reference</b> is a run's CER minus the reference pipeline's on the same clip (median over clips), "
    "so it measures what that step of the audio path adds. <b>Looped</b> runs repeat themselves (Whisper's repetition loop); "
    "their extra text counts as hallucination. Error rates can exceed 1 when the transcript is longer than the reference.</p>"
)


def _clip_details(diagnosis, entries_by_clip: dict, embed_spectrograms: set) -> str:
    """Per clip, collapsed: every run's alignment; spectrograms where the resampler mattered."""
    from . import figures
    from .audio import load_audio
    from .diagnosis import MISLABELLED

    parts = []
    runs = diagnosis.runs
    common = runs["fallbacks"].mode().iloc[0] if not runs.empty and not runs["fallbacks"].mode().empty else ""
    for clip_name, group in runs.groupby("clip", sort=False):
        first = group.iloc[0]
        normal = group[group["resampler"] != MISLABELLED]
        span = f"strict CER {normal['cer'].min():.2f}–{normal['cer'].max():.2f}" if not normal.empty else ""
        loops = int(group["looped"].sum())
        flag = f", <span class='loop'>{loops} looped</span>" if loops else ""
        body = [f"<p class='note'>{html.escape(str(first['source']))}<br>reference: {html.escape(str(first['reference']))}</p>"]
        for row in group.itertuples(index=False):
            s = diagnosis.scores.get((clip_name, row.resampler))
            extra = []
            if row.fallbacks and row.fallbacks != common:  # the usual one (e.g. yue -> zh) is stated once, in the settings
                extra.append(html.escape(row.fallbacks))
            if row.looped:
                extra.append(f"<span class='loop'>looped: {html.escape(row.loop_evidence)}</span>")
            note = f"<br><small>{'; '.join(extra)}</small>" if extra else ""
            body.append(f"<h3>{html.escape(row.resampler)}: strict CER {row.cer:.3f}, lenient {row.lenient_cer:.3f}{note}</h3>")
            body.append(s.to_html() if s is not None else f"<p>{html.escape(row.text)}</p>")
        if clip_name in embed_spectrograms:
            entry = entries_by_clip[clip_name]
            worst = normal.sort_values("cer").iloc[-1]["resampler"]
            clip = load_audio(entry.path)
            good = clip.resample(SAMPLE_RATE, diagnosis.reference)
            bad = clip.resample(SAMPLE_RATE, worst)
            body.append(f"<h3>Spectrograms: {html.escape(diagnosis.reference)} against {html.escape(worst)}</h3>")
            body.append(
                _figure(
                    figures.before_after_figure(
                        good, bad, labels=(diagnosis.reference, worst), max_frames=SPECTROGRAM_FRAMES, max_bins=SPECTROGRAM_BINS
                    )
                )
            )
        parts.append(
            f"<details><summary><b>{html.escape(clip_name)}</b> — {html.escape(str(first['condition']))}, {span}{flag}</summary>\n"
            + "\n".join(body)
            + "</details>"
        )
    return "\n".join(parts)


def write_diagnosis_report(diagnosis, out_dir, *, entries=None, name: str | None = None, max_spectrograms: int = 2) -> Path:
    """Write the diagnosis as ``<name>.html`` plus the per-run ``<name>-runs.csv`` into ``out_dir``.

    The page answers its question first (a verdict per condition), then
    shows the tables and one chart, then per-clip detail (collapsed
    alignments; spectrograms for the ``max_spectrograms`` clips where the
    resampler mattered most). It embeds plotly.js's cartesian bundle once
    and nothing else, so it opens offline.

    Parameters
    ----------
    diagnosis : Diagnosis
    entries : list of ManifestEntry, optional
        The clips diagnosed (for the title and the spectrograms).
    name : str, optional
        File stem; default ``<language>-diagnosis`` (``cantonese-diagnosis``).

    Returns
    -------
    Path
        The HTML file.
    """
    from .diagnosis import CLEARLY_WORSE_CER, condition_chart, diff_column

    out_dir = Path(out_dir)
    entries = list(entries or [])
    about = (
        describe_data(entries)
        if entries
        else {
            "title": "Resampling diagnosis",
            "slug": "speech",
            "clips": len(diagnosis.runs["clip"].unique()) if not diagnosis.runs.empty else 0,
            "recordings": 0,
            "kind": "unknown",
            "languages": [],
        }
    )
    name = name or f"{about['slug']}-diagnosis"
    write_text(out_dir / f"{name}-runs.csv", diagnosis.runs.to_csv(index=False))
    summary = diagnosis.summary()
    col = diff_column(diagnosis.reference)
    mattered = []
    if not summary.empty:
        normal = diagnosis.runs[diagnosis.runs["resampler"] != "mislabelled"]
        ref = normal[normal["resampler"] == diagnosis.reference].set_index("clip")["cer"]
        spread = (normal.groupby("clip")["cer"].max() - ref).dropna().sort_values(ascending=False)
        mattered = [c for c, v in spread.items() if v >= CLEARLY_WORSE_CER][:max_spectrograms]
    by_clip = {e.path.stem: e for e in entries}
    sections = [
        ("", f"<p class='note'>{html.escape(_lede(diagnosis, about))}</p>"),
        ("The answer", "<ul class='answer'>" + "".join(f"<li>{html.escape(v)}</li>" for v in diagnosis.verdicts()) + "</ul>" + _GLOSSARY),
        ("Per condition and resampler", _table(summary.rename(columns={col: f"CER minus {diagnosis.reference} (median, paired)"}))),
        ("Where the errors come from, per condition (errors per reference character, medians over clips)", _table(diagnosis.causes())),
    ]
    if not summary.empty:
        sections.append(("What each resampler adds, per condition", _figure(condition_chart(summary, reference=diagnosis.reference))))
    mis = diagnosis.mislabelled()
    if not mis.empty:
        sections.append(
            (
                "A mislabelled sample rate, on its own scale",
                "<p class='note'>The samples are handed to the model as 16 kHz without resampling: speech plays too slowly and too low. "
                "These runs are kept out of the table and chart above, whose scale they would flatten.</p>" + _table(mis),
            )
        )
    if not diagnosis.channels.empty:
        sections.append(
            (
                "Down-mixing: each channel on its own",
                "<p class='note'>Every multichannel clip transcribed as the mean of its channels (what most pipelines do) and one "
                "channel at a time, "
                f"with {html.escape(diagnosis.reference)}. Levels and the correlation between channels explain a lossy down-mix: a "
                "correlation near −1 means "
                "one channel is polarity-inverted and the mean cancels the speech.</p>" + _table(diagnosis.channels),
            )
        )
    if not diagnosis.audio_path.empty:
        sections.append(
            (
                "What often gets blamed on the operating system",
                f"<p class='note'>One file ({html.escape(diagnosis.audio_path_clip or '')}) decoded by every decoder available here "
                "(channels averaged), and by the first of them with each channel alone, "
                f"then resampled with {html.escape(diagnosis.reference)}, on one machine. Differences between rows are what a different "
                "machine's "
                "default decoder or channel handling would produce; they have nothing to do with the operating system itself.</p>"
                + _table(diagnosis.audio_path),
            )
        )
    sections.append(
        (
            "Clip by clip",
            "<p class='note'>Click a clip to see every run's transcript aligned with the reference; colours mark the cause of each "
            "difference.</p>" + _clip_details(diagnosis, by_clip, set(mattered) & set(by_clip)),
        )
    )
    sections.append(("How this was measured", _settings_list(diagnosis, about)))
    body = "\n".join(f"<h2>{html.escape(h)}</h2>\n{frag}" if h else frag for h, frag in sections)
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(about['title'])}</title><style>{_DIAGNOSIS_STYLE}</style>"
        f"<script>{_plotly_js()}</script></head>\n"
        f"<body><h1>{html.escape(about['title'])}</h1>\n{body}\n</body></html>\n"
    )
    return write_text(out_dir / f"{name}.html", page)


def _lede(diagnosis, about: dict) -> str:
    return (
        f"Each of {about['clips']} clips ({about['kind']} speech from {about['recordings']} "
        f"recording{'s' if about['recordings'] != 1 else ''}) was transcribed after each resampler "
        f"with the same model ({diagnosis.model}, {diagnosis.engine} engine, greedy decoding) and scored against its reference. "
        "Comparing each resampler with the reference pipeline on the same clip isolates what the audio path adds; the score's breakdown "
        "splits the rest into script, punctuation, colloquial-vs-written, numerals, loops and real recognition errors."
    )


def load_demo_data(data=None, *, language: str | None = None):
    """The clips to diagnose: the bundled real Cantonese set, a manifest file, or a folder.

    A folder is read through its ``manifest.csv`` (or ``.tsv``/``.jsonl``)
    when it has one, else as audio files with same-named ``.txt``
    references in ``language``.
    """
    from .datasets import ManifestError, bundled, import_folder, read_manifest
    from .datasets.manifest import drop_repeats

    def once(entries):  # a clip listed twice, however spelled, is diagnosed once
        kept, problems = drop_repeats(entries)
        for problem in problems:
            warnings.warn(problem, WorkbenchWarning, stacklevel=3)
        return kept

    if data is None:
        return [e for e in bundled() if e.language == "yue"]
    path = Path(data)
    if path.is_file():
        return once(read_manifest(path))
    if path.is_dir():
        for candidate in ("manifest.csv", "manifest.tsv", "manifest.jsonl"):
            if (path / candidate).is_file():
                return once(read_manifest(path / candidate))
        if not language:
            raise ManifestError(
                f"{path} has no manifest.csv; to read its audio files with same-named .txt references, say their language (--language yue)"
            )
        dataset = import_folder(path, language)
        return dataset.entries
    raise ManifestError(f"{path}: no such manifest or folder; pass a manifest (CSV, TSV or JSONL) or a folder of clips")


def _check_writable(out_dir: Path, files=(), *, inputs=(), force: bool = False) -> None:
    """Fail before any long work if the report cannot be written into ``out_dir``.

    ``files`` are ``(name, suffixes)`` pairs of what will be written there:
    none may overwrite one of ``inputs``, nor (unless ``force``) an existing
    file of another kind (see :func:`workbench.io.check_output`).
    """
    from .errors import OutputError
    from .io import check_output

    try:
        check_output(out_dir, folder=True, option="--out", create=False)  # created when the report is written
        for name, suffixes in files:
            check_output(out_dir / name, inputs=inputs, suffixes=suffixes, force=force, option="--out", create=False)
    except OutputError as exc:
        raise OutputError(f"cannot write the report: {exc}") from None


def _save_runs_elsewhere(diagnosis, runs_csv: Path, started: float) -> str:
    """Where the computed runs are, once the report could not be written: its CSV if that was written, else a temporary copy."""
    import tempfile

    if runs_csv.is_file() and runs_csv.stat().st_mtime >= started:
        return f"the runs computed are saved in {runs_csv}"
    try:
        folder = Path(tempfile.mkdtemp(prefix="workbench-demo-"))
        saved = write_text(folder / runs_csv.name, diagnosis.runs.to_csv(index=False))
    except OSError:
        return "the runs computed could not be saved elsewhere either"
    return f"the runs computed are saved in {saved}"


#: The quick demo: one recording's clean, hiss and inverted-stereo clips, three resamplers.
QUICK_CONDITIONS = ("clean", "hiss", "polarity-inverted stereo")
QUICK_RESAMPLERS = ("soxr_vhq", "soxr_hq", "naive_decimation")


def run_demo(
    out_dir="reports",
    *,
    data=None,
    language: str | None = None,
    resamplers=None,
    quick: bool = False,
    model: str = "embedded",
    engine: str = FASTER_WHISPER,
    progress: bool = True,
    force: bool = False,
):
    """The headless main job: the resampling diagnosis, as an HTML report and a CSV of runs.

    Parameters
    ----------
    out_dir : path
        Folder for ``<language>-diagnosis.html`` and ``-runs.csv``; checked
        before any work starts: it must be writable, and neither file may
        overwrite an input or (unless ``force``) a file of another kind.
        Should the report still fail to be written, the runs computed are
        kept (in ``-runs.csv``, or a temporary folder the error names).
    data : path, optional
        A manifest or a folder (see :func:`load_demo_data`); default the
        bundled real Cantonese recordings.
    resamplers : sequence of str, optional
        Default :data:`~workbench.diagnosis.DIAGNOSIS_RESAMPLERS`; the first is the reference.
    quick : bool
        One recording, three conditions, three resamplers.
    force : bool
        Overwrite a file of another kind where the report or its CSV goes.

    Returns
    -------
    (Diagnosis, Path)

    Raises
    ------
    OutputError
        ``out_dir`` or a file in it cannot or must not be written.
    """
    import time

    from .diagnosis import DIAGNOSIS_RESAMPLERS, diagnose
    from .errors import OutputError, first_line

    out_dir = Path(out_dir)
    _check_writable(out_dir)
    entries = load_demo_data(data, language=language)
    if resamplers:
        from .resampling import RESAMPLERS, ResampleError

        unknown = [r for r in resamplers if r not in RESAMPLERS]
        if unknown:
            raise ResampleError(f"unknown resampler(s) {', '.join(unknown)}; choose from: {', '.join(RESAMPLERS)}")
    resamplers = tuple(resamplers or (QUICK_RESAMPLERS if quick else DIAGNOSIS_RESAMPLERS))
    if quick:
        first = next((e.meta.get("recording") for e in entries if e.meta.get("recording")), None)
        entries = [
            e
            for e in entries
            if (first is None or e.meta.get("recording") == first) and (e.meta.get("condition") in QUICK_CONDITIONS or first is None)
        ][:3]
    name = f"{describe_data(entries)['slug'] if entries else 'speech'}-diagnosis"
    inputs = [e.path for e in entries]
    if data is not None:
        source = Path(data)
        inputs += [source] if source.is_file() else [source / m for m in ("manifest.csv", "manifest.tsv", "manifest.jsonl")]
    _check_writable(out_dir, [(f"{name}.html", (".html", ".htm")), (f"{name}-runs.csv", (".csv",))], inputs=inputs, force=force)
    diagnosis = diagnose(entries, resamplers, model=model, engine=engine, progress=progress)
    started = time.time() - 1  # file times may be rounded to the second
    try:
        path = write_diagnosis_report(diagnosis, out_dir, entries=entries, name=name)
    except OSError as exc:
        kept = _save_runs_elsewhere(diagnosis, out_dir / f"{name}-runs.csv", started)
        raise OutputError(
            f"cannot write the report into {out_dir}: {first_line(exc)}; {kept}; free some space or choose another folder with --out"
        ) from exc
    return diagnosis, path
