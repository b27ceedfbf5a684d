"""The units a text is scored in: characters (CER) or words (WER).

Character languages are split into one unit per CJK (or Thai, Lao...)
character and one per run of Latin letters or digits, after width folding
and script conversion; each unit keeps its form as written for display.
Word languages are split after Whisper's normaliser.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..languages import CHARACTER_LANGUAGES
from .english import _basic_normaliser, english_normaliser
from .script import _converter

_CHARACTER_SCRIPTS = ("CJK", "IDEOGRAPHIC", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "THAI", "LAO", "MYANMAR", "KHMER")


@functools.lru_cache(maxsize=8192)
def _is_character_script(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(_CHARACTER_SCRIPTS)


@dataclass(frozen=True)
class _Token:
    norm: str  # compared form: width, case and script unified
    plain: str  # width and case unified, script as written
    raw: str  # as written
    start: int = -1  # offset of its first character in the (NFC-normalised) text; -1 for words


@dataclass
class _Tokens:
    tokens: list[_Token]
    gaps: list[str]  # punctuation as written before token 0, after token 0, ...

    @property
    def norms(self) -> list[str]:
        return [t.norm for t in self.tokens]


def _char_tokens(text: str, convert: Callable[[str], str]) -> _Tokens:
    """Split text into scoring units: one per CJK (or Thai...) character, one per Latin/digit run."""
    text = unicodedata.normalize("NFC", text)
    folded = [unicodedata.normalize("NFKC", ch).casefold() for ch in text]
    spans: list[list[int]] = []  # per token: indices into text
    plains: list[str] = []
    runs: list[bool] = []
    punct_at: list[int] = []
    for i, out in enumerate(folded):
        if out in NUMBER_SEPARATORS and 0 < i < len(text) - 1 and folded[i - 1][-1:].isdigit() and folded[i + 1][:1].isdigit():
            spans[-1].append(i)  # 3.5, 1,000: one number
            plains[-1] += out
            continue
        kept = "".join(c for c in out if unicodedata.category(c)[0] in "LNM")
        if not kept:
            if any(unicodedata.category(c)[0] in "PS" for c in out):
                punct_at.append(i)
            continue
        for c in kept:
            adjacent = bool(spans) and spans[-1][-1] >= i - 1
            if unicodedata.category(c)[0] == "M" and adjacent:
                spans[-1].append(i)
                plains[-1] += c
            elif _is_character_script(c) or unicodedata.category(c)[0] == "M":
                spans.append([i])
                plains.append(c)
                runs.append(False)
            elif adjacent and runs[-1] and _run_class(plains[-1][-1]) == _run_class(c):
                spans[-1].append(i)
                plains[-1] += c
            else:
                spans.append([i])
                plains.append(c)
                runs.append(True)
    plains = [_number_plain(p) if "," in p else p for p in plains]
    raws = [text[span[0] : span[-1] + 1] for span in spans]

    joined = "".join(plains)
    converted = convert(joined)
    if len(converted) == len(joined):
        norms, pos = [], 0
        for p in plains:
            norms.append(converted[pos : pos + len(p)])
            pos += len(p)
    else:  # a phrase conversion changed the length: convert token by token
        norms = [convert(p) for p in plains]
    tokens = [_Token(n, p, r, span[0]) for n, p, r, span in zip(norms, plains, raws, spans, strict=True)]

    gaps = [""] * (len(tokens) + 1)
    slot = 0
    for i in punct_at:
        while slot < len(spans) and spans[slot][0] < i:
            slot += 1
        gaps[slot] += text[i]
    return _Tokens(tokens, gaps)


NUMBER_SEPARATORS = frozenset(".,")
"""Between two digits, these stay inside the number (decimal point, thousands separator)."""


def _run_class(ch: str) -> str:
    """Letters and digits make separate runs: iPhone15 is two units, like iPhone 15."""
    return "digit" if ch.isdigit() or ch in NUMBER_SEPARATORS else "letter"


_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _number_plain(token: str) -> str:
    """A number's compared form: thousands separators dropped (1,000 -> 1000)."""
    return token.replace(",", "") if _THOUSANDS.fullmatch(token) else token


def _word_tokens(text: str, normalise: Callable[[str], str]) -> _Tokens:
    words = normalise(text).split()
    return _Tokens([_Token(w, w, w) for w in words], [""] * (len(words) + 1))


def _tokenise(text: str, language: str, script: str | None) -> tuple[_Tokens, str]:
    if language in CHARACTER_LANGUAGES:
        return _char_tokens(text, _converter(script)), "NFKC width folding, punctuation and spaces removed" + (
            f", OpenCC {script}" if script else ""
        )
    normalise, description = english_normaliser() if language == "en" else _basic_normaliser()
    return _word_tokens(text, normalise), description


def _join(tokens: Sequence[str], unit: str) -> str:
    if unit == "word":
        return " ".join(tokens)
    out = ""
    for tok in tokens:
        if out and not _is_character_script(out[-1]) and not _is_character_script(tok[0]):
            out += " "
        out += tok
    return out
