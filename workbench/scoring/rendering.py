"""Showing a score: the alignment as display steps, as terminal text and as HTML.

:func:`_items` turns the attributed edits into the :class:`AlignedToken`
steps a :class:`~workbench.scoring.Score` holds (each text as written, its
punctuation in place, a note per difference); :func:`to_text` and
:func:`to_html` render a score, as :meth:`Score.to_text` and
:meth:`Score.to_html` do.
"""

from __future__ import annotations

import functools
import html
import unicodedata
from typing import TYPE_CHECKING

import jiwer

from .alignment import CAUSE_LABELS, CAUSES, COUNTED_CAUSES, AlignedToken, _Edit, _Move, _Pattern, _Stretch
from .numerals import _format_number
from .tokens import _Tokens

if TYPE_CHECKING:
    from ..hallucination import Hallucination
    from .results import Score

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


def to_text(score: Score, width: int = TEXT_WIDTH) -> str:
    """Plain-text rendering of ``score`` for terminals: REF/HYP lines with cause markers, then the summary.

    Parameters
    ----------
    score : Score
    width : int
        Columns to wrap the alignment at.
    """
    blocks: list[tuple[list[str], list[str], list[str]]] = [([], [], [])]
    used = 0
    for t in score.alignment:
        fill = "*" if t.counted else " "
        w = max(_display_width(t.ref), _display_width(t.hyp), 1)
        ref = _pad(t.ref or fill * w, w)
        hyp = _pad(t.hyp or fill * w, w)
        mark = _pad(CAUSE_MARKERS.get(t.cause, ""), w)
        if used and used + w + 1 > width - 5:
            blocks.append(([], [], []))
            used = 0
        for line, cell in zip(blocks[-1], (ref, hyp, mark), strict=True):
            line.append(cell)
        used += w + 1
    lines = []
    for refs, hyps, marks in blocks:
        lines += ["REF  " + " ".join(refs), "HYP  " + " ".join(hyps), ("     " + " ".join(marks)).rstrip(), ""]
    legend = ", ".join(f"{m} {CAUSE_LABELS[c]}" for c, m in CAUSE_MARKERS.items())
    return "\n".join([*lines, score.summary(), f"markers: {legend}; * missing"])


def to_html(score: Score) -> str:
    """A self-contained HTML snippet of ``score``: the alignment coloured by cause, with the cause on hover."""
    esc = functools.partial(html.escape, quote=True)
    box = "display:inline-flex;flex-direction:column;align-items:center;margin:1px;padding:0 2px;border-radius:3px;"
    parts = []
    for t in score.alignment:
        ref = esc(t.ref) if t.ref else '<span style="opacity:.4">∅</span>'
        hyp = esc(t.hyp) if t.hyp else '<span style="opacity:.4">∅</span>'
        if t.cause is None:
            parts.append(
                f'<span class="wb-tok wb-equal" style="{box}"><span class="wb-ref">{ref}</span><span class="wb-hyp">{hyp}</span></span>'
            )
        else:
            border = "border:1px solid #b33;" if t.counted else "border:1px dashed #999;"
            parts.append(
                f'<span class="wb-tok wb-{t.cause}" data-cause="{t.cause}" data-op="{t.op}" title="{esc(t.title)}" '
                f'style="{box}{border}background:{CAUSE_COLOURS[t.cause]}">'
                f'<span class="wb-ref">{ref}</span><span class="wb-hyp">{hyp}</span></span>'
            )
    legend = " ".join(
        f'<span class="wb-legend wb-{c}" style="background:{CAUSE_COLOURS[c]};padding:0 4px;border-radius:3px">'
        f"{CAUSE_LABELS[c]} {score.breakdown[c]}{'' if c in COUNTED_CAUSES else ' (not counted)'}</span>"
        for c in CAUSES
    )
    m = score.metric.upper()
    loop = f'<div class="wb-hallucination" style="color:#9b1c1c">{esc(score.hallucination.summary())}</div>' if score.looped else ""
    head = (
        f"<b>{m} {score.error_rate:.3f}</b> strict · <b>{score.lenient_error_rate:.3f}</b> lenient "
        f"({esc(score.language)}; {_count(score.errors, 'error')} in {score.reference_length}: "
        f"{score.substitutions} S, {score.deletions} D, {score.insertions} I)"
    )
    return (
        '<div class="wb-score" style="font-family:sans-serif;line-height:1.4">'
        f'<div class="wb-summary">{head}</div>{loop}'
        '<div class="wb-alignment" style="margin:4px 0"><span style="display:inline-flex;flex-direction:column;'
        'font-size:75%;color:#666;margin-right:4px"><span>REF</span><span>HYP</span></span>'
        f"{''.join(parts)}</div>"
        f'<div class="wb-legend-row" style="font-size:85%">{legend}</div></div>'
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _display_width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


def _items(
    edits: list[_Edit], ref: _Tokens, hyp: _Tokens, breakdown: dict[str, int], hallucination: Hallucination | None = None
) -> list[AlignedToken]:
    """Turn the attributed edits into display steps, adding punctuation and script/width notes."""
    core = [_core_step(e, ref.tokens, hyp.tokens, breakdown, hallucination) for e in edits]
    punct = _punctuation_steps(edits, ref, hyp, breakdown)
    n = len(edits)
    items: list[AlignedToken] = []
    for b in range(n + 1):
        items.extend(punct.get(b, []))
        if b < n:
            items.append(core[b])
    return items


def _span_text(tokens, rng) -> str:
    """The tokens ``rng`` (a (start, stop) pair) as written."""
    return "".join(tokens[k].raw for k in range(*rng))


def _explanation(rt, ht, move: _Move) -> str:
    """One colloquial or numeral explanation inside a stretch, as a note."""
    rs, hs = _span_text(rt, (move.i0, move.i1)) or "nothing", _span_text(ht, (move.j0, move.j1)) or "nothing"
    if move.kind == "numerals":
        return f"{rs} ↔ {hs} (the number {_format_number(move.detail)})"
    return f"{rs} ↔ {hs}" + (f" '{move.detail.pair.meaning}'" if move.detail.pair.meaning else "")


def _core_step(e: _Edit, rt, ht, breakdown: dict[str, int], hallucination: Hallucination | None) -> AlignedToken:
    """The display step of one edit, counting its cause in ``breakdown``."""
    r = rt[e.ref].raw if e.ref is not None else ""
    h = ht[e.hyp].raw if e.hyp is not None else ""
    if e.op == "equal" and e.cause is None:
        return _equal_step(rt[e.ref], ht[e.hyp], breakdown)
    if e.op == "equal":  # a shared character inside an explained pattern
        return AlignedToken("equal", r, h)
    breakdown[e.cause] += 1
    return AlignedToken(e.op, r, h, e.cause, _error_note(e, r, h, rt, ht, hallucination))


def _equal_step(a, b, breakdown: dict[str, int]) -> AlignedToken:
    """A step the error rate counts as a hit: the same text, or the same after script or width folding."""
    r, h = a.raw, b.raw
    if a.raw == b.raw:
        return AlignedToken("equal", r, h)
    if a.plain != b.plain:
        breakdown["script"] += 1
        return AlignedToken("substitute", r, h, "script", f"{r} ↔ {h}: the same text in another script (Traditional/Simplified)")
    breakdown["punctuation_width"] += 1
    return AlignedToken("substitute", r, h, "punctuation_width", f"{r} ↔ {h}: full-/half-width form or letter case only")


def _error_note(e: _Edit, r: str, h: str, rt, ht, hallucination: Hallucination | None) -> str:
    """What the hover note says about one difference, by its cause."""
    if isinstance(e.detail, _Stretch):
        rs, hs = _span_text(rt, e.group[0]), _span_text(ht, e.group[1])
        how = "partly explained by" if e.detail.partly else "explained by"
        return f"{r or 'nothing'} ↔ {h or 'nothing'}: the error rate pairs them off inside {rs} ↔ {hs}, {how} " + ", ".join(
            _explanation(rt, ht, move) for move in e.detail.moves
        )
    if e.cause == "colloquial":
        return _colloquial_note(e.detail, _span_text(rt, e.group[0]), _span_text(ht, e.group[1]))
    if e.cause == "numerals":
        rs, hs = _span_text(rt, e.group[0]), _span_text(ht, e.group[1])
        return f"{rs} ↔ {hs}: the same number ({_format_number(e.detail)}) written differently"
    if e.cause == "hallucination":
        loop = (
            f"'{hallucination.longest_repeat}' repeated {hallucination.repeats} times"
            if hallucination and hallucination.repeats
            else "a loop"
        )
        return f"{h} {'replaces ' + r if r else 'is not in the reference'}: part of {loop}"
    if e.op == "substitute":
        return f"{r} → {h}: recognition error"
    if e.op == "delete":
        return f"{r} is missing from the hypothesis"
    return f"{h} is not in the reference"


def _colloquial_note(p: _Pattern, rs: str, hs: str) -> str:
    """A colloquial pair's note: which side is Cantonese, which written, and what it means."""
    cant, written = ("reference", "hypothesis") if p.ref_is_colloquial else ("hypothesis", "reference")
    c_text, w_text = (rs, hs) if p.ref_is_colloquial else (hs, rs)
    side = {cant: f"{c_text} (Cantonese)", written: f"{w_text or 'nothing'} (written)"}
    return f"{side['reference']} ↔ {side['hypothesis']}" + (f", '{p.pair.meaning}'" if p.pair.meaning else "")


def _punctuation_steps(edits: list[_Edit], ref: _Tokens, hyp: _Tokens, breakdown: dict[str, int]) -> dict[int, list[AlignedToken]]:
    """The punctuation steps shown before each step (key ``k``: before step ``k``; ``len(edits)``: at the end).

    Each text's punctuation goes after the step holding the token it follows,
    so each row reads in its own text's order; boundaries not separated by an
    equal step are compared as one pool.
    """
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
            steps = _gap_steps(ref_gap[z], hyp_gap[z], same)
            if steps:
                punct.setdefault(z, []).extend(steps)
        start = b + 1
    return punct


def _gap_steps(r: str, h: str, same: bool) -> list[AlignedToken]:
    """The steps of one boundary's punctuation ``r`` (reference) and ``h`` (hypothesis); ``same``: its pool matches."""
    if not (r or h):
        return []
    if r == h:
        return [AlignedToken("equal", r, h)]
    if same:  # the same punctuation, next to differently aligned characters
        note = "punctuation is not scored; the other text has the same here"
        steps = []
        if r:
            steps.append(AlignedToken("delete", r, "", None, f"{r}: {note}"))
        if h:
            steps.append(AlignedToken("insert", "", h, None, f"{h}: {note}"))
        return steps
    op = "substitute" if r and h else "delete" if r else "insert"
    note = f"{r or 'nothing'} ↔ {h or 'nothing'}: punctuation is not scored"
    return [AlignedToken(op, r, h, "punctuation_width", note)]


def _punctuation_distance(a: str, b: str) -> int:
    if not a or not b:
        return len(a) + len(b)
    out = jiwer.process_characters(a, b)
    return out.substitutions + out.deletions + out.insertions
