"""Importers for dataset folders on disk: Common Voice releases, MDCC, and plain folders of clips.

Each returns a :class:`~workbench.datasets.manifest.Dataset`: the usable
entries plus a list of *all* the problems found (missing or unreadable
files, a clip listed twice), so one bad clip never hides the rest, and the
files it read (``sources``), which no output may overwrite.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import WorkbenchError
from .manifest import Dataset, ManifestEntry, ManifestError, _inside, _outside_message, _read_text, _resolve, drop_repeats

#: File suffixes the importers treat as audio (compared case-insensitively).
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a")


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
    from ..languages import normalise_language

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
    missing are listed in ``problems`` and left out, as is a clip listed
    again (see :func:`~workbench.datasets.manifest.drop_repeats`).

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
    reader = csv.DictReader(io.StringIO(_read_text(tsv, "Common Voice split"), newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
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
        entries.append((where, ManifestEntry(target, lang, (row.get("sentence") or "").strip(), meta)))
    entries, repeats = drop_repeats(entries)
    return Dataset(entries, problems + repeats, root, f"{root.name} ({split})", [tsv])


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
    from ..languages import normalise_language

    root = _folder(folder)
    lang = normalise_language(language) or ""
    audio = sorted(p for p in root.glob(pattern) if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not audio:
        raise ManifestError(f"{root}: no audio files ({', '.join(AUDIO_SUFFIXES)}) matching {pattern!r}")
    entries, problems, sources = [], [], []
    for clip in audio:
        target = clip.resolve()
        if not allow_outside and not _inside(root, target):
            problems.append(_outside_message(str(clip), clip.relative_to(root), "the dataset folder"))
            continue
        text, problem = _read_reference(clip.with_suffix(".txt"))
        if problem:
            problems.append(f"{problem} (for {clip.name})")
            continue
        sources.append(clip.with_suffix(".txt"))
        entries.append((str(clip), ManifestEntry(target, lang, text, {"speaker": "", "duration": ""})))
    entries, repeats = drop_repeats(entries)
    return Dataset(entries, problems + repeats, root, root.name, sources)


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
        raise ManifestError(
            f"{root}: expected {metadata.name} (MDCC layout: cnt_asr_<split>_metadata.csv with audio_path, text_path){hint}"
        )
    reader = csv.DictReader(io.StringIO(_read_text(metadata, "MDCC metadata file"), newline=""))
    fields = [c.strip() for c in (reader.fieldnames or [])]
    reader.fieldnames = fields
    missing = [c for c in ("audio_path", "text_path") if c not in fields]
    if missing:
        raise ManifestError(
            f"{metadata}: missing column(s) {', '.join(missing)}; MDCC metadata has audio_path, text_path, gender, duration"
        )
    rows = list(reader)
    entries, problems, sources = [], [], [metadata]
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
        sources.append(text_file)
        entries.append((where, ManifestEntry(audio, "yue", reference, meta)))
    entries, repeats = drop_repeats(entries)
    return Dataset(entries, problems + repeats, root, f"{root.name} ({split})", sources)
