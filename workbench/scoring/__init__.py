"""Text normalisation and scoring of transcripts against references.

:func:`score` compares a hypothesis (what Whisper wrote) with a reference (what
was said) and says not only how far apart they are but *why*:

- Chinese, Cantonese, Japanese, Korean, Thai, Lao, Burmese and Khmer are
  scored by character error rate (CER); every other language by word error
  rate (WER) after Whisper's own text normaliser.
- Chinese text is compared after removing punctuation and spaces, folding
  full-width forms to half-width (Unicode NFKC) and unifying Traditional and
  Simplified script with OpenCC, so ``幾個`` and ``几个`` are the same text.
- Every difference is attributed to one cause (:data:`CAUSES`): ``script``
  and ``punctuation_width`` differences are never counted; ``numerals``
  (``9`` vs ``九``), ``colloquial`` (Cantonese vs written Chinese, see
  :data:`COLLOQUIAL_PAIRS`), ``hallucination`` (text a repetition loop added,
  see :mod:`workbench.hallucination`) and ``other`` (real recognition errors)
  are. The lenient rate forgives ``numerals`` and ``colloquial`` only.

Alignment and counts come from jiwer; script conversion from OpenCC; the
English normaliser is the one transformers ships for Whisper.

Examples
--------
>>> from workbench.scoring import score
>>> s = score("這幾個字都表達不到我想講的意思", "呢几个字都表达唔到，我想讲嘅意思。", language="yue")
>>> s.cer, s.lenient_cer, s.breakdown["colloquial"]
(0.2, 0.0, 3)
"""

from __future__ import annotations

import argparse
import csv
import functools
import html
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import metadata, resources
from pathlib import Path, PurePosixPath

import jiwer

from .errors import WorkbenchError
from .hallucination import Hallucination
from .hallucination import detect as detect_hallucination
from .languages import CHARACTER_LANGUAGES, UnknownLanguageError
from .languages import normalise_language as _normalise_language

__all__ = [
    "CAUSES",
    "CHARACTER_LANGUAGES",
    "COLLOQUIAL_TABLE",
    "COLLOQUIAL_PAIRS",
    "COUNTED_CAUSES",
    "DEFAULT_SCRIPT_CONVERSION",
    "FORGIVEN_CAUSES",
    "AlignedToken",
    "ColloquialPair",
    "Hallucination",
    "Score",
    "ScoringError",
    "add_score_command",
    "english_normaliser",
    "is_character_language",
    "normalise_language",
    "normalise_text",
    "score",
    "score_manifest",
    "score_many",
]


class ScoringError(WorkbenchError, ValueError):
    """A scoring request cannot be carried out (unknown language, empty reference, bad manifest)."""


# --------------------------------------------------------------------------
# Causes
# --------------------------------------------------------------------------

CAUSES = ("script", "punctuation_width", "numerals", "colloquial", "hallucination", "other")
"""Every difference between hypothesis and reference has exactly one of these causes."""

COUNTED_CAUSES = ("numerals", "colloquial", "hallucination", "other")
"""Causes counted by the strict error rate (script and punctuation/width never are)."""

FORGIVEN_CAUSES = ("numerals", "colloquial")
"""Causes the lenient error rate forgives: ``hallucination`` and ``other`` remain errors."""

CAUSE_LABELS = {
    "script": "script",
    "punctuation_width": "punctuation/width",
    "numerals": "numerals",
    "colloquial": "colloquial",
    "hallucination": "hallucination / loop",
    "other": "other",
}

CAUSE_COLOURS = {
    "script": "#ddd0f7",
    "punctuation_width": "#e4e4e4",
    "numerals": "#bcd9fb",
    "colloquial": "#fcd89a",
    "hallucination": "#8fdcc8",
    "other": "#f7b2b2",
}
"""Background colour of each cause in :meth:`Score.to_html`."""

CAUSE_MARKERS = {"script": "s", "punctuation_width": "p", "numerals": "n", "colloquial": "c", "hallucination": "h", "other": "x"}
"""One-letter marker of each cause in :meth:`Score.to_text`."""

TEXT_WIDTH = 78
"""Terminal columns :meth:`Score.to_text` wraps the alignment at."""

# --------------------------------------------------------------------------
# Languages
# --------------------------------------------------------------------------

CHINESE_LANGUAGES = frozenset({"zh", "yue"})
"""Languages whose script is unified with OpenCC and whose colloquial/written pairs are recognised."""

NUMERAL_LANGUAGES = frozenset({"zh", "yue", "ja"})
"""Languages where Arabic and Chinese numerals (9 vs 九) are told apart from other errors."""

def normalise_language(language: str) -> str:
    """The Whisper language code for a code or name (see :func:`workbench.languages.normalise_language`).

    Scoring needs a definite language, so ``"auto"`` is refused.

    Examples
    --------
    >>> normalise_language("粵語"), normalise_language("Mandarin"), normalise_language("en-GB")
    ('yue', 'zh', 'en')
    """
    if not isinstance(language, str) or not language.strip():
        raise ScoringError(f"no language given ({language!r}): pass a Whisper code such as yue, zh or en")
    try:
        code = _normalise_language(language)
    except UnknownLanguageError as exc:
        raise ScoringError(str(exc)) from None
    if code is None:
        raise ScoringError(f"language {language!r} means auto-detect, but scoring needs the reference's language: pass yue, zh, en...")
    return code


def is_character_language(language: str) -> bool:
    """Whether ``language`` is scored per character (CER) rather than per word (WER).

    Examples
    --------
    >>> is_character_language("cantonese"), is_character_language("en")
    (True, False)
    """
    return normalise_language(language) in CHARACTER_LANGUAGES


# --------------------------------------------------------------------------
# Script conversion (OpenCC)
# --------------------------------------------------------------------------

DEFAULT_SCRIPT_CONVERSION = "t2s"
"""OpenCC conversion applied to both texts of a Chinese comparison: to Simplified.

Traditional -> Simplified is many-to-one, so two texts that differ only in
script always meet; Simplified -> Traditional has to guess (发 is 發 or 髮)
and can split texts that were equal. The alignment still shows each text as
it was written.
"""


def _opencc_configs() -> list[str]:
    import opencc

    return sorted(c.removesuffix(".json") for c in opencc.CONFIGS)


def _script_config(language: str, script: str | None) -> str | None:
    """The OpenCC config to use, or None for no conversion."""
    if script is None:
        return None
    if not isinstance(script, str):
        raise ScoringError(f"script must be 'auto', 'none' or an OpenCC config name, not {script!r}")
    name = script.strip().lower().removesuffix(".json")
    if name == "auto":
        return DEFAULT_SCRIPT_CONVERSION if language in CHINESE_LANGUAGES else None
    if name in ("none", ""):
        return None
    configs = _opencc_configs()
    if name not in configs:
        raise ScoringError(f"unknown script conversion {script!r}: use auto, none or an OpenCC config ({', '.join(configs)})")
    return name


@functools.lru_cache(maxsize=16)
def _converter(config: str | None) -> Callable[[str], str]:
    if config is None:
        return lambda text: text
    import opencc

    return opencc.OpenCC(f"{config}.json").convert


# --------------------------------------------------------------------------
# Cantonese colloquial vs written Chinese
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ColloquialPair:
    """A Cantonese colloquial form and the written-Chinese form Whisper often writes instead.

    ``written`` is empty for Cantonese sentence-final particles, which written
    Chinese leaves out. ``meaning`` may be empty.
    """

    cantonese: str
    written: str
    meaning: str


COLLOQUIAL_TABLE = "colloquial.tsv"
"""The data file, in the ``workbench`` package, that :data:`COLLOQUIAL_PAIRS` is read from.

Tab-separated: the colloquial form, its written equivalents separated by
``|`` (``-`` for none, ``=`` for the same form), an optional note. ``~`` in
a row stands for every verb of the table (a single-character form whose note
starts with "to "), so ``~緊`` / ``在~`` covers 食緊 / 在吃, 睇緊 / 在看... The
file's header explains the format in full.
"""

_NOTHING, _SAME, _VERB = "-", "=", "~"


def _read_colloquial_table(text: str, source: str = COLLOQUIAL_TABLE) -> tuple[ColloquialPair, ...]:
    """Parse the colloquial table (see :data:`COLLOQUIAL_TABLE`) into pairs, templates expanded."""
    rows: list[tuple[str, list[str], str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        columns = [c.strip() for c in line.split("\t")]
        if len(columns) not in (2, 3) or not columns[0] or not columns[1]:
            raise ScoringError(f"{source} line {number}: expected 'colloquial<TAB>written[|written...][<TAB>note]', got {line!r}")
        cantonese, written = columns[0], columns[1]
        note = columns[2] if len(columns) == 3 else ""
        forms = [w.strip() for w in written.split("|")]
        forms = ["" if w == _NOTHING else cantonese if w == _SAME else w for w in forms]
        rows.append((cantonese, forms, note))
    verbs = [(c, forms, note) for c, forms, note in rows if len(c) == 1 and note.startswith("to ")]
    pairs: dict[tuple[str, str], ColloquialPair] = {}
    for cantonese, forms, note in rows:
        if _VERB not in cantonese:
            expanded = [(cantonese, w, note) for w in forms]
        else:
            expanded = [
                (cantonese.replace(_VERB, verb), w.replace(_VERB, verb_written), f"{verb_note}, {note}" if note else verb_note)
                for verb, verb_forms, verb_note in verbs
                for w in forms
                for verb_written in verb_forms
            ]
        for c, w, meaning in expanded:
            if c != w and (c, w) not in pairs:
                pairs[(c, w)] = ColloquialPair(c, w, meaning)
    return tuple(pairs.values())


COLLOQUIAL_PAIRS = _read_colloquial_table(resources.files(__package__).joinpath(COLLOQUIAL_TABLE).read_text(encoding="utf-8"))
"""Cantonese colloquial forms and their written-Chinese counterparts (Hong Kong Traditional).

Whisper checkpoints without a Cantonese token (and often large-v3 too) write
Cantonese speech as written Chinese: 呢 → 這, 唔 → 不, 嘅 → 的, 冇 → 沒有,
而家 → 現在, 屋企 → 家裏. A difference that one of these pairs explains, in
either direction, is attributed to ``colloquial``. Either side may be longer
than the other. Both sides go through the same script conversion as the
texts, so the table also matches Simplified text. Read from
:data:`COLLOQUIAL_TABLE`; sentence-final particles have an empty ``written``:
leaving one out (or adding one) is a colloquial difference too.
"""

# --------------------------------------------------------------------------
# Numerals
# --------------------------------------------------------------------------

CHINESE_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5, "陆": 6, "陸": 6, "柒": 7, "捌": 8, "玖": 9,
}  # fmt: skip
"""Chinese digits, including the financial forms and 幺 (one, in phone numbers)."""

CHINESE_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CHINESE_MYRIADS = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
CHINESE_TENS = {"廿": "二十", "卅": "三十", "卌": "四十"}
"""Contracted tens, common in Cantonese: 廿五 is 二十五."""
CHINESE_DECIMAL_POINTS = frozenset("点點")

MAX_NUMERAL_TOKENS = 16
"""Longest run of tokens read as one number."""

_NUMERAL_CHARS = frozenset(CHINESE_DIGITS) | frozenset(CHINESE_UNITS) | frozenset(CHINESE_MYRIADS) | frozenset(CHINESE_TENS)


def _is_arabic_number(token: str) -> bool:
    try:
        Decimal(token)
    except InvalidOperation:
        return False
    return token[:1].isdigit() and token[-1:].isdigit()


def _chinese_integer(text: str) -> int | None:
    """Value of a Chinese integer (三百零五, 二零二三, 十五), or None."""
    if not text:
        return None
    if all(ch in CHINESE_DIGITS for ch in text):  # read digit by digit: 二零二三
        return int("".join(str(CHINESE_DIGITS[ch]) for ch in text))
    total, section, digit, previous = 0, 0, None, None
    for ch in text:
        if ch in CHINESE_DIGITS:
            if previous in CHINESE_DIGITS and CHINESE_DIGITS[previous] != 0:
                return None  # 三四十: an estimate, not a number
            digit = CHINESE_DIGITS[ch]
        elif ch in CHINESE_UNITS:
            section += (1 if digit is None else digit) * CHINESE_UNITS[ch]
            digit = None
        elif ch in CHINESE_MYRIADS:
            chunk = section + (digit or 0)
            if chunk == 0 and total == 0:
                return None
            total = (total + chunk) * CHINESE_MYRIADS[ch]
            section, digit = 0, None
        else:
            return None
        previous = ch
    return total + section + (digit or 0)


def _numeral_value(text: str) -> Decimal | None:
    """Value of a number written in Arabic digits, Chinese numerals or both (3万), or None."""
    if not text:
        return None
    for short, full in CHINESE_TENS.items():
        text = text.replace(short, full)
    if _is_arabic_number(text):
        return Decimal(text)
    head = text.rstrip("".join(CHINESE_UNITS) + "".join(CHINESE_MYRIADS))
    if head != text and _is_arabic_number(head):  # 3万, 1.5亿
        value = Decimal(head)
        for ch in text[len(head):]:
            value *= CHINESE_UNITS.get(ch) or CHINESE_MYRIADS[ch]
        return value
    if any(ch.isdigit() for ch in text):
        return None
    points = [i for i, ch in enumerate(text) if ch in CHINESE_DECIMAL_POINTS]
    if len(points) == 1:  # 三点五
        whole, fraction = text[: points[0]], text[points[0] + 1 :]
        if not fraction or not all(ch in CHINESE_DIGITS for ch in fraction):
            return None
        integer = _chinese_integer(whole)
        if integer is None:
            return None
        return Decimal(f"{integer}.{''.join(str(CHINESE_DIGITS[ch]) for ch in fraction)}")
    if points:
        return None
    integer = _chinese_integer(text)
    return None if integer is None else Decimal(integer)


def _is_numeral_token(token: str) -> bool:
    return _is_arabic_number(token) or (len(token) == 1 and (token in _NUMERAL_CHARS or token in CHINESE_DECIMAL_POINTS))


def _format_number(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")


# --------------------------------------------------------------------------
# English and other space-delimited languages
# --------------------------------------------------------------------------

_SPELLING_PACKAGES = (
    ("whisper", "normalizers/english.json", "openai-whisper"),
    ("whisper_normalizer", "normalizers/english.json", "whisper-normalizer"),
)
_SPELLING_HUB_REPOS = (
    "openai/whisper-large-v3",
    "openai/whisper-large-v3-turbo",
    "openai/whisper-large-v2",
    "openai/whisper-medium",
    "openai/whisper-small",
    "openai/whisper-base",
    "openai/whisper-tiny",
)
_SPELLING_FILE = "normalizer.json"


def _english_spelling_mapping() -> tuple[dict[str, str], str]:
    """Whisper's British -> American spelling table and where it came from.

    transformers ships the normaliser code but not the table, which comes
    with each checkpoint's tokenizer (``normalizer.json``). It is looked for
    in the openai-whisper and whisper-normalizer packages, then in the local
    Hugging Face cache; without it the normaliser still folds case,
    punctuation, numbers, contractions and fillers, and only leaves British
    and American spellings apart.
    """
    for package, name, label in _SPELLING_PACKAGES:
        try:
            path = resources.files(package).joinpath(name)
            if path.is_file():
                return json.loads(path.read_text(encoding="utf-8")), f"{label} package"
        except (ModuleNotFoundError, OSError, ValueError, TypeError):
            continue
    try:
        from huggingface_hub import try_to_load_from_cache

        for repo in _SPELLING_HUB_REPOS:
            found = try_to_load_from_cache(repo, _SPELLING_FILE)
            if isinstance(found, str) and Path(found).is_file():
                return json.loads(Path(found).read_text(encoding="utf-8")), f"{repo} (local cache)"
    except (ImportError, OSError, ValueError):
        pass
    return {}, "not available: British and American spellings are not unified"


@functools.lru_cache(maxsize=1)
def english_normaliser() -> tuple[Callable[[str], str], str]:
    """Whisper's English text normaliser, as transformers ships it.

    Returns
    -------
    normalise : callable
        ``str -> str``: lower case, no punctuation, numbers as digits
        ("ten" -> "10"), contractions and fillers standardised.
    description : str
        Which normaliser it is and where its spelling table came from.

    Examples
    --------
    >>> normalise, _ = english_normaliser()
    >>> normalise("And so, my fellow Americans")
    'and so my fellow americans'
    """
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    mapping, source = _english_spelling_mapping()
    return EnglishTextNormalizer(mapping), f"transformers EnglishTextNormalizer (Whisper); spelling table: {source}"


@functools.lru_cache(maxsize=1)
def _basic_normaliser() -> tuple[Callable[[str], str], str]:
    from transformers.models.whisper.english_normalizer import BasicTextNormalizer

    return BasicTextNormalizer(), "transformers BasicTextNormalizer (Whisper, non-English)"


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------

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
    tokens = [_Token(n, p, r, span[0]) for n, p, r, span in zip(norms, plains, raws, spans)]

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


# --------------------------------------------------------------------------
# Attribution of errors to causes
# --------------------------------------------------------------------------

ATTRIBUTION_BAND = 8
"""How far (in hypothesis tokens) the search for explanations strays from jiwer's alignment path."""

MAX_ATTRIBUTION_CELLS = 2_000_000
"""Largest search (positions x band) made for colloquial and numeral explanations; longer stretches are labelled step by step."""

WIDE_ATTRIBUTION_CELLS = 100_000
"""Largest search made with the band widened by the difference in length of the two sides (a loop, a gap); beyond it the band is :data:`ATTRIBUTION_BAND`."""


@dataclass(frozen=True)
class _Pattern:
    ref: tuple[str, ...]
    hyp: tuple[str, ...]
    pair: ColloquialPair
    ref_is_colloquial: bool
    ops: tuple[tuple[str, int | None, int | None], ...]
    cost: int
    hits: int


@dataclass(frozen=True)
class _Rules:
    patterns: dict  # (first reference token or None, first hypothesis token or None) -> [_Pattern]
    numerals: bool
    context: int

    @functools.cached_property
    def starts(self) -> tuple[frozenset, frozenset]:
        """Tokens some pattern starts with: on the reference side, on the hypothesis side."""
        return frozenset(r for r, _ in self.patterns if r is not None), frozenset(h for _, h in self.patterns if h is not None)

    def candidates(self, r: str | None, h: str | None) -> list[_Pattern]:
        """Patterns that may start at a reference token ``r`` and hypothesis token ``h`` (None: at the end)."""
        get = self.patterns.get
        out = []
        if r is not None and h is not None:
            out += get((r, h), [])
        if r is not None:
            out += get((r, None), [])
        if h is not None:
            out += get((None, h), [])
        return out


def _mini_alignment(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[tuple[str, int | None, int | None], ...]:
    """jiwer's alignment of two short token sequences as single-token operations."""
    if not set(a) & set(b):  # nothing shared: substitutions first, then the longer side's rest
        shared = min(len(a), len(b))
        ops = [("substitute", k, k) for k in range(shared)]
        ops += [("delete", i, None) for i in range(shared, len(a))]
        ops += [("insert", None, j) for j in range(shared, len(b))]
        return tuple(ops)
    out = jiwer.process_words(" ".join(a), " ".join(b))
    return tuple(_expand_chunks(out.alignments[0]))


def _expand_chunks(chunks) -> list[tuple[str, int | None, int | None]]:
    ops: list[tuple[str, int | None, int | None]] = []
    for c in chunks:
        if c.type in ("equal", "substitute"):
            ops.extend((c.type, c.ref_start_idx + k, c.hyp_start_idx + k) for k in range(c.ref_end_idx - c.ref_start_idx))
        elif c.type == "delete":
            ops.extend(("delete", i, None) for i in range(c.ref_start_idx, c.ref_end_idx))
        else:
            ops.extend(("insert", None, j) for j in range(c.hyp_start_idx, c.hyp_end_idx))
    return ops


def _table_tokens(text: str, convert: Callable[[str], str]) -> tuple[str, ...]:
    return tuple(t.norm for t in _char_tokens(text, convert).tokens)


@functools.lru_cache(maxsize=16)
def _rules(language: str, script: str | None) -> _Rules:
    convert = _converter(script)
    patterns: dict[tuple[str | None, str | None], list[_Pattern]] = {}
    longest = 1
    if language in CHINESE_LANGUAGES:
        seen = set()
        for pair in COLLOQUIAL_PAIRS:
            c, w = _table_tokens(pair.cantonese, convert), _table_tokens(pair.written, convert)
            if c == w:
                continue
            for ref, hyp, ref_is_colloquial in ((c, w, True), (w, c, False)):
                if (ref, hyp) in seen:
                    continue
                seen.add((ref, hyp))
                ops = _mini_alignment(ref, hyp)
                cost = sum(op != "equal" for op, _, _ in ops)
                pattern = _Pattern(ref, hyp, pair, ref_is_colloquial, ops, cost, len(ops) - cost)
                patterns.setdefault((ref[0] if ref else None, hyp[0] if hyp else None), []).append(pattern)
                longest = max(longest, len(ref), len(hyp))
    return _Rules(patterns, language in NUMERAL_LANGUAGES, longest - 1)


@dataclass
class _Edit:
    op: str
    ref: int | None
    hyp: int | None
    cause: str | None = None
    detail: object = None  # the _Pattern, the number value or the _Stretch that explains it
    group: tuple = ()  # (ref range, hyp range) the explanation covers


@dataclass(frozen=True)
class _Move:
    """One step of the lenient alignment: a single-token operation, or a colloquial/numeral explanation."""

    kind: str  # equal, substitute, delete, insert, colloquial, numerals
    i0: int
    j0: int
    i1: int
    j1: int
    detail: object = None  # _Pattern (colloquial) or Decimal (numerals)
    ops: tuple = ()  # the explanation's single-token operations, relative to (i0, j0)

    @property
    def explains(self) -> bool:
        return self.kind in ("colloquial", "numerals")


@dataclass(frozen=True)
class _Stretch:
    """A stretch the strict alignment pairs character by character and the explanations cover."""

    moves: tuple[_Move, ...]  # the colloquial and numeral explanations inside it
    partly: bool  # whether real errors remain in it too


def _numeral_spans(tokens: Sequence[str]) -> list[list[tuple[int, Decimal]]]:
    spans: list[list[tuple[int, Decimal]]] = []
    for i in range(len(tokens)):
        found = []
        for k in range(1, min(MAX_NUMERAL_TOKENS, len(tokens) - i) + 1):
            if not _is_numeral_token(tokens[i + k - 1]):
                break
            value = _numeral_value("".join(tokens[i : i + k]))
            if value is not None:
                found.append((k, value))
        spans.append(found)
    return spans


def _lenient_moves(R: Sequence[str], H: Sequence[str], lo: list[int], hi: list[int], rules: _Rules) -> list[_Move]:
    """The alignment with the fewest unexplained errors, then the fewest errors, then the most hits.

    Dynamic programming over (reference position, hypothesis position) within
    ``lo[i] <= j <= hi[i]``; its moves are single-token operations (an error
    each) plus the colloquial and numeral explanations (no unexplained error).
    """
    n, m = len(R), len(H)
    r_spans = _numeral_spans(R) if rules.numerals else [[] for _ in R]
    h_spans = _numeral_spans(H) if rules.numerals else [[] for _ in H]
    inf = (math.inf, 0, 0)
    best: dict[tuple[int, int], tuple] = {(0, 0): (0, 0, 0)}
    back: dict[tuple[int, int], tuple] = {}

    def relax(i, j, di, dj, key, kind, detail=None, ops=()):
        t = (i + di, j + dj)
        if lo[t[0]] <= t[1] <= hi[t[0]] and key < best.get(t, inf):
            best[t] = key
            back[t] = (i, j, kind, detail, ops)

    for i in range(n + 1):
        for j in range(lo[i], hi[i] + 1):
            here = best.get((i, j))
            if here is None:
                continue
            other, cost, hits = here
            if i < n and j < m:
                if R[i] == H[j]:
                    relax(i, j, 1, 1, (other, cost, hits - 1), "equal")
                else:
                    relax(i, j, 1, 1, (other + 1, cost + 1, hits), "substitute")
            if i < n:
                relax(i, j, 1, 0, (other + 1, cost + 1, hits), "delete")
            if j < m:
                relax(i, j, 0, 1, (other + 1, cost + 1, hits), "insert")
            for p in rules.candidates(R[i] if i < n else None, H[j] if j < m else None):
                if tuple(R[i : i + len(p.ref)]) == p.ref and tuple(H[j : j + len(p.hyp)]) == p.hyp:
                    relax(i, j, len(p.ref), len(p.hyp), (other, cost + p.cost, hits - p.hits), "colloquial", p, p.ops)
            if i < n and j < m:
                for k, value in r_spans[i]:
                    for mm, same in h_spans[j]:
                        if value == same and tuple(R[i : i + k]) != tuple(H[j : j + mm]):
                            ops = _mini_alignment(tuple(R[i : i + k]), tuple(H[j : j + mm]))
                            c = sum(op != "equal" for op, _, _ in ops)
                            relax(i, j, k, mm, (other, cost + c, hits - (len(ops) - c)), "numerals", value, ops)

    moves: list[_Move] = []
    i, j = n, m
    while (i, j) != (0, 0):
        pi, pj, kind, detail, ops = back[(i, j)]
        moves.append(_Move(kind, pi, pj, i, j, detail, ops))
        i, j = pi, pj
    return moves[::-1]


def _move_edits(move: _Move) -> list[_Edit]:
    """A lenient move as single-token edits, each with its cause."""
    if move.kind == "equal":
        return [_Edit("equal", move.i0, move.j0)]
    if not move.explains:
        return [_Edit(move.kind, None if move.kind == "insert" else move.i0, None if move.kind == "delete" else move.j0, "other")]
    group = ((move.i0, move.i1), (move.j0, move.j1))
    return [
        _Edit(op, None if a is None else move.i0 + a, None if b is None else move.j0 + b, None if op == "equal" else move.kind, move.detail, group)
        for op, a, b in move.ops
    ]


def _explain(R: Sequence[str], H: Sequence[str], path: Sequence[tuple[str, int | None, int | None]], rules: _Rules) -> list[_Edit] | None:
    """Attribute every error of jiwer's alignment ``path`` of a stretch, explaining as many as possible.

    The lenient alignment (:func:`_lenient_moves`) treats colloquial pairs and
    numerals as free, so its unexplained errors are exactly the errors a
    lenient comparison must keep. Where it meets jiwer's path, the two
    alignments cut the stretch into pieces: in a piece where both make the
    same substitutions, deletions and insertions, the lenient alignment is
    shown as it is (冇 against 沒 then 有 inserted). Elsewhere (嘢而家 against
    東西現在 is 3 substitutions and an insertion to jiwer, which pairs 嘢 with 東
    and 而 with 西) jiwer's steps are kept and as many of them are marked
    explained as the lenient alignment explains. Either way the counts are
    jiwer's and the unexplained errors the lenient alignment's.

    The search stays within :data:`ATTRIBUTION_BAND` (plus the difference
    in length of the two sides) of jiwer's path, which keeps it linear in the
    length of the stretch. None when there is nothing
    to explain or the stretch is too long.
    """
    n, m = len(R), len(H)
    ref_starts, hyp_starts = rules.starts
    has_patterns = any(t in ref_starts for t in R) or any(t in hyp_starts for t in H)
    has_numerals = rules.numerals and any(_is_numeral_token(t) for t in R) and any(_is_numeral_token(t) for t in H)
    if not (has_patterns or has_numerals):
        return None

    lo, hi = [m] * (n + 1), [0] * (n + 1)
    for i, j in _path_points(path):
        lo[i], hi[i] = min(lo[i], j), max(hi[i], j)

    def widened(band: int) -> tuple[list[int], list[int], int]:
        a, b = [max(0, v - band) for v in lo], [min(m, v + band) for v in hi]
        return a, b, sum(y - x + 1 for x, y in zip(a, b))

    # jiwer may put a run of insertions or deletions (a loop, a gap) at any of
    # several equal-cost places, and the explanations next to it elsewhere
    lo_w, hi_w, cells = widened(ATTRIBUTION_BAND + abs(n - m))
    if cells > WIDE_ATTRIBUTION_CELLS:
        lo_w, hi_w, cells = widened(ATTRIBUTION_BAND)
    if cells > MAX_ATTRIBUTION_CELLS:
        return None
    moves = _lenient_moves(R, H, lo_w, hi_w, rules)

    # cut both alignments where they meet
    strict_at = {point: k for k, point in enumerate(_path_points(path))}
    edits: list[_Edit] = []
    k_strict, k_move = 0, 0
    for k, move in enumerate(moves):
        end = (move.i1, move.j1)
        if end not in strict_at:
            continue
        piece, strict = moves[k_move : k + 1], path[k_strict : strict_at[end]]
        edits += _piece_edits(piece, strict)
        k_move, k_strict = k + 1, strict_at[end]
    return edits


def _path_points(path: Sequence[tuple[str, int | None, int | None]]) -> list[tuple[int, int]]:
    """The grid points (reference position, hypothesis position) an alignment passes through."""
    points = [(0, 0)]
    i = j = 0
    for op, _, _ in path:
        i += op != "insert"
        j += op != "delete"
        points.append((i, j))
    return points


def _piece_edits(moves: Sequence[_Move], strict: Sequence[tuple[str, int | None, int | None]]) -> list[_Edit]:
    """The edits of a piece where the lenient moves and jiwer's operations start and end at the same points."""
    lenient = [e for move in moves for e in _move_edits(move)]
    strict_edits = [_Edit(op, a, b) for op, a, b in strict]
    if _op_counts(lenient) == _op_counts(strict_edits):
        return lenient
    explaining = tuple(move for move in moves if move.explains)
    errors = [e for e in strict_edits if e.op != "equal"]
    unexplained = min(len(errors), sum(e.cause == "other" for e in lenient))
    by_ref = {i: move for move in explaining for i in range(move.i0, move.i1)}
    by_hyp = {j: move for move in explaining for j in range(move.j0, move.j1)}

    def covered(e: _Edit) -> int:
        """2: an explanation holds every token of the step; 1: some token; 0: none."""
        owners = [by_ref.get(e.ref) if e.ref is not None else None, by_hyp.get(e.hyp) if e.hyp is not None else None]
        owners = [o for o, side in zip(owners, (e.ref, e.hyp)) if side is not None]
        if all(o is not None for o in owners) and len({id(o) for o in owners}) == 1:
            return 2
        return int(any(o is not None for o in owners))

    real = set(map(id, sorted(errors, key=covered)[:unexplained]))
    detail = _Stretch(explaining, partly=bool(unexplained))
    group = ((moves[0].i0, moves[-1].i1), (moves[0].j0, moves[-1].j1))
    for e in errors:
        if id(e) in real or not explaining:
            e.cause = "other"
        else:
            move = by_ref.get(e.ref) or by_hyp.get(e.hyp) or explaining[0]
            e.cause, e.detail, e.group = move.kind, detail, group
    return strict_edits


def _label_one(r: str | None, h: str | None, op: str, rules: _Rules) -> tuple[str, object]:
    """Cause of a single jiwer operation taken on its own (no context)."""
    ref, hyp = ((r,) if r is not None else ()), ((h,) if h is not None else ())
    for p in rules.candidates(r, h):
        if p.ref == ref and p.hyp == hyp:
            return "colloquial", p
    if op == "substitute" and rules.numerals:
        a, b = _numeral_value(r), _numeral_value(h)
        if a is not None and a == b:
            return "numerals", a
    return "other", None


def _attribute(ops: list[tuple[str, int | None, int | None]], R: list[str], H: list[str], rules: _Rules) -> list[_Edit]:
    """Give every error in jiwer's alignment a cause, keeping jiwer's counts."""
    marked = [False] * len(ops)
    for k, (op, _, _) in enumerate(ops):
        if op != "equal":
            for q in range(max(0, k - rules.context), min(len(ops), k + rules.context + 1)):
                marked[q] = True
    edits: list[_Edit] = []
    k = 0
    while k < len(ops):
        if not marked[k]:
            edits.append(_Edit(*ops[k]))
            k += 1
            continue
        end = k
        while end < len(ops) and marked[end]:
            end += 1
        window = ops[k:end]
        r_idx = [a for _, a, _ in window if a is not None]
        h_idx = [b for _, _, b in window if b is not None]
        r0 = r_idx[0] if r_idx else 0
        h0 = h_idx[0] if h_idx else 0
        R_w, H_w = R[r0 : r0 + len(r_idx)], H[h0 : h0 + len(h_idx)]
        path = [(op, None if a is None else a - r0, None if b is None else b - h0) for op, a, b in window]
        explained = _explain(R_w, H_w, path, rules) if (r_idx or h_idx) else None
        if explained is not None and _op_counts(explained) == _op_counts([_Edit(*o) for o in window]):
            for e in explained:
                e.ref = None if e.ref is None else e.ref + r0
                e.hyp = None if e.hyp is None else e.hyp + h0
                if e.group:
                    (a, b), (c, d) = e.group
                    e.group = ((a + r0, b + r0), (c + h0, d + h0))
                edits.append(e)
        else:
            for op, a, b in window:
                if op == "equal":
                    edits.append(_Edit(op, a, b))
                else:
                    cause, detail = _label_one(None if a is None else R[a], None if b is None else H[b], op, rules)
                    edits.append(_Edit(op, a, b, cause, detail, ((a, a + 1) if a is not None else (0, 0), (b, b + 1) if b is not None else (0, 0))))
        k = end
    return edits


def _op_counts(edits: Iterable[_Edit]) -> tuple[int, int, int, int]:
    counts = {"equal": 0, "substitute": 0, "delete": 0, "insert": 0}
    for e in edits:
        counts[e.op] += 1
    return counts["equal"], counts["substitute"], counts["delete"], counts["insert"]


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignedToken:
    """One step of the alignment, as written in the two texts.

    Attributes
    ----------
    op : str
        ``"equal"``, ``"substitute"``, ``"delete"`` (in the reference only) or
        ``"insert"`` (in the hypothesis only), comparing the texts as written.
    ref, hyp : str
        The reference and hypothesis text of this step ("" on the missing side).
    cause : str or None
        None when the two are identical, else one of :data:`CAUSES`.
    note : str
        A one-line explanation, shown on hover in :meth:`Score.to_html`.
    """

    op: str
    ref: str
    hyp: str
    cause: str | None = None
    note: str = ""

    @property
    def counted(self) -> bool:
        """Whether this step is an error in the strict error rate."""
        return self.cause in COUNTED_CAUSES

    @property
    def title(self) -> str:
        """Hover text: the cause and the explanation."""
        return f"{CAUSE_LABELS[self.cause]}: {self.note}" if self.cause else ""


@dataclass(frozen=True, repr=False)
class Score:
    """A hypothesis scored against a reference, with every difference explained.

    Attributes
    ----------
    language : str
        Whisper language code the texts were scored as.
    unit : str
        ``"char"`` (CER) or ``"word"`` (WER).
    error_rate : float
        Strict rate: (substitutions + deletions + insertions) / reference_length,
        after punctuation, width and script are normalised.
    lenient_error_rate : float
        The same with colloquial/written and numeral-format differences forgiven.
    hits, substitutions, deletions, insertions, reference_length : int
        jiwer's counts on the normalised texts.
    breakdown : dict
        Differences per cause (keys :data:`CAUSES`). ``numerals``,
        ``colloquial``, ``hallucination`` and ``other`` add up to the strict
        errors; ``script`` and ``punctuation_width`` count differences that
        were not scored.
    alignment : list of AlignedToken
        The texts as written, step by step, each difference with its cause.
    reference, hypothesis : str
        The texts as given.
    normalised_reference, normalised_hypothesis : str
        The texts as compared.
    settings : dict
        Normaliser, script conversion and library versions that produced the score.
    hallucination : Hallucination or None
        What :func:`workbench.hallucination.detect` found in the hypothesis
        (loops, compression, rate); None when it was not looked for.
    """

    language: str
    unit: str
    error_rate: float
    lenient_error_rate: float
    hits: int
    substitutions: int
    deletions: int
    insertions: int
    reference_length: int
    breakdown: dict[str, int]
    alignment: list[AlignedToken]
    reference: str
    hypothesis: str
    normalised_reference: str
    normalised_hypothesis: str
    settings: dict = field(default_factory=dict)
    hallucination: Hallucination | None = None

    @property
    def looped(self) -> bool:
        """Whether the hypothesis shows signs of a hallucination loop."""
        return bool(self.hallucination is not None and self.hallucination.looped)

    @property
    def metric(self) -> str:
        """``"cer"`` or ``"wer"``."""
        return "cer" if self.unit == "char" else "wer"

    @property
    def errors(self) -> int:
        """Strict errors: substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def forgiven(self) -> int:
        """Errors the lenient rate forgives (colloquial and numerals)."""
        return sum(self.breakdown[c] for c in FORGIVEN_CAUSES)

    @property
    def cer(self) -> float | None:
        """Strict character error rate (None when scored by words)."""
        return self.error_rate if self.unit == "char" else None

    @property
    def wer(self) -> float | None:
        """Strict word error rate (None when scored by characters)."""
        return self.error_rate if self.unit == "word" else None

    @property
    def lenient_cer(self) -> float | None:
        return self.lenient_error_rate if self.unit == "char" else None

    @property
    def lenient_wer(self) -> float | None:
        return self.lenient_error_rate if self.unit == "word" else None

    def __repr__(self) -> str:
        return (
            f"Score(language={self.language!r}, {self.metric}={self.error_rate:.4f}, lenient_{self.metric}={self.lenient_error_rate:.4f}, "
            f"hits={self.hits}, substitutions={self.substitutions}, deletions={self.deletions}, insertions={self.insertions}, "
            f"reference_length={self.reference_length}, breakdown={self.breakdown})"
        )

    def to_dict(self) -> dict:
        """Everything as JSON-serialisable values."""
        return {
            "language": self.language,
            "unit": self.unit,
            "metric": self.metric,
            "error_rate": self.error_rate,
            "lenient_error_rate": self.lenient_error_rate,
            self.metric: self.error_rate,
            f"lenient_{self.metric}": self.lenient_error_rate,
            "hits": self.hits,
            "substitutions": self.substitutions,
            "deletions": self.deletions,
            "insertions": self.insertions,
            "errors": self.errors,
            "reference_length": self.reference_length,
            "breakdown": dict(self.breakdown),
            "reference": self.reference,
            "hypothesis": self.hypothesis,
            "normalised_reference": self.normalised_reference,
            "normalised_hypothesis": self.normalised_hypothesis,
            "alignment": [asdict(t) for t in self.alignment],
            "settings": dict(self.settings),
            "hallucination": _hallucination_dict(self.hallucination),
        }

    def summary(self) -> str:
        """Two lines: the rates and counts, then the breakdown; a third when the hypothesis looped."""
        unit = "characters" if self.unit == "char" else "words"
        b = self.breakdown
        text = (
            f"{self.metric.upper()} {self.error_rate:.3f} strict, {self.lenient_error_rate:.3f} lenient "
            f"({self.language}; {_count(self.errors, 'error')} in {self.reference_length} reference {unit}: "
            f"{_count(self.substitutions, 'substitution')}, {_count(self.deletions, 'deletion')}, {_count(self.insertions, 'insertion')})\n"
            f"counted: other {b['other']}, hallucination {b['hallucination']}, colloquial {b['colloquial']}, numerals {b['numerals']} "
            f"(lenient forgives colloquial and numerals); not counted: script {b['script']}, punctuation/width {b['punctuation_width']}"
        )
        if self.looped:
            text += "\n" + self.hallucination.summary()
        return text

    def to_text(self, width: int = TEXT_WIDTH) -> str:
        """Plain-text rendering for terminals: REF/HYP lines with cause markers, then the summary.

        Parameters
        ----------
        width : int
            Columns to wrap the alignment at.
        """
        blocks: list[tuple[list[str], list[str], list[str]]] = [([], [], [])]
        used = 0
        for t in self.alignment:
            fill = "*" if t.counted else " "
            w = max(_display_width(t.ref), _display_width(t.hyp), 1)
            ref = _pad(t.ref or fill * w, w)
            hyp = _pad(t.hyp or fill * w, w)
            mark = _pad(CAUSE_MARKERS.get(t.cause, ""), w)
            if used and used + w + 1 > width - 5:
                blocks.append(([], [], []))
                used = 0
            for line, cell in zip(blocks[-1], (ref, hyp, mark)):
                line.append(cell)
            used += w + 1
        lines = []
        for refs, hyps, marks in blocks:
            lines += ["REF  " + " ".join(refs), "HYP  " + " ".join(hyps), ("     " + " ".join(marks)).rstrip(), ""]
        legend = ", ".join(f"{m} {CAUSE_LABELS[c]}" for c, m in CAUSE_MARKERS.items())
        return "\n".join([*lines, self.summary(), f"markers: {legend}; * missing"])

    def to_html(self) -> str:
        """A self-contained HTML snippet: the alignment coloured by cause, with the cause on hover."""
        esc = functools.partial(html.escape, quote=True)
        box = "display:inline-flex;flex-direction:column;align-items:center;margin:1px;padding:0 2px;border-radius:3px;"
        parts = []
        for t in self.alignment:
            ref = esc(t.ref) if t.ref else '<span style="opacity:.4">∅</span>'
            hyp = esc(t.hyp) if t.hyp else '<span style="opacity:.4">∅</span>'
            if t.cause is None:
                parts.append(f'<span class="wb-tok wb-equal" style="{box}"><span class="wb-ref">{ref}</span><span class="wb-hyp">{hyp}</span></span>')
            else:
                border = "border:1px solid #b33;" if t.counted else "border:1px dashed #999;"
                parts.append(
                    f'<span class="wb-tok wb-{t.cause}" data-cause="{t.cause}" data-op="{t.op}" title="{esc(t.title)}" '
                    f'style="{box}{border}background:{CAUSE_COLOURS[t.cause]}">'
                    f'<span class="wb-ref">{ref}</span><span class="wb-hyp">{hyp}</span></span>'
                )
        legend = " ".join(
            f'<span class="wb-legend wb-{c}" style="background:{CAUSE_COLOURS[c]};padding:0 4px;border-radius:3px">'
            f"{CAUSE_LABELS[c]} {self.breakdown[c]}{'' if c in COUNTED_CAUSES else ' (not counted)'}</span>"
            for c in CAUSES
        )
        m = self.metric.upper()
        loop = f'<div class="wb-hallucination" style="color:#9b1c1c">{esc(self.hallucination.summary())}</div>' if self.looped else ""
        head = (
            f"<b>{m} {self.error_rate:.3f}</b> strict · <b>{self.lenient_error_rate:.3f}</b> lenient "
            f"({esc(self.language)}; {_count(self.errors, 'error')} in {self.reference_length}: "
            f"{self.substitutions} S, {self.deletions} D, {self.insertions} I)"
        )
        return (
            '<div class="wb-score" style="font-family:sans-serif;line-height:1.4">'
            f'<div class="wb-summary">{head}</div>{loop}'
            '<div class="wb-alignment" style="margin:4px 0"><span style="display:inline-flex;flex-direction:column;'
            'font-size:75%;color:#666;margin-right:4px"><span>REF</span><span>HYP</span></span>'
            f'{"".join(parts)}</div>'
            f'<div class="wb-legend-row" style="font-size:85%">{legend}</div></div>'
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def _hallucination_dict(h: Hallucination | None) -> dict | None:
    if h is None:
        return None
    d = asdict(h)
    d["reasons"], d["spans"] = list(h.reasons), [list(s) for s in h.spans]
    if d["chars_per_second"] is not None and not math.isfinite(d["chars_per_second"]):
        d["chars_per_second"] = None  # no audio: JSON has no infinity
    return d


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _display_width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


# --------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------


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


def normalise_text(text: str, language: str, *, script: str | None = "auto") -> str:
    """The form of ``text`` that :func:`score` compares.

    Parameters
    ----------
    text : str
    language : str
        Code or name (see :func:`normalise_language`).
    script : str or None
        OpenCC conversion for Chinese: ``"auto"`` (:data:`DEFAULT_SCRIPT_CONVERSION`
        for zh/yue, none otherwise), None/``"none"``, or a config such as ``"s2hk"``.

    Examples
    --------
    >>> normalise_text("開放時間：早上９點！", "zh")
    '开放时间早上9点'
    """
    lang = normalise_language(language)
    tokens, _ = _tokenise(text, lang, _script_config(lang, script))
    return _join(tokens.norms, "char" if lang in CHARACTER_LANGUAGES else "word")


def score(hypothesis: str, reference: str, language: str, *, script: str | None = "auto", audio_seconds: float | None = None) -> Score:
    """Score a transcript against its reference and explain every difference.

    Parameters
    ----------
    hypothesis : str
        What the recogniser wrote. May be empty (every reference unit is then deleted).
    reference : str
        What was said.
    language : str
        Code or name (``"yue"``, ``"粵語"``, ``"zh"``, ``"en"``...). Character
        languages (:data:`CHARACTER_LANGUAGES`) are scored by CER, one unit per
        character and one per run of Latin letters or digits (so ``15`` vs
        ``十五`` is one number against two characters); others by WER after
        Whisper's normaliser.
    script : str or None
        OpenCC conversion applied to both Chinese texts: ``"auto"``
        (:data:`DEFAULT_SCRIPT_CONVERSION` for zh/yue), None/``"none"`` to keep
        script differences as errors, or a config name such as ``"s2hk"``.
    audio_seconds : float, optional
        Duration of the audio the hypothesis came from, for the hallucination
        check's rate test (too much text for the audio).

    Returns
    -------
    Score
        Its ``hallucination`` holds :func:`workbench.hallucination.detect`'s
        findings on the hypothesis. Insertions and substitutions whose
        hypothesis token a loop added (beyond the loop's first occurrence)
        are attributed to ``hallucination`` rather than ``other``.

    Raises
    ------
    ScoringError
        (a ``ValueError``) for an unknown language or script conversion, for
        a reference with nothing to score once normalised, and for a negative
        ``audio_seconds``.

    Examples
    --------
    >>> s = score("开放时间早上九点至下午五点", "开放时间早上9点至下午5点。", language="zh")
    >>> s.substitutions, s.breakdown["numerals"], s.lenient_cer
    (2, 2, 0.0)
    """
    for name, value in (("hypothesis", hypothesis), ("reference", reference)):
        if not isinstance(value, str):
            raise ScoringError(f"the {name} must be text (str), not {type(value).__name__}")
    lang = normalise_language(language)
    unit = "char" if lang in CHARACTER_LANGUAGES else "word"
    config = _script_config(lang, script) if unit == "char" else None
    if not reference.strip():
        raise ScoringError("reference is empty: nothing to score against")
    ref, normaliser = _tokenise(reference, lang, config)
    hyp, _ = _tokenise(hypothesis, lang, config)
    if not ref.tokens:
        raise ScoringError(f"reference {reference!r} has nothing to score once punctuation and spaces are removed")

    try:
        hallucination = detect_hallucination(hypothesis, audio_seconds, lang)
    except ValueError as exc:
        raise ScoringError(str(exc)) from None

    R, H = ref.norms, hyp.norms
    out = jiwer.process_words(" ".join(R), " ".join(H))
    ops = _expand_chunks(out.alignments[0])
    rules = _rules(lang, config) if unit == "char" else _Rules({}, False, 0)
    edits = _attribute(ops, R, H, rules)
    if hallucination.spans:
        looped = _looped_tokens(hypothesis, hallucination, hyp, lang, unit)
        for e in edits:
            if e.cause == "other" and e.op in ("insert", "substitute") and e.hyp in looped:
                e.cause, e.detail, e.group = "hallucination", None, ()

    breakdown = dict.fromkeys(CAUSES, 0)
    items = _items(edits, ref, hyp, breakdown, hallucination)
    errors = out.substitutions + out.deletions + out.insertions
    assert sum(breakdown[c] for c in COUNTED_CAUSES) == errors, "every counted error has one cause"
    length = out.hits + out.substitutions + out.deletions
    forgiven = sum(breakdown[c] for c in FORGIVEN_CAUSES)
    settings = {
        "normaliser": normaliser,
        "script": config,
        "colloquial_table": lang in CHINESE_LANGUAGES and unit == "char",
        "numerals": rules.numerals,
        "lenient_forgives": list(FORGIVEN_CAUSES),
        "jiwer": _version("jiwer"),
    }
    if config:
        settings["opencc"] = _version("opencc")
    if unit == "word":
        settings["transformers"] = _version("transformers")
    return Score(
        language=lang,
        unit=unit,
        error_rate=errors / length,
        lenient_error_rate=(errors - forgiven) / length,
        hits=out.hits,
        substitutions=out.substitutions,
        deletions=out.deletions,
        insertions=out.insertions,
        reference_length=length,
        breakdown=breakdown,
        alignment=items,
        reference=reference,
        hypothesis=hypothesis,
        normalised_reference=_join(R, unit),
        normalised_hypothesis=_join(H, unit),
        settings=settings,
        hallucination=hallucination,
    )


def _looped_tokens(hypothesis: str, hallucination: Hallucination, hyp: _Tokens, language: str, unit: str) -> set[int]:
    """Positions of the hypothesis tokens that lie in the loop's spans."""
    spans = hallucination.spans
    if unit == "char":
        nfc = unicodedata.normalize("NFC", hypothesis)
        if nfc != hypothesis:  # token offsets index the NFC text
            spans = detect_hallucination(nfc, None, language).spans
        return {k for k, t in enumerate(hyp.tokens) if any(a <= t.start < b for a, b in spans)}
    # words come from Whisper's normaliser, which keeps no offsets: count the words before each end of a span
    normalise, _ = english_normaliser() if language == "en" else _basic_normaliser()
    looped: set[int] = set()
    for a, b in spans:
        looped.update(range(len(normalise(hypothesis[:a]).split()), len(normalise(hypothesis[:b]).split())))
    return looped


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _items(edits: list[_Edit], ref: _Tokens, hyp: _Tokens, breakdown: dict[str, int], hallucination: Hallucination | None = None) -> list[AlignedToken]:
    """Turn the attributed edits into display steps, adding punctuation and script/width notes."""
    rt, ht = ref.tokens, hyp.tokens

    def text(tokens, rng):
        return "".join(tokens[k].raw for k in range(*rng))

    def explanation(move: _Move) -> str:
        rs, hs = text(rt, (move.i0, move.i1)) or "nothing", text(ht, (move.j0, move.j1)) or "nothing"
        if move.kind == "numerals":
            return f"{rs} ↔ {hs} (the number {_format_number(move.detail)})"
        return f"{rs} ↔ {hs}" + (f" '{move.detail.pair.meaning}'" if move.detail.pair.meaning else "")

    core: list[AlignedToken] = []
    for e in edits:
        r = rt[e.ref].raw if e.ref is not None else ""
        h = ht[e.hyp].raw if e.hyp is not None else ""
        if e.op == "equal" and e.cause is None:
            a, b = rt[e.ref], ht[e.hyp]
            if a.raw == b.raw:
                core.append(AlignedToken("equal", r, h))
            elif a.plain != b.plain:
                breakdown["script"] += 1
                core.append(AlignedToken("substitute", r, h, "script", f"{r} ↔ {h}: the same text in another script (Traditional/Simplified)"))
            else:
                breakdown["punctuation_width"] += 1
                core.append(AlignedToken("substitute", r, h, "punctuation_width", f"{r} ↔ {h}: full-/half-width form or letter case only"))
            continue
        if e.op == "equal":  # a shared character inside an explained pattern
            core.append(AlignedToken("equal", r, h))
            continue
        breakdown[e.cause] += 1
        if isinstance(e.detail, _Stretch):
            rs, hs = text(rt, e.group[0]), text(ht, e.group[1])
            how = "partly explained by" if e.detail.partly else "explained by"
            note = f"{r or 'nothing'} ↔ {h or 'nothing'}: the error rate pairs them off inside {rs} ↔ {hs}, {how} " + ", ".join(map(explanation, e.detail.moves))
        elif e.cause == "colloquial":
            p: _Pattern = e.detail
            rs, hs = text(rt, e.group[0]), text(ht, e.group[1])
            cant, written = ("reference", "hypothesis") if p.ref_is_colloquial else ("hypothesis", "reference")
            c_text, w_text = (rs, hs) if p.ref_is_colloquial else (hs, rs)
            side = {cant: f"{c_text} (Cantonese)", written: f"{w_text or 'nothing'} (written)"}
            note = f"{side['reference']} ↔ {side['hypothesis']}" + (f", '{p.pair.meaning}'" if p.pair.meaning else "")
        elif e.cause == "numerals":
            rs, hs = text(rt, e.group[0]), text(ht, e.group[1])
            note = f"{rs} ↔ {hs}: the same number ({_format_number(e.detail)}) written differently"
        elif e.cause == "hallucination":
            loop = f"'{hallucination.longest_repeat}' repeated {hallucination.repeats} times" if hallucination and hallucination.repeats else "a loop"
            note = f"{h} {'replaces ' + r if r else 'is not in the reference'}: part of {loop}"
        elif e.op == "substitute":
            note = f"{r} → {h}: recognition error"
        elif e.op == "delete":
            note = f"{r} is missing from the hypothesis"
        else:
            note = f"{h} is not in the reference"
        core.append(AlignedToken(e.op, r, h, e.cause, note))

    # punctuation: each text's punctuation goes after the step holding the
    # token it follows, so each row reads in its own text's order; boundaries
    # not separated by an equal step are compared as one pool
    n = len(edits)
    ref_gap = [""] * (n + 1)
    hyp_gap = [""] * (n + 1)
    ref_gap[0], hyp_gap[0] = ref.gaps[0], hyp.gaps[0]
    for k, e in enumerate(edits):
        if e.ref is not None:
            ref_gap[k + 1] += ref.gaps[e.ref + 1]
        if e.hyp is not None:
            hyp_gap[k + 1] += hyp.gaps[e.hyp + 1]
    punct: dict[int, list[AlignedToken]] = {}
    start = 0
    for b in range(n + 1):
        if b < n and edits[b].op != "equal":
            continue
        zone = range(start, b + 1)
        pooled_r = "".join(ref_gap[z] for z in zone)
        pooled_h = "".join(hyp_gap[z] for z in zone)
        same = pooled_r == pooled_h
        if not same:
            breakdown["punctuation_width"] += _punctuation_distance(pooled_r, pooled_h)
        for z in zone:
            r, h = ref_gap[z], hyp_gap[z]
            if not (r or h):
                continue
            if r == h:
                punct.setdefault(z, []).append(AlignedToken("equal", r, h))
            elif same:  # the same punctuation, next to differently aligned characters
                note = "punctuation is not scored; the other text has the same here"
                if r:
                    punct.setdefault(z, []).append(AlignedToken("delete", r, "", None, f"{r}: {note}"))
                if h:
                    punct.setdefault(z, []).append(AlignedToken("insert", "", h, None, f"{h}: {note}"))
            else:
                op = "substitute" if r and h else "delete" if r else "insert"
                note = f"{r or 'nothing'} ↔ {h or 'nothing'}: punctuation is not scored"
                punct.setdefault(z, []).append(AlignedToken(op, r, h, "punctuation_width", note))
        start = b + 1
    items: list[AlignedToken] = []
    for b in range(n + 1):
        items.extend(punct.get(b, []))
        if b < n:
            items.append(core[b])
    return items


def _punctuation_distance(a: str, b: str) -> int:
    if not a or not b:
        return len(a) + len(b)
    out = jiwer.process_characters(a, b)
    return out.substitutions + out.deletions + out.insertions


# --------------------------------------------------------------------------
# Many transcripts
# --------------------------------------------------------------------------

COUNT_COLUMNS = ("hits", "substitutions", "deletions", "insertions", "reference_length")
TOTAL_LABEL = "TOTAL"


def score_many(items, language: str | None = None, *, script: str | None = "auto", id_column: str = "id"):
    """Score many transcripts; one row each plus totals from summed counts.

    Parameters
    ----------
    items : pandas.DataFrame or iterable
        A DataFrame with ``hypothesis`` and ``reference`` columns (and
        optionally ``language``, ``id`` and ``audio_seconds``, the clip's
        duration for the hallucination check), or an iterable of
        ``(hypothesis, reference)`` / ``(hypothesis, reference, language)``
        tuples or of mappings with those keys.
    language : str, optional
        Language for every item; overrides an item's own.
    script : str or None
        As for :func:`score`.
    id_column : str
        Name of the first column, which holds each item's ``id`` (or ``path``), else its position.

    Returns
    -------
    pandas.DataFrame
        One row per item with the rates, counts and :data:`CAUSES` columns,
        then a ``TOTAL`` row per unit (one, unless characters and words are
        mixed) whose rates are summed errors over summed reference lengths,
        not an average of rates. An item that cannot be scored keeps its row,
        with the reason in ``error`` and no rates.
    """
    rows = [(_row_id(row, k), *_row_fields(row, language), _row_seconds(row)) for k, row in enumerate(_iter_items(items))]
    scored = []
    for row_id, hyp, ref, lang, seconds in rows:
        try:
            if lang is None:
                raise ScoringError("no language: give one for the item or pass language=")
            scored.append((row_id, hyp, ref, score(hyp, ref, lang, script=script, audio_seconds=seconds), ""))
        except ScoringError as exc:
            scored.append((row_id, hyp, ref, lang, str(exc)))
    return _table(scored, id_column)


def _iter_items(items):
    try:
        import pandas as pd

        if isinstance(items, pd.DataFrame):
            return items.to_dict(orient="records")
    except ImportError:
        pass
    return list(items)


def _row_id(row, position: int):
    if isinstance(row, Mapping):
        for key in ("id", "path"):
            if key in row and row[key] is not None:
                return row[key]
    return position


def _row_seconds(row) -> float | None:
    """An item's ``audio_seconds``, if it has one."""
    seconds = row.get("audio_seconds") if isinstance(row, Mapping) else None
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return None
    try:
        return float(seconds)
    except (TypeError, ValueError):
        raise ScoringError(f"audio_seconds must be a number of seconds, not {seconds!r}") from None


def _row_fields(row, language: str | None) -> tuple[str, str, str | None]:
    if isinstance(row, Mapping):
        missing = [k for k in ("hypothesis", "reference") if k not in row]
        if missing:
            raise ScoringError(f"item {row!r} has no {' or '.join(missing)}")
        hyp, ref, own = row["hypothesis"], row["reference"], row.get("language")
    else:
        row = tuple(row)
        if len(row) not in (2, 3):
            raise ScoringError(f"item {row!r} is not (hypothesis, reference) or (hypothesis, reference, language)")
        hyp, ref, own = row[0], row[1], row[2] if len(row) == 3 else None
    hyp = "" if hyp is None or (isinstance(hyp, float) and math.isnan(hyp)) else hyp
    own = None if own is None or (isinstance(own, float) and math.isnan(own)) or own == "" else own
    return hyp, ref, language or own


def _table(scored, id_column: str):
    import pandas as pd

    records = []
    for row_id, hyp, ref, result, error in scored:
        rec = {id_column: row_id}
        if isinstance(result, Score):
            rec.update(
                language=result.language,
                unit=result.unit,
                error_rate=result.error_rate,
                lenient_error_rate=result.lenient_error_rate,
                **{c: getattr(result, c) for c in COUNT_COLUMNS},
                **result.breakdown,
            )
        else:
            rec.update(language=result, unit=None, error_rate=math.nan, lenient_error_rate=math.nan)
            rec.update({c: 0 for c in (*COUNT_COLUMNS, *CAUSES)})
        rec.update(reference=ref, hypothesis=hyp, error=error)
        records.append(rec)
    columns = [id_column, "language", "unit", "error_rate", "lenient_error_rate", *COUNT_COLUMNS, *CAUSES, "reference", "hypothesis", "error"]
    df = pd.DataFrame(records, columns=columns)
    ok = df[df["error"] == ""]
    units = sorted(ok["unit"].unique())
    totals = []
    for unit in units:
        part = ok[ok["unit"] == unit]
        sums = {c: int(part[c].sum()) for c in (*COUNT_COLUMNS, *CAUSES)}
        errors = sums["substitutions"] + sums["deletions"] + sums["insertions"]
        forgiven = sum(sums[c] for c in FORGIVEN_CAUSES)
        length = sums["reference_length"]
        label = TOTAL_LABEL if len(units) == 1 else f"{TOTAL_LABEL} ({unit})"
        totals.append(
            {
                id_column: label,
                "language": ",".join(sorted(part["language"].unique())),
                "unit": unit,
                "error_rate": errors / length,
                "lenient_error_rate": (errors - forgiven) / length,
                **sums,
                "reference": "",
                "hypothesis": "",
                "error": "",
            }
        )
    if totals:
        df = pd.concat([df, pd.DataFrame(totals, columns=columns)], ignore_index=True)
    for c in (*COUNT_COLUMNS, *CAUSES):
        df[c] = df[c].astype("int64")
    return df


def score_manifest(results, manifest, *, language: str | None = None, script: str | None = "auto"):
    """Score a transcription run against the reference transcripts in a manifest.

    Parameters
    ----------
    results : iterable of mapping, or mapping
        The run: items with ``"path"`` and ``"text"`` and optionally
        ``"audio_seconds"`` (for the hallucination check; other keys are
        ignored), or a mapping ``{path: text}``.
    manifest : str or Path
        CSV with columns ``path`` (relative to the manifest's folder),
        ``reference`` and ``language``.
    language : str, optional
        Overrides the manifest's language column.
    script : str or None
        As for :func:`score`.

    Returns
    -------
    pandas.DataFrame
        As :func:`score_many`, with a ``path`` column (the manifest's path).
        ``df.attrs["unmatched"]`` lists results with no manifest row and
        ``df.attrs["missing"]`` manifest rows with no result.

    Notes
    -----
    A result matches a manifest row when its path, resolved, is that file
    inside the manifest's folder, or else when its file name is the name of
    exactly one manifest row (so results recorded on another machine, with
    Windows or POSIX paths, still match).
    """
    manifest = Path(manifest)
    rows = _read_manifest(manifest)
    if isinstance(results, Mapping):
        pairs = [(str(p), t, None) for p, t in results.items()]
    else:
        pairs = []
        for k, r in enumerate(results):
            get = r.get if isinstance(r, Mapping) else functools.partial(getattr, r)
            path, text = get("path", None), get("text", None)
            if path is None or text is None:
                raise ScoringError(f"result {k} has no 'path' or no 'text': each result needs both")
            pairs.append((str(path), text, get("audio_seconds", None)))
    folder = manifest.resolve().parent
    by_path = {PurePosixPath(r["path"].replace("\\", "/")).as_posix(): r for r in rows}
    by_name: dict[str, list[dict]] = {}
    for r in rows:
        by_name.setdefault(PurePosixPath(r["path"].replace("\\", "/")).name, []).append(r)

    scored_items, unmatched, seen = [], [], set()
    for path, text, seconds in pairs:
        row = _match(path, folder, by_path, by_name)
        if row is None:
            unmatched.append(path)
            continue
        seen.add(row["path"])
        item = {"path": row["path"], "hypothesis": text, "reference": row["reference"], "language": row.get("language") or None}
        scored_items.append({**item, "audio_seconds": seconds})
    if not scored_items:
        raise ScoringError(f"none of the {len(pairs)} results matches a clip in {manifest}: compare the result paths with its 'path' column")
    df = score_many(scored_items, language, script=script, id_column="path")
    df.attrs["unmatched"] = unmatched
    df.attrs["missing"] = [r["path"] for r in rows if r["path"] not in seen]
    df.attrs["manifest"] = str(manifest)
    return df


def _read_manifest(manifest: Path) -> list[dict]:
    if not manifest.is_file():
        raise ScoringError(f"manifest {manifest} does not exist: give the CSV with path, language and reference columns")
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ScoringError(f"manifest {manifest} is not a UTF-8 CSV file: {exc}") from None
    missing = [c for c in ("path", "reference") if c not in columns]
    if missing:
        raise ScoringError(f"manifest {manifest} has no {' or '.join(missing)} column (it has: {', '.join(columns) or 'none'})")
    return rows


def _match(path: str, folder: Path, by_path: dict, by_name: dict) -> dict | None:
    candidate = Path(path)
    try:
        relative = candidate.resolve().relative_to(folder).as_posix()
        if relative in by_path:
            return by_path[relative]
    except (ValueError, OSError):
        pass
    name = PurePosixPath(path.replace("\\", "/")).name
    found = by_name.get(name, [])
    return found[0] if len(found) == 1 else None


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def add_score_command(subparsers) -> argparse.ArgumentParser:
    """Register ``score`` on an argparse subparsers object and return its parser.

    ``python -m workbench score --hyp TEXT --ref TEXT --language yue [--json]``
    scores one transcript; ``--results RUN.jsonl --manifest manifest.csv``
    scores a transcription run against the manifest's references.
    """
    p = subparsers.add_parser(
        "score",
        help="score a transcript against a reference: CER/WER and the cause of every error",
        description=(
            "Strict and lenient CER (Chinese, Cantonese, Japanese...) or WER (space-delimited languages), "
            "with each difference attributed to script, punctuation/width, numerals, colloquial Cantonese, hallucination (loops) or other. "
            "Give --hyp, --ref and --language, or --results and --manifest."
        ),
    )
    p.add_argument("--hyp", help="the transcript to score (may be empty)")
    p.add_argument("--ref", help="the reference transcript")
    p.add_argument("--language", help="code or name: yue, zh, en, cantonese, 粵語, 普通话...; overrides the manifest's column")
    p.add_argument("--script", default="auto", help="OpenCC conversion for Chinese: auto (t2s), none, or a config such as s2hk")
    p.add_argument("--audio-seconds", type=float, help="with --hyp: the clip's duration, so text too long for the audio is flagged as hallucination")
    p.add_argument("--results", help="a transcription run: JSON lines (or a JSON list) of objects with path and text")
    p.add_argument("--manifest", help="CSV with path, language and reference columns")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_score)
    return p


def cmd_score(args) -> int:
    """Handler of the ``score`` subcommand."""
    single = args.hyp is not None or args.ref is not None
    run = args.results is not None or args.manifest is not None
    if single and run:
        raise ScoringError("give either --hyp/--ref or --results/--manifest, not both")
    if single:
        if args.hyp is None or args.ref is None:
            raise ScoringError("--hyp and --ref go together: give both (an empty --hyp '' is allowed)")
        if not args.language:
            raise ScoringError("--language is required with --hyp/--ref (e.g. yue, zh, en)")
        result = score(args.hyp, args.ref, args.language, script=_script_arg(args.script), audio_seconds=getattr(args, "audio_seconds", None))
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(result.to_text())
        return 0
    if not (args.results and args.manifest):
        raise ScoringError("give --hyp, --ref and --language, or --results RUN.jsonl and --manifest manifest.csv")
    df = score_manifest(_read_results(Path(args.results)), args.manifest, language=args.language, script=_script_arg(args.script))
    if args.json:
        rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in df.to_dict(orient="records")]
        payload = {"rows": rows, "unmatched": df.attrs["unmatched"], "missing": df.attrs["missing"]}
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=_json_default))
        return 0
    view = df[["path", "language", "error_rate", "lenient_error_rate", "substitutions", "deletions", "insertions", "reference_length", *CAUSES]]
    print(view.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="n/a"))
    for _, row in df[df["error"] != ""].iterrows():
        print(f"not scored {row['path']}: {row['error']}")
    for path in df.attrs["unmatched"]:
        print(f"no reference for {path}")
    for path in df.attrs["missing"]:
        print(f"no result for {path}")
    return 0


def _script_arg(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() == "none" else value


def _json_default(o):
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _read_results(path: Path) -> list[dict]:
    if not path.is_file():
        raise ScoringError(f"results file {path} does not exist")
    text = path.read_text(encoding="utf-8-sig")
    try:
        if text.lstrip().startswith("["):
            data = json.loads(text)
        else:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise ScoringError(f"results file {path} is not JSON lines or a JSON list: {exc}") from None
    if not all(isinstance(d, dict) for d in data):
        raise ScoringError(f"results file {path} must hold objects with path and text")
    return data
