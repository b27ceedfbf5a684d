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
