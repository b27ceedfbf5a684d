"""What every part of scoring shares: its error and the languages it treats apart.

:func:`normalise_language` and :func:`is_character_language` are those of
:mod:`workbench.languages` with auto-detection refused (scoring needs the
reference's language), their errors raised as :class:`ScoringError`, the
error every scoring function raises and :func:`~workbench.scoring.score_many`
catches per item.
"""

from __future__ import annotations

import contextlib

from .. import languages
from ..errors import WorkbenchError
from ..languages import CHARACTER_LANGUAGES

__all__ = ["CHARACTER_LANGUAGES", "CHINESE_LANGUAGES", "NUMERAL_LANGUAGES", "ScoringError", "is_character_language", "normalise_language"]


class ScoringError(WorkbenchError, ValueError):
    """A scoring request cannot be carried out (unknown language, empty reference, bad manifest)."""


CHINESE_LANGUAGES = frozenset({"zh", "yue"})
"""Languages whose script is unified with OpenCC and whose colloquial/written pairs are recognised."""

NUMERAL_LANGUAGES = frozenset({"zh", "yue", "ja"})
"""Languages where Arabic and Chinese numerals (9 vs 九) are told apart from other errors."""


@contextlib.contextmanager
def _as_scoring_error():
    """Raise :mod:`workbench.languages`' errors as :class:`ScoringError`."""
    try:
        yield
    except languages.UnknownLanguageError as exc:
        raise ScoringError(str(exc)) from None


def normalise_language(language: str) -> str:
    """The Whisper language code for a code or name (see :func:`workbench.languages.normalise_language`).

    Scoring needs a definite language, so ``"auto"`` is refused.

    Examples
    --------
    >>> normalise_language("粵語"), normalise_language("Mandarin"), normalise_language("en-GB")
    ('yue', 'zh', 'en')
    """
    with _as_scoring_error():
        return languages.normalise_language(language, allow_auto=False)


def is_character_language(language: str) -> bool:
    """Whether ``language`` is scored per character (CER) rather than per word (WER).

    Examples
    --------
    >>> is_character_language("cantonese"), is_character_language("en")
    (True, False)
    """
    with _as_scoring_error():
        return languages.is_character_language(language, allow_auto=False)
