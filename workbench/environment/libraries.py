"""Doctor checks of the libraries: torchaudio, the audio decoders and FFmpeg, the model libraries, the resamplers."""

from __future__ import annotations

import re
import subprocess

from ..errors import first_line, install_hint
from ..ffmpeg import (
    LIBTORCHCODEC_PROBLEM,
    ffmpeg_binary,
    ffprobe_binary,
    os_family,
    torchcodec_ffmpeg_fix,
    torchcodec_ffmpeg_versions,
    torchcodec_status,
)
from .probes import _import_torch, _installed_version, _is_importable, _pin, _pin_outcome, _pip_install, _run
from .report import _ok, _Outcome, _problem, _warning

#: libsndfile reads MP3 from this version on.
LIBSNDFILE_MP3_VERSION = (1, 1, 0)


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split("+", 1)[0].split(".")[:2])


def _check_torchaudio() -> _Outcome:
    torch, error = _import_torch()
    torch_version = torch.__version__ if torch is not None else _installed_version("torch")
    matching = install_hint(f"torchaudio=={torch_version.split('+')[0]}") if torch_version else None
    try:
        import torchaudio
    except Exception as exc:
        error = first_line(exc, with_type=True)
        return _problem(f"torchaudio cannot be imported ({error})", {"error": error}, matching or _pip_install("torchaudio"))
    details = {"version": torchaudio.__version__, "torch_version": torch_version}
    summary = f"torchaudio {torchaudio.__version__}"
    if torch_version and _major_minor(torchaudio.__version__) != _major_minor(torch_version):
        return _problem(
            f"{summary} does not match torch {torch_version}",
            details,
            f"{matching} (torchaudio must match torch's major.minor)",
        )
    return _pin_outcome("torchaudio", torchaudio.__version__, summary, details)


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
        problem = LIBTORCHCODEC_PROBLEM if "libtorchcodec" in reason else reason
        return _warning(f"{problem}; other decoders are used instead", details, torchcodec_ffmpeg_fix())
    import torchcodec

    details["ffmpeg_major_version"] = torchcodec.ffmpeg_major_version
    try:
        details["ffmpeg_library_versions"] = torchcodec_ffmpeg_versions()
    except Exception as exc:
        details["ffmpeg_library_versions"] = None
        details["ffmpeg_library_versions_error"] = first_line(exc, with_type=True)
    return _pin_outcome("torchcodec", version, f"torchcodec {version}, loaded {reason}", details)


def _check_soundfile() -> _Outcome:
    try:
        import soundfile as sf
    except (ImportError, OSError) as exc:  # OSError: libsndfile itself is missing
        error = first_line(exc, with_type=True)
        return _problem(f"soundfile cannot be imported ({error})", {"error": error}, _pip_install("soundfile"))
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
            f"{install_hint('soundfile', options='--upgrade --force-reinstall')} (its wheels bundle a libsndfile that reads MP3)",
        )
    return _pin_outcome("soundfile", sf.__version__, f"{summary}, reads MP3", details)


def _check_pyav() -> _Outcome:
    try:
        import av
    except Exception as exc:
        return _warning(
            f"PyAV cannot be imported ({first_line(exc, with_type=True)}); other decoders are used instead",
            {"error": first_line(exc, with_type=True)},
            _pip_install("av"),
        )
    libraries = {name: ".".join(map(str, v)) for name, v in getattr(av, "library_versions", {}).items()}
    ffmpeg_version = getattr(av, "ffmpeg_version_info", None)
    details = {"version": av.__version__, "ffmpeg_version": ffmpeg_version, "library_versions": libraries}
    bundled = f"FFmpeg {ffmpeg_version}" if ffmpeg_version else f"libavcodec {libraries.get('libavcodec', '?')}"
    return _pin_outcome("av", av.__version__, f"PyAV {av.__version__} with its own {bundled}", details)


def _ffmpeg_remedy() -> str:
    family = os_family()
    if family == "windows":
        return "conda install -c conda-forge ffmpeg (or winget install ffmpeg), then open a new terminal"
    if family == "macos":
        return "brew install ffmpeg"
    return "sudo apt-get install ffmpeg"


def _check_ffmpeg_binary() -> _Outcome:
    exe = ffmpeg_binary()
    probe = ffprobe_binary()
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


def _check_distribution(distribution: str, module: str, missing_status: str, missing_remedy: str, purpose: str) -> _Outcome:
    """A library reported by its installed version, without importing it."""
    version = _installed_version(distribution)
    if version is None or not _is_importable(module):
        return _Outcome(missing_status, f"{distribution} is not installed ({purpose})", {"version": None}, missing_remedy)
    return _pin_outcome(distribution, version, f"{distribution} {version}", {"version": version})


def _check_transformers() -> _Outcome:
    return _check_distribution("transformers", "transformers", "problem", _pip_install("transformers"), "it runs the Whisper models")


def _check_modelscope() -> _Outcome:
    return _check_distribution(
        "modelscope", "modelscope", "warning", _pip_install("modelscope"), "needed to download models from ModelScope"
    )


def _check_faster_whisper() -> _Outcome:
    return _check_distribution("faster-whisper", "faster_whisper", "warning", install_hint("faster-whisper"), "optional engine")


def _check_ctranslate2() -> _Outcome:
    version = _installed_version("ctranslate2")
    if version is None or not _is_importable("ctranslate2"):
        return _warning(
            "ctranslate2 is not installed (the faster-whisper engine needs it)",
            {"version": None},
            f"{install_hint('faster-whisper')} (it brings ctranslate2)",
        )
    try:
        import ctranslate2
    except Exception as exc:
        return _warning(
            f"ctranslate2 {version} cannot be imported ({first_line(exc, with_type=True)})",
            {"version": version, "error": first_line(exc, with_type=True)},
            install_hint("ctranslate2", options="--force-reinstall"),
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
            f"ctranslate2 needs cuBLAS 12 and cuDNN 9: {install_hint('nvidia-cublas-cu12', 'nvidia-cudnn-cu12==9.*')}",
        )
    return _ok(f"ctranslate2 {version}, CPU only", details)


def _check_resamplers() -> _Outcome:
    from .resampling import DEFAULT_RESAMPLER, RESAMPLERS, available_resamplers

    available = available_resamplers()
    unavailable = {name: RESAMPLERS[name].available()[1] for name in RESAMPLERS if name not in available}
    missing = sorted({p for r in RESAMPLERS.values() for p in r.missing_packages()})
    packages = sorted({p for r in RESAMPLERS.values() for p in r.packages})
    versions = {p: None if p in missing else _installed_version(p) for p in packages}
    details = {**versions, "default": DEFAULT_RESAMPLER, "available": available, "unavailable": unavailable}
    present = ", ".join(f"{p} {v}" for p, v in versions.items() if v) or "no resampling library"
    summary = f"{len(available)} of {len(RESAMPLERS)} resamplers available ({present})"
    remedy = install_hint(*(f"{p}{_pin(p) or ''}" for p in missing)) if missing else ""
    if DEFAULT_RESAMPLER in unavailable:
        why = unavailable[DEFAULT_RESAMPLER]
        return _problem(f"{summary}; {DEFAULT_RESAMPLER}, the default resampler, is unavailable: {why}", details, remedy)
    if missing:
        return _warning(f"{summary}; missing {', '.join(missing)} (their resamplers are unavailable)", details, remedy)
    return _ok(summary, details)
