"""The audio decoders behind :func:`workbench.audio.load_audio`, one function per backend.

Each ``_decode_<backend>(path)`` returns a :class:`_Decoded` (float32
samples plus what the decoder says about the file) or raises one of three
exceptions that :func:`~workbench.audio.load_audio` turns into an
explanation: :class:`_Unavailable` (the backend cannot run on this machine),
:class:`_NotRecognised` (it does not recognise the format) or
:class:`_DecodeFailed` (it recognised the format but the data is damaged).
:func:`backend_status` says which backends can run here.

Long files are read in blocks instead: ``_stream_<backend>(path)`` (see
:data:`_STREAMERS`) opens the file, reads what its header declares and
returns a :class:`_Stream` whose blocks are decoded one at a time, so
memory does not grow with the file's length. soundfile, PyAV and the
``ffmpeg`` binary decode sequentially; TorchCodec decodes whole files or
seeks by time (not sample-exact for lossy codecs), so it has no stream.

Also here: :func:`check_audio_path`, which says what a path that is not a
readable regular file is (a link loop, a pipe...) without ever opening it;
what a file's first bytes announce, to tell a damaged file from one that is
not audio; and :func:`compare_decoders`, which measures how the decoders'
outputs for one file differ.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from .errors import AudioFileNotFoundError, AudioLoadError, EmptyAudioError, first_line, install_hint
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


#: Frames per block a stream yields (about 1.4 s at 48 kHz: big enough to amortise each call, small next to any file).
BLOCK_FRAMES = 1 << 16


@dataclass
class _Stream:
    """An opened file read in blocks: what its header declares, then float32 ``(channels, n)`` blocks.

    ``blocks`` raises :class:`_DecodeFailed` when the data turns out damaged.
    Use it as a context manager, or call :meth:`close`: a stream abandoned
    half-way (an error, enough measured) releases its file or process.
    """

    sample_rate: int
    channels: int
    version: str
    blocks: Iterator[np.ndarray]
    closer: Callable[[], None]
    codec: str | None = None
    container: str | None = None
    bit_depth: int | None = None
    sample_format: str | None = None
    declared_frames: int | None = None

    def close(self) -> None:
        self.blocks.close()  # runs the generator's clean-up (an unstarted one has none)
        self.closer()

    def __enter__(self) -> "_Stream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _collect(stream: _Stream) -> _Decoded:
    """Decode a stream to the end, as one ``(channels, frames)`` array."""
    with stream:
        chunks = list(stream.blocks)
    data = np.concatenate(chunks, axis=1) if chunks else np.zeros((max(stream.channels, 1), 0), dtype=np.float32)
    return _Decoded(
        samples=data,
        sample_rate=stream.sample_rate,
        version=stream.version,
        codec=stream.codec,
        container=stream.container,
        bit_depth=stream.bit_depth,
        sample_format=stream.sample_format,
        declared_frames=stream.declared_frames,
    )


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


def _stream_soundfile(path: Path) -> _Stream:
    try:
        import soundfile as sf
    except (ImportError, OSError) as exc:
        raise _Unavailable(f"soundfile is not usable: {exc}") from exc
    try:
        f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise _NotRecognised("format not recognised by libsndfile") from exc

    def blocks() -> Iterator[np.ndarray]:
        try:
            while True:
                data = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
                if not len(data):
                    return
                yield data.T
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise _DecodeFailed(f"libsndfile: {exc}") from exc

    fmt, subtype = f.format, f.subtype
    return _Stream(
        sample_rate=int(f.samplerate),
        channels=int(f.channels),
        version=_soundfile_version(),
        blocks=blocks(),
        closer=f.close,
        codec=_SF_CODECS.get(fmt, subtype.lower()),
        container=fmt.lower(),
        bit_depth=_SF_BITS.get(subtype),
        sample_format=subtype,
        declared_frames=int(f.frames),
    )


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


def _stream_pyav(path: Path) -> _Stream:
    """PyAV's frames, gathered into blocks of about :data:`BLOCK_FRAMES`.

    The first frame is decoded on opening: the rate and channels the
    decoder produces (HE-AAC doubles the rate its header states) are known
    only then.
    """
    try:
        import av
    except ImportError as exc:
        raise _Unavailable(f"PyAV is not installed; {install_hint('av')}") from exc
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:  # InvalidDataError and friends
        raise _NotRecognised(first_line(exc)) from exc
    try:
        if not container.streams.audio:
            raise _NotRecognised("no audio stream in the file")
        stream = container.streams.audio[0]
        frames = container.decode(stream)
        try:
            first = next(frames, None)
        except av.error.FFmpegError as exc:
            raise _DecodeFailed(first_line(exc)) from exc
    except BaseException:
        container.close()
        raise
    ctx = stream.codec_context
    rate = int(first.sample_rate if first is not None else (ctx.sample_rate or stream.rate or 0))
    channels = len(first.layout.channels) if first is not None else max(int(ctx.channels or 0), 1)
    fmt_name = first.format.name if first is not None else (ctx.format.name if ctx.format else None)
    declared = None
    if stream.duration is not None and stream.time_base is not None and rate:
        declared = int(round(float(stream.duration * stream.time_base) * rate))
    elif container.duration and rate:
        declared = int(round(container.duration / av.time_base * rate))

    def blocks() -> Iterator[np.ndarray]:
        pending = [] if first is None else [_frame_to_float(first)]
        count = sum(c.shape[1] for c in pending)
        try:
            for frame in frames:
                if frame.sample_rate != rate:
                    raise _DecodeFailed(f"the sample rate changes from {rate} to {frame.sample_rate} Hz part-way through")
                pending.append(_frame_to_float(frame))
                count += frame.samples
                if count >= BLOCK_FRAMES:
                    yield np.concatenate(pending, axis=1)
                    pending, count = [], 0
        except av.error.FFmpegError as exc:
            raise _DecodeFailed(first_line(exc)) from exc
        if pending:
            yield np.concatenate(pending, axis=1)

    libav = ".".join(map(str, av.library_versions.get("libavcodec", ())))
    return _Stream(
        sample_rate=rate,
        channels=channels,
        version=f"pyav {av.__version__} (libavcodec {libav})",
        blocks=blocks(),
        closer=container.close,
        codec=ctx.name,
        container=container.format.name,
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


def _stream_ffmpeg(path: Path) -> _Stream:
    """``ffprobe`` for the header, then ``ffmpeg`` decoding to 32-bit float on a pipe, read a block at a time.

    The ``ffmpeg`` process starts with the first block, so opening a
    stream only to read its header runs ``ffprobe`` alone.
    """
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
    declared = None
    if st.get("duration_ts") and st.get("time_base") and rate:
        num, den = (int(x) for x in st["time_base"].split("/"))
        declared = int(round(int(st["duration_ts"]) * num / den * rate))
    bits = int(st.get("bits_per_raw_sample") or st.get("bits_per_sample") or 0) or None
    version = subprocess.run([exe, "-version"], capture_output=True, text=True).stdout.split("\n", 1)[0]
    command = [exe, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "f32le", "-c:a", "pcm_f32le", "-"]
    return _Stream(
        sample_rate=rate,
        channels=channels,
        version=version.replace(" Copyright", ";").split(";")[0],
        blocks=_ffmpeg_blocks(command, channels),
        closer=lambda: None,
        codec=st.get("codec_name"),
        container=(meta.get("format") or {}).get("format_name"),
        bit_depth=bits,
        sample_format=st.get("sample_fmt"),
        declared_frames=declared,
    )


def _ffmpeg_blocks(command: list[str], channels: int) -> Iterator[np.ndarray]:
    """Run ``command`` (raw little-endian float32 on stdout) and yield ``(channels, n)`` blocks of it."""
    frame_bytes = 4 * channels
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: ffmpeg can never block writing to it
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL)
        try:
            while True:
                buf = bytearray(BLOCK_FRAMES * frame_bytes)
                got = proc.stdout.readinto(buf)
                while got and got < len(buf):  # a pipe gives what is there; fill the block unless at the end
                    more = proc.stdout.readinto(memoryview(buf)[got:])
                    if not more:
                        break
                    got += more
                usable = (got or 0) - (got or 0) % frame_bytes
                if usable:
                    yield np.frombuffer(buf, dtype="<f4", count=usable // 4).reshape(-1, channels).T
                if not got or got < len(buf):
                    break
            if proc.wait() != 0:
                errors.seek(0)
                raise _DecodeFailed(_last_line(errors.read()) or f"ffmpeg exited with {proc.returncode}")
        finally:
            if proc.poll() is None:  # abandoned part-way: stop ffmpeg rather than leave it writing to a closed pipe
                proc.kill()
                proc.wait()
            proc.stdout.close()


_DECODERS: dict[str, Callable[[Path], _Decoded]] = {
    "soundfile": _decode_soundfile,
    "torchcodec": _decode_torchcodec,
    "pyav": lambda path: _collect(_stream_pyav(path)),
    "ffmpeg": lambda path: _collect(_stream_ffmpeg(path)),
}


#: The backends that can read a file in blocks, by name (TorchCodec cannot; see the module's description).
_STREAMERS: dict[str, Callable[[Path], _Stream]] = {
    "soundfile": _stream_soundfile,
    "pyav": _stream_pyav,
    "ffmpeg": _stream_ffmpeg,
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


def _wav_declared_frames(p: Path) -> int | None:
    """Frames a RIFF/WAVE header promises (data chunk size / block align), or None."""
    try:
        with open(p, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            block_align = None
            while True:
                ch = f.read(8)
                if len(ch) < 8:
                    return None
                cid, size = ch[:4], int.from_bytes(ch[4:], "little")
                if cid == b"fmt ":
                    fmt = f.read(size)
                    block_align = int.from_bytes(fmt[12:14], "little")
                    if size % 2:
                        f.seek(1, 1)
                elif cid == b"data":
                    if not block_align or size == 0xFFFFFFFF:
                        return None
                    return size // block_align
                else:
                    f.seek(size + (size % 2), 1)
    except OSError:
        return None


# --------------------------------------------------------------------------
# What a path is, and what a file's first bytes say it is
# --------------------------------------------------------------------------


def check_audio_path(path) -> Path:
    """``path`` as a :class:`Path`, once it is known to be a regular, non-empty, readable file.

    Only ``stat`` is called, never ``open``, until the path is known to be a
    regular file: opening a named pipe would wait for a writer forever.

    Raises
    ------
    AudioLoadError
        :class:`~workbench.errors.AudioFileNotFoundError` for a missing
        path, a folder or a link to nothing; :class:`~workbench.errors.EmptyAudioError`
        for 0 bytes; ``AudioLoadError`` itself for a link loop, a pipe,
        socket or device, or a file that cannot be read. Each names the
        path and says what it is.
    """
    p = Path(path)
    name = str(p)
    try:
        st = os.stat(p)
    except OSError as exc:
        raise _path_error(p, exc) from None
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise AudioFileNotFoundError(f"{name}: is a folder, not an audio file.", path=name)
    if not stat.S_ISREG(mode):
        kind = _special_kinds(mode)
        raise AudioLoadError(
            f"{name}: is {kind}, not a regular file; the workbench reads audio from files. "
            "Save the audio to a file first (e.g. ffmpeg -i <source> clip.wav) and pass that.",
            path=name,
        )
    if st.st_size == 0:
        raise EmptyAudioError(
            f"{name}: the file is empty (0 bytes); it was probably not written completely. Re-export or re-download it.", path=name
        )
    try:
        with open(p, "rb"):
            pass
    except OSError as exc:
        raise AudioLoadError(f"{name}: cannot be read ({exc.strerror or exc}); check its permissions.", path=name) from None
    return p


def _special_kinds(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "a special file"


def _path_error(p: Path, exc: OSError) -> AudioLoadError:
    """Why ``stat`` failed, in words: missing, a link to nothing, a link loop, a file used as a folder..."""
    name = str(p)
    if exc.errno == errno.ELOOP:
        return AudioLoadError(
            f"{name}: is a symbolic link that loops (it leads, directly or through other links, back to itself), so it names no file. "
            "Point it at the audio file, or pass the file's own path.",
            path=name,
        )
    if p.is_symlink():
        return AudioFileNotFoundError(
            f"{name}: is a symbolic link to {os.readlink(p)}, which does not exist. "
            "Point it at the audio file, or pass the file's own path.",
            path=name,
        )
    if exc.errno == errno.ENOTDIR:
        return AudioFileNotFoundError(f"{name}: no such file: a part of the path is a file, not a folder. Check the path.", path=name)
    if exc.errno == errno.ENOENT:
        return AudioFileNotFoundError(f"{name}: no such file. Check the path (and its folder) and try again.", path=name)
    return AudioLoadError(f"{name}: cannot be read ({exc.strerror or exc}); check the path and its permissions.", path=name)


#: First bytes (at an offset) that announce an audio format.
_SIGNATURES = (
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "Ogg"),
    (0, b"ID3", "MP3"),
    (4, b"ftyp", "MP4/M4A"),
    (0, b"caff", "CAF"),
    (0, b"\x1aE\xdf\xa3", "Matroska/WebM"),
    (0, b"#!AMR", "AMR"),
    (0, bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"), "ASF/WMA"),
)
#: MPEG audio frame headers: MP3 (MPEG-1, -2, -2.5 layer III) and ADTS AAC.
_MPEG_SYNC = {b"\xff\xfb", b"\xff\xfa", b"\xff\xf3", b"\xff\xf2", b"\xff\xe3", b"\xff\xe2", b"\xff\xf1", b"\xff\xf9"}


def _audio_signature(p: Path) -> str | None:
    """The audio format ``p``'s first bytes announce (``"WAV"``, ``"MP4/M4A"``...), or ``None``."""
    with open(p, "rb") as f:
        head = f.read(16)
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and (head[8:12] == b"WAVE" or len(head) < 12):
        return "WAV"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    for offset, magic, fmt in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return fmt
    if head[:2] in _MPEG_SYNC:
        return "MPEG audio (MP3 or AAC)"
    return None


def _looks_like_text(p: Path) -> bool:
    with open(p, "rb") as f:
        head = f.read(512)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch >= 9 for ch in head)


def _content_hint(p: Path) -> str:
    with open(p, "rb") as f:
        head = f.read(64)
    low = head.lstrip().lower()
    if low.startswith((b"<!doctype html", b"<html")):
        return " (it is an HTML page, perhaps a download link's error page)"
    if low.startswith((b"version https://git-lfs", b"version https")):
        return " (it is a Git LFS pointer; run 'git lfs pull')"
    if _looks_like_text(p):
        return " (it contains text)"
    return ""


# --------------------------------------------------------------------------
# Comparing decoders on the same file
# --------------------------------------------------------------------------


@dataclass
class DecoderComparison:
    """How two decoders' output for the same file differ.

    ``offset_samples`` > 0 means ``other`` lags ``reference`` by that many
    samples (typical of MP3 decoders that do not trim the encoder's priming).
    """

    path: str
    reference: str
    other: str
    sample_rate: int
    reference_frames: int
    other_frames: int
    offset_samples: int
    offset_ms: float
    level_difference_db: float
    residual_db: float

    def to_dict(self) -> dict:
        return asdict(self)


def check_backends(names, what: str = "backends") -> list[str]:
    """``names`` (a list, or one comma-separated string) as a list of known decoder names.

    Raises
    ------
    AudioLoadError
        An empty list, or a name that is not one of :data:`BACKENDS`; the
        message lists the valid names.
    """
    if isinstance(names, str):
        names = names.split(",")
    out = [str(n).strip() for n in names]
    valid = ", ".join(BACKENDS)
    if not out or not all(out):
        raise AudioLoadError(f"{what}: an empty decoder name in {','.join(out)!r}; choose from: {valid} (comma-separated)")
    unknown = [n for n in out if n not in BACKENDS]
    if unknown:
        raise AudioLoadError(f"{what}: unknown decoder {unknown[0]!r}; choose from: {valid} (comma-separated)")
    return out


def compare_decoders(
    path, backends: Sequence[str] | None = None, *, reference=None, channel="mean", max_seconds: float = 30.0
) -> list[DecoderComparison]:
    """Decode ``path`` with several backends and measure how their outputs differ.

    Parameters
    ----------
    backends : sequence of str, optional
        Defaults to every available backend. Without ``reference`` the first
        one is the reference the others are compared with.
    reference : path, optional
        A file to compare every decoder with instead, typically the lossless
        original an MP3 was made from: the offset then shows each decoder's
        handling of the encoder's priming samples.
    max_seconds : float
        Length of audio used to find the alignment offset.

    Returns
    -------
    list of DecoderComparison
        Sample offset, level difference (dB, RMS) and the residual after
        alignment (dB relative to the reference).

    Raises
    ------
    AudioLoadError
        An unknown backend name, fewer than two backends (without a
        reference), a file a backend cannot read, or two decoders that
        disagree on the sample rate.
    """
    from .audio import load_audio

    status = backend_status()
    names = check_backends(backends) if backends else [b for b in BACKENDS if status[b][0]]
    if len(names) < (1 if reference else 2):
        raise AudioLoadError(
            f"comparing decoders needs two backends (or a reference file); "
            f"{'given' if backends else 'available here'}: {', '.join(names) or 'none'}",
            path=str(path),
        )
    clips = {b: load_audio(path, backend=b, channel=channel) for b in names}
    if reference is not None:
        ref_name, ref = f"file {Path(reference).name}", load_audio(reference, channel=channel)
        others = names
    else:
        ref_name, ref = names[0], clips[names[0]]
        others = names[1:]
    out = []
    for b in others:
        other = clips[b]
        if other.sample_rate != ref.sample_rate:
            raise AudioLoadError(
                f"{path}: {b} decoded at {other.sample_rate} Hz but {ref_name} is {ref.sample_rate} Hz; cannot align them", path=str(path)
            )
        out.append(_compare(str(path), ref_name, ref, b, other, max_seconds))
    return out


def _to_db(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def _compare(path, ref_name, ref, other_name, other, max_seconds) -> DecoderComparison:
    from scipy.signal import correlate

    a, b = ref.mono.astype(np.float64), other.mono.astype(np.float64)
    n = min(len(a), len(b), int(max_seconds * ref.sample_rate))
    max_lag = min(n // 2, int(0.2 * ref.sample_rate))  # decoders differ by milliseconds, not seconds
    xc = correlate(b[:n], a[:n], mode="full", method="fft")
    lags = np.arange(-n + 1, n)
    window = np.abs(lags) <= max_lag
    lag = int(lags[window][np.argmax(xc[window])])
    if lag >= 0:
        a_al, b_al = a[: len(b) - lag] if lag else a, b[lag:]
    else:
        a_al, b_al = a[-lag:], b
    m = min(len(a_al), len(b_al))
    a_al, b_al = a_al[:m], b_al[:m]
    level = _to_db(np.sqrt(np.mean(b_al**2))) - _to_db(np.sqrt(np.mean(a_al**2)))
    resid = _to_db(np.sqrt(np.mean((b_al - a_al) ** 2))) - _to_db(np.sqrt(np.mean(a_al**2)))
    return DecoderComparison(
        path=path,
        reference=ref_name,
        other=other_name,
        sample_rate=ref.sample_rate,
        reference_frames=ref.num_frames,
        other_frames=other.num_frames,
        offset_samples=lag,
        offset_ms=1000.0 * lag / ref.sample_rate,
        level_difference_db=float(level),
        residual_db=float(resid),
    )
