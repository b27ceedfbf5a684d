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

The package, one concern per module:

- :mod:`~workbench.scoring.script` -- Traditional/Simplified conversion (OpenCC)
- :mod:`~workbench.scoring.colloquial` -- the colloquial/written pairs, read from ``colloquial.tsv`` beside it
- :mod:`~workbench.scoring.numerals` -- numbers in Arabic digits and Chinese numerals
- :mod:`~workbench.scoring.english` -- Whisper's normalisers for word languages
- :mod:`~workbench.scoring.tokens` -- the units a text is scored in
- :mod:`~workbench.scoring.alignment` -- jiwer's alignment and the cause of every difference
- :mod:`~workbench.scoring.process` -- :func:`score` and :func:`normalise_text`
- :mod:`~workbench.scoring.results` -- :class:`Score`
- :mod:`~workbench.scoring.rendering` -- the alignment as text and HTML
- :mod:`~workbench.scoring.batch` -- :func:`score_many` and :func:`score_manifest`

The ``score`` command is :mod:`workbench.cli.score`.

Examples
--------
>>> from workbench.scoring import score
>>> s = score("這幾個字都表達不到我想講的意思", "呢几个字都表达唔到，我想讲嘅意思。", language="yue")
>>> s.cer, s.lenient_cer, s.breakdown["colloquial"]
(0.2, 0.0, 3)
"""

from __future__ import annotations

from ..hallucination import Hallucination
from ..languages import UnknownLanguageError  # noqa: F401 - importable from here, as before
from .alignment import (  # noqa: F401 - the constants are importable from here, as before
    ATTRIBUTION_BAND,
    CAUSE_LABELS,
    CAUSES,
    COUNTED_CAUSES,
    FORGIVEN_CAUSES,
    MAX_ATTRIBUTION_CELLS,
    WIDE_ATTRIBUTION_CELLS,
    AlignedToken,
)
from .base import CHARACTER_LANGUAGES, CHINESE_LANGUAGES, NUMERAL_LANGUAGES, ScoringError, is_character_language, normalise_language  # noqa: F401
from .batch import COUNT_COLUMNS, TOTAL_LABEL, score_manifest, score_many  # noqa: F401
from .colloquial import COLLOQUIAL_PAIRS, COLLOQUIAL_TABLE, ColloquialPair, _read_colloquial_table  # noqa: F401
from .english import english_normaliser
from .numerals import CHINESE_DECIMAL_POINTS, CHINESE_DIGITS, CHINESE_MYRIADS, CHINESE_TENS, CHINESE_UNITS, MAX_NUMERAL_TOKENS  # noqa: F401
from .process import normalise_text, score
from .rendering import CAUSE_COLOURS, CAUSE_MARKERS, TEXT_WIDTH  # noqa: F401
from .results import Score
from .script import DEFAULT_SCRIPT_CONVERSION
from .tokens import NUMBER_SEPARATORS  # noqa: F401

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
    "english_normaliser",
    "is_character_language",
    "normalise_language",
    "normalise_text",
    "score",
    "score_manifest",
    "score_many",
]
