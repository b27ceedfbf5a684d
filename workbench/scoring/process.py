"""Scoring one transcript: :func:`score`, and :func:`normalise_text`, the form it compares."""

from __future__ import annotations

import unicodedata
from importlib import metadata

import jiwer

from ..hallucination import Hallucination
from ..hallucination import detect as detect_hallucination
from ..languages import CHARACTER_LANGUAGES
from .alignment import CAUSES, COUNTED_CAUSES, FORGIVEN_CAUSES, _attribute, _expand_chunks, _Rules, _rules
from .base import CHINESE_LANGUAGES, ScoringError, normalise_language
from .english import _basic_normaliser, english_normaliser
from .rendering import _items
from .results import Score
from .script import _script_config
from .tokens import _join, _tokenise, _Tokens


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
