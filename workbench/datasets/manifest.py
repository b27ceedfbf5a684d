"""Manifests: clips with reference transcripts, read and written; the bundled set.

A manifest is a CSV with at least ``path``, ``language`` and ``reference``
columns (more are kept: ``sample_rate``, ``channels``, ``source``,
``license``...). Paths are relative to the manifest's folder. A ``.tsv``
manifest is the same, tab-separated; a ``.jsonl`` (or line-delimited
``.json``) manifest has one object per line (see :func:`read_manifest`).

An optional ``recording`` column names the source recording of each clip.
Several files may be variants of one recording (the same speech at
44.1 kHz, at 48 kHz in stereo, with added noise...): they are not
independent evidence, and :mod:`workbench.experiments` averages over the
clips of one recording before its confidence intervals and tests (a clip
that is its own recording names itself, e.g. its file name). Leave the
column out and every clip counts as a recording of its own.

:func:`read_manifest` is the workbench's one manifest reader;
:func:`load_manifest` also checks that every clip exists, and
:func:`write_manifest` writes entries back out as a manifest CSV.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import WorkbenchError
from ..io import parse_json_lines

#: The bundled set: ``data/`` beside the package in a checkout.
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "data"
REQUIRED_COLUMNS = ("path", "language", "reference")
#: The columns :func:`write_manifest` always writes, in order (any other ``meta`` keys follow).
MANIFEST_COLUMNS = ("path", "language", "reference", "speaker", "duration")
#: JSONL manifest keys accepted for each field, first match wins.
JSONL_KEYS = {"path": ("path", "audio"), "reference": ("reference", "text", "sentence")}


class ManifestError(WorkbenchError, ValueError):
    """A manifest is missing, malformed or points outside its folder."""


@dataclass(frozen=True)
class ManifestEntry:
    """One clip of a manifest: its resolved file, language, reference and the other columns."""

    path: Path
    language: str
    reference: str
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.path.name


def read_manifest(path, *, allow_outside: bool = False) -> list[ManifestEntry]:
    """Read a manifest; paths are resolved relative to its folder.

    The format follows the suffix: ``.csv`` (comma-separated; anything not
    listed below is read as CSV), ``.tsv`` (tab-separated), ``.jsonl`` or
    ``.json`` (one JSON object per line; a ``.json`` file holding a single
    array of objects is accepted too). A JSONL object needs ``path`` (or
    ``audio``) and ``reference`` (or ``text``, ``sentence``); ``language``
    defaults to ``""`` (unknown); other keys (``speaker``, ``duration``,
    ``recording``...) go to ``meta``, as do a CSV's other columns. The
    optional ``recording`` column names the source recording a clip is a
    variant of (see the module notes). Files are not checked for existence
    here; see :func:`load_manifest`.

    Raises
    ------
    ManifestError
        Missing file, missing columns, or a path escaping the manifest's
        folder (unless ``allow_outside``).
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    root = path.parent.resolve()
    if path.suffix.lower() in (".jsonl", ".json"):
        return _read_jsonl(path, root, allow_outside)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{path}: missing column(s) {', '.join(missing)}; a manifest needs {', '.join(REQUIRED_COLUMNS)}")
        rows = list(reader)
    entries = []
    for i, row in enumerate(rows, start=2):
        target = _resolve(root, row["path"])
        if not allow_outside and not _inside(root, target):
            raise ManifestError(_outside_message(f"{path}, line {i}", row["path"], "the manifest's folder"))
        meta = {k: v for k, v in row.items() if k not in REQUIRED_COLUMNS and k is not None}
        entries.append(ManifestEntry(target, row["language"].strip(), row["reference"].strip(), meta))
    return entries


def _resolve(root: Path, relative) -> Path:
    """``relative`` (a manifest's path field) resolved against ``root``."""
    return (root / str(relative)).resolve()


def _inside(root: Path, target: Path) -> bool:
    """Whether ``target`` lies strictly inside the (resolved) folder ``root``."""
    return root in target.parents


def _outside_message(where: str, relative, folder: str) -> str:
    return f"{where}: {str(relative)!r} points outside {folder}; pass allow_outside=True if that is intended"


def _read_jsonl(path: Path, root: Path, allow_outside: bool) -> list[ManifestEntry]:
    text = path.read_text(encoding="utf-8-sig")
    records: list[tuple[int, object]] = []
    if path.suffix.lower() == ".json" and text.lstrip().startswith("["):
        try:
            records = list(enumerate(json.loads(text), start=1))
        except ValueError as e:
            raise ManifestError(f"{path}: not valid JSON ({e})") from None
    else:
        for line in parse_json_lines(text):
            if line.error is not None:
                raise ManifestError(
                    f"{path}, line {line.number}: not a JSON object ({line.error}); a JSONL manifest has one object per line"
                )
            records.append((line.number, line.value))
    entries = []
    for i, record in records:
        where = f"{path}, line {i}"
        if not isinstance(record, dict):
            raise ManifestError(f"{where}: expected a JSON object, got {type(record).__name__}")
        values = {}
        for name, keys in JSONL_KEYS.items():
            key = next((k for k in keys if k in record), None)
            if key is None:
                raise ManifestError(
                    f"{where}: no {' / '.join(keys)} key; each line needs a path (or audio) and a reference (or text, sentence)"
                )
            values[name] = key
        relative = record[values["path"]]
        if not isinstance(relative, str) or not relative:
            raise ManifestError(f"{where}: {values['path']!r} must be a non-empty string")
        target = _resolve(root, relative)
        if not allow_outside and not _inside(root, target):
            raise ManifestError(_outside_message(where, relative, "the manifest's folder"))
        used = {values["path"], values["reference"], "language"}
        meta = {k: v for k, v in record.items() if k not in used}
        language = record.get("language") or ""
        reference = record[values["reference"]] or ""
        entries.append(ManifestEntry(target, str(language).strip(), str(reference).strip(), meta))
    return entries


def bundled(manifest: str = "manifest.csv") -> list[ManifestEntry]:
    """The clips bundled in the project's ``data/`` folder."""
    return read_manifest(BUNDLED_DIR / manifest)


@dataclass
class Dataset:
    """Entries imported from a dataset, and every problem met on the way.

    ``entries`` holds only the usable clips; ``problems`` has one line per
    missing or unreadable file (or refused row), all of them, so a whole
    import can be fixed in one go. Iterating or ``len()`` goes over
    ``entries``.
    """

    entries: list[ManifestEntry]
    problems: list[str]
    root: Path
    name: str

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def ok(self) -> bool:
        """True when nothing was skipped."""
        return not self.problems

    def summary(self) -> str:
        """One line, then the problems indented beneath it."""
        head = f"{self.name}: {len(self.entries)} clip(s), {len(self.problems)} problem(s)"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


def load_manifest(path, *, allow_outside: bool = False) -> Dataset:
    """:func:`read_manifest`, with every clip checked: missing files become problems."""
    path = Path(path)
    entries = read_manifest(path, allow_outside=allow_outside)
    kept, problems = [], []
    for entry in entries:
        if entry.path.is_file():
            kept.append(entry)
        else:
            problems.append(f"{entry.path}: audio file not found")
    return Dataset(kept, problems, path.parent.resolve(), path.stem)


def write_manifest(entries, path, *, allow_outside: bool = False) -> Path:
    """Write ``entries`` as a manifest CSV at ``path``, atomically.

    Columns: ``path, language, reference, speaker, duration`` and then every
    other ``meta`` key met (in order of first appearance). Paths are written
    relative to the manifest's folder with ``/`` separators, so
    :func:`read_manifest` reads the same entries back. ``entries`` may be a
    :class:`Dataset`.

    Raises
    ------
    ManifestError
        Entries outside the manifest's folder (all of them named), unless
        ``allow_outside`` (they are then written as ``../`` paths).
    """
    from ..io import write_text

    path = Path(path)
    root = path.parent.resolve()
    entries = list(entries)
    outside = [str(e.path) for e in entries if not _inside(root, Path(e.path).resolve())]
    if outside and not allow_outside:
        raise ManifestError(
            f"{path}: {len(outside)} clip(s) outside the manifest's folder {root}: {', '.join(outside)}; "
            "write the manifest in a folder that holds them, or pass allow_outside=True"
        )
    columns = list(MANIFEST_COLUMNS)
    for entry in entries:
        columns += [k for k in entry.meta if k not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        row = {k: ("" if v is None else v) for k, v in entry.meta.items()}
        row["path"] = Path(os.path.relpath(Path(entry.path).resolve(), root)).as_posix()
        row["language"] = entry.language
        row["reference"] = entry.reference
        writer.writerow({c: row.get(c, "") for c in columns})
    return write_text(path, buffer.getvalue())
