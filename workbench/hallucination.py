"""Recognise a hallucinated transcript: repetition loops and text the audio cannot hold.

Whisper sometimes stops following the audio and loops: the same character,
word or phrase over and over (``按按按按...``, ``Thank you. Thank you. ...``),
or far more text than the clip's duration allows. :func:`detect` looks for
three signs, each a plain number with a named threshold:

- the text compresses too well: Whisper's own test, the gzip compression
  ratio above :data:`COMPRESSION_RATIO_THRESHOLD`;
- a unit (character n-gram for character languages, word n-gram otherwise)
  repeated back to back at least :data:`MIN_REPEATS` times, over at least
  :data:`MIN_LOOP_UNITS` units;
- when the audio's duration is known, more characters (or words) per second
  than :data:`RATE_FACTOR` times a generous speaking rate.

:func:`workbench.scoring.score` runs :func:`detect` on every hypothesis and
attributes the errors inside a loop to the cause ``hallucination``.

Examples
--------
>>> from workbench.hallucination import detect
>>> h = detect("我哋今日去咗公園" + "按" * 208, language="yue")
>>> h.looped, h.longest_repeat, h.repeats
(True, '按', 208)
>>> h.spans  # what the loop added after its first 按
((9, 216),)
>>> detect("And so my fellow Americans, ask not what your country can do for you", language="en").looped
False
"""

from __future__ import annotations

import math
import unicodedata
import zlib
from dataclasses import dataclass

from .languages import CHARACTER_LANGUAGES, normalise_language

__all__ = [
    "COMPRESSION_RATIO_THRESHOLD",
    "MAX_CHARS_PER_SECOND",
    "MAX_WORDS_PER_SECOND",
    "MIN_REPEATS",
    "MIN_LONG_REPEATS",
    "LONG_UNIT",
    "MIN_LOOP_UNITS",
    "RATE_FACTOR",
    "Hallucination",
    "compression_ratio",
    "detect",
]

COMPRESSION_RATIO_THRESHOLD = 2.4
"""Whisper's ``compression_ratio_threshold``: the default of openai-whisper's
``transcribe`` (also faster-whisper's and transformers' ``generate``). Above it
Whisper judges a window's text a repetition loop and decodes it again."""

MIN_COMPRESSION_BYTES = 64
"""Shorter texts (UTF-8 bytes) are not judged by compression: zlib's fixed
overhead of about 10 bytes makes short ratios meaningless (a 20-byte text
cannot reach 2.4 however repetitive it is), and the repeat test covers them."""

COMPRESSION_WINDOW_BYTES = 480
"""Whisper computes the ratio over one 30-second window's text: about 150
Chinese characters or 80 English words, roughly 450 bytes. A longer text is
judged window by window (half-overlapping), since natural text longer than
a few kilobytes compresses beyond 2.4 on its own."""

MIN_REPEATS = 4
"""A unit must occur at least this many times back to back to count as a loop..."""

MIN_LONG_REPEATS = 3
LONG_UNIT = 4
"""...or this many times when the unit is at least :data:`LONG_UNIT` characters
(or words) long: people repeat a word for emphasis, hardly ever a whole phrase
three times over, and a loop cut short by a token limit may show only three."""

MIN_LOOP_UNITS = 8
"""...and the run must span at least this many characters (or words), so
conversational repetition (對對對對, 係呀係呀係呀, "no no no no") is not a
loop while ``按`` eight times, 詞曲 four times or a phrase three times is."""


def _enough(run: int, period: int) -> bool:
    """Whether ``run`` tokens repeating with ``period`` make a loop."""
    repeats = run // period
    return run >= MIN_LOOP_UNITS and (repeats >= MIN_REPEATS or (repeats >= MIN_LONG_REPEATS and period >= LONG_UNIT))


MAX_UNIT = 50
"""Longest repeated unit looked for, in characters or words (a sentence)."""

MAX_CHARS_PER_SECOND = 8.0
"""A generous speaking rate for Chinese, Cantonese, Japanese and Korean, in
characters (syllables) per second: fast read speech measures about 5-8
syllables per second (Pellegrino, Coupé & Marsico 2011, "A cross-language
perspective on speech information rate", Language 87(3): Mandarin 5.2,
Cantonese-like tone languages similar, Japanese 7.8 morae per second)."""

MAX_WORDS_PER_SECOND = 5.0
"""A generous speaking rate in words per second: fast English speech is about
4 words per second (6-7 syllables, same source); auctioneers reach 5-6."""

RATE_FACTOR = 2.0
"""Text is flagged when it runs at more than this many times the generous rate."""

MIN_RATE_UNITS = 8
"""Below this many characters (or words) the rate test is not applied: a
clip's edges can be off by a fraction of a second."""

SYLLABIC_LANGUAGES = frozenset({"zh", "yue", "ja", "ko"})
"""Character languages whose characters are about a syllable each; the rate
test applies to them. Thai, Lao, Burmese and Khmer letters are not syllables."""

_CHARACTER_SCRIPTS = ("CJK", "IDEOGRAPHIC", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "THAI", "LAO", "MYANMAR", "KHMER")


@dataclass(frozen=True)
class Hallucination:
    """What :func:`detect` found in a transcript.

    Attributes
    ----------
    looped : bool
        Whether any sign of a hallucination was found (compression, repeats or rate).
    reasons : tuple of str
        One plain-English line per sign found; empty when ``looped`` is False.
    compression_ratio : float
        UTF-8 bytes over zlib-compressed bytes, as Whisper computes it; for a
        text longer than :data:`COMPRESSION_WINDOW_BYTES`, the highest ratio of
        any window.
    longest_repeat : str
        The unit of the longest back-to-back repetition, as written ("" if none).
    repeats : int
        How many times that unit occurs in a row (0 if no unit repeats).
    chars_per_second : float or None
        Characters (``unit == "char"``) or words (``unit == "word"``) per
        second of audio; None when the duration is not known.
    spans : tuple of (int, int)
        ``text[start:end]`` ranges a loop added: every repetition after the
        unit's first occurrence. Empty when no loop repeats.
    unit : str
        ``"char"`` or ``"word"``: what repeats and rates are counted in.
    """

    looped: bool
    reasons: tuple[str, ...]
    compression_ratio: float
    longest_repeat: str
    repeats: int
    chars_per_second: float | None
    spans: tuple[tuple[int, int], ...]
    unit: str = "char"

    def __bool__(self) -> bool:
        return self.looped

    def summary(self) -> str:
        """One line: "hallucination: " and the reasons, or that none was found."""
        if not self.looped:
            return "no hallucination: no loop, compression or rate sign"
        return "hallucination: " + "; ".join(self.reasons)


def compression_ratio(text: str) -> float:
    """UTF-8 length over zlib-compressed length, exactly as Whisper computes it.

    Examples
    --------
    >>> round(compression_ratio("按" * 200), 1) > 2.4
    True
    >>> compression_ratio("")
    0.0
    """
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _windowed_ratio(text: str) -> float:
    data = text.encode("utf-8")
    if len(data) <= COMPRESSION_WINDOW_BYTES:
        return compression_ratio(text)
    step = COMPRESSION_WINDOW_BYTES // 2
    starts = list(range(0, len(data) - COMPRESSION_WINDOW_BYTES + 1, step))
    if starts[-1] + COMPRESSION_WINDOW_BYTES < len(data):
        starts.append(len(data) - COMPRESSION_WINDOW_BYTES)
    return max(len(w) / len(zlib.compress(w)) for w in (data[s : s + COMPRESSION_WINDOW_BYTES] for s in starts))


def _is_character_script(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(_CHARACTER_SCRIPTS)


def _tokens(text: str, unit: str) -> list[tuple[str, int, int]]:
    """(token, start, end): one per CJK/Thai... character and one per run of other letters or digits,
    or one per word; punctuation and spaces dropped."""
    out: list[tuple[str, int, int]] = []
    run_start = None
    for i, ch in enumerate(text):
        letter = unicodedata.category(ch)[0] in "LNM"
        wordish = letter or (ch in "'’" and run_start is not None)
        if unit == "char" and letter and _is_character_script(ch):
            if run_start is not None:
                out.append((text[run_start:i].casefold(), run_start, i))
                run_start = None
            out.append((ch, i, i + 1))
        elif wordish:
            if run_start is None:
                run_start = i
        elif run_start is not None:
            out.append((text[run_start:i].casefold(), run_start, i))
            run_start = None
    if run_start is not None:
        out.append((text[run_start:].casefold(), run_start, len(text)))
    return [(t.strip("'’"), a, b) for t, a, b in out if t.strip("'’")]


def _loops(tokens: list[str]) -> list[tuple[int, int, int]]:
    """Back-to-back repetitions: (start, end, period) in token positions, non-overlapping, largest first."""
    n = len(tokens)
    found = []
    for period in range(1, min(MAX_UNIT, n // MIN_LONG_REPEATS) + 1):
        i = 0
        while i + period < n:
            if tokens[i] != tokens[i + period]:
                i += 1
                continue
            start = i
            while i + period < n and tokens[i] == tokens[i + period]:
                i += 1
            end = i + period  # tokens[start:end] has this period
            if _enough(end - start, period):
                found.append((start, end, period))
    found.sort(key=lambda f: (-(f[1] - f[0]), f[2], f[0]))
    chosen: list[tuple[int, int, int]] = []
    for start, end, period in found:
        if all(end <= a or start >= b for a, b, _ in chosen):
            chosen.append((start, end, period))
    return chosen


def _phase(text: str, toks: list[tuple[str, int, int]], start: int, end: int, period: int) -> int:
    """Where the repeated unit begins: "you. Thank you. Thank you." repeats "Thank you.", not "you. Thank".

    The first position, within one period of the run's start, that follows
    punctuation (or begins the text), as long as enough repeats remain.
    """
    for k in range(period):
        s = start + k
        if not _enough(end - s, period):
            break
        before = text[toks[s - 1][2] : toks[s][1]] if s else ""
        if s == 0 or any(unicodedata.category(ch)[0] == "P" for ch in before):
            return s
    return start


def _shorten(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def detect(text: str, audio_seconds: float | None = None, language: str | None = None) -> Hallucination:
    """Look for the signs of a hallucinated transcript.

    Parameters
    ----------
    text : str
        The transcript.
    audio_seconds : float, optional
        Duration of the audio it came from. Without it, the rate test is skipped.
    language : str, optional
        Code or name (``"yue"``, ``"en"``, ``"粵語"``...). Character languages
        (Chinese, Cantonese, Japanese...) are examined per character, others
        per word; without a language, text that is mostly CJK is taken per
        character.

    Returns
    -------
    Hallucination

    Raises
    ------
    ValueError
        For a negative or non-finite ``audio_seconds`` or an unknown language.

    Examples
    --------
    >>> h = detect("好" * 41, audio_seconds=2.0, language="yue")
    >>> h.looped
    True
    >>> for reason in h.reasons:
    ...     print(reason)
    the text compresses 8.8:1 (Whisper's threshold is 2.4)
    '好' repeated 41 times
    41 characters for 2.0 s of audio (speech rarely exceeds ~8 per second; flagged above 16)
    >>> detect("今日天氣好好，我哋去咗公園玩。", audio_seconds=4.0, language="yue").looped
    False
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if audio_seconds is not None:
        audio_seconds = float(audio_seconds)
        if not math.isfinite(audio_seconds) or audio_seconds < 0:
            raise ValueError(f"audio_seconds must be a duration in seconds (0 or more), not {audio_seconds!r}")
    code = normalise_language(language) if language is not None else None
    if code is not None:
        unit = "char" if code in CHARACTER_LANGUAGES else "word"
    else:
        letters = [ch for ch in text if ch.isalpha()]
        unit = "char" if letters and sum(map(_is_character_script, letters)) * 2 >= len(letters) else "word"

    reasons: list[str] = []
    ratio = _windowed_ratio(text)
    if len(text.encode("utf-8")) >= MIN_COMPRESSION_BYTES and ratio > COMPRESSION_RATIO_THRESHOLD:
        reasons.append(f"the text compresses {ratio:.1f}:1 (Whisper's threshold is {COMPRESSION_RATIO_THRESHOLD})")

    toks = _tokens(text, unit)
    words = [t for t, _, _ in toks]
    loops = _loops(words)
    longest, repeats, spans = "", 0, []
    for k, (start, end, period) in enumerate(loops):
        start = _phase(text, toks, start, end, period)
        first_end = toks[start + period][1]  # where the second occurrence starts
        spans.append((first_end, toks[end - 1][2]))
        if k == 0:
            longest = text[toks[start][1] : first_end].strip()
            repeats = (end - start) // period
            reasons.append(
                f"'{_shorten(longest)}' repeated {repeats} times" + (f" (and {len(loops) - 1} more loops)" if len(loops) > 1 else "")
            )
    spans.sort()

    rate = None
    if audio_seconds is not None:
        rate = len(toks) / audio_seconds if audio_seconds > 0 else (math.inf if toks else 0.0)
        syllabic = unit == "word" or code in SYLLABIC_LANGUAGES or (code is None and unit == "char")
        limit = MAX_CHARS_PER_SECOND if unit == "char" else MAX_WORDS_PER_SECOND
        if syllabic and len(toks) >= MIN_RATE_UNITS and rate > RATE_FACTOR * limit:
            noun = "characters" if unit == "char" else "words"
            reasons.append(
                f"{len(toks)} {noun} for {audio_seconds:.1f} s of audio "
                f"(speech rarely exceeds ~{limit:g} per second; flagged above {RATE_FACTOR * limit:g})"
            )

    return Hallucination(
        looped=bool(reasons),
        reasons=tuple(reasons),
        compression_ratio=ratio,
        longest_repeat=longest,
        repeats=repeats,
        chars_per_second=rate,
        spans=tuple(spans),
        unit=unit,
    )
