"""The result of scoring: :class:`Score`, with every difference explained."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..hallucination import Hallucination
from . import rendering
from .alignment import FORGIVEN_CAUSES, AlignedToken
from .rendering import TEXT_WIDTH, _count


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
        return rendering.to_text(self, width)

    def to_html(self) -> str:
        """A self-contained HTML snippet: the alignment coloured by cause, with the cause on hover."""
        return rendering.to_html(self)

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
