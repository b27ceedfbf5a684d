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

import codecs
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
    ``audio``) and ``reference`` (or ``text``, ``sentence``), both text;
    ``language`` defaults to ``""`` (unknown); other keys (``speaker``,
    ``duration``, ``recording``...) go to ``meta``, as do a CSV's other
    columns. The optional ``recording`` column names the source recording
    a clip is a variant of (see the module notes). Files are not checked
    for existence here; see :func:`load_manifest`.

    Every row is checked before any is returned, and every bad row is
    named in one error: a CSV row with fewer fields than the header, or
    more (an unquoted comma in a reference), an empty path or one holding
    a NUL byte, a path outside the manifest's folder, a reference or
    language that is not text, a language Whisper does not know.

    Raises
    ------
    ManifestError
        Missing or unreadable file, text that is not UTF-8 (or is binary
        data), missing columns, or bad rows (all of them listed, with their
        line numbers).
    """
    return [entry for _, entry in _read_lines(Path(path), allow_outside)]


def _read_lines(path: Path, allow_outside: bool) -> list[tuple[int, ManifestEntry]]:
    """Each entry of the manifest ``path`` with the line it starts on."""
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    root = path.parent.resolve()
    text = _read_text(path)
    if path.suffix.lower() in (".jsonl", ".json"):
        records, errors = _jsonl_records(path, text)
    else:
        records, errors = _csv_records(path, text, "\t" if path.suffix.lower() == ".tsv" else ",")
    entries = []
    for line, relative, language, reference, meta in records:
        problem = None
        if not isinstance(relative, str) or not relative.strip():
            problem = (
                "the path is empty"
                if relative is None or isinstance(relative, str)
                else f"the path must be text, got {_json_kind(relative)}"
            )
        elif "\0" in relative:
            problem = f"the path {relative!r} holds a NUL byte, which no file name can"
        elif not isinstance(reference, (str, type(None))):
            problem = f"the reference must be text, got {_json_kind(reference)} {reference!r}"
        elif not isinstance(language, (str, type(None))):
            problem = f"the language must be text, got {_json_kind(language)} {language!r}"
        if problem is not None:
            errors.append((line, problem))
            continue
        target = _resolve(root, relative)
        if not allow_outside and not _inside(root, target):
            errors.append((line, f"{relative!r} points outside the manifest's folder; pass allow_outside=True if that is intended"))
            continue
        entries.append((line, ManifestEntry(target, (language or "").strip(), (reference or "").strip(), meta)))
    errors.extend(_unknown_languages(entries))
    if errors:
        raise ManifestError(_bad_rows_message(path, errors))
    return entries


def _read_text(path: Path, what: str = "manifest") -> str:
    """The text of ``path`` (a manifest, or ``what`` else); not UTF-8 or binary data is refused, naming the line."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ManifestError(f"{path}: cannot read the {what} ({e.strerror or e}); check the file and its permissions") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ManifestError(f"{path}: the {what} is UTF-16 text; save it as UTF-8 (CSV UTF-8 in a spreadsheet)")
    binary = b"\0" in data[:8192]
    hint = f"; it looks like binary data (an audio file?), not a {what}" if binary else f"; save the {what} as UTF-8"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ManifestError(f"{path}, line {line}: not UTF-8 text (byte 0x{data[e.start]:02x}){hint}") from None
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ManifestError(f"{path}, line {line}: a NUL byte; it looks like binary data, not a {what} (text)")
    return text


def _csv_records(path: Path, text: str, delimiter: str) -> tuple[list, list]:
    """(line, path, language, reference, meta) of each CSV/TSV row, and (line, problem) of each bad one."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None) or []
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ManifestError(f"{path}: missing column(s) {', '.join(missing)}; a manifest needs {', '.join(REQUIRED_COLUMNS)}")
        records, errors = [], []
        width, last = len(header), reader.line_num
        for fields in reader:
            line, last = last + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue  # a blank line
            if len(fields) < width:
                errors.append((line, f"{len(fields)} field(s) where the header has {width}; fill in the missing ones"))
                continue
            if any(f.strip() for f in fields[width:]):
                errors.append(
                    (line, f"{len(fields)} fields where the header has {width}; put quotes around a value holding a {_sep(delimiter)}")
                )
                continue
            row = dict(zip(header, fields[:width], strict=True))
            meta = {k: v for k, v in row.items() if k not in REQUIRED_COLUMNS}
            records.append((line, row["path"], row["language"], row["reference"], meta))
    except csv.Error as e:
        raise ManifestError(f"{path}, line {reader.line_num}: not readable as {'TSV' if delimiter == chr(9) else 'CSV'} ({e})") from None
    return records, errors


def _sep(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else "comma"


def _jsonl_records(path: Path, text: str) -> tuple[list, list]:
    """(line, path, language, reference, meta) of each JSONL object, and (line, problem) of each bad one."""
    found: list[tuple[int, object]] = []
    errors: list[tuple[int, str]] = []
    if path.suffix.lower() == ".json" and text.lstrip().startswith("["):
        try:
            found = list(enumerate(json.loads(text), start=1))
        except ValueError as e:
            raise ManifestError(f"{path}: not valid JSON ({e})") from None
    else:
        for line in parse_json_lines(text):
            if line.error is not None:
                errors.append((line.number, f"not a JSON object ({line.error}); a JSONL manifest has one object per line"))
            else:
                found.append((line.number, line.value))
    records = []
    for number, record in found:
        if not isinstance(record, dict):
            errors.append((number, f"expected a JSON object, got {_json_kind(record)}"))
            continue
        keys = {name: next((k for k in options if k in record), None) for name, options in JSONL_KEYS.items()}
        absent = [" / ".join(JSONL_KEYS[name]) for name, key in keys.items() if key is None]
        if absent:
            errors.append(
                (number, f"no {' and no '.join(absent)} key; each line needs a path (or audio) and a reference (or text, sentence)")
            )
            continue
        used = {keys["path"], keys["reference"], "language"}
        meta = {k: v for k, v in record.items() if k not in used}
        records.append((number, record[keys["path"]], record.get("language"), record[keys["reference"]], meta))
    return records, errors


def _json_kind(value) -> str:
    kinds = {dict: "an object", list: "a list", bool: "true/false", int: "a number", float: "a number", type(None): "null", str: "text"}
    return kinds.get(type(value), type(value).__name__)


def _unknown_languages(entries: list[tuple[int, ManifestEntry]]) -> list[tuple[int, str]]:
    """(line, problem) for every entry whose language Whisper does not know."""
    from ..languages import normalise_language

    known: dict[str, bool] = {}
    errors = []
    for line, entry in entries:
        if entry.language not in known:
            try:
                normalise_language(entry.language)
                known[entry.language] = True
            except WorkbenchError:
                known[entry.language] = False
        if not known[entry.language]:
            errors.append(
                (line, f"unknown language {entry.language!r} (use a Whisper code such as yue, zh, en, or a name such as cantonese)")
            )
    return errors


#: How many bad rows one error message lists before counting the rest.
SHOWN_PROBLEMS = 10


def _bad_rows_message(path: Path, errors: list[tuple[int, str]]) -> str:
    errors = sorted(errors)
    if len(errors) == 1:
        line, problem = errors[0]
        return f"{path}, line {line}: {problem}"
    shown = "; ".join(f"line {line}: {problem}" for line, problem in errors[:SHOWN_PROBLEMS])
    more = f"; and {len(errors) - SHOWN_PROBLEMS} more" if len(errors) > SHOWN_PROBLEMS else ""
    return f"{path}: {len(errors)} bad rows, fix them and load it again: {shown}{more}"


def _resolve(root: Path, relative) -> Path:
    """``relative`` (a manifest's path field) resolved against ``root``."""
    return (root / str(relative)).resolve()


def _inside(root: Path, target: Path) -> bool:
    """Whether ``target`` lies strictly inside the (resolved) folder ``root``."""
    return root in target.parents


def _outside_message(where: str, relative, folder: str) -> str:
    return f"{where}: {str(relative)!r} points outside {folder}; pass allow_outside=True if that is intended"


def bundled(manifest: str = "manifest.csv") -> list[ManifestEntry]:
    """The clips bundled in the project's ``data/`` folder."""
    return read_manifest(BUNDLED_DIR / manifest)


@dataclass
class Dataset:
    """Entries imported from a dataset, and every problem met on the way.

    ``entries`` holds only the usable clips; ``problems`` has one line per
    missing or unreadable file, refused row or repeated clip, all of them,
    so a whole import can be fixed in one go. ``sources`` lists the files
    the dataset was read from besides its clips (the manifest, a split's
    TSV, reference text files), which no output may overwrite. Iterating
    or ``len()`` goes over ``entries``.
    """

    entries: list[ManifestEntry]
    problems: list[str]
    root: Path
    name: str
    sources: list[Path] = field(default_factory=list)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def ok(self) -> bool:
        """True when nothing was skipped."""
        return not self.problems

    @property
    def inputs(self) -> list[Path]:
        """Every file the dataset reads: its ``sources`` and its clips."""
        return [*self.sources, *(e.path for e in self.entries)]

    def summary(self) -> str:
        """One line, then the problems indented beneath it."""
        head = f"{self.name}: {len(self.entries)} clip(s), {len(self.problems)} problem(s)"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


def drop_repeats(entries) -> tuple[list[ManifestEntry], list[str]]:
    """Each clip once: ``(entries, problems)`` with every repeat of a file left out and named.

    ``entries`` holds :class:`ManifestEntry` items or ``(where, entry)``
    pairs (``where`` names the row, e.g. ``"m.csv, line 3"``). Two entries
    are one clip when their paths lead to one file, however spelled
    (``a.wav``, ``./a.wav``, ``sub/../a.wav``, a link). The first is kept;
    a repeat with another reference or language is said to differ, since
    only one of them can be right.

    Examples
    --------
    >>> a = ManifestEntry(Path("/data/a.wav"), "en", "hi")
    >>> kept, problems = drop_repeats([("m.csv, line 2", a), ("m.csv, line 3", ManifestEntry(Path("/data/sub/../a.wav"), "en", "hello"))])
    >>> len(kept), problems[0]
    (1, 'm.csv, line 3: /data/a.wav is listed again (first at m.csv, line 2), with another reference; the repeat is left out')
    """
    first: dict[str, tuple[str, ManifestEntry]] = {}
    kept, problems = [], []
    for item in entries:
        where, entry = item if isinstance(item, tuple) else (str(item.path), item)
        key = os.path.normcase(os.path.realpath(entry.path))
        if key not in first:
            first[key] = (where, entry)
            kept.append(entry)
            continue
        where0, entry0 = first[key]
        differs = [name for name in ("reference", "language") if getattr(entry, name) != getattr(entry0, name)]
        note = f", with another {' and '.join(differs)}" if differs else ""
        problems.append(f"{where}: {key} is listed again (first at {where0}){note}; the repeat is left out")
    return kept, problems


def load_manifest(path, *, allow_outside: bool = False) -> Dataset:
    """:func:`read_manifest`, with every clip checked: missing files and repeated clips become problems.

    A clip listed more than once (however its path is spelled) is kept once
    (see :func:`drop_repeats`).
    """
    path = Path(path)
    lines = _read_lines(path, allow_outside)
    entries, problems = drop_repeats([(f"{path}, line {line}", entry) for line, entry in lines])
    kept = []
    for entry in entries:
        if entry.path.is_file():
            kept.append(entry)
        else:
            problems.append(f"{entry.path}: audio file not found")
    return Dataset(kept, problems, path.parent.resolve(), path.stem, [path.resolve()])


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
        ``allow_outside`` (they are then written as ``../`` paths); a
        ``.tsv``, ``.jsonl`` or ``.json`` name (read back as another format).
    OutputError
        ``path`` is one of the clips, or cannot be written.
    """
    from ..io import check_output, write_text

    path = Path(path)
    if path.suffix.lower() in (".tsv", ".jsonl", ".json"):
        raise ManifestError(
            f"{path}: a manifest is written as CSV, and a {path.suffix} name would be read back as another format; name it .csv"
        )
    root = path.parent.resolve()
    entries = list(entries)
    check_output(path, inputs=[e.path for e in entries], option="the manifest")
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
