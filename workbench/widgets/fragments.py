"""The HTML the live panel shows: messages, clip details, transcripts and the table of runs."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

from ..resampling import RESAMPLERS
from ..scoring import CAUSE_LABELS, CAUSES, COUNTED_CAUSES
from .common import khz
from .constants import MESSAGE_STYLES, PLAYER_MAX_SECONDS, TABLE_MAX_HEIGHT

if TYPE_CHECKING:
    from ..audio import Clip
    from ..scoring import Score
    from ..transcription import Transcript
    from .sources import ClipSource
    from .transcribing import Request

#: Shown in the table of runs before the first transcription.
NO_RUNS_HTML = "<i>No runs yet: every transcription of this session is listed here with its settings, error rate and time.</i>"


def _format_rate(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _cell(value) -> str:
    return html.escape(str(value))


def note_html(text: str) -> str:
    """``text`` as an italic note."""
    return f"<i>{html.escape(text)}</i>"


def message_html(text: str, kind: str) -> str:
    """A coloured box holding ``text``; ``kind`` is a key of :data:`MESSAGE_STYLES`."""
    background, colour = MESSAGE_STYLES[kind]
    body = html.escape(text).replace("\n", "<br>")
    return (
        f'<div class="wb-message wb-{kind}" style="background:{background};color:{colour};border-left:4px solid {colour};'
        f'padding:6px 10px;margin:4px 0;white-space:normal">{body}</div>'
    )


def details_html(details: str) -> str:
    """Preformatted ``details`` (a traceback), for the folded details under a message."""
    return f'<pre style="font-size:85%;white-space:pre-wrap">{html.escape(details)}</pre>'


def resampler_note_html(description: str, warn: bool) -> str:
    """A resampler's description in small type, in the error colour when ``warn``."""
    colour = MESSAGE_STYLES["error"][1] if warn else "#555"
    return f'<span style="font-size:85%;color:{colour}">{html.escape(description)}</span>'


def runs_table_html(table: str) -> str:
    """The HTML ``table`` of runs in a scrolling box."""
    return f'<div style="max-height:{TABLE_MAX_HEIGHT};overflow:auto;font-size:90%">{table}</div>'


def clip_info_html(source: ClipSource, clip: Clip, resampled: Clip, resampler: str) -> str:
    """How ``clip`` was decoded and resampled: decoder, codec, rates, channels and any warnings."""
    info = clip.info
    badge = (
        ' <span style="background:#eee;border-radius:3px;padding:0 4px;font-size:85%">synthetic: generated, not recorded</span>'
        if source.synthetic
        else ""
    )
    levels = ", ".join(f"{level:.1f}" for level in info.channel_levels_dbfs) or "–"
    rows = [
        ("decoder", f"{info.decoder} ({info.decoder_version})"),
        ("codec / container", f"{info.codec or '–'} / {info.container or '–'}"),
        (
            "as stored",
            f"{khz(info.original_sample_rate)}, {info.original_channels} channel(s), {info.bit_depth or '–'} bit, {info.duration:.2f} s",
        ),
        ("channels used", f"{info.channel_mode} (levels {levels} dBFS)"),
        ("resampled", f"{resampler}: {khz(clip.sample_rate)} to {khz(resampled.sample_rate)} ({RESAMPLERS[resampler].description})"),
    ]
    if source.language:
        rows.insert(0, ("language", source.language))
    if clip.duration > PLAYER_MAX_SECONDS:
        rows.append(("players", f"hold the first {PLAYER_MAX_SECONDS:g} s"))
    body = "".join(f'<tr><td style="padding-right:12px;color:#666">{_cell(k)}</td><td>{_cell(v)}</td></tr>' for k, v in rows)
    warns = "".join(f'<div style="color:{MESSAGE_STYLES["warning"][1]}">⚠ {html.escape(w)}</div>' for w in info.warnings)
    return f'<div class="wb-clip-info"><b>{html.escape(source.label)}</b>{badge}<table style="font-size:90%">{body}</table>{warns}</div>'


def transcript_html(request: Request, transcript: Transcript, sc: Score | None, note: str) -> str:
    """The transcript with its settings and timings, and, when scored, its error rates, alignment and breakdown."""
    settings = transcript.settings or {}
    opts = request.options
    where = ", ".join(str(settings[k]) for k in ("device", "precision") if settings.get(k))
    described = [
        f"clip {request.source.label}",
        f"decoder {request.decoder}",
        f"channels {request.channel}",
        f"resampler {request.resampler}",
        f"model {request.model}",
        f"engine {request.engine}" + (f" ({where})" if where else ""),
        f"language {opts.language or 'auto'} → {transcript.language or '?'}",
        f"beam {opts.beam_size}, batch {opts.batch_size}, timestamps {opts.timestamps}",
    ]
    timings = transcript.timings or {}
    times = ", ".join(
        f"{label} {timings[k]:.2f} s"
        for k, label in (("inference_s", "inference"), ("load_s", "model load"))
        if isinstance(timings.get(k), (int, float))
    )
    if isinstance(timings.get("real_time_factor"), (int, float)):
        times += f", real-time factor {timings['real_time_factor']:.3f}"
    parts = [
        '<div class="wb-transcript" style="font-family:sans-serif">',
        f'<div style="font-size:85%;color:#666">{html.escape(" · ".join(described))}</div>',
        f'<div class="wb-text" style="font-size:120%;margin:6px 0">{html.escape(transcript.text) or "<i>(empty transcript)</i>"}</div>',
    ]
    for fallback in transcript.fallbacks:
        parts.append(f'<div style="color:{MESSAGE_STYLES["warning"][1]}">fallback: {html.escape(fallback)}</div>')
    if times:
        parts.append(f'<div style="font-size:85%;color:#666">{html.escape(times)}</div>')
    if sc is not None:
        metric = sc.metric.upper()
        parts.append(
            f'<div class="wb-rates" style="margin:8px 0;font-size:110%">{metric} <b>{_format_rate(sc.error_rate)}</b> strict · '
            f"<b>{_format_rate(sc.lenient_error_rate)}</b> lenient</div>"
        )
        parts.append(sc.to_html())
        cells = "".join(
            f"<tr><td>{html.escape(CAUSE_LABELS[c])}</td><td style='text-align:right'>{sc.breakdown[c]}</td>"
            f"<td style='color:#666'>{'counted' if c in COUNTED_CAUSES else 'not counted'}</td></tr>"
            for c in CAUSES
        )
        parts.append(
            '<table class="wb-breakdown" style="font-size:90%;margin-top:6px">'
            f"<tr><th>cause</th><th>differences</th><th></th></tr>{cells}</table>"
        )
    if note:
        parts.append(f'<div style="color:#666;margin-top:6px"><i>{html.escape(note)}</i></div>')
    parts.append("</div>")
    return "".join(parts)
