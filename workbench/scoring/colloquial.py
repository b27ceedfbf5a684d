"""Cantonese colloquial forms and the written-Chinese forms Whisper writes instead.

The pairs live in a data file beside this module (:data:`COLLOQUIAL_TABLE`,
documented at its top) so that they can be extended without touching code;
:data:`COLLOQUIAL_PAIRS` is that table read once, templates expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from .base import ScoringError


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
"""The data file, in the ``workbench.scoring`` package, that :data:`COLLOQUIAL_PAIRS` is read from.

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
