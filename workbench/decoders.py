"""The audio decoders behind :func:`workbench.audio.load_audio`, one function per backend.

Each ``_decode_<backend>(path)`` returns a :class:`_Decoded` (float32
samples plus what the decoder says about the file) or raises one of three
exceptions that :func:`~workbench.audio.load_audio` turns into an
explanation: :class:`_Unavailable` (the backend cannot run on this machine),
:class:`_NotRecognised` (it does not recognise the format) or
:class:`_DecodeFailed` (it recognised the format but the data is damaged).
:func:`backend_status` says which backends can run here.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import first_line, install_hint
from .ffmpeg import ffmpeg_binary, ffprobe_binary, torchcodec_status

BACKENDS = ("soundfile", "torchcodec", "pyav", "ffmpeg")
"""Decoders in the order ``backend="auto"`` tries them.

soundfile (libsndfile) comes first: it is exact, fast and needs no FFmpeg for
WAV, FLAC, Ogg and MP3. TorchCodec is what ``torchaudio.load`` uses since
torchaudio 2.9, then PyAV (its own bundled FFmpeg), then the ``ffmpeg`` binary.
"""

# --------------------------------------------------------------------------
# Backends. Each returns a _Decoded or raises _Unavailable, _NotRecognised or _DecodeFailed.
# --------------------------------------------------------------------------


class _Unavailable(Exception):
    """The backend cannot run on this machine at all (not installed, no FFmpeg...)."""


class _ShortRead(Exception):
    """A parallel chunk came back shorter than the header promised."""


class _NotRecognised(Exception):
    """The backend does not recognise the file's format."""


class _DecodeFailed(Exception):
    """The backend recognised the format but the data could not be decoded."""


@dataclass
class _Decoded:
    samples: np.ndarray  # float32 (channels, frames)
    sample_rate: int
    version: str
    codec: str | None = None
    container: str | None = None
    bit_depth: int | None = None
    sample_format: str | None = None
    declared_frames: int | None = None


def _soundfile_version() -> str:
    import soundfile as sf

    return f"soundfile {sf.__version__} (libsndfile {sf.__libsndfile_version__})"


#: libsndfile containers whose codec is the container's own; others report the subtype (PCM_16, VORBIS...).
_SF_CODECS = {"FLAC": "flac", "MP3": "mp3"}
_SF_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "DOUBLE": 64}


def _decode_soundfile(path: Path) -> _Decoded:
    try:
        import soundfile as sf
    except (ImportError, OSError) as exc:  # OSError: libsndfile missing
        raise _Unavailable(f"soundfile is not usable: {exc}") from exc
    try:
        f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        # The file exists (checked before), so failing to open means libsndfile
        # does not recognise it, whatever its message says.
        raise _NotRecognised("format not recognised by libsndfile") from exc
    try:
        with f:
            declared = f.frames
            rate, fmt, subtype = f.samplerate, f.format, f.subtype
            threads = _decode_threads(declared, rate) if fmt in _SF_EXACT_SEEK else 1
            data = None
            if threads > 1:
                try:
                    data = _sf_read_parallel(path, declared, f.channels, threads)
                except (_ShortRead, sf.LibsndfileError, RuntimeError):
                    data = None  # damaged or cut short: read sequentially to keep what is there
            if data is None:
                data = f.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise _DecodeFailed(f"libsndfile: {exc}") from exc
    return _Decoded(
        samples=data.T,  # a (channels, frames) view; _finish copies only what it keeps
        sample_rate=int(rate),
        version=_soundfile_version(),
        codec=_SF_CODECS.get(fmt, subtype.lower()),
        container=fmt.lower(),
        bit_depth=_SF_BITS.get(subtype),
        sample_format=subtype,
        declared_frames=int(declared),
    )


#: Containers libsndfile seeks in sample-exactly, so they can be decoded in parallel chunks.
_SF_EXACT_SEEK = {"WAV", "WAVEX", "FLAC", "AIFF", "W64", "RF64", "CAF"}
#: Files shorter than this many seconds per thread are decoded in one go.
PARALLEL_DECODE_SECONDS = 30.0


def _decode_threads(frames: int, rate: int) -> int:
    cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4, int(frames / max(rate, 1) / PARALLEL_DECODE_SECONDS)))


def _sf_read_parallel(path: Path, frames: int, channels: int, threads: int) -> np.ndarray:
    """Decode ``threads`` consecutive chunks at once (libsndfile releases the GIL).

    Each thread opens its own handle, seeks to its chunk and decodes straight
    into its slice of one output buffer: the result is identical to a single
    sequential read, about ``threads`` times sooner on long FLAC files.
    """
    from concurrent.futures import ThreadPoolExecutor

    import soundfile as sf

    out = np.empty((frames, channels), dtype=np.float32)
    bounds = np.linspace(0, frames, threads + 1).astype(np.int64)

    def work(i: int) -> int:
        start, stop = int(bounds[i]), int(bounds[i + 1])
        with sf.SoundFile(str(path)) as f:
            f.seek(start)
            return len(f.read(stop - start, dtype="float32", always_2d=True, out=out[start:stop]))

    with ThreadPoolExecutor(threads) as pool:
        got = list(pool.map(work, range(threads)))
    if got != list(np.diff(bounds)):
        raise _ShortRead(f"{sum(got)} of {frames} frames")
    return out


def _decode_torchcodec(path: Path) -> _Decoded:
    ok, why = torchcodec_status()
    if not ok:
        raise _Unavailable(why)
    from torchcodec.decoders import AudioDecoder

    try:
        decoder = AudioDecoder(str(path))
    except Exception as exc:  # FFmpeg's "Invalid data found" / "No audio stream"
        raise _NotRecognised(first_line(exc)) from exc
    meta = decoder.metadata
    try:
        samples = decoder.get_all_samples()
    except Exception as exc:
        raise _DecodeFailed(first_line(exc)) from exc
    declared = None
    if meta.duration_seconds_from_header and meta.sample_rate:
        declared = int(round(meta.duration_seconds_from_header * meta.sample_rate))
    import torchcodec

    return _Decoded(
        samples=samples.data.numpy().astype(np.float32, copy=False),
        sample_rate=int(samples.sample_rate),
        version=f"torchcodec {torchcodec.__version__} ({why})",
        codec=meta.codec,
        bit_depth=_bits_from_format(meta.sample_format),
        sample_format=meta.sample_format,
        declared_frames=declared,
    )


def _decode_pyav(path: Path) -> _Decoded:
    try:
        import av
    except ImportError as exc:
        raise _Unavailable(f"PyAV is not installed; {install_hint('av')}") from exc
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:  # InvalidDataError and friends
        raise _NotRecognised(first_line(exc)) from exc
    with container:
        if not container.streams.audio:
            raise _NotRecognised("no audio stream in the file")
        stream = container.streams.audio[0]
        chunks: list[np.ndarray] = []
        rate = stream.codec_context.sample_rate or stream.rate
        fmt_name = stream.codec_context.format.name if stream.codec_context.format else None
        try:
            for frame in container.decode(stream):
                chunks.append(_frame_to_float(frame))
                rate = frame.sample_rate
                fmt_name = frame.format.name
        except av.error.FFmpegError as exc:
            raise _DecodeFailed(first_line(exc)) from exc
        declared = None
        if stream.duration is not None and stream.time_base is not None and rate:
            declared = int(round(float(stream.duration * stream.time_base) * rate))
        codec = stream.codec_context.name
        container_name = container.format.name
    if not chunks:
        data = np.zeros((max(stream.codec_context.channels, 1), 0), dtype=np.float32)
    else:
        data = np.concatenate(chunks, axis=1)
    libav = ".".join(map(str, av.library_versions.get("libavcodec", ())))
    return _Decoded(
        samples=data,
        sample_rate=int(rate),
        version=f"pyav {av.__version__} (libavcodec {libav})",
        codec=codec,
        container=container_name,
        bit_depth=_bits_from_format(fmt_name),
        sample_format=fmt_name,
        declared_frames=declared,
    )


def _frame_to_float(frame) -> np.ndarray:
    """One PyAV AudioFrame as float32 (channels, samples), exact for integer formats."""
    arr = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        arr = arr.reshape(-1, channels).T
    kind = arr.dtype
    if kind == np.uint8:
        return (arr.astype(np.float32) - 128.0) / 128.0
    if kind == np.int16:
        return arr.astype(np.float32) / 32768.0
    if kind == np.int32:
        return (arr.astype(np.float64) / 2147483648.0).astype(np.float32)
    return arr.astype(np.float32, copy=False)


def _decode_ffmpeg(path: Path) -> _Decoded:
    exe = ffmpeg_binary()
    probe_exe = ffprobe_binary()
    if exe is None or probe_exe is None:
        raise _Unavailable("the ffmpeg/ffprobe binaries are not on PATH")
    probe = subprocess.run(
        [probe_exe, "-v", "error", "-select_streams", "a:0", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    if probe.returncode != 0:
        raise _NotRecognised(_last_line(probe.stderr) or "ffprobe could not read it")
    meta = json.loads(probe.stdout or b"{}")
    streams = meta.get("streams") or []
    if not streams:
        raise _NotRecognised("no audio stream in the file")
    st = streams[0]
    channels = int(st.get("channels") or 1)
    rate = int(st.get("sample_rate") or 0)
    run = subprocess.run(
        [exe, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "f32le", "-c:a", "pcm_f32le", "-"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    if run.returncode != 0:
        raise _DecodeFailed(_last_line(run.stderr) or f"ffmpeg exited with {run.returncode}")
    data = np.frombuffer(run.stdout, dtype="<f4")
    data = data[: len(data) - len(data) % channels].reshape(-1, channels).T.copy()
    declared = None
    if st.get("duration_ts") and st.get("time_base") and rate:
        num, den = (int(x) for x in st["time_base"].split("/"))
        declared = int(round(int(st["duration_ts"]) * num / den * rate))
    bits = int(st.get("bits_per_raw_sample") or st.get("bits_per_sample") or 0) or None
    version = subprocess.run([exe, "-version"], capture_output=True, text=True).stdout.split("\n", 1)[0]
    return _Decoded(
        samples=data,
        sample_rate=rate,
        version=version.replace(" Copyright", ";").split(";")[0],
        codec=st.get("codec_name"),
        container=(meta.get("format") or {}).get("format_name"),
        bit_depth=bits,
        sample_format=st.get("sample_fmt"),
        declared_frames=declared,
    )


_DECODERS: dict[str, Callable[[Path], _Decoded]] = {
    "soundfile": _decode_soundfile,
    "torchcodec": _decode_torchcodec,
    "pyav": _decode_pyav,
    "ffmpeg": _decode_ffmpeg,
}


def backend_status() -> dict[str, tuple[bool, str]]:
    """Which decoders can run here: ``{name: (available, detail)}``."""
    status: dict[str, tuple[bool, str]] = {}
    try:
        status["soundfile"] = (True, _soundfile_version())
    except (ImportError, OSError) as exc:
        status["soundfile"] = (False, f"soundfile is not usable: {exc}")
    status["torchcodec"] = torchcodec_status()
    try:
        import av

        status["pyav"] = (True, f"pyav {av.__version__}")
    except ImportError:
        status["pyav"] = (False, f"PyAV is not installed; {install_hint('av')}")
    exe = ffmpeg_binary()
    status["ffmpeg"] = (exe is not None and ffprobe_binary() is not None, exe or "ffmpeg is not on PATH")
    return status


def _bits_from_format(fmt: str | None) -> int | None:
    """Bit depth implied by an FFmpeg sample format, where it is unambiguous.

    FFmpeg decodes 24-bit PCM and FLAC into ``s32``, so ``s32`` says nothing
    about the file's depth and gives ``None``.
    """
    if not fmt:
        return None
    return {"u8": 8, "s16": 16}.get(fmt.rstrip("p"))


def _last_line(raw: bytes) -> str:
    lines = [ln for ln in raw.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""
