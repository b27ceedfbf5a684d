"""The environment doctor: what decides whether this machine will behave.

:func:`run_doctor` inspects the operating system, Python, PyTorch and its
CUDA build, the GPU, every audio decoder the workbench can use (TorchCodec
and the FFmpeg it loaded, soundfile/libsndfile, PyAV, the ``ffmpeg``
binary), the model libraries, the resamplers, free memory and disk,
whether files in a non-ASCII folder can be written and read back, and
whether a CJK font is installed to show Chinese text. Each
answer is a :class:`Finding` with a status (``"ok"``, ``"warning"`` or
``"problem"``) and, when it is not ok, a one-line remedy.

Heavy libraries are imported inside the checks, so importing this module is
cheap; a check that crashes becomes a finding instead of an exception.

Examples
--------
>>> report = run_doctor()                        # doctest: +SKIP
>>> print(report.format_text())                  # doctest: +SKIP
>>> report.to_dict()["summary"]                  # doctest: +SKIP
{'ok': 15, 'warning': 2, 'problem': 0, 'status': 'warning'}
"""

from __future__ import annotations

import functools
import importlib.util
import locale
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable

from .audio import ffmpeg_binary, torchcodec_status

#: Identifies the layout of :meth:`DoctorReport.to_dict`; bumped on breaking changes.
SCHEMA = "workbench.doctor/1"
#: Finding statuses, from best to worst.
STATUSES = ("ok", "warning", "problem")

GIB = 1024**3
#: Below this much available RAM, large Whisper models may not fit: large-v3
#: needs about 6 GB for its float32 weights alone.
MIN_AVAILABLE_MEMORY_GIB = 8.0
LARGE_V3_FLOAT32_WEIGHTS_GIB = 6.0
#: Below this much free space where models are cached, downloads may fail.
MIN_FREE_DISK_GIB = 10.0
#: Seconds any external program (ffmpeg, nvidia-smi) may take.
SUBPROCESS_TIMEOUT_S = 20
#: Folder and file names used to prove non-ASCII paths work.
NON_ASCII_DIR_NAME = "粤语测试"
NON_ASCII_FILE_NAME = "测试音频.wav"
#: The tiny WAV written and read back: 0.1 s of a 440 Hz tone at 16 kHz.
PROBE_SAMPLE_RATE = 16_000
PROBE_FRAMES = 1_600
PROBE_FREQUENCY_HZ = 440.0
PROBE_AMPLITUDE = 0.25
INT16_FULL_SCALE = 32767
#: The distribution whose pins say which versions the workbench is tested with.
PROJECT_DISTRIBUTION = "whisper-workbench"
#: cuDNN 9 encodes its version as major*10000 + minor*100 + patch (8.x used major*1000).
CUDNN_9_ENCODING_START = 90_000
#: libsndfile reads MP3 from this version on.
LIBSNDFILE_MP3_VERSION = (1, 1, 0)
#: The fontconfig query for fonts that cover Chinese (fc-list's ``:lang=zh`` pattern).
CJK_FONTCONFIG_PATTERN = ":lang=zh"
#: The Debian/Ubuntu package with the Noto CJK fonts (Simplified and Traditional Chinese, Japanese, Korean).
CJK_FONT_PACKAGE = "fonts-noto-cjk"
#: Font families named in the summary before "and N more".
CJK_FONTS_SHOWN = 3


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------
# Data classes
# --------------------------------------------------------------------------


@dataclass
class Finding:
    """One thing the doctor checked.

    Attributes
    ----------
    id : str
        Stable snake_case identifier (``"torchcodec"``, ``"gpu"``...).
    title : str
        Short human-readable name of what was checked.
    status : {"ok", "warning", "problem"}
        ``"warning"``: works, but slower, degraded or differently than
        intended; ``"problem"``: something the workbench needs is broken.
    summary : str
        One line: what was found.
    details : dict
        JSON-serialisable facts behind the summary (versions, paths, sizes).
    remedy : str
        One line saying what to do; empty when the status is ``"ok"``.
    """

    id: str
    title: str
    status: str
    summary: str
    details: dict = field(default_factory=dict)
    remedy: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        self.summary = _one_line(self.summary)
        self.remedy = _one_line(self.remedy)

    def to_dict(self) -> dict:
        """The finding as plain JSON-serialisable types.

        Returns
        -------
        dict
            Keys ``id``, ``title``, ``status``, ``summary``, ``details``, ``remedy``.
        """
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "details": _jsonable(self.details),
            "remedy": self.remedy,
        }


@dataclass
class DoctorReport:
    """Everything :func:`run_doctor` found, in a stable order.

    Attributes
    ----------
    findings : list of Finding
        One per check, in the order of :data:`CHECK_IDS`.
    created : str
        When the report was made, ISO 8601 in UTC.
    """

    findings: list[Finding]
    created: str = field(default_factory=_utc_now)

    @property
    def counts(self) -> dict[str, int]:
        """Number of findings per status, ``{"ok": n, "warning": n, "problem": n}``."""
        return {status: sum(f.status == status for f in self.findings) for status in STATUSES}

    @property
    def status(self) -> str:
        """The worst status among the findings (``"ok"`` when there are none)."""
        return max((f.status for f in self.findings), key=STATUSES.index, default="ok")

    @property
    def exit_code(self) -> int:
        """Process exit code for the CLI: 1 if any finding is a problem, else 0."""
        return 1 if self.status == "problem" else 0

    def get(self, finding_id: str) -> Finding:
        """The finding with this id.

        Raises
        ------
        KeyError
            If no finding has that id.
        """
        for finding in self.findings:
            if finding.id == finding_id:
                return finding
        raise KeyError(finding_id)

    def to_dict(self) -> dict:
        """The report as plain types, stable for scripts (``json.dumps`` works on it).

        Returns
        -------
        dict
            ``{"schema", "created", "summary": {"ok", "warning", "problem",
            "status"}, "findings": [...]}`` with findings as in
            :meth:`Finding.to_dict`.
        """
        return {
            "schema": SCHEMA,
            "created": self.created,
            "summary": {**self.counts, "status": self.status},
            "findings": [f.to_dict() for f in self.findings],
        }

    def format_text(self) -> str:
        """A human-readable table: status, title and summary, with remedies below.

        Returns
        -------
        str
            One row per finding; each non-ok finding is followed by an
            indented ``fix:`` line. The last line totals the statuses.
        """
        status_w = max(len(s) for s in STATUSES)
        title_w = max([len("check"), *(len(f.title) for f in self.findings)])
        lines = [
            f"Whisper Workbench doctor ({self.created})",
            "",
            f"{'status':<{status_w}}  {'check':<{title_w}}  summary",
        ]
        for f in self.findings:
            lines.append(f"{f.status:<{status_w}}  {f.title:<{title_w}}  {f.summary}")
            if f.status != "ok" and f.remedy:
                lines.append(f"{'':<{status_w}}  {'':<{title_w}}  fix: {f.remedy}")
        counts = self.counts
        lines += [
            "",
            f"{counts['ok']} ok, {counts['warning']} warning(s), {counts['problem']} problem(s): overall {self.status}",
        ]
        return "\n".join(lines)


@dataclass
class _Outcome:
    """What a check function returns; :func:`run_doctor` adds the id and title."""

    status: str
    summary: str
    details: dict = field(default_factory=dict)
    remedy: str = ""


def _ok(summary: str, details: dict | None = None) -> _Outcome:
    return _Outcome("ok", summary, details or {})


def _warning(summary: str, details: dict | None, remedy: str) -> _Outcome:
    return _Outcome("warning", summary, details or {}, remedy)


def _problem(summary: str, details: dict | None, remedy: str) -> _Outcome:
    return _Outcome("problem", summary, details or {}, remedy)


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _jsonable(value):
    """``value`` with tuples, paths and other objects turned into JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    return str(value)


def _gib(n_bytes: float) -> float:
    return round(n_bytes / GIB, 2)


def _os_family() -> str:
    """``"windows"``, ``"macos"``, ``"linux"`` or the lower-case system name."""
    system = platform.system()
    return {"Windows": "windows", "Darwin": "macos", "Linux": "linux"}.get(system, system.lower())


def _installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _is_importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def _project_pins() -> dict[str, str]:
    """``{distribution: "==x.y.z"}`` from the installed workbench's requirements."""
    try:
        requirements = metadata.requires(PROJECT_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return {}
    pins = {}
    for line in requirements:
        spec = line.split(";", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$", spec)
        if match and match.group(2):
            pins[_normalise(match.group(1))] = match.group(2).replace(" ", "")
    return pins


def _pin(distribution: str) -> str | None:
    """The version specifier the workbench pins for ``distribution`` (``"==2.9.1"``), if any."""
    return _project_pins().get(_normalise(distribution))


def _satisfies(version: str, specifier: str) -> bool:
    """Whether ``version`` meets ``specifier``; local labels such as ``+cu128`` are ignored."""
    try:
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(specifier).contains(version, prereleases=True)
    except Exception:  # packaging missing or an odd version string
        public = version.split("+", 1)[0]
        return not specifier.startswith("==") or public == specifier[2:]


def _pin_outcome(distribution: str, version: str, summary: str, details: dict) -> _Outcome:
    """ok, or a warning when the installed version differs from the workbench's pin."""
    pin = _pin(distribution)
    details["pinned"] = pin
    if pin and not _satisfies(version, pin):
        return _warning(
            f"{summary}; the workbench is tested with {distribution}{pin}",
            details,
            f"pip install \"{distribution}{pin}\"",
        )
    return _ok(summary, details)


def _pip_install(distribution: str) -> str:
    return f"pip install \"{distribution}{_pin(distribution) or ''}\""


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, timeout=SUBPROCESS_TIMEOUT_S, **kwargs)


def _import_torch():
    """``(torch, None)``, or ``(None, reason)`` when it cannot be imported."""
    try:
        import torch
    except Exception as exc:  # ImportError, or OSError for a broken CUDA install
        return None, _first_line(exc)
    return torch, None


# --------------------------------------------------------------------------
# Checks: each returns an _Outcome
# --------------------------------------------------------------------------


def _check_os() -> _Outcome:
    family = _os_family()
    details = {
        "system": platform.system(),
        "release": platform.release(),
        "version": platform.version(),
        "machine": platform.machine(),
        "platform": platform.platform(),
    }
    name = f"{platform.system()} {platform.release()}"
    if family == "linux":
        try:
            pretty = platform.freedesktop_os_release().get("PRETTY_NAME")
        except OSError:
            pretty = None
        details["distribution"] = pretty
        name = f"{pretty}, Linux {platform.release()}" if pretty else name
    elif family == "windows":
        release, version, _, _ = platform.win32_ver()
        details["windows_version"] = version
        details["windows_edition"] = platform.win32_edition()
        name = f"Windows {release} ({version})"
    elif family == "macos":
        details["macos_version"] = platform.mac_ver()[0]
        name = f"macOS {platform.mac_ver()[0]}"
    return _ok(f"{name} {platform.machine()}", details)


def _check_python() -> _Outcome:
    bits = struct.calcsize("P") * 8
    version = platform.python_version()
    if os.environ.get("CONDA_PREFIX") and Path(sys.prefix, "conda-meta").is_dir():
        kind = "conda"
    elif sys.prefix != sys.base_prefix:
        kind = "venv"
    else:
        kind = "system"
    try:
        requires = metadata.metadata(PROJECT_DISTRIBUTION)["Requires-Python"]
    except (metadata.PackageNotFoundError, KeyError):
        requires = None
    details = {
        "version": version,
        "implementation": platform.python_implementation(),
        "bits": bits,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "environment": kind,
        "requires_python": requires,
    }
    summary = f"{platform.python_implementation()} {version} ({bits}-bit, {kind} environment)"
    if bits != 64:
        return _problem(summary, details, "install a 64-bit Python; PyTorch has no 32-bit builds")
    if requires and not _satisfies(version, requires):
        return _warning(
            f"{summary}; the workbench is tested with Python {requires}",
            details,
            f"create the environment with a Python matching {requires} (e.g. conda create -n workbench python=3.11)",
        )
    return _ok(summary, details)


def _cudnn_text(version: int | None) -> str | None:
    """cuDNN's integer version as text: 91002 is 9.10.2, 8902 is 8.9.2."""
    if not version:
        return None
    if version >= CUDNN_9_ENCODING_START:
        major, rest = divmod(version, 10_000)
    else:
        major, rest = divmod(version, 1_000)
    minor, patch = divmod(rest, 100)
    return f"{major}.{minor}.{patch}"


def _check_torch() -> _Outcome:
    torch, error = _import_torch()
    if torch is None:
        return _problem(f"PyTorch cannot be imported ({error})", {"error": error}, _pip_install("torch"))
    cudnn = _cudnn_text(torch.backends.cudnn.version()) if torch.version.cuda else None
    details = {
        "version": torch.__version__,
        "cuda_build": torch.version.cuda,
        "cudnn": cudnn,
        "hip_build": getattr(torch.version, "hip", None),
        "debug": bool(torch.version.debug),
        "threads": torch.get_num_threads(),
    }
    if torch.version.cuda:
        build = f"CUDA {torch.version.cuda}" + (f", cuDNN {cudnn}" if cudnn else "")
    elif details["hip_build"]:
        build = f"ROCm {details['hip_build']}"
    else:
        build = "CPU-only"
    return _pin_outcome("torch", torch.__version__, f"torch {torch.__version__} ({build} build)", details)


def _nvidia_smi_gpus() -> list[str]:
    """GPUs the NVIDIA driver reports, as ``"name, memory"`` lines (empty if none)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        proc = _run([exe, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], text=True)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()] if proc.returncode == 0 else []


def _check_gpu() -> _Outcome:
    torch, error = _import_torch()
    driver_gpus = _nvidia_smi_gpus()
    details: dict = {"nvidia_smi": driver_gpus}
    if torch is None:
        return _warning(
            f"unknown: torch cannot be imported ({error})", details, "fix the torch finding first, then run the doctor again"
        )
    details["cuda_build"] = torch.version.cuda
    if torch.cuda.is_available():
        devices = []
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            device = {
                "index": index,
                "name": props.name,
                "total_memory_gib": _gib(props.total_memory),
                "compute_capability": f"{props.major}.{props.minor}",
            }
            try:
                free, _ = torch.cuda.mem_get_info(index)
                device["free_memory_gib"] = _gib(free)
            except Exception as exc:
                device["free_memory_gib"] = None
                device["free_memory_error"] = _first_line(exc)
            devices.append(device)
        details["devices"] = devices
        first = devices[0]
        more = f" (+{len(devices) - 1} more)" if len(devices) > 1 else ""
        return _ok(f"{first['name']}, {first['total_memory_gib']:.1f} GiB{more}", details)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        details["mps"] = True
        return _ok("Apple GPU visible through MPS", details)
    if torch.version.cuda and driver_gpus:
        return _warning(
            f"the driver sees {driver_gpus[0]} but torch (CUDA {torch.version.cuda}) cannot use it: runs on CPU",
            details,
            f"update the NVIDIA driver to one supporting CUDA {torch.version.cuda}, check 'nvidia-smi', then restart Python",
        )
    if torch.version.cuda:
        return _warning(
            f"torch is built for CUDA {torch.version.cuda} but no GPU is visible: runs on CPU",
            details,
            "fine for small models; for large-v3 use a machine with an NVIDIA GPU and check 'nvidia-smi' there",
        )
    if driver_gpus:
        return _warning(
            f"the driver sees {driver_gpus[0]} but torch is a CPU-only build: runs on CPU",
            details,
            f"install a CUDA build: pip install \"torch{_pin('torch') or ''}\" --index-url https://download.pytorch.org/whl/cu128",
        )
    return _ok("no GPU; CPU-only torch build, runs on CPU", details)


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split("+", 1)[0].split(".")[:2])


def _check_torchaudio() -> _Outcome:
    torch, error = _import_torch()
    torch_version = torch.__version__ if torch is not None else _installed_version("torch")
    try:
        import torchaudio
    except Exception as exc:
        fix = f"pip install \"torchaudio=={torch_version.split('+')[0]}\"" if torch_version else _pip_install("torchaudio")
        return _problem(f"torchaudio cannot be imported ({_first_line(exc)})", {"error": _first_line(exc)}, fix)
    details = {"version": torchaudio.__version__, "torch_version": torch_version}
    summary = f"torchaudio {torchaudio.__version__}"
    if torch_version and _major_minor(torchaudio.__version__) != _major_minor(torch_version):
        return _problem(
            f"{summary} does not match torch {torch_version}",
            details,
            f"pip install \"torchaudio=={torch_version.split('+')[0]}\" (torchaudio must match torch's major.minor)",
        )
    return _pin_outcome("torchaudio", torchaudio.__version__, summary, details)


def _torchcodec_remedy() -> str:
    family = _os_family()
    if family == "windows":
        return "conda install -c conda-forge \"ffmpeg<8\" in this environment (a static ffmpeg.exe on PATH is not enough)"
    if family == "macos":
        return "brew install ffmpeg (or conda install -c conda-forge \"ffmpeg<8\")"
    return "sudo apt-get install ffmpeg (or conda install -c conda-forge \"ffmpeg<8\")"


def _check_torchcodec() -> _Outcome:
    version = _installed_version("torchcodec")
    details: dict = {"version": version}
    if version is None or not _is_importable("torchcodec"):
        return _warning(
            "TorchCodec is not installed; soundfile, PyAV or ffmpeg decode instead",
            details,
            _pip_install("torchcodec"),
        )
    ok, reason = torchcodec_status()
    details["status"] = reason
    if not ok:
        if "libtorchcodec" in reason:
            summary = (
                "could not load libtorchcodec: the FFmpeg shared libraries it needs (libavcodec 4-8) are missing; "
                "other decoders are used instead"
            )
        else:
            summary = f"{reason}; other decoders are used instead"
        return _warning(summary, details, _torchcodec_remedy())
    import torchcodec._core.ops as ops

    details["ffmpeg_major_version"] = ops.ffmpeg_major_version
    try:
        details["ffmpeg_library_versions"] = ops.get_ffmpeg_library_versions()
    except Exception as exc:
        details["ffmpeg_library_versions"] = None
        details["ffmpeg_library_versions_error"] = _first_line(exc)
    return _pin_outcome("torchcodec", version, f"torchcodec {version}, loaded {reason}", details)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _check_soundfile() -> _Outcome:
    try:
        import soundfile as sf
    except (ImportError, OSError) as exc:  # OSError: libsndfile itself is missing
        return _problem(f"soundfile cannot be imported ({_first_line(exc)})", {"error": _first_line(exc)}, _pip_install("soundfile"))
    formats = sf.available_formats()
    reads_mp3 = "MP3" in formats
    details = {
        "version": sf.__version__,
        "libsndfile_version": sf.__libsndfile_version__,
        "reads_mp3": reads_mp3,
        "formats": sorted(formats),
    }
    summary = f"soundfile {sf.__version__}, libsndfile {sf.__libsndfile_version__}"
    if not reads_mp3:
        needed = ".".join(map(str, LIBSNDFILE_MP3_VERSION))
        return _warning(
            f"{summary}: cannot read MP3 (needs libsndfile {needed}+); MP3 falls back to FFmpeg-based decoders",
            details,
            "pip install --upgrade --force-reinstall soundfile (its wheels bundle a libsndfile that reads MP3)",
        )
    return _pin_outcome("soundfile", sf.__version__, f"{summary}, reads MP3", details)


def _check_pyav() -> _Outcome:
    try:
        import av
    except Exception as exc:
        return _warning(
            f"PyAV cannot be imported ({_first_line(exc)}); other decoders are used instead",
            {"error": _first_line(exc)},
            _pip_install("av"),
        )
    libraries = {name: ".".join(map(str, v)) for name, v in getattr(av, "library_versions", {}).items()}
    ffmpeg_version = getattr(av, "ffmpeg_version_info", None)
    details = {"version": av.__version__, "ffmpeg_version": ffmpeg_version, "library_versions": libraries}
    bundled = f"FFmpeg {ffmpeg_version}" if ffmpeg_version else f"libavcodec {libraries.get('libavcodec', '?')}"
    return _pin_outcome("av", av.__version__, f"PyAV {av.__version__} with its own {bundled}", details)


def _ffmpeg_remedy() -> str:
    family = _os_family()
    if family == "windows":
        return "conda install -c conda-forge ffmpeg (or winget install ffmpeg), then open a new terminal"
    if family == "macos":
        return "brew install ffmpeg"
    return "sudo apt-get install ffmpeg"


def _check_ffmpeg_binary() -> _Outcome:
    exe = ffmpeg_binary()
    probe = shutil.which("ffprobe")
    details: dict = {"path": exe, "ffprobe": probe}
    if exe is None:
        return _warning(
            "the ffmpeg binary is not on PATH: the 'ffmpeg' decoder and resamplers are unavailable",
            details,
            _ffmpeg_remedy(),
        )
    proc = _run([exe, "-hide_banner", "-version"], text=True, errors="replace", stdin=subprocess.DEVNULL)
    first = proc.stdout.splitlines()[0] if proc.stdout else ""
    match = re.match(r"ffmpeg version (\S+)", first)
    version = match.group(1) if match else None
    configuration = next((line for line in proc.stdout.splitlines() if line.startswith("configuration:")), "")
    with_soxr = "--enable-libsoxr" in configuration
    details.update({"version": version, "version_line": first, "libsoxr": with_soxr, "returncode": proc.returncode})
    if proc.returncode != 0 or version is None:
        return _warning(f"{exe} does not run ('ffmpeg -version' exited with {proc.returncode})", details, _ffmpeg_remedy())
    summary = f"ffmpeg {version}, " + ("built with libsoxr" if with_soxr else "built without libsoxr")
    if probe is None:
        return _warning(f"{summary}; ffprobe is missing, so the 'ffmpeg' decoder cannot run", details, _ffmpeg_remedy())
    if not with_soxr:
        return _warning(
            f"{summary}: the 'ffmpeg_soxr' resampler is unavailable",
            details,
            "install an ffmpeg configured with --enable-libsoxr (Debian/Ubuntu's apt package is)",
        )
    return _ok(summary, details)


def _check_distribution(
    distribution: str, module: str, missing_status: str, missing_remedy: str, purpose: str
) -> _Outcome:
    """A library reported by its installed version, without importing it."""
    version = _installed_version(distribution)
    if version is None or not _is_importable(module):
        return _Outcome(missing_status, f"{distribution} is not installed ({purpose})", {"version": None}, missing_remedy)
    return _pin_outcome(distribution, version, f"{distribution} {version}", {"version": version})


def _check_transformers() -> _Outcome:
    return _check_distribution(
        "transformers", "transformers", "problem", _pip_install("transformers"), "it runs the Whisper models"
    )


def _check_modelscope() -> _Outcome:
    return _check_distribution(
        "modelscope", "modelscope", "warning", _pip_install("modelscope"), "needed to download models from ModelScope"
    )


def _check_faster_whisper() -> _Outcome:
    return _check_distribution(
        "faster-whisper", "faster_whisper", "warning", "pip install faster-whisper", "optional engine"
    )


def _check_ctranslate2() -> _Outcome:
    version = _installed_version("ctranslate2")
    if version is None or not _is_importable("ctranslate2"):
        return _warning(
            "ctranslate2 is not installed (the faster-whisper engine needs it)",
            {"version": None},
            "pip install faster-whisper (it brings ctranslate2)",
        )
    try:
        import ctranslate2
    except Exception as exc:
        return _warning(
            f"ctranslate2 {version} cannot be imported ({_first_line(exc)})",
            {"version": version, "error": _first_line(exc)},
            "pip install --force-reinstall ctranslate2",
        )
    cuda_devices = ctranslate2.get_cuda_device_count()
    details = {
        "version": version,
        "cuda_devices": cuda_devices,
        "cpu_compute_types": sorted(ctranslate2.get_supported_compute_types("cpu")),
    }
    if cuda_devices:
        details["cuda_compute_types"] = sorted(ctranslate2.get_supported_compute_types("cuda"))
        return _ok(f"ctranslate2 {version}, {cuda_devices} CUDA device(s)", details)
    torch, _ = _import_torch()
    if torch is not None and torch.cuda.is_available():
        return _warning(
            f"ctranslate2 {version} sees no CUDA device although torch does: faster-whisper runs on CPU",
            details,
            "ctranslate2 needs cuBLAS 12 and cuDNN 9: pip install nvidia-cublas-cu12 \"nvidia-cudnn-cu12==9.*\"",
        )
    return _ok(f"ctranslate2 {version}, CPU only", details)


def _check_resamplers() -> _Outcome:
    details: dict = {}
    try:
        import soxr

        details["soxr"] = soxr.__version__
    except Exception as exc:
        details["soxr"] = None
        details["soxr_error"] = _first_line(exc)
    for distribution in ("librosa", "resampy"):
        details[distribution] = _installed_version(distribution) if _is_importable(distribution) else None
    present = [f"{name} {v}" for name, v in details.items() if name in ("soxr", "librosa", "resampy") and v]
    missing = [name for name in ("soxr", "librosa", "resampy") if not details[name]]
    summary = ", ".join(present) if present else "no resampling library"
    remedy = "pip install " + " ".join(f"\"{name}{_pin(name) or ''}\"" for name in missing)
    if details["soxr"] is None:
        return _problem(f"{summary}; soxr, the default resampler, is missing", details, remedy)
    if missing:
        return _warning(f"{summary}; missing {', '.join(missing)} (their resamplers are unavailable)", details, remedy)
    return _ok(summary, details)


def _available_memory() -> tuple[int, int]:
    """``(available, total)`` bytes of RAM."""
    try:
        import psutil

        memory = psutil.virtual_memory()
        return int(memory.available), int(memory.total)
    except ImportError:
        page = os.sysconf("SC_PAGE_SIZE")
        return page * os.sysconf("SC_AVPHYS_PAGES"), page * os.sysconf("SC_PHYS_PAGES")


def _check_memory() -> _Outcome:
    available, total = _available_memory()
    details = {
        "available_gib": _gib(available),
        "total_gib": _gib(total),
        "threshold_gib": MIN_AVAILABLE_MEMORY_GIB,
        "cpu_count": os.cpu_count(),
    }
    summary = f"{_gib(available):.1f} GiB available of {_gib(total):.1f} GiB, {os.cpu_count()} CPU(s)"
    if available < MIN_AVAILABLE_MEMORY_GIB * GIB:
        return _warning(
            f"{summary}: large-v3 needs about {LARGE_V3_FLOAT32_WEIGHTS_GIB:.0f} GB in float32 for its weights alone",
            details,
            "close other programs, or use a smaller model (small, medium) or float16 on a GPU",
        )
    return _ok(summary, details)


def _cache_dirs() -> list[Path]:
    """The user cache folder and any model cache folders set elsewhere by environment variables."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    paths = [Path(xdg) if xdg else Path.home() / ".cache"]
    for variable in ("HF_HOME", "HF_HUB_CACHE", "MODELSCOPE_CACHE"):
        if os.environ.get(variable):
            paths.append(Path(os.environ[variable]))
    unique: list[Path] = []
    for path in paths:
        if path not in unique:
            unique.append(path)
    return unique


def _nearest_existing(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _check_disk() -> _Outcome:
    places = []
    for path in _cache_dirs():
        usage = shutil.disk_usage(_nearest_existing(path))
        places.append({"path": str(path), "free_gib": _gib(usage.free), "total_gib": _gib(usage.total)})
    tightest = min(places, key=lambda place: place["free_gib"])
    details = {"cache_dirs": places, "threshold_gib": MIN_FREE_DISK_GIB}
    summary = f"{tightest['free_gib']:.1f} GiB free of {tightest['total_gib']:.1f} GiB in the model cache ({tightest['path']})"
    if tightest["free_gib"] < MIN_FREE_DISK_GIB:
        return _warning(
            f"{summary}: downloading large models may fail",
            details,
            "free some space, or point HF_HOME / MODELSCOPE_CACHE at a larger disk",
        )
    return _ok(summary, details)


def _encoding_details() -> dict:
    details = {
        "filesystem_encoding": sys.getfilesystemencoding(),
        "preferred_encoding": locale.getpreferredencoding(False),
        "utf8_mode": bool(sys.flags.utf8_mode),
    }
    if _os_family() == "windows":
        import ctypes

        details["ansi_code_page"] = ctypes.windll.kernel32.GetACP()
        details["oem_code_page"] = ctypes.windll.kernel32.GetOEMCP()
    return details


def _probe_pcm():
    """The probe tone as int16 samples."""
    import numpy as np

    t = np.arange(PROBE_FRAMES) / PROBE_SAMPLE_RATE
    return np.round(PROBE_AMPLITUDE * INT16_FULL_SCALE * np.sin(2 * np.pi * PROBE_FREQUENCY_HZ * t)).astype(np.int16)


def _soundfile_round_trip(path: Path, pcm) -> str:
    """``"ok"`` or why writing and reading ``path`` with soundfile failed."""
    import numpy as np
    import soundfile as sf

    sf.write(path, pcm, PROBE_SAMPLE_RATE, subtype="PCM_16")
    back, rate = sf.read(path, dtype="int16")
    if rate != PROBE_SAMPLE_RATE or not np.array_equal(back, pcm):
        return "the samples read back differ from those written"
    return "ok"


def _ffmpeg_round_trip(exe: str, path: Path, pcm) -> str:
    """``"ok"`` or why writing and reading ``path`` with the ffmpeg binary failed."""
    raw = pcm.astype("<i2").tobytes()
    common = ["-hide_banner", "-v", "error"]
    write = _run(
        [exe, *common, "-y", "-f", "s16le", "-ar", str(PROBE_SAMPLE_RATE), "-ac", "1", "-i", "pipe:0", str(path)],
        input=raw,
    )
    if write.returncode != 0:
        return f"writing failed: {write.stderr.decode(errors='replace').strip()[-200:] or write.returncode}"
    read = _run([exe, "-nostdin", *common, "-i", str(path), "-f", "s16le", "-ac", "1", "pipe:1"], stdin=subprocess.DEVNULL)
    if read.returncode != 0:
        return f"reading failed: {read.stderr.decode(errors='replace').strip()[-200:] or read.returncode}"
    if read.stdout != raw:
        return "the samples read back differ from those written"
    return "ok"


def _check_non_ascii_paths() -> _Outcome:
    details = _encoding_details()
    details["folder"] = NON_ASCII_DIR_NAME
    details["home_is_ascii"] = str(Path.home()).isascii()
    details["temp_dir_is_ascii"] = tempfile.gettempdir().isascii()
    pcm = _probe_pcm()
    results: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="workbench-doctor-", ignore_cleanup_errors=True) as tmp:
        folder = Path(tmp) / NON_ASCII_DIR_NAME
        try:
            folder.mkdir()
            listed = NON_ASCII_DIR_NAME in os.listdir(tmp)
        except (OSError, UnicodeError) as exc:
            results["folder"] = f"cannot create it: {_first_line(exc)}"
        else:
            results["folder"] = "ok" if listed else "created, but listed under a different name"
        if results["folder"] == "ok":
            try:
                results["soundfile"] = _soundfile_round_trip(folder / NON_ASCII_FILE_NAME, pcm)
            except Exception as exc:
                results["soundfile"] = _first_line(exc)
            exe = ffmpeg_binary()
            if exe is None:
                results["ffmpeg"] = "skipped: the ffmpeg binary is not on PATH"
            else:
                try:
                    results["ffmpeg"] = _ffmpeg_round_trip(exe, folder / f"ffmpeg-{NON_ASCII_FILE_NAME}", pcm)
                except (OSError, subprocess.TimeoutExpired) as exc:
                    results["ffmpeg"] = _first_line(exc)
    details["round_trips"] = results
    failed = {tool: why for tool, why in results.items() if why != "ok" and not why.startswith("skipped")}
    encoding = details["filesystem_encoding"]
    if "ansi_code_page" in details:
        encoding += f", ANSI code page {details['ansi_code_page']}"
    if failed:
        tool, why = next(iter(failed.items()))
        remedy = "keep audio files and caches under ASCII-only paths"
        if _os_family() == "windows":
            remedy += ", or enable Windows' 'Use Unicode UTF-8 for worldwide language support' and set PYTHONUTF8=1"
        else:
            remedy += ", or use a UTF-8 locale (e.g. export LANG=C.UTF-8)"
        return _problem(f"a non-ASCII folder name fails ({tool}: {why}); filesystem encoding {encoding}", details, remedy)
    tools = [tool for tool in ("soundfile", "ffmpeg") if results.get(tool) == "ok"]
    return _ok(f"WAV written and read back in a non-ASCII folder with {' and '.join(tools)}; encoding {encoding}", details)


def _fontconfig_cjk_families() -> list[str] | None:
    """Font families fontconfig says cover Chinese, or ``None`` when ``fc-list`` is not installed.

    Raises
    ------
    RuntimeError
        If ``fc-list`` is there but fails.
    """
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    proc = _run([exe, CJK_FONTCONFIG_PATTERN, "family"], text=True, errors="replace", stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"'fc-list {CJK_FONTCONFIG_PATTERN}' exited with {proc.returncode}: {_one_line(proc.stderr)[:200]}")
    # One line per font, its family names comma-separated (the first is the canonical one).
    families = {line.split(",")[0].strip() for line in proc.stdout.splitlines()}
    return sorted(f for f in families if f)


def _cjk_font_remedy() -> str:
    return f"sudo apt-get install {CJK_FONT_PACKAGE} (Debian/Ubuntu; elsewhere install Noto Sans CJK with the system's package manager)"


def _check_cjk_font() -> _Outcome:
    family = _os_family()
    details: dict = {"os_family": family, "pattern": CJK_FONTCONFIG_PATTERN}
    if family in ("windows", "macos"):
        shipped = "Microsoft YaHei, SimSun" if family == "windows" else "PingFang, Heiti"
        details.update({"method": "assumed: the operating system ships CJK fonts", "families": None})
        return _ok(f"{'Windows' if family == 'windows' else 'macOS'} ships CJK fonts ({shipped}); Chinese text renders", details)
    details["method"] = "fc-list"
    try:
        families = _fontconfig_cjk_families()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        details["error"] = _first_line(exc)
        return _warning(
            f"cannot tell whether a CJK font is installed: {_one_line(exc)}",
            details,
            f"run 'fc-cache -f'; if fc-list still fails, reinstall fontconfig and {CJK_FONT_PACKAGE}",
        )
    details["families"] = families
    if families is None:
        return _warning(
            "fontconfig's fc-list is not installed, so no CJK font can be found: "
            "Chinese text in reports and notebooks may render as boxes",
            details,
            f"sudo apt-get install fontconfig {CJK_FONT_PACKAGE} (Debian/Ubuntu)",
        )
    if not families:
        return _warning(
            "no CJK font installed: Chinese text in reports and notebooks renders as boxes",
            details,
            _cjk_font_remedy(),
        )
    shown = ", ".join(families[:CJK_FONTS_SHOWN])
    more = f" and {len(families) - CJK_FONTS_SHOWN} more" if len(families) > CJK_FONTS_SHOWN else ""
    return _ok(f"{len(families)} font famil{'y' if len(families) == 1 else 'ies'} cover Chinese: {shown}{more}", details)


# --------------------------------------------------------------------------
# Running the checks
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    id: str
    title: str
    run: Callable[[], _Outcome]
    #: Status given when the check itself crashes: "problem" where the workbench cannot work without it.
    on_error: str


_CHECKS: tuple[_Check, ...] = (
    _Check("os", "Operating system", _check_os, "warning"),
    _Check("python", "Python", _check_python, "warning"),
    _Check("torch", "PyTorch", _check_torch, "problem"),
    _Check("gpu", "GPU", _check_gpu, "warning"),
    _Check("torchaudio", "torchaudio", _check_torchaudio, "problem"),
    _Check("torchcodec", "TorchCodec", _check_torchcodec, "warning"),
    _Check("soundfile", "soundfile / libsndfile", _check_soundfile, "warning"),
    _Check("pyav", "PyAV", _check_pyav, "warning"),
    _Check("ffmpeg_binary", "ffmpeg binary", _check_ffmpeg_binary, "warning"),
    _Check("transformers", "transformers", _check_transformers, "problem"),
    _Check("modelscope", "ModelScope", _check_modelscope, "warning"),
    _Check("faster_whisper", "faster-whisper", _check_faster_whisper, "warning"),
    _Check("ctranslate2", "CTranslate2", _check_ctranslate2, "warning"),
    _Check("resamplers", "Resamplers", _check_resamplers, "warning"),
    _Check("memory", "Memory", _check_memory, "warning"),
    _Check("disk", "Disk (model cache)", _check_disk, "warning"),
    _Check("non_ascii_paths", "Non-ASCII paths", _check_non_ascii_paths, "problem"),
    _Check("cjk_font", "CJK font", _check_cjk_font, "warning"),
)

CHECK_IDS: tuple[str, ...] = tuple(check.id for check in _CHECKS)
"""Ids of every finding :func:`run_doctor` produces, in report order."""


def _run_check(check: _Check) -> Finding:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = check.run()
        return Finding(check.id, check.title, outcome.status, outcome.summary, outcome.details, outcome.remedy)
    except Exception as exc:
        return Finding(
            check.id,
            check.title,
            check.on_error,
            f"the check itself failed: {_first_line(exc)}",
            {"error": _first_line(exc)},
            "run 'python -m workbench doctor --json' and report this finding's error with it",
        )


def run_doctor(checks: Iterable[str] | None = None) -> DoctorReport:
    """Inspect this machine and report what decides whether the workbench behaves.

    Parameters
    ----------
    checks : iterable of str, optional
        Ids from :data:`CHECK_IDS` to run; default all. Findings always come
        in :data:`CHECK_IDS` order.

    Returns
    -------
    DoctorReport
        One :class:`Finding` per check. A check that crashes yields a
        ``"warning"`` or ``"problem"`` finding carrying the exception message
        rather than raising.

    Raises
    ------
    ValueError
        If ``checks`` names an id that is not in :data:`CHECK_IDS`.
    """
    wanted = set(CHECK_IDS if checks is None else checks)
    unknown = wanted.difference(CHECK_IDS)
    if unknown:
        raise ValueError(f"unknown check id(s) {sorted(unknown)}; choose from {', '.join(CHECK_IDS)}")
    return DoctorReport([_run_check(check) for check in _CHECKS if check.id in wanted])
