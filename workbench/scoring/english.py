"""Whisper's text normalisers for space-delimited languages (scored per word).

English goes through Whisper's English normaliser (as transformers ships
it), with its British -> American spelling table where one can be found;
every other word language through Whisper's basic normaliser.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

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

    Whisper's normaliser leaves some runs of punctuation as words of their
    own (``"..."`` becomes ``"."``, ``"…"`` becomes ``".."``); those, and any
    other word without a letter or a digit, are dropped, as the basic
    normaliser drops them. So a reference of punctuation alone has nothing to
    score, whatever the punctuation, and stray dots in a transcript are not
    counted as inserted words.

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
    >>> normalise("Wait... what?"), normalise("...")
    ('wait what', '')
    """
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    mapping, source = _english_spelling_mapping()
    whisper = EnglishTextNormalizer(mapping)

    def normalise(text: str) -> str:
        return " ".join(word for word in whisper(text).split() if _has_letter_or_digit(word))

    return normalise, f"transformers EnglishTextNormalizer (Whisper), words without a letter or digit dropped; spelling table: {source}"


def _has_letter_or_digit(word: str) -> bool:
    """Whether ``word`` holds a letter or a digit of any script (``"$5"`` does, ``"."`` and ``"%"`` do not)."""
    return any(c.isalnum() for c in word)


@functools.lru_cache(maxsize=1)
def _basic_normaliser() -> tuple[Callable[[str], str], str]:
    from transformers.models.whisper.english_normalizer import BasicTextNormalizer

    return BasicTextNormalizer(), "transformers BasicTextNormalizer (Whisper, non-English)"
