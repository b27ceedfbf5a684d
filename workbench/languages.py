"""Language names, codes and aliases, in one place.

Users write ``yue``, ``cantonese``, ``粤语`` or ``廣東話`` and mean the same
thing. :func:`normalise_language` turns any of them into Whisper's code.
The code list is Whisper's own (as shipped by transformers); the aliases add
the names people actually type, in English and Chinese.
"""

from __future__ import annotations

import difflib
import functools
import json
from importlib import resources

from .errors import WorkbenchError

#: Values meaning "let the model detect the language".
AUTO = ("auto", "detect", "", None)

#: Names people type besides Whisper's own codes and English names, mapped to codes.
#: ``zh-HK`` means Cantonese speech here (as in Common Voice's zh-HK release).
ALIASES: dict[str, str] = {
    # Cantonese
    "粤语": "yue",
    "粵語": "yue",
    "广东话": "yue",
    "廣東話": "yue",
    "广州话": "yue",
    "廣州話": "yue",
    "广府话": "yue",
    "廣府話": "yue",
    "粤": "yue",
    "粵": "yue",
    "zh-yue": "yue",
    "zh-hk": "yue",
    # Mandarin / written Chinese
    "普通话": "zh",
    "普通話": "zh",
    "国语": "zh",
    "國語": "zh",
    "华语": "zh",
    "華語": "zh",
    "汉语": "zh",
    "漢語": "zh",
    "中文": "zh",
    "chinese": "zh",
    "cmn": "zh",
    # Others
    "英语": "en",
    "英語": "en",
    "英文": "en",
    "日语": "ja",
    "日語": "ja",
    "日文": "ja",
    "日本語": "ja",
    "韩语": "ko",
    "韓語": "ko",
    "한국어": "ko",
}

#: Languages scored per character (CER) rather than per word: written without
#: spaces between words, or (Korean) conventionally scored so.
CHARACTER_LANGUAGES = frozenset({"zh", "yue", "ja", "ko", "th", "lo", "my", "km", "bo"})


class UnknownLanguageError(WorkbenchError, ValueError):
    """A language name or code that Whisper does not know (or none, where a definite language is needed)."""


def whisper_languages() -> dict[str, str]:
    """Whisper's language codes mapped to English names (``{"yue": "cantonese", ...}``)."""
    return dict(_whisper_tables()[0])


@functools.lru_cache(maxsize=1)
def _whisper_tables() -> tuple[dict, dict]:
    """Whisper's ``LANGUAGES`` (code -> name) and ``TO_LANGUAGE_CODE`` (name -> code), read once.

    They come from the workbench's own copy (``whisper_languages.json``), so
    naming a language costs microseconds and never imports transformers.
    """
    data = json.loads(resources.files("workbench").joinpath("whisper_languages.json").read_text(encoding="utf-8"))
    languages = dict(data["languages"])
    return languages, {**{name: code for code, name in languages.items()}, **data["extra_names"]}


def normalise_language(language: str | None, *, allow_auto: bool = True) -> str | None:
    """Whisper's code for ``language``, or ``None`` for auto-detection.

    Accepts codes (``yue``), English names (``Cantonese``), Chinese names
    (``粤语``, ``普通话``) and common regional tags (``zh-HK``).

    Parameters
    ----------
    language : str or None
        A code or name; ``"auto"``, ``"detect"``, ``""`` or None (:data:`AUTO`)
        mean "let the model detect the language".
    allow_auto : bool
        Whether auto-detection is an answer. False where a definite language
        is needed (to score against a reference): then no language, or one
        of :data:`AUTO`, is refused like an unknown one.

    Raises
    ------
    UnknownLanguageError
        With the closest known names, when ``language`` is not recognised;
        for no language or auto-detection when ``allow_auto`` is False.
    """
    if not allow_auto and (not isinstance(language, str) or not language.strip()):
        raise UnknownLanguageError(f"no language given ({language!r}): pass a Whisper code such as yue, zh or en")
    if language in AUTO:
        return _auto(language, allow_auto)
    key = str(language).strip().lower().replace("_", "-")
    if key in AUTO:
        return _auto(language, allow_auto)
    LANGUAGES, TO_LANGUAGE_CODE = _whisper_tables()  # noqa: N806 - Whisper's own names for its tables
    for candidate in (key, key.split("-")[0]):  # "en-GB" -> "en", "yue-HK" -> "yue"
        if candidate in ALIASES:
            return ALIASES[candidate]
        if candidate in LANGUAGES:
            return candidate
        if candidate in TO_LANGUAGE_CODE:
            return TO_LANGUAGE_CODE[candidate]
    choices = list(LANGUAGES) + list(TO_LANGUAGE_CODE) + list(ALIASES)
    close = difflib.get_close_matches(key, choices, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownLanguageError(
        f"unknown language {language!r}.{hint} Use a Whisper code (yue, zh, en, ...), "
        "an English name (cantonese, chinese, english, ...), a Chinese name (粤语, 普通话, ...), or 'auto'."
    )


def _auto(language, allow_auto: bool) -> None:
    """None (auto-detect) for one of :data:`AUTO`; refused when a definite language is needed."""
    if not allow_auto:
        raise UnknownLanguageError(
            f"language {language!r} means auto-detect, but a definite language is needed here "
            "(scoring needs the reference's): pass yue, zh, en..."
        )
    return None


def language_name(code: str | None) -> str:
    """English name for a code (``"yue"`` → ``"Cantonese"``); ``"auto-detect"`` for None."""
    if code is None:
        return "auto-detect"
    return whisper_languages().get(code, code).title()


def is_character_language(language: str | None, *, allow_auto: bool = True) -> bool:
    """True when error rates for ``language`` are counted per character (CER), not per word.

    Auto-detection (see :func:`normalise_language`) is not a character
    language, or is refused when ``allow_auto`` is False.
    """
    return normalise_language(language, allow_auto=allow_auto) in CHARACTER_LANGUAGES


#: Files of a model folder that name its language tokens, in the order they are read.
_VOCABULARY_FILES = ("generation_config.json", "vocabulary.txt", "vocabulary.json", "added_tokens.json", "tokenizer.json", "vocab.json")


def model_languages(folder) -> frozenset[str] | None:
    """Languages a Whisper model folder has a token for (``<|yue|>``...), read from its files, without loading it.

    Works for transformers folders (``generation_config.json``'s
    ``lang_to_id``, or the tokenizer files) and CTranslate2 folders
    (``vocabulary.txt`` / ``.json``). Returns None when no such file names
    any language (the caller then asks the loaded model).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "vocabulary.txt").write_text("<|en|>\\n<|zh|>\\nhello\\n<|notimestamps|>\\n", encoding="utf-8")
    >>> sorted(model_languages(d))
    ['en', 'zh']
    >>> model_languages(d / "missing") is None
    True
    """
    import re
    from pathlib import Path

    known = whisper_languages()
    folder = Path(folder)
    for name in _VOCABULARY_FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if name == "generation_config.json":
            try:
                tokens = json.loads(text).get("lang_to_id") or {}
            except (ValueError, AttributeError):
                continue
            text = " ".join(tokens)
        found = frozenset(code for code in re.findall(r"<\|([a-z]{2,3})\|>", text) if code in known)
        if found:
            return found
    return None
