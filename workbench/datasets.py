"""Manifests of clips with reference transcripts, and the project's bundled set.

A manifest is a CSV with at least ``path``, ``language`` and ``reference``
columns (more are kept: ``sample_rate``, ``channels``, ``source``,
``license``...). Paths are relative to the manifest's folder. A ``.tsv``
manifest is the same, tab-separated; a ``.jsonl`` (or line-delimited
``.json``) manifest has one object per line (see :func:`read_manifest`).

Importers turn common dataset layouts into manifest entries:
:func:`import_common_voice`, :func:`import_folder` and :func:`import_mdcc`.
They return a :class:`Dataset`: the usable entries plus a list of *all* the
problems found (missing or unreadable files), so one bad clip never hides the
rest. :func:`write_manifest` writes entries back out as a manifest CSV.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import WorkbenchError

#: The bundled set: ``data/`` beside the package in a checkout.
BUNDLED_DIR = Path(__file__).resolve().parents[1] / "data"
REQUIRED_COLUMNS = ("path", "language", "reference")
#: The columns :func:`write_manifest` always writes, in order (any other ``meta`` keys follow).
MANIFEST_COLUMNS = ("path", "language", "reference", "speaker", "duration")
#: File suffixes the importers treat as audio (compared case-insensitively).
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a")
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
    defaults to ``""`` (unknown); other keys (``speaker``, ``duration``...)
    go to ``meta``. Files are not checked for existence here; see
    :func:`load_manifest`.

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
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((i, json.loads(line)))
            except ValueError as e:
                raise ManifestError(f"{path}, line {i}: not a JSON object ({e}); a JSONL manifest has one object per line") from None
    entries = []
    for i, record in records:
        where = f"{path}, line {i}"
        if not isinstance(record, dict):
            raise ManifestError(f"{where}: expected a JSON object, got {type(record).__name__}")
        values = {}
        for name, keys in JSONL_KEYS.items():
            key = next((k for k in keys if k in record), None)
            if key is None:
                raise ManifestError(f"{where}: no {' / '.join(keys)} key; each line needs a path (or audio) and a reference (or text, sentence)")
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
    from .io import write_text

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


def _folder(folder) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise ManifestError(f"{folder}: dataset folder not found")
    return folder.resolve()


def _read_reference(path: Path) -> tuple[str | None, str | None]:
    """(text, None) or (None, problem) for a UTF-8 transcript file."""
    if not path.is_file():
        return None, f"{path}: reference text file not found"
    try:
        return path.read_text(encoding="utf-8-sig").strip(), None
    except UnicodeDecodeError as e:
        return None, f"{path}: reference text is not UTF-8 ({e.reason} at byte {e.start})"
    except OSError as e:
        return None, f"{path}: reference text unreadable ({e.strerror or e})"


def _language(value, where: str) -> str:
    """Whisper's code for ``value`` (``""`` for auto), as a ManifestError when unknown."""
    from .languages import normalise_language

    try:
        return normalise_language(value) or ""
    except WorkbenchError as e:
        raise ManifestError(f"{where}: {e}") from None


def import_common_voice(folder, split: str = "test", language=None, *, allow_outside: bool = False) -> Dataset:
    """A Common Voice release folder, e.g. ``cv-corpus-17.0-2024-03-15/zh-HK``.

    Layout::

        <folder>/<split>.tsv   tab-separated: client_id, path, sentence, (locale), ...
        <folder>/clips/*.mp3   the clips named in ``path``

    ``reference`` is ``sentence``; ``speaker`` is ``client_id``; the other
    columns (``up_votes``, ``gender``, ``locale``...) go to ``meta``. The
    language is ``language`` when given, else each row's ``locale``, else
    the folder's name, normalised (``zh-HK`` → ``yue``). Clips that are
    missing are listed in ``problems`` and left out.

    Raises
    ------
    ManifestError
        No ``<split>.tsv``, no ``path``/``sentence`` column, no ``clips/``
        folder, or no way to tell the language.
    """
    root = _folder(folder)
    tsv = root / f"{split}.tsv"
    if not tsv.is_file():
        found = sorted(p.stem for p in root.glob("*.tsv"))
        hint = f" (splits here: {', '.join(found)})" if found else " (no .tsv files here: is this a Common Voice language folder?)"
        raise ManifestError(f"{root}: expected {tsv.name} and clips/ (Common Voice layout){hint}")
    with open(tsv, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in ("path", "sentence") if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{tsv}: missing column(s) {', '.join(missing)}; a Common Voice split has client_id, path, sentence, ...")
        rows = list(reader)
    clips = root / "clips"
    if rows and not clips.is_dir():
        raise ManifestError(f"{root}: expected a clips/ folder beside {tsv.name} (Common Voice layout)")
    fixed = _language(language, "language argument") if language is not None else None
    by_locale: dict[str, str] = {}
    folder_language: str | None = None
    entries, problems = [], []
    for i, row in enumerate(rows, start=2):
        where = f"{tsv.name}, line {i}"
        relative = (row.get("path") or "").strip()
        if not relative:
            problems.append(f"{where}: empty path")
            continue
        target = _resolve(clips, relative)
        if not allow_outside and not _inside(clips, target):
            problems.append(_outside_message(where, relative, "the clips/ folder"))
            continue
        if not target.is_file():
            problems.append(f"{target}: audio file not found ({where})")
            continue
        lang = fixed
        locale = (row.get("locale") or "").strip()
        if lang is None and locale:
            if locale not in by_locale:
                try:
                    by_locale[locale] = _language(locale, f"{where}: locale")
                except ManifestError as e:
                    by_locale[locale] = None
                    problems.append(str(e))
            lang = by_locale[locale]
            if lang is None:
                continue
        if lang is None:
            if folder_language is None:
                try:
                    folder_language = _language(root.name, f"{root}: language from the folder name")
                except ManifestError as e:
                    raise ManifestError(f"{e}; no locale column either: pass language=...") from None
            lang = folder_language
        meta = {"speaker": row.get("client_id") or ""}
        meta.update({k: v for k, v in row.items() if k not in ("path", "sentence", "client_id") and k is not None})
        entries.append(ManifestEntry(target, lang, (row.get("sentence") or "").strip(), meta))
    return Dataset(entries, problems, root, f"{root.name} ({split})")


def import_folder(folder, language, pattern: str = "*", *, allow_outside: bool = False) -> Dataset:
    """A folder of audio files, each with a same-named ``.txt`` reference.

    ``clip01.wav`` pairs with ``clip01.txt`` (UTF-8, whitespace stripped).
    Audio is any file matching ``pattern`` (a glob relative to ``folder``;
    ``"**/*"`` to go into subfolders) with a suffix in
    :data:`AUDIO_SUFFIXES`. ``language`` is normalised (``粤语`` → ``yue``).
    Audio without a readable ``.txt`` is listed in ``problems`` and left out.

    Raises
    ------
    ManifestError
        The folder is missing or holds no matching audio.
    UnknownLanguageError
        ``language`` is not recognised.
    """
    from .languages import normalise_language

    root = _folder(folder)
    lang = normalise_language(language) or ""
    audio = sorted(p for p in root.glob(pattern) if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not audio:
        raise ManifestError(f"{root}: no audio files ({', '.join(AUDIO_SUFFIXES)}) matching {pattern!r}")
    entries, problems = [], []
    for clip in audio:
        target = clip.resolve()
        if not allow_outside and not _inside(root, target):
            problems.append(_outside_message(str(clip), clip.relative_to(root), "the dataset folder"))
            continue
        text, problem = _read_reference(clip.with_suffix(".txt"))
        if problem:
            problems.append(f"{problem} (for {clip.name})")
            continue
        entries.append(ManifestEntry(target, lang, text, {"speaker": "", "duration": ""}))
    return Dataset(entries, problems, root, root.name)


def import_mdcc(folder, split: str = "test", *, allow_outside: bool = False) -> Dataset:
    """An MDCC (Multi-Domain Cantonese Corpus) folder; language ``yue``.

    Assumed layout (as released by HKUST)::

        <folder>/cnt_asr_<split>_metadata.csv   columns: audio_path, text_path, gender, duration
        <folder>/audio/...                      audio files named by audio_path
        <folder>/transcription/...              UTF-8 text files named by text_path

    ``audio_path`` and ``text_path`` are relative to ``<folder>`` (a leading
    ``./`` is fine). Each text file's stripped content is the reference;
    ``gender`` and ``duration`` (and any other columns) go to ``meta``.
    Rows whose audio or text is missing or unreadable are listed in
    ``problems`` (each file separately) and left out.

    Raises
    ------
    ManifestError
        No ``cnt_asr_<split>_metadata.csv``, or it lacks ``audio_path`` /
        ``text_path``.
    """
    root = _folder(folder)
    metadata = root / f"cnt_asr_{split}_metadata.csv"
    if not metadata.is_file():
        found = sorted(p.name for p in root.glob("cnt_asr_*_metadata.csv"))
        hint = f" (found: {', '.join(found)})" if found else ""
        raise ManifestError(f"{root}: expected {metadata.name} (MDCC layout: cnt_asr_<split>_metadata.csv with audio_path, text_path){hint}")
    with open(metadata, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = [c.strip() for c in (reader.fieldnames or [])]
        reader.fieldnames = fields
        missing = [c for c in ("audio_path", "text_path") if c not in fields]
        if missing:
            raise ManifestError(f"{metadata}: missing column(s) {', '.join(missing)}; MDCC metadata has audio_path, text_path, gender, duration")
        rows = list(reader)
    entries, problems = [], []
    for i, row in enumerate(rows, start=2):
        where = f"{metadata.name}, line {i}"
        row_problems = []
        audio_rel, text_rel = (row.get("audio_path") or "").strip(), (row.get("text_path") or "").strip()
        audio, text_file = _resolve(root, audio_rel), _resolve(root, text_rel)
        reference = None
        for relative, target in ((audio_rel, audio), (text_rel, text_file)):
            if not relative:
                row_problems.append(f"{where}: empty path")
            elif not allow_outside and not _inside(root, target):
                row_problems.append(_outside_message(where, relative, "the dataset folder"))
        if not row_problems:
            if not audio.is_file():
                row_problems.append(f"{audio}: audio file not found ({where})")
            reference, problem = _read_reference(text_file)
            if problem:
                row_problems.append(f"{problem} ({where})")
        if row_problems:
            problems.extend(row_problems)
            continue
        meta = {"speaker": "", "duration": (row.get("duration") or "").strip()}
        meta.update({k: v for k, v in row.items() if k not in ("audio_path", "text_path", "duration") and k is not None})
        entries.append(ManifestEntry(audio, "yue", reference, meta))
    return Dataset(entries, problems, root, f"{root.name} ({split})")
