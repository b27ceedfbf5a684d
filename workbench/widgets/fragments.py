"""The HTML the live panel shows: messages, clip details, transcripts and the table of runs."""

from __future__ import annotations

import html
import numbers
from typing import TYPE_CHECKING

from ..figures import resampler_colour
from ..resampling import RESAMPLERS
from .common import MISSING, khz, rounded
from .constants import MESSAGE_STYLES, PLAYER_MAX_SECONDS, RATE_DECIMALS, SECONDS_DECIMALS, TABLE_MAX_HEIGHT

if TYPE_CHECKING:
    from ..audio import Clip
    from ..engines import Segment
    from ..scoring import Score
    from ..transcription import Transcript
    from .sources import ClipSource
    from .transcribing import Request

#: Shown in the table of runs before the first transcription.
NO_RUNS_HTML = "<i>No runs yet: every transcription of this session is listed here with its settings, error rate and time.</i>"

#: The table of runs: (key of a run's row, column heading, decimals for numbers), the error rates first so they are
#: in view without scrolling; ``text`` is left out (it is in the Transcript tab).
RUN_COLUMNS = (
    ("run", "#", 0),
    ("resampler", "resampler", 0),
    ("metric", "metric", 0),
    ("error rate", "error rate", RATE_DECIMALS),
    ("lenient", "lenient", RATE_DECIMALS),
    ("clip", "clip", 0),
    ("model", "model", 0),
    ("engine", "engine", 0),
    ("language", "language", 0),
    ("decoded as", "decoded as", 0),
    ("beam", "beam", 0),
    ("batch", "batch", 0),
    ("timestamps", "timestamps", 0),
    ("fallback", "zh fallback", 0),
    ("decoder", "decoder", 0),
    ("channel", "channels", 0),
    ("inference s", "inference s", SECONDS_DECIMALS),
    ("real-time factor", "real-time factor", RATE_DECIMALS),
    ("fallbacks", "fallbacks applied", 0),
)
#: Text cells longer than this are cut with an ellipsis (the whole text is their tooltip).
CELL_MAX_WIDTH = "22em"
_CELL = "padding:2px 8px;border-bottom:1px solid #e5e5e5;white-space:nowrap"


def _format_rate(value) -> str:
    return rounded(value, RATE_DECIMALS)


def _seconds(value) -> str:
    return rounded(value, SECONDS_DECIMALS)


def _cell(value) -> str:
    return html.escape(str(value))


def status_html(text: str) -> str:
    """A status line (what is being done, or what was done last); it wraps instead of being cut off."""
    return f'<span class="wb-status">{html.escape(text)}</span>' if text else ""


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


def swatch_html(resampler: str) -> str:
    """A small square in ``resampler``'s colour (the colour of its bars in the chart of runs)."""
    colour = resampler_colour(resampler)
    return f'<span class="wb-swatch" style="display:inline-block;width:10px;height:10px;margin-right:4px;background:{colour}"></span>'


def _run_cell(key: str, value, decimals: int) -> str:
    text = rounded(value, decimals)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f'<td style="{_CELL};text-align:right;font-variant-numeric:tabular-nums">{html.escape(text)}</td>'
    body = html.escape(text)
    if key == "resampler":
        body = swatch_html(str(value)) + body
    clipped = f"{_CELL};max-width:{CELL_MAX_WIDTH};overflow:hidden;text-overflow:ellipsis"
    return f'<td class="wb-{key.replace(" ", "-")}" style="{clipped}" title="{html.escape(text, quote=True)}">{body}</td>'


def runs_table_html(runs: list[dict]) -> str:
    """The table of runs, one line per run with its numbers rounded, in a scrolling box.

    Parameters
    ----------
    runs : list of dict
        The panel's rows (see :meth:`~workbench.widgets.Panel.runs_frame`).

    Returns
    -------
    str
        :data:`NO_RUNS_HTML` when there are none.
    """
    if not runs:
        return NO_RUNS_HTML
    head = "".join(
        f'<th style="{_CELL};text-align:left;position:sticky;top:0;background:#fafafa">{html.escape(title)}</th>'
        for _, title, _ in RUN_COLUMNS
    )
    body = "".join(
        '<tr class="wb-run">' + "".join(_run_cell(key, row.get(key), decimals) for key, _, decimals in RUN_COLUMNS) + "</tr>"
        for row in runs
    )
    table = f'<table class="wb-runs" style="border-collapse:collapse"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    return f'<div class="wb-runs-box" style="max-height:{TABLE_MAX_HEIGHT};overflow:auto;font-size:90%">{table}</div>'


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


def _time_span(start, end) -> str:
    if start is None and end is None:
        return MISSING
    return f"{_seconds(start)}–{_seconds(end)} s"


def segments_html(segments: list[Segment], *, words: bool = False) -> str:
    """The transcript's segments, each with its start and end time (seconds, rounded), one per line.

    Parameters
    ----------
    segments : list of Segment
    words : bool
        Give each word its own times, shown when the pointer rests on it.

    Returns
    -------
    str
        A table with a ``wb-segments`` class; times the engine did not report show as "–".
    """
    rows = []
    for segment in segments:
        if words and segment.words:
            text = "".join(
                f'<span class="wb-word" title="{_time_span(w.start, w.end)}">{html.escape(w.text)}</span>' for w in segment.words
            )
        else:
            text = html.escape(segment.text.strip())
        rows.append(
            f'<tr><td class="wb-time" style="padding-right:12px;color:#666;white-space:nowrap;font-variant-numeric:tabular-nums">'
            f"{_time_span(segment.start, segment.end)}</td><td>{text}</td></tr>"
        )
    return f'<table class="wb-segments" style="font-size:95%;margin:4px 0">{"".join(rows)}</table>'


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
        f"{label} {_seconds(timings[k])} s"
        for k, label in (("inference_s", "inference"), ("load_s", "model load"))
        if isinstance(timings.get(k), numbers.Real)
    )
    if isinstance(timings.get("real_time_factor"), numbers.Real):
        times += f", real-time factor {_format_rate(timings['real_time_factor'])}"
    parts = [
        '<div class="wb-transcript" style="font-family:sans-serif">',
        f'<div style="font-size:85%;color:#666">{html.escape(" · ".join(described))}</div>',
        f'<div class="wb-text" style="font-size:120%;margin:6px 0">{html.escape(transcript.text) or "<i>(empty transcript)</i>"}</div>',
    ]
    for fallback in transcript.fallbacks:
        parts.append(f'<div style="color:{MESSAGE_STYLES["warning"][1]}">fallback: {html.escape(fallback)}</div>')
    if opts.timestamps != "none" and transcript.segments:
        parts.append(segments_html(transcript.segments, words=opts.timestamps == "word"))
    if times:
        parts.append(f'<div style="font-size:85%;color:#666">{html.escape(times)}</div>')
    if sc is not None:  # the rates, the alignment coloured by cause, and each cause's count: said once
        parts.append(sc.to_html())
    if note:
        parts.append(f'<div style="color:#666;margin-top:6px"><i>{html.escape(note)}</i></div>')
    parts.append("</div>")
    return "".join(parts)
