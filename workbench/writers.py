"""Transcripts as the files speech tools exchange: plain text, SubRip, WebVTT, tab-separated and JSON.

The formats and their details follow the openai-whisper and faster-whisper
command lines, so the files open in the same players, editors and scripts:
SRT cues are numbered with ``HH:MM:SS,mmm`` times, WebVTT starts with
``WEBVTT`` and uses ``MM:SS.mmm`` until the first hour, TSV has integer
milliseconds under a ``start  end  text`` header, and JSON is the whole
:class:`~workbench.transcription.Transcript` (text, segments with words
where the engine gave word timestamps, settings, versions, timings).

Examples
--------
>>> from workbench.engines.common import Segment
>>> segs = [Segment(0.0, 2.5, " Hello."), Segment(2.5, 3661.25, " World.")]
>>> print(format_srt(segs))
1
00:00:00,000 --> 00:00:02,500
Hello.
<BLANKLINE>
2
00:00:02,500 --> 01:01:01,250
World.
<BLANKLINE>
>>> print(format_vtt(segs).splitlines()[2])
00:00.000 --> 00:02.500
"""

from __future__ import annotations

from pathlib import Path

from .io import dumps, write_text

#: Every format, in the order ``all`` writes them.
FORMATS = ("txt", "srt", "vtt", "tsv", "json")
ALL = "all"


def _times(segments, duration: float | None) -> list[tuple[float, float, str]]:
    """(start, end, text) per segment; a segment without times (timestamps off) spans the audio."""
    out = []
    for s in segments:
        start = 0.0 if s.start is None else float(s.start)
        end = float(s.end) if s.end is not None else (duration if duration is not None else start)
        out.append((start, max(start, end), s.text.strip()))
    return out


def timestamp(seconds: float, *, always_hours: bool = True, decimal: str = ".") -> str:
    """``HH:MM:SS.mmm`` (``MM:SS.mmm`` under an hour unless ``always_hours``).

    >>> timestamp(3661.25, decimal=",")
    '01:01:01,250'
    >>> timestamp(65.5, always_hours=False)
    '01:05.500'
    """
    ms = int(round(max(0.0, seconds) * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    head = f"{hours:02d}:" if always_hours or hours else ""
    return f"{head}{minutes:02d}:{secs:02d}{decimal}{ms:03d}"


def format_txt(segments, duration: float | None = None) -> str:
    """One line per segment."""
    return "".join(f"{text}\n" for _, _, text in _times(segments, duration))


def format_srt(segments, duration: float | None = None) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm`` times."""
    cues = []
    for i, (start, end, text) in enumerate(_times(segments, duration), start=1):
        cues.append(f"{i}\n{timestamp(start, decimal=',')} --> {timestamp(end, decimal=',')}\n{text}\n")
    return "\n".join(cues)


def format_vtt(segments, duration: float | None = None) -> str:
    """WebVTT: a ``WEBVTT`` header, then ``MM:SS.mmm`` cues (hours from the first hour on)."""
    cues = [
        f"{timestamp(start, always_hours=False)} --> {timestamp(end, always_hours=False)}\n{text}\n"
        for start, end, text in _times(segments, duration)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def format_tsv(segments, duration: float | None = None) -> str:
    """Tab-separated ``start  end  text`` in integer milliseconds, with a header."""
    rows = ["start\tend\ttext"]
    for start, end, text in _times(segments, duration):
        rows.append(f"{int(round(start * 1000))}\t{int(round(end * 1000))}\t{text.replace(chr(9), ' ')}")
    return "\n".join(rows) + "\n"


def format_json(transcript) -> str:
    """The whole transcript: text, segments (with words), settings, versions, timings."""
    return dumps(transcript.to_dict(), ensure_ascii=False, indent=2) + "\n"


_TEXT_FORMATS = {"txt": format_txt, "srt": format_srt, "vtt": format_vtt, "tsv": format_tsv}


def parse_formats(value: str) -> tuple[str, ...]:
    """``"srt"``, ``"srt,vtt"`` or ``"all"`` -> the formats, checked.

    >>> parse_formats("all")
    ('txt', 'srt', 'vtt', 'tsv', 'json')
    >>> parse_formats("vtt,srt")
    ('vtt', 'srt')
    """
    names = [v.strip().lower() for v in str(value).split(",") if v.strip()]
    if ALL in names:
        return FORMATS
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise ValueError(f"unknown output format {', '.join(unknown) or repr(value)}; choose from {', '.join((*FORMATS, ALL))}")
    return tuple(dict.fromkeys(names))


def output_paths(source, folder, formats) -> dict[str, Path]:
    """Where each format of ``source``'s transcript goes: ``folder/<source stem>.<format>``."""
    stem = Path(source).stem if source else "transcript"
    return {fmt: Path(folder) / f"{stem}.{fmt}" for fmt in formats}


def write_transcript(transcript, paths: dict[str, Path]) -> list[Path]:
    """Write ``transcript`` in each format of ``paths`` (format -> file); each file appears whole or not at all."""
    duration = (transcript.timings or {}).get("audio_s")
    written = []
    for fmt, path in paths.items():
        text = format_json(transcript) if fmt == "json" else _TEXT_FORMATS[fmt](transcript.segments, duration)
        written.append(write_text(path, text))
    return written
