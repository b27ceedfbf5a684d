"""The alignment of hypothesis and reference, and the cause of every difference.

jiwer aligns the normalised tokens; every error of its alignment is then
attributed to one of :data:`CAUSES` (colloquial pairs, numerals or a real
recognition error) without changing jiwer's counts. The result is a list of
:class:`AlignedToken`; :mod:`workbench.scoring.rendering` turns the
attributed edits into them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import jiwer

from .base import CHINESE_LANGUAGES, NUMERAL_LANGUAGES
from .colloquial import COLLOQUIAL_PAIRS, ColloquialPair
from .numerals import MAX_NUMERAL_TOKENS, _is_numeral_token, _numeral_value
from .script import _converter
from .tokens import _char_tokens

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


# --------------------------------------------------------------------------
# Attribution of errors to causes
# --------------------------------------------------------------------------

ATTRIBUTION_BAND = 8
"""How far (in hypothesis tokens) the search for explanations strays from jiwer's alignment path."""

MAX_ATTRIBUTION_CELLS = 2_000_000
"""Largest search (positions x band) made for colloquial and numeral explanations; longer stretches are labelled step by step."""

WIDE_ATTRIBUTION_CELLS = 100_000
"""Largest search made with the band widened by the difference in length of the two sides (a loop, a gap).

Beyond it the band is :data:`ATTRIBUTION_BAND`.
"""


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
            _relax_single_tokens(R, H, i, j, here, relax)
            _relax_colloquial(R, H, i, j, here, rules, relax)
            if i < n and j < m:
                _relax_numerals(R, H, i, j, here, r_spans[i], h_spans[j], relax)
    return _backtrack(back, n, m)


def _relax_single_tokens(R: Sequence[str], H: Sequence[str], i: int, j: int, here: tuple, relax) -> None:
    """The single-token steps from (i, j): a hit or a substitution, a deletion, an insertion (an error each but the hit)."""
    other, cost, hits = here
    n, m = len(R), len(H)
    if i < n and j < m:
        if R[i] == H[j]:
            relax(i, j, 1, 1, (other, cost, hits - 1), "equal")
        else:
            relax(i, j, 1, 1, (other + 1, cost + 1, hits), "substitute")
    if i < n:
        relax(i, j, 1, 0, (other + 1, cost + 1, hits), "delete")
    if j < m:
        relax(i, j, 0, 1, (other + 1, cost + 1, hits), "insert")


def _relax_colloquial(R: Sequence[str], H: Sequence[str], i: int, j: int, here: tuple, rules: _Rules, relax) -> None:
    """The colloquial pairs that start at (i, j) on both sides, each a step with no unexplained error."""
    other, cost, hits = here
    n, m = len(R), len(H)
    for p in rules.candidates(R[i] if i < n else None, H[j] if j < m else None):
        if tuple(R[i : i + len(p.ref)]) == p.ref and tuple(H[j : j + len(p.hyp)]) == p.hyp:
            relax(i, j, len(p.ref), len(p.hyp), (other, cost + p.cost, hits - p.hits), "colloquial", p, p.ops)


def _relax_numerals(
    R: Sequence[str],
    H: Sequence[str],
    i: int,
    j: int,
    here: tuple,
    r_found: list[tuple[int, Decimal]],
    h_found: list[tuple[int, Decimal]],
    relax,
) -> None:
    """The numerals starting at (i, j) that write the same value differently, each a step with no unexplained error."""
    other, cost, hits = here
    for k, value in r_found:
        for mm, same in h_found:
            if value == same and tuple(R[i : i + k]) != tuple(H[j : j + mm]):
                ops = _mini_alignment(tuple(R[i : i + k]), tuple(H[j : j + mm]))
                c = sum(op != "equal" for op, _, _ in ops)
                relax(i, j, k, mm, (other, cost + c, hits - (len(ops) - c)), "numerals", value, ops)


def _backtrack(back: dict[tuple[int, int], tuple], n: int, m: int) -> list[_Move]:
    """The moves of the best path from (0, 0) to (n, m), in order."""
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
        _Edit(
            op,
            None if a is None else move.i0 + a,
            None if b is None else move.j0 + b,
            None if op == "equal" else move.kind,
            move.detail,
            group,
        )
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
        return a, b, sum(y - x + 1 for x, y in zip(a, b, strict=True))

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
        owners = [o for o, side in zip(owners, (e.ref, e.hyp), strict=True) if side is not None]
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
                    edits.append(
                        _Edit(op, a, b, cause, detail, ((a, a + 1) if a is not None else (0, 0), (b, b + 1) if b is not None else (0, 0)))
                    )
        k = end
    return edits


def _op_counts(edits: Iterable[_Edit]) -> tuple[int, int, int, int]:
    counts = {"equal": 0, "substitute": 0, "delete": 0, "insert": 0}
    for e in edits:
        counts[e.op] += 1
    return counts["equal"], counts["substitute"], counts["delete"], counts["insert"]
