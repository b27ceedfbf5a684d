"""Doctor checks of the machine: operating system, Python, PyTorch and the GPU, memory, disk, non-ASCII paths, CJK fonts."""

from __future__ import annotations

import locale
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from ..errors import first_line, one_line
from ..ffmpeg import ffmpeg_binary, os_family
from .probes import GIB, PROJECT_DISTRIBUTION, _gib, _import_torch, _pin_outcome, _pip_install, _run, _satisfies
from .report import _ok, _Outcome, _problem, _warning

#: Below this much available RAM, large Whisper models may not fit: large-v3
#: needs about 6 GB for its float32 weights alone.
MIN_AVAILABLE_MEMORY_GIB = 8.0
LARGE_V3_FLOAT32_WEIGHTS_GIB = 6.0
#: Below this much free space where models are cached, downloads may fail.
MIN_FREE_DISK_GIB = 10.0
#: Folder and file names used to prove non-ASCII paths work.
NON_ASCII_DIR_NAME = "粤语测试"
NON_ASCII_FILE_NAME = "测试音频.wav"
#: The tiny WAV written and read back: 0.1 s of a 440 Hz tone at 16 kHz.
PROBE_SAMPLE_RATE = 16_000
PROBE_FRAMES = 1_600
PROBE_FREQUENCY_HZ = 440.0
PROBE_AMPLITUDE = 0.25
INT16_FULL_SCALE = 32767
#: Where PyTorch's CUDA builds are installed from.
PYTORCH_CUDA_INDEX = "https://download.pytorch.org/whl/cu128"
#: cuDNN 9 encodes its version as major*10000 + minor*100 + patch (8.x used major*1000).
CUDNN_9_ENCODING_START = 90_000
#: The fontconfig query for fonts that cover Chinese (fc-list's ``:lang=zh`` pattern).
CJK_FONTCONFIG_PATTERN = ":lang=zh"
#: The Debian/Ubuntu package with the Noto CJK fonts (Simplified and Traditional Chinese, Japanese, Korean).
CJK_FONT_PACKAGE = "fonts-noto-cjk"
#: Font families named in the summary before "and N more".
CJK_FONTS_SHOWN = 3


def _check_os() -> _Outcome:
    family = os_family()
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
        return _warning(f"unknown: torch cannot be imported ({error})", details, "fix the torch finding first, then run the doctor again")
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
                device["free_memory_error"] = first_line(exc, with_type=True)
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
            f"install a CUDA build: {_pip_install('torch')} --index-url {PYTORCH_CUDA_INDEX}",
        )
    return _ok("no GPU; CPU-only torch build, runs on CPU", details)


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
    if os_family() == "windows":
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
            results["folder"] = f"cannot create it: {first_line(exc, with_type=True)}"
        else:
            results["folder"] = "ok" if listed else "created, but listed under a different name"
        if results["folder"] == "ok":
            try:
                results["soundfile"] = _soundfile_round_trip(folder / NON_ASCII_FILE_NAME, pcm)
            except Exception as exc:
                results["soundfile"] = first_line(exc, with_type=True)
            exe = ffmpeg_binary()
            if exe is None:
                results["ffmpeg"] = "skipped: the ffmpeg binary is not on PATH"
            else:
                try:
                    results["ffmpeg"] = _ffmpeg_round_trip(exe, folder / f"ffmpeg-{NON_ASCII_FILE_NAME}", pcm)
                except (OSError, subprocess.TimeoutExpired) as exc:
                    results["ffmpeg"] = first_line(exc, with_type=True)
    details["round_trips"] = results
    failed = {tool: why for tool, why in results.items() if why != "ok" and not why.startswith("skipped")}
    encoding = details["filesystem_encoding"]
    if "ansi_code_page" in details:
        encoding += f", ANSI code page {details['ansi_code_page']}"
    if failed:
        tool, why = next(iter(failed.items()))
        remedy = "keep audio files and caches under ASCII-only paths"
        if os_family() == "windows":
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
        raise RuntimeError(f"'fc-list {CJK_FONTCONFIG_PATTERN}' exited with {proc.returncode}: {one_line(proc.stderr)[:200]}")
    # One line per font, its family names comma-separated (the first is the canonical one).
    families = {line.split(",")[0].strip() for line in proc.stdout.splitlines()}
    return sorted(f for f in families if f)


def _cjk_font_remedy() -> str:
    return f"sudo apt-get install {CJK_FONT_PACKAGE} (Debian/Ubuntu; elsewhere install Noto Sans CJK with the system's package manager)"


def _check_cjk_font() -> _Outcome:
    family = os_family()
    details: dict = {"os_family": family, "pattern": CJK_FONTCONFIG_PATTERN}
    if family in ("windows", "macos"):
        shipped = "Microsoft YaHei, SimSun" if family == "windows" else "PingFang, Heiti"
        details.update({"method": "assumed: the operating system ships CJK fonts", "families": None})
        return _ok(f"{'Windows' if family == 'windows' else 'macOS'} ships CJK fonts ({shipped}); Chinese text renders", details)
    details["method"] = "fc-list"
    try:
        families = _fontconfig_cjk_families()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        details["error"] = first_line(exc, with_type=True)
        return _warning(
            f"cannot tell whether a CJK font is installed: {one_line(exc)}",
            details,
            f"run 'fc-cache -f'; if fc-list still fails, reinstall fontconfig and {CJK_FONT_PACKAGE}",
        )
    details["families"] = families
    if families is None:
        return _warning(
            "fontconfig's fc-list is not installed, so no CJK font can be found: Chinese text in reports and notebooks may render as boxes",
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
