"""Manifests of clips with reference transcripts, and the project's bundled set.

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

Importers turn common dataset layouts into manifest entries:
:func:`import_common_voice`, :func:`import_folder` and :func:`import_mdcc`,
and :func:`import_hf` for Hugging Face ``datasets`` (a hub id or a local
folder), whose clips it writes out as files. They return a :class:`Dataset`:
the usable entries plus a list of *all* the problems found (missing or
unreadable files), so one bad clip never hides the rest.
:func:`write_manifest` writes entries back out as a manifest CSV, and
``python -m workbench import`` runs any importer from the command line
(:func:`add_import_command`).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import sys
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


# --------------------------------------------------------------------------
# Hugging Face datasets
# --------------------------------------------------------------------------

#: What to install when the ``datasets`` package is missing.
HUB_INSTALL = 'pip install "whisper-workbench[hub]"'
#: The manifest :func:`import_hf` writes in its output folder.
HF_MANIFEST_NAME = "manifest.csv"
#: The folder, inside :func:`import_hf`'s output folder, that holds the clips.
HF_CLIPS_DIR = "clips"
#: Audio column used when no column is a ``datasets.Audio`` feature.
HF_AUDIO_COLUMN = "audio"
#: Reference text columns :func:`import_hf` looks for, first match wins.
HF_TEXT_COLUMNS = ("sentence", "text", "transcription", "transcript", "normalized_text", "raw_transcription", "reference")
#: Per-row language columns :func:`import_hf` reads, first match wins.
HF_LANGUAGE_COLUMNS = ("locale", "language")
#: Columns written as the manifest's ``speaker``, first match wins.
HF_SPEAKER_COLUMNS = ("client_id", "speaker_id", "speaker")
#: Single local files :func:`import_hf` reads, by suffix, with the ``datasets`` builder for each.
HF_FILE_BUILDERS = {".parquet": "parquet", ".arrow": "arrow"}
#: Digits of the row index that starts each imported clip's name (``000042_common_voice_zh-HK_1.mp3``).
CLIP_INDEX_DIGITS = 6
#: Longest part of the original file name kept in an imported clip's name, in characters.
CLIP_NAME_CHARS = 60
#: Subtype of the FLAC written for rows that hold decoded samples only.
ARRAY_FLAC_SUBTYPE = "PCM_24"
#: Leading bytes read to recognise an audio container.
SNIFF_BYTES = 64
#: (offset, leading bytes, suffix) of containers recognised by their first bytes.
_MAGIC = (
    (0, b"fLaC", ".flac"),
    (0, b"ID3", ".mp3"),
    (4, b"ftyp", ".m4a"),
    (0, b"\x1aE\xdf\xa3", ".webm"),
    (0, b"#!AMR", ".amr"),
    (0, b"caff", ".caf"),
    (0, b"riff\x2e\x91\xcf\x11", ".w64"),
    (0, b"0&\xb2u\x8ef\xcf\x11", ".wma"),
)
#: Every suffix :func:`import_hf` keeps from an original file name.
HF_AUDIO_SUFFIXES = tuple(dict.fromkeys([*AUDIO_SUFFIXES, *(s for _, _, s in _MAGIC), ".aac", ".aiff", ".aif", ".webm", ".mka", ".mp4"]))
_MP3_SYNC = 0xE0  # the 3 high bits of a frame header's second byte (after 0xFF)
_MPEG_LAYER_BITS = 0x06  # layer bits: 0 in an AAC ADTS header, non-zero in MP3


class HubDatasetError(ManifestError):
    """A Hugging Face dataset could not be opened or read: missing package, unknown id, split or column, no access."""


def _require_datasets():
    """The ``datasets`` package, or a HubDatasetError saying how to install it."""
    try:
        import datasets
    except ImportError as e:
        raise HubDatasetError(f"importing Hugging Face datasets needs the datasets package ({e}): {HUB_INSTALL}") from None
    return datasets


def import_hf(
    dataset_id,
    out,
    split: str = "test",
    *,
    config: str | None = None,
    audio_column: str | None = None,
    text_column: str | None = None,
    language=None,
    streaming: bool = True,
    limit: int | None = None,
    revision: str | None = None,
    token=None,
    allow_outside: bool = False,
    progress: bool = True,
) -> Dataset:
    """A Hugging Face dataset, written out as clip files and a manifest.

    ``dataset_id`` is a hub id (``"mozilla-foundation/common_voice_17_0"``
    with ``config="zh-HK"``) or a local path that ``datasets.load_dataset``
    reads: a folder of parquet/arrow files (configs declared in its
    ``README.md``, or a ``<config>/`` subfolder), an ``audiofolder`` layout
    with ``metadata.csv``, a single ``.parquet``/``.arrow`` file, or a
    folder written by ``save_to_disk`` (read with ``load_from_disk``; a
    lone saved ``Dataset`` has no splits and is imported whatever ``split``
    says). Local paths never reach the hub.

    Each row becomes ``<out>/clips/<index>_<name>.<ext>``, written
    atomically: the *original* encoded bytes, never decoded or re-encoded,
    with the original file's extension (``.mp3`` for Common Voice) or, when
    the row has no file name, the one its bytes show. A row holding only
    decoded samples (``{"array", "sampling_rate"}``) is written as FLAC.
    Then ``<out>/manifest.csv`` is written (:func:`write_manifest`).
    Clips already in ``<out>/clips`` are not written again, so an
    interrupted import resumes where it stopped when run again.

    Parameters
    ----------
    dataset_id : str or path-like
        Hub id or local path.
    out : str or path-like
        Output folder (created when missing).
    split : str
        Split to import (``"test"``; ``"train"``, ``"validation"``...).
    config : str, optional
        The dataset's configuration (subset), e.g. a Common Voice locale.
    audio_column, text_column : str, optional
        Columns holding the audio and the reference. By default the audio is
        the first ``datasets.Audio`` column (else ``audio``) and the text the
        first of :data:`HF_TEXT_COLUMNS` present.
    language : str, optional
        Language of every clip (code or name, normalised: ``粤语`` → ``yue``).
        By default each row's ``locale``/``language`` column, else ``config``
        (``zh-HK`` → ``yue``).
    streaming : bool
        Read rows as they arrive (default) instead of downloading and
        preparing the whole split first.
    limit : int, optional
        Import only the first ``limit`` rows. With ``streaming=False`` the
        whole split is still downloaded.
    revision, token
        Passed to ``datasets.load_dataset`` (a branch, tag or commit; a
        Hugging Face token, by default the one ``hf auth login`` saved).
    allow_outside : bool
        Allow clips outside ``out`` in the manifest (when ``<out>/clips`` is
        a link to a folder elsewhere).
    progress : bool
        Show a progress bar.

    Returns
    -------
    Dataset
        The imported clips; ``problems`` lists every row left out (no audio,
        no text, no language, bytes that are not audio, a missing file).
        Other scalar columns (``gender``, ``age``, ``up_votes``...) are kept
        in ``meta``; ``client_id``/``speaker_id`` becomes ``speaker``; a
        column named like a manifest field (``path``) becomes
        ``original_path``.

    Raises
    ------
    HubDatasetError
        ``datasets`` is not installed; the id is unknown, gated or the hub
        unreachable; the config, split or a column does not exist (the
        message lists those that do); the language cannot be told; the
        connection drops during the import (clips written are kept).
    """
    hf = _require_datasets()
    if limit is not None and limit < 0:
        raise HubDatasetError(f"limit must be 0 or more rows, got {limit}")
    fixed = _language(language, "language argument") if language is not None else None
    out = Path(out)
    rows, local = _open_hf(hf, dataset_id, split, config, streaming, revision, token)
    label = f"{dataset_id}" + (f" ({config})" if config else "") + f", split {split!r}"
    features = _hf_features(rows)
    columns = list(features)
    audio_col = _audio_column(hf, features, audio_column, label)
    text_col = _text_column(columns, text_column, label)
    lang_col = next((c for c in HF_LANGUAGE_COLUMNS if c in columns and c not in (audio_col, text_col)), None)
    speaker_col = next((c for c in HF_SPEAKER_COLUMNS if c in columns), None)
    config_language = _config_language(config or _loaded_config(rows))
    if fixed is None and lang_col is None and config_language is None:
        source = f"the config name {config!r} is not a language" if config else "no config name to go by"
        raise HubDatasetError(
            f"{label}: cannot tell the language of its clips: no language argument, no {' or '.join(HF_LANGUAGE_COLUMNS)} column, "
            f"and {source}; pass language=... (e.g. 'yue'; --language on the command line)"
        )
    for name, feature in features.items():
        if isinstance(feature, hf.Audio):  # the encoded bytes as stored, never decoded
            rows = rows.cast_column(name, hf.Audio(decode=False))
    reader = _AudioReader(hf, local, token)
    clips = out / HF_CLIPS_DIR
    clips.mkdir(parents=True, exist_ok=True)
    by_value: dict[str, tuple[str | None, str | None]] = {}  # language column value → (code, problem)
    entries, problems = [], []
    name = f"{_short_name(dataset_id, local)}" + (f"/{config}" if config else "") + f" ({split})"
    from tqdm.auto import tqdm

    done = 0
    try:
        with tqdm(itertools.islice(rows, limit), total=_row_count(rows, split, limit), desc=f"importing {name}", unit="clip", disable=not progress) as bar:
            for index, row in enumerate(bar):
                entry, row_problems = _import_row(
                    row, index, features, clips, reader, audio_col, text_col, lang_col, speaker_col, fixed, config_language, by_value
                )
                problems.extend(row_problems)
                if entry is not None:
                    entries.append(entry)
                done = index + 1
    except (ConnectionError, TimeoutError) as e:
        raise HubDatasetError(
            f"{label}: connection lost after {done} row(s) ({e}); the clips written so far are kept in {clips}: run the same import again to resume"
        ) from None
    write_manifest(entries, out / HF_MANIFEST_NAME, allow_outside=allow_outside)
    return Dataset(entries, problems, out.resolve(), name)


def _local_source(dataset_id) -> Path | None:
    """The local file or folder ``dataset_id`` names, None for a hub id; HubDatasetError for a missing local path."""
    text = os.fspath(dataset_id)
    if text.startswith("hf://"):
        return None
    path = Path(text).expanduser()
    if path.exists():
        return path.resolve()
    if isinstance(dataset_id, os.PathLike) or path.is_absolute() or text.startswith((".", "~")) or "\\" in text or text.count("/") > 1:
        raise HubDatasetError(f"{text}: local dataset not found (a hub id looks like 'owner/name')")
    return None


def _saved_to_disk(hf, folder: Path) -> bool:
    """Whether ``folder`` was written by ``save_to_disk`` (a Dataset or a DatasetDict)."""
    return folder.is_dir() and ((folder / hf.config.DATASET_STATE_JSON_FILENAME).is_file() or (folder / hf.config.DATASETDICT_JSON_FILENAME).is_file())


def _open_hf(hf, dataset_id, split, config, streaming, revision, token):
    """(rows, local path or None): the split of the dataset, as a Dataset or an IterableDataset."""
    local = _local_source(dataset_id)
    if local is not None and _saved_to_disk(hf, local):
        loaded = hf.load_from_disk(str(local))
        if isinstance(loaded, hf.DatasetDict):
            if split not in loaded:
                raise HubDatasetError(f"{local}: no split {split!r}; splits saved there: {', '.join(loaded)}; pass split=... (--split)")
            loaded = loaded[split]
        return loaded, local
    kwargs = {"split": split, "streaming": streaming, "revision": revision, "token": token}
    if local is not None and local.is_file():
        builder = HF_FILE_BUILDERS.get(local.suffix.lower())
        if builder is None:
            raise HubDatasetError(f"{local}: not a dataset file ({', '.join(HF_FILE_BUILDERS)}); pass the folder that holds the dataset")
        return _load_dataset(hf, builder, None, str(local), hub=False, data_files={split: str(local)}, **kwargs), local
    path = str(local) if local is not None else os.fspath(dataset_id)
    fallback = config if local is not None and config and (local / config).is_dir() else None
    return _load_dataset(hf, path, config, os.fspath(dataset_id), hub=local is None, config_dir=fallback, **kwargs), local


def _load_dataset(hf, path, config, shown, *, hub, config_dir=None, **kwargs):
    """``datasets.load_dataset``, its anticipated failures turned into HubDatasetError naming ``shown``.

    ``hub``: whether ``path`` is a hub id. ``config_dir``: a local subfolder
    to read instead when ``config`` is not a declared configuration.
    """
    where = shown + (f" ({config})" if config else "")
    try:
        return hf.load_dataset(path, config, **kwargs)
    except hf.exceptions.DatasetNotFoundError as e:
        raise HubDatasetError(f"{where}: {e} {_access_hint(shown)}") from None
    except ConnectionError as e:
        raise HubDatasetError(_unreachable_message(hf, where, shown, e)) from None
    except FileNotFoundError as e:
        hint = _access_hint(shown) if hub else "a dataset folder needs data files datasets reads (parquet, arrow, or audio files with a metadata.csv)"
        raise HubDatasetError(f"{where}: {e}; {hint}") from None
    except RuntimeError as e:
        if "scripts are no longer supported" not in str(e):
            raise
        raise HubDatasetError(
            f"{where}: the dataset needs a loading script, which datasets no longer runs ({e}); "
            "try revision='refs/convert/parquet' (the hub's parquet conversion, when it has one), "
            "or download the release and import its folder (for Common Voice: import_common_voice)"
        ) from None
    except ValueError as e:
        message = str(e)
        if "BuilderConfig" in message or "Config name is missing" in message:
            if config_dir is not None:
                return _load_dataset(hf, path, None, shown, hub=hub, data_dir=config_dir, **kwargs)
            available = _listed(message)
            listed = f"its configs: {', '.join(available)}" if available else message
            raise HubDatasetError(f"{where}: no config {config!r}; {listed}; pass config=... (--config)") from None
        if "split" in message.lower():
            available = _listed(message)
            listed = f"its splits: {', '.join(available)}" if available else message
            raise HubDatasetError(f"{where}: no split {kwargs.get('split')!r}; {listed}; pass split=... (--split)") from None
        raise


def _listed(message: str) -> list[str]:
    """The names in the last ``[...]`` list of a datasets error message (empty when there is none)."""
    import ast

    found = re.findall(r"\[[^\[\]]*\]", message)
    if not found:
        return []
    try:
        names = ast.literal_eval(found[-1])
    except (ValueError, SyntaxError):
        return []
    return [str(n) for n in names] if isinstance(names, list) else []


def _access_hint(dataset_id: str) -> str:
    return (
        f"Check the id; if the dataset is gated (Common Voice is), accept its terms on https://huggingface.co/datasets/{dataset_id} "
        "and log in with `hf auth login` (or pass token=...); or download it and pass the local folder."
    )


def _unreachable_message(hf, where: str, dataset_id: str, exc: BaseException) -> str:
    offline = hf.config.HF_HUB_OFFLINE
    state = (
        "offline mode is on (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE), so only datasets already in the local cache can be opened; unset them to download"
        if offline
        else "check the network connection or proxy"
    )
    return (
        f"{where}: cannot reach the Hugging Face Hub ({exc}); {state}. Gated datasets (Common Voice) also need their terms accepted "
        f"on https://huggingface.co/datasets/{dataset_id} and `hf auth login`. Without a network: download it elsewhere "
        f"(hf download {dataset_id} --repo-type dataset --local-dir DIR) and pass DIR."
    )


def _hf_features(rows) -> dict:
    """Column name → ``datasets`` feature (None when the dataset does not declare its features)."""
    if rows.features is not None:
        return dict(rows.features)
    first = next(iter(rows), None)
    return dict.fromkeys(first or {})


def _audio_column(hf, features: dict, given, label: str) -> str:
    columns = list(features)
    if given is not None:
        if given not in features:
            raise HubDatasetError(f"{label}: no audio column {given!r}; its columns: {', '.join(columns)}; pass audio_column=... (--audio-column)")
        return given
    found = next((c for c, f in features.items() if isinstance(f, hf.Audio)), None)
    if found is None and HF_AUDIO_COLUMN not in features:
        raise HubDatasetError(
            f"{label}: no audio column (no datasets.Audio feature, no {HF_AUDIO_COLUMN!r} column); its columns: {', '.join(columns)}; "
            "pass audio_column=... (--audio-column)"
        )
    return found or HF_AUDIO_COLUMN


def _text_column(columns: list, given, label: str) -> str:
    if given is not None:
        if given not in columns:
            raise HubDatasetError(f"{label}: no text column {given!r}; its columns: {', '.join(columns)}; pass text_column=... (--text-column)")
        return given
    found = next((c for c in HF_TEXT_COLUMNS if c in columns), None)
    if found is None:
        raise HubDatasetError(
            f"{label}: no reference text column (looked for {', '.join(HF_TEXT_COLUMNS)}); its columns: {', '.join(columns)}; "
            "pass text_column=... (--text-column)"
        )
    return found


def _loaded_config(rows) -> str | None:
    """The configuration the rows were loaded with, when it names one (not ``default``)."""
    name = getattr(getattr(rows, "info", None), "config_name", None)
    return name if name and name != "default" else None


def _config_language(config) -> str | None:
    """Whisper's code for a config name such as ``zh-HK``, or None when it is no language."""
    if not config:
        return None
    try:
        return _language(config, "config") or None
    except ManifestError:
        return None


def _short_name(dataset_id, local: Path | None) -> str:
    return local.name if local is not None else os.fspath(dataset_id)


def _row_count(rows, split: str, limit: int | None) -> int | None:
    """Rows the import will read, when known (for the progress bar)."""
    try:
        count = len(rows)
    except TypeError:  # an IterableDataset: the split's size when the dataset's card records it
        splits = getattr(rows.info, "splits", None) or {}
        info = splits.get(split) if hasattr(splits, "get") else None
        count = getattr(info, "num_examples", None) or None
    if limit is None:
        return count
    return limit if count is None else min(count, limit)


def _scalar(value, feature):
    """A manifest-friendly value: label names for class labels, ``""`` for None, ``None`` (drop) for lists, dicts, bytes."""
    if value is None:
        return ""
    names = getattr(feature, "names", None)
    if names and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return names[value]
    if isinstance(value, (str, int, float, bool)):
        return value
    return None


def _original_name(path) -> str:
    """The file name in a datasets path or URL (``zip://clips/a.mp3::hf://...`` → ``a.mp3``)."""
    from pathlib import PurePosixPath

    return PurePosixPath(str(path).split("::")[0].replace("\\", "/")).name


def _kept_suffix(name: str) -> str:
    """The file name's suffix when it is an audio one, else ``""``."""
    suffix = Path(name).suffix
    return suffix if suffix.lower() in HF_AUDIO_SUFFIXES else ""


def _clip_name(index: int, original: str, suffix: str) -> str:
    stem = re.sub(r"[^\w.-]+", "_", Path(original).stem if _kept_suffix(original) else original).strip("._")
    return f"{index:0{CLIP_INDEX_DIGITS}d}_{stem[:CLIP_NAME_CHARS] or 'clip'}{suffix}"


def audio_suffix(data: bytes) -> str | None:
    """The file suffix the container in ``data`` is written with (``".mp3"``), or None when no audio format is recognised.

    Looks at the leading bytes (RIFF/WAVE, FLAC, Ogg Vorbis/Opus, MP3,
    MP4/M4A, AAC, AIFF, WebM, AMR, CAF, W64, WMA), then asks soundfile.
    Nothing is decoded.
    """
    head = bytes(data[:SNIFF_BYTES])
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return ".wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return ".aiff"
    if head[:4] == b"OggS":
        return ".opus" if b"OpusHead" in head else ".ogg"
    for offset, magic, suffix in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return suffix
    if len(head) > 1 and head[0] == 0xFF and head[1] & _MP3_SYNC == _MP3_SYNC:
        return ".mp3" if head[1] & _MPEG_LAYER_BITS else ".aac"
    import soundfile as sf

    try:
        info = sf.info(io.BytesIO(bytes(data)))
    except RuntimeError:  # soundfile's LibsndfileError: not a format it knows
        return None
    return f".{info.format.lower()}"


def _not_audio(data: bytes) -> str:
    """Why ``data`` is not audio, in a few words."""
    if not data:
        return "empty audio bytes"
    head = bytes(data[:SNIFF_BYTES])
    if head.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer, not the audio"
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return "an HTML page, not audio"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return f"{len(data)} bytes in no audio format the workbench recognises"
    return f"text, not audio ({head[:SNIFF_BYTES // 2]!r}...)"


class _AudioReader:
    """Reads the audio files that rows name by path: local files, or remote ones through datasets."""

    def __init__(self, hf, local: Path | None, token):
        self.hf = hf
        self.root = local if local is not None and local.is_dir() else (local.parent if local is not None else None)
        self.token = token

    def read(self, path: str) -> bytes:
        """The file's bytes; OSError (FileNotFoundError...) when it cannot be read."""
        local = Path(path)
        if not local.is_absolute() and self.root is not None and (self.root / local).is_file():
            local = self.root / local
        if local.is_file():
            return local.read_bytes()
        # what datasets itself reads remote files with (hf://, zip://...::https://), tokens and retries included
        from datasets.utils.file_utils import xopen

        with xopen(path, "rb", download_config=self.hf.DownloadConfig(token=self.token)) as f:
            return f.read()


def _audio_value(value):
    """(bytes, path, samples) of a row's audio value, each None when absent; TypeError for anything else."""
    if value is None:
        return None, None, None
    if isinstance(value, str):
        return None, value or None, None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value), None, None
    if isinstance(value, dict):
        samples = value if value.get("array") is not None else None
        return value.get("bytes"), value.get("path") or None, samples
    raise TypeError(type(value).__name__)


def _import_row(row, index, features, clips, reader, audio_col, text_col, lang_col, speaker_col, fixed, config_language, by_value):
    """(entry or None, problems) for one row; writes its clip unless already there."""
    try:
        data, source, samples = _audio_value(row.get(audio_col))
    except TypeError as e:
        return None, [f"row {index}: audio column {audio_col!r} holds a {e}, not bytes, a path or samples"]
    original = _original_name(row["path"]) if isinstance(row.get("path"), str) and row.get("path") else (_original_name(source) if source else "")
    where = f"row {index}" + (f" ({original})" if original else "")
    problems = []
    if data is None and source is None and samples is None:
        problems.append(f"{where}: no audio in column {audio_col!r}")
    text = row.get(text_col)
    reference = "" if text is None else str(text).strip()
    if not reference:
        problems.append(f"{where}: no text in column {text_col!r}")
    lang, problem = _row_language(row, features, lang_col, fixed, config_language, by_value)
    if problem:
        problems.append(f"{where}: {problem}")
    if problems:
        return None, problems
    target, problem = _write_row_audio(clips, index, original, data, source, samples, reader)
    if problem:
        return None, [f"{where}: {problem}"]
    meta = {"speaker": "" if speaker_col is None else _scalar(row.get(speaker_col), features.get(speaker_col)) or ""}
    for key, value in row.items():
        if key in (audio_col, text_col, speaker_col):
            continue
        value = _scalar(value, features.get(key))
        if value is not None:
            meta[f"original_{key}" if key in REQUIRED_COLUMNS else key] = value
    if original and "original_path" not in meta:
        meta["original_path"] = original
    return ManifestEntry(target.resolve(), lang, reference, meta), []


def _row_language(row, features, lang_col, fixed, config_language, by_value) -> tuple[str | None, str | None]:
    """(language, None) or (None, problem): the argument, else the row's language column, else the config's."""
    if fixed is not None:
        return fixed, None
    raw = _scalar(row.get(lang_col), features.get(lang_col)) if lang_col is not None else None
    raw = str(raw).strip() if raw is not None else ""
    if not raw:
        if config_language is None:
            return None, f"empty {lang_col!r} and no language in the config name; pass language=..."
        return config_language, None
    if raw not in by_value:
        try:
            by_value[raw] = (_language(raw, f"column {lang_col!r}"), None)
        except ManifestError as e:
            by_value[raw] = (None, f"{e}; pass language=... to set it for every clip")
    return by_value[raw]


def _write_row_audio(clips: Path, index: int, original: str, data, source, samples, reader) -> tuple[Path | None, str | None]:
    """(clip file, None) once the row's audio is in ``clips``, or (None, problem)."""
    from .io import atomic_path

    named = _kept_suffix(original) or (_kept_suffix(_original_name(source)) if source else "")
    if data is None and source is not None:
        if named and (clips / _clip_name(index, original, named)).is_file():
            return clips / _clip_name(index, original, named), None  # written by an earlier import
        try:
            data = reader.read(source)
        except ConnectionError:
            raise
        except FileNotFoundError:
            return None, f"audio file not found: {source}"
        except OSError as e:
            return None, f"audio file unreadable: {source} ({e})"
    if data is not None:
        found = audio_suffix(data) if data else None
        if found is None:
            return None, _not_audio(data)
        target = clips / _clip_name(index, original, named or found)
        if not target.is_file():
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
        return target, None
    return _write_samples(clips / _clip_name(index, original, ".flac"), samples)


def _write_samples(target: Path, samples: dict) -> tuple[Path | None, str | None]:
    """Decoded samples written as FLAC (the row has no encoded audio to keep)."""
    import numpy as np
    import soundfile as sf

    from .io import atomic_path

    rate = samples.get("sampling_rate")
    if not rate:
        return None, "audio samples without a sampling_rate"
    if target.is_file():
        return target, None
    data = np.asarray(samples["array"], dtype=np.float32)
    if data.ndim == 2 and data.shape[0] < data.shape[1]:  # (channels, frames) → soundfile's (frames, channels)
        data = data.T
    if data.size == 0:
        return None, "empty audio samples"
    with atomic_path(target) as tmp:
        sf.write(str(tmp), np.clip(data, -1.0, 1.0), int(rate), format="FLAC", subtype=ARRAY_FLAC_SUBTYPE)
    return target, None


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

#: ``python -m workbench import`` layouts.
IMPORT_LAYOUTS = ("common-voice", "mdcc", "folder", "hf")
#: Options of ``import`` that apply to some layouts only (option → layouts).
_IMPORT_OPTIONS = {
    "language": ("common-voice", "folder", "hf"),
    "pattern": ("folder",),
    "config": ("hf",),
    "audio_column": ("hf",),
    "text_column": ("hf",),
    "limit": ("hf",),
    "revision": ("hf",),
    "no_streaming": ("hf",),
    "split": ("common-voice", "mdcc", "hf"),
}
_IMPORT_DEFAULTS = {"split": "test", "pattern": "*", "no_streaming": False}


def add_import_command(subparsers):
    """Register ``import`` on an argparse subparsers object and return its parser.

    ``python -m workbench import LAYOUT SOURCE [--out ...]`` runs
    :func:`import_common_voice`, :func:`import_mdcc`, :func:`import_folder`
    (each writes ``SOURCE/manifest.csv``, or ``--out``) or :func:`import_hf`
    (``--out`` folder required: clips and manifest go there).
    """
    p = subparsers.add_parser(
        "import",
        help="turn a dataset (Common Voice, MDCC, a folder, a Hugging Face id) into a manifest",
        description=(
            "LAYOUT common-voice, mdcc or folder: SOURCE is the dataset folder; the manifest goes to SOURCE/manifest.csv or --out. "
            "LAYOUT hf: SOURCE is a Hugging Face dataset id or a local datasets folder; each row's original audio is written under "
            "--out/clips and the manifest to --out/manifest.csv (a re-run resumes). Every problem is printed; exit 0 once imported."
        ),
    )
    p.add_argument("layout", choices=IMPORT_LAYOUTS, metavar="LAYOUT", help=f"one of {', '.join(IMPORT_LAYOUTS)}")
    p.add_argument("source", metavar="SOURCE", help="dataset folder, or (hf) a Hugging Face id such as mozilla-foundation/common_voice_17_0")
    p.add_argument("--out", help="manifest file or folder (default SOURCE/manifest.csv); with hf: the output folder (required)")
    p.add_argument("--split", default=_IMPORT_DEFAULTS["split"], help="split to import (default test)")
    p.add_argument("--language", help="code or name: yue, cantonese, 粤语, zh... (required for folder)")
    p.add_argument("--pattern", default=_IMPORT_DEFAULTS["pattern"], help="folder: glob of the audio files ('**/*' for subfolders)")
    p.add_argument("--allow-outside", action="store_true", help="accept clips outside the manifest's folder")
    p.add_argument("--config", help="hf: the dataset's config (subset), e.g. zh-HK")
    p.add_argument("--audio-column", help="hf: the audio column (default: the Audio feature)")
    p.add_argument("--text-column", help=f"hf: the reference column (default: first of {', '.join(HF_TEXT_COLUMNS)})")
    p.add_argument("--limit", type=int, help="hf: import the first N rows only")
    p.add_argument("--revision", help="hf: branch, tag or commit")
    p.add_argument("--no-streaming", action="store_true", help="hf: download and prepare the whole split first")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_import)
    return p


def cmd_import(args) -> int:
    """Handler of the ``import`` subcommand."""
    misplaced = [name for name, layouts in _IMPORT_OPTIONS.items() if args.layout not in layouts and getattr(args, name) not in (None, _IMPORT_DEFAULTS.get(name))]
    if misplaced:
        names = ", ".join("--" + n.replace("_", "-") for n in misplaced)
        raise ManifestError(f"import {args.layout} does not take {names}; see python -m workbench import --help for the options of each layout")
    if args.layout == "hf":
        if not args.out:
            raise ManifestError("import hf needs --out FOLDER: the clips and manifest.csv are written there")
        ds = import_hf(
            args.source,
            args.out,
            args.split,
            config=args.config,
            audio_column=args.audio_column,
            text_column=args.text_column,
            language=args.language,
            streaming=not args.no_streaming,
            limit=args.limit,
            revision=args.revision,
            allow_outside=args.allow_outside,
            progress=not args.json,
        )
        manifest = Path(args.out) / HF_MANIFEST_NAME
    else:
        if args.layout == "common-voice":
            ds = import_common_voice(args.source, args.split, args.language, allow_outside=args.allow_outside)
        elif args.layout == "mdcc":
            ds = import_mdcc(args.source, args.split, allow_outside=args.allow_outside)
        else:
            if not args.language:
                raise ManifestError("import folder needs --language (e.g. yue): a plain folder does not say what language its clips are in")
            ds = import_folder(args.source, args.language, args.pattern, allow_outside=args.allow_outside)
        manifest = _manifest_path(args.out, ds.root)
        write_manifest(ds, manifest, allow_outside=args.allow_outside)
    if args.json:
        payload = {"name": ds.name, "manifest": str(manifest), "clips": len(ds), "problems": ds.problems}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    print(ds.summary().splitlines()[0])
    for problem in ds.problems:
        print(f"problem: {problem}", file=sys.stderr)
    print(f"manifest: {manifest}")
    return 0


def _manifest_path(out, root: Path) -> Path:
    """``--out`` as a manifest file: a folder (existing, or named without a suffix) gets ``manifest.csv``."""
    if out is None:
        return root / HF_MANIFEST_NAME
    out = Path(out)
    return out / HF_MANIFEST_NAME if out.is_dir() or not out.suffix else out
