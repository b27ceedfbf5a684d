"""Importing Hugging Face ``datasets`` (a hub id or a local folder) as clip files and a manifest.

:func:`import_hf` writes each row's original encoded audio under
``<out>/clips`` and the manifest beside it; :func:`audio_suffix` tells an
audio container from its leading bytes. The ``datasets`` package is
imported only when an import runs.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from pathlib import Path

from ..errors import install_hint
from .local import AUDIO_SUFFIXES, _language
from .manifest import REQUIRED_COLUMNS, Dataset, ManifestEntry, ManifestError, write_manifest

#: What to install when the ``datasets`` package is missing.
HUB_INSTALL = install_hint(extra="hub")
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
        connection drops during the import (clips written are kept); ``out``
        lies inside the local dataset folder.
    OutputError
        ``out`` (or its ``manifest.csv``) cannot be written.
    """
    hf = _require_datasets()
    if limit is not None and limit < 0:
        raise HubDatasetError(f"limit must be 0 or more rows, got {limit}")
    fixed = _language(language, "language argument") if language is not None else None
    out = Path(out)
    _check_out(out, _local_source(dataset_id))
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
        with tqdm(
            itertools.islice(rows, limit), total=_row_count(rows, split, limit), desc=f"importing {name}", unit="clip", disable=not progress
        ) as bar:
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
            f"{label}: connection lost after {done} row(s) ({e}); the clips written so far are kept in {clips}: "
            "run the same import again to resume"
        ) from None
    write_manifest(entries, out / HF_MANIFEST_NAME, allow_outside=allow_outside)
    return Dataset(entries, problems, out.resolve(), name)


def _check_out(out: Path, local: Path | None) -> None:
    """Refuse, before any work, an ``out`` folder that cannot be written or that lies in the local dataset read."""
    from ..io import check_output

    if local is not None:
        real = out.resolve()
        if real == local or local in real.parents:
            raise HubDatasetError(
                f"out {out} is inside the local dataset {local}, whose files the import reads (its clips would be read back "
                "as new rows); choose a folder outside it"
            )
    check_output(out, folder=True, option="out", create=False)
    check_output(out / HF_MANIFEST_NAME, option="out", create=False)


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
    return folder.is_dir() and (
        (folder / hf.config.DATASET_STATE_JSON_FILENAME).is_file() or (folder / hf.config.DATASETDICT_JSON_FILENAME).is_file()
    )


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
        hint = (
            _access_hint(shown)
            if hub
            else "a dataset folder needs data files datasets reads (parquet, arrow, or audio files with a metadata.csv)"
        )
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
        "offline mode is on (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE), so only datasets already in the local cache can be opened; "
        "unset them to download"
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
            raise HubDatasetError(
                f"{label}: no audio column {given!r}; its columns: {', '.join(columns)}; pass audio_column=... (--audio-column)"
            )
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
            raise HubDatasetError(
                f"{label}: no text column {given!r}; its columns: {', '.join(columns)}; pass text_column=... (--text-column)"
            )
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
    return f"text, not audio ({head[: SNIFF_BYTES // 2]!r}...)"


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
    original = (
        _original_name(row["path"]) if isinstance(row.get("path"), str) and row.get("path") else (_original_name(source) if source else "")
    )
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
    from ..io import atomic_path

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

    from ..io import atomic_path

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
