"""Audio loading: from a file on disk to a :class:`Clip` of float32 samples.

Every step between a file and the model can change a transcript, so this
module makes the steps explicit and records them:

* which **decoder** read the file (TorchCodec, soundfile, PyAV or the
  ``ffmpeg`` binary) and why the others were skipped;
* how **channels** were handled (mean mix, first channel, a chosen channel);
* what the file declared (codec, rate, channels, bit depth, duration).

The decoders themselves are in :mod:`workbench.decoders`; what they need
from FFmpeg, and how to install it, in :mod:`workbench.ffmpeg`.

Examples
--------
>>> clip = load_audio("speech.flac")                    # doctest: +SKIP
>>> clip.info.decoder, clip.sample_rate, clip.samples.shape   # doctest: +SKIP
('soundfile', 44100, (1, 485100))
>>> whisper_in = clip.resample(SAMPLE_RATE)             # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .constants import SAMPLE_RATE
from .decoders import (  # noqa: F401  (PARALLEL_DECODE_SECONDS, _decode_threads: re-exported)
    _DECODERS,
    BACKENDS,
    PARALLEL_DECODE_SECONDS,
    _decode_threads,
    _Decoded,
    _DecodeFailed,
    _NotRecognised,
    _Unavailable,
    backend_status,
)
from .errors import (
    AudioFileNotFoundError,
    AudioLoadError,
    AudioWarning,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    SampleRateError,
    UnsupportedCodecError,
    first_line,
    install_hint,
)
from .ffmpeg import explain_torchcodec_error, ffmpeg_binary, torchcodec_status  # noqa: F401  (re-exported)

#: Sample rates outside this range are treated as a broken header.
MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 768_000
#: A clip whose peak is below this level (dBFS) is reported as silent.
SILENCE_DBFS = -80.0
#: A mean mix this far below the channels' own level means they cancel.
CANCELLATION_DB = -20.0

#: Formats whose headers state the exact frame count, so truncation is detectable.
_LOSSLESS_WITH_EXACT_LENGTH = {"wav", "flac", "aiff", "aif", "w64", "rf64"}
#: Containers libsndfile does not read; an FFmpeg-based backend is needed.
_FFMPEG_ONLY_SUFFIXES = {".m4a", ".mp4", ".aac", ".wma", ".webm", ".amr", ".ac3", ".mkv", ".mka", ".3gp"}


# --------------------------------------------------------------------------
# Data classes
# --------------------------------------------------------------------------


@dataclass
class AudioInfo:
    """What is known about where a clip's samples came from.

    Attributes
    ----------
    path : str or None
        The file read, or ``None`` for arrays built in memory.
    decoder : str
        Backend that produced the samples (``"soundfile"``, ``"torchcodec"``...).
    decoder_version : str
        Version string of that backend and the library below it.
    codec, container : str or None
        As reported by the decoder (e.g. ``"flac"``, ``"mp3"``).
    original_sample_rate, original_channels : int
        What the file declared, before any processing.
    frames : int
        Frames decoded (per channel).
    duration : float
        Seconds of audio decoded.
    bit_depth : int or None
        Bits per sample where the format says (16, 24, 32...); ``None`` for
        lossy codecs.
    sample_format : str or None
        The decoder's sample format (``"PCM_16"``, ``"s32"``, ``"fltp"``...).
    channel_mode : str
        How channels were turned into ``Clip.samples``.
    channel_levels_dbfs : list of float
        RMS level of each original channel.
    attempts : dict
        Every backend considered, mapped to ``"ok"`` or why it was skipped.
    warnings : list of str
        Suspicious but usable findings (silence, cancelling channels...).
    history : list of dict
        Processing steps applied after decoding (resampling, relabelling...).
    """

    path: str | None = None
    decoder: str = "memory"
    decoder_version: str = ""
    codec: str | None = None
    container: str | None = None
    original_sample_rate: int = 0
    original_channels: int = 0
    frames: int = 0
    duration: float = 0.0
    bit_depth: int | None = None
    sample_format: str | None = None
    channel_mode: str = "all"
    channel_levels_dbfs: list[float] = field(default_factory=list)
    attempts: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Clip:
    """Decoded audio plus the record of how it was obtained.

    Attributes
    ----------
    samples : np.ndarray
        float32, shape ``(channels, frames)``, nominally in [-1, 1].
    sample_rate : int
        Samples per second of ``samples`` (which may differ from the file's
        original rate after resampling, or be deliberately wrong after the
        ``mislabelled`` teaching resampler).
    info : AudioInfo
        Provenance: decoder, codec, original rate, channel handling, history.
    """

    samples: np.ndarray
    sample_rate: int
    info: AudioInfo = field(default_factory=AudioInfo)

    @classmethod
    def from_array(cls, samples, sample_rate: int, *, name: str | None = None) -> "Clip":
        """Wrap an in-memory array (1-D mono, or ``(channels, frames)``)."""
        arr = np.asarray(samples, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise ValueError(f"samples must be 1-D or (channels, frames); got shape {arr.shape}")
        rate = _check_rate(int(sample_rate), name or "array")
        info = AudioInfo(
            path=name,
            original_sample_rate=rate,
            original_channels=arr.shape[0],
            frames=arr.shape[1],
            duration=arr.shape[1] / rate,
            channel_levels_dbfs=[_rms_dbfs(c) for c in arr],
        )
        return cls(np.ascontiguousarray(arr), rate, info)

    @property
    def num_channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def num_frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds *as labelled* (frames / sample_rate)."""
        return self.num_frames / self.sample_rate

    @property
    def mono(self) -> np.ndarray:
        """1-D float32 view: the single channel, or the mean of all channels."""
        if self.num_channels == 1:
            return self.samples[0]
        return _mean_mix(self.samples)

    def resample(self, target_sr: int = SAMPLE_RATE, method: str | None = None) -> "Clip":
        """Return a new clip at ``target_sr`` made with a named resampler.

        The step is appended to ``info.history`` so any result can be traced
        back to the resampler that produced it. See :mod:`workbench.resampling`.
        """
        from .resampling import DEFAULT_RESAMPLER, RESAMPLERS, resample

        method = method or DEFAULT_RESAMPLER
        out = resample(self.samples, self.sample_rate, target_sr, method=method)
        step = {"step": "resample", "method": method, "from_rate": self.sample_rate, "to_rate": int(target_sr)}
        if RESAMPLERS[method].kind == "mislabel":
            step["note"] = "samples untouched, rate relabelled: plays slower and lower"
        info = replace(self.info, history=[*self.info.history, step])
        return Clip(out, int(target_sr), info)

    def to_whisper_input(self) -> dict:
        """``{"array", "sampling_rate"}`` as a transformers ASR pipeline expects."""
        return {"array": np.ascontiguousarray(self.mono), "sampling_rate": self.sample_rate}


# --------------------------------------------------------------------------
# load_audio
# --------------------------------------------------------------------------


def load_audio(
    path: str | os.PathLike,
    backend: str = "auto",
    *,
    channel: str | int = "mean",
    assume_sample_rate: int | None = None,
    allow_truncated: bool = False,
    backends: Sequence[str] | None = None,
) -> Clip:
    """Decode an audio file into a :class:`Clip`.

    Parameters
    ----------
    path : str or PathLike
        The file. Non-ASCII paths (e.g. ``粤语测试/clip.wav``) work.
    backend : {"auto", "soundfile", "torchcodec", "pyav", "ffmpeg"}
        Decoder to use. ``"auto"`` tries :data:`BACKENDS` in order and records
        why each one before the winner was skipped.
    channel : {"mean", "first", "all"} or int
        ``"mean"`` (default) averages channels into mono, as most pipelines
        do; ``"first"`` keeps channel 0; an int keeps that channel (0-based,
        negative counts from the end); ``"all"`` keeps every channel. An
        index the file does not have (``channel=1`` on a mono file) raises
        :class:`~workbench.errors.AudioLoadError` rather than quietly
        returning another channel.
    assume_sample_rate : int, optional
        Relabel the audio with this rate instead of the file's. Use it when a
        header is known to be wrong; the relabelling is recorded in history.
    allow_truncated : bool
        Return the frames that are present instead of raising
        :class:`~workbench.errors.CorruptAudioError` when a lossless file is
        shorter than its header says.
    backends : sequence of str, optional
        Restrict ``"auto"`` to these backends, in this order.

    Returns
    -------
    Clip

    Raises
    ------
    AudioLoadError
        A subclass that names the file and says what to do: missing, empty,
        not audio, corrupt/truncated, unsupported codec, absurd sample rate,
        a channel index the file does not have.
    """
    p = Path(path)
    name = str(p)
    if not p.exists():
        raise AudioFileNotFoundError(f"{name}: no such file. Check the path (and its folder) and try again.", path=name)
    if p.is_dir():
        raise AudioFileNotFoundError(f"{name}: is a folder, not an audio file.", path=name)
    size = p.stat().st_size
    if size == 0:
        raise EmptyAudioError(
            f"{name}: the file is empty (0 bytes); it was probably not written completely. Re-export or re-download it.", path=name
        )

    order = _backend_order(backend, backends)
    attempts: dict[str, str] = {}
    failures: dict[str, Exception] = {}
    decoded: _Decoded | None = None
    used = None
    for b in order:
        try:
            decoded = _DECODERS[b](p)
        except (_Unavailable, _NotRecognised, _DecodeFailed) as exc:
            attempts[b] = f"{_kind(exc)}: {exc}"
            failures[b] = exc
            continue
        except Exception as exc:  # a decoder's own bug must not become the user's traceback
            attempts[b] = f"failed unexpectedly: {type(exc).__name__}: {first_line(exc)}"
            failures[b] = _NotRecognised(first_line(exc))
            continue
        attempts[b] = "ok"
        used = b
        break
    if decoded is None:
        raise _explain_failure(p, order, failures, attempts, forced=backend != "auto")

    return _finish(p, decoded, used, attempts, channel, assume_sample_rate, allow_truncated)


def _backend_order(backend: str, backends: Sequence[str] | None) -> list[str]:
    if backend == "auto":
        order = list(backends) if backends else list(BACKENDS)
    else:
        order = [backend]
    unknown = [b for b in order if b not in _DECODERS]
    if unknown:
        raise ValueError(f"unknown audio backend {unknown[0]!r}; choose one of: auto, {', '.join(BACKENDS)}")
    return order


def _kind(exc: Exception) -> str:
    return {"_Unavailable": "unavailable", "_NotRecognised": "not recognised", "_DecodeFailed": "decode failed"}[type(exc).__name__]


def _explain_failure(p: Path, order, failures, attempts, forced: bool) -> AudioLoadError:
    name = str(p)
    tried = "; ".join(f"{b}: {attempts[b]}" for b in order)
    corrupt = [b for b in order if isinstance(failures.get(b), _DecodeFailed)]
    recognised_nowhere = all(isinstance(failures.get(b), (_NotRecognised, _Unavailable)) for b in order)
    unavailable = [b for b in order if isinstance(failures.get(b), _Unavailable)]
    suffix = p.suffix.lower()

    if corrupt:
        return CorruptAudioError(
            f"{name}: the file is recognised as audio but its data is damaged or truncated "
            f"({failures[corrupt[0]]}). Re-export or re-download it. Tried: {tried}",
            path=name,
            attempts=attempts,
        )
    # Could another backend (not tried, or unavailable) read it?
    others = _backends_that_could_read(suffix, exclude=[b for b in order if b not in unavailable])
    ffmpeg_needed = suffix in _FFMPEG_ONLY_SUFFIXES
    if forced and others:
        return UnsupportedCodecError(
            f"{name}: the {order[0]} backend cannot read this file ({attempts[order[0]]}). "
            f"Backends here that would: {', '.join(others)} (use backend='auto' or name one).",
            path=name,
            attempts=attempts,
        )
    if recognised_nowhere and (unavailable or ffmpeg_needed) and not _looks_like_text(p):
        if ffmpeg_needed or unavailable:
            status = backend_status()
            needs = [b for b in ("torchcodec", "pyav", "ffmpeg") if b in BACKENDS]
            why = "; ".join(f"{b}: {status[b][1]}" for b in needs if not status[b][0]) or tried
            if ffmpeg_needed or not others:
                return UnsupportedCodecError(
                    f"{name}: no decoder available here reads {suffix or 'this format'} files. "
                    f"They need an FFmpeg-based backend (torchcodec, pyav or the ffmpeg binary), and none is usable: {why}. "
                    f"Install FFmpeg ('apt-get install ffmpeg' / 'conda install -c conda-forge ffmpeg') or '{install_hint('av')}'.",
                    path=name,
                    attempts=attempts,
                )
    hint = _content_hint(p)
    return NotAudioError(
        f"{name}: not an audio file any decoder here recognises{hint}. Check that it is the file you meant. Tried: {tried}",
        path=name,
        attempts=attempts,
    )


def _backends_that_could_read(suffix: str, exclude: Iterable[str]) -> list[str]:
    status = backend_status()
    out = []
    for b in BACKENDS:
        if b in exclude or not status[b][0]:
            continue
        if b == "soundfile" and suffix in _FFMPEG_ONLY_SUFFIXES:
            continue
        out.append(b)
    return out


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


def _finish(p: Path, d: _Decoded, used: str, attempts, channel, assume_sample_rate, allow_truncated) -> Clip:
    name = str(p)
    data = d.samples
    if data.ndim != 2 or data.shape[1] == 0:
        raise EmptyAudioError(f"{name}: the file is valid {d.codec or 'audio'} but contains no audio frames.", path=name, attempts=attempts)
    container = (d.container or p.suffix.lstrip(".")).lower()
    exact = any(k in container for k in _LOSSLESS_WITH_EXACT_LENGTH) or p.suffix.lower().lstrip(".") in _LOSSLESS_WITH_EXACT_LENGTH
    declared = d.declared_frames
    if exact and p.suffix.lower() in (".wav", ".wave"):
        declared = _wav_declared_frames(p) or declared
    have = data.shape[1]
    if exact and declared and have < declared and (declared - have) > max(16, 0.001 * declared):
        msg = (
            f"{name}: truncated: its header declares {declared} frames ({declared / d.sample_rate:.2f} s) "
            f"but only {have} ({have / d.sample_rate:.2f} s) are present; the copy or download was cut short."
        )
        if not allow_truncated:
            raise CorruptAudioError(
                msg + " Re-export it, or pass allow_truncated=True to use the part that is there.", path=name, attempts=attempts
            )
    rate = d.sample_rate
    history: list[dict] = []
    if assume_sample_rate:
        history.append({"step": "relabel", "from_rate": rate, "to_rate": int(assume_sample_rate), "reason": "assume_sample_rate"})
        rate = int(assume_sample_rate)
    if not (MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE):
        raise SampleRateError(
            f"{name}: declares a sample rate of {_fmt_rate(rate)}, outside {_fmt_rate(MIN_SAMPLE_RATE)}–{_fmt_rate(MAX_SAMPLE_RATE)}; "
            "the header is almost certainly wrong. If you know the true rate, pass assume_sample_rate=<Hz>.",
            path=name,
            attempts=attempts,
        )

    levels = [_rms_dbfs(c) for c in data]
    warns: list[str] = []
    if exact and declared and have < declared and allow_truncated:
        warns.append(f"truncated: {have} of {declared} frames present")
    mix = _mean_mix(data) if data.shape[0] > 1 else None
    samples, mode = _select_channels(data, channel, name, mix, attempts)
    warns += _channel_warnings(levels, mix)
    peak = max(float(data.max()), -float(data.min()))  # the file's channels: a mix that cancels is reported above
    if _to_db(peak) < SILENCE_DBFS:
        warns.append(f"silent: peak level {_to_db(peak):.0f} dBFS; there is nothing to transcribe")
    for w in warns:
        warnings.warn(f"{name}: {w}", AudioWarning, stacklevel=3)

    info = AudioInfo(
        path=name,
        decoder=used,
        decoder_version=d.version,
        codec=d.codec,
        container=d.container,
        original_sample_rate=d.sample_rate,
        original_channels=int(data.shape[0]),
        frames=int(have),
        duration=have / rate,
        bit_depth=d.bit_depth,
        sample_format=d.sample_format,
        channel_mode=mode,
        channel_levels_dbfs=levels,
        attempts=attempts,
        warnings=warns,
        history=history,
    )
    return Clip(samples, rate, info)


def _mean_mix(data: np.ndarray) -> np.ndarray:
    """Average of the channels, (frames,), as one BLAS matrix-vector product."""
    weights = np.full(data.shape[0], 1.0 / data.shape[0], dtype=np.float32)
    return weights @ data


def _select_channels(data: np.ndarray, channel, name: str, mix: np.ndarray | None, attempts=None) -> tuple[np.ndarray, str]:
    n = data.shape[0]
    is_index = isinstance(channel, (int, np.integer)) and not isinstance(channel, bool)
    if not (is_index or channel in ("mean", "first", "all")):
        raise ValueError(f"channel must be 'mean', 'first', 'all' or a channel index; got {channel!r}")
    if is_index and not -n <= channel < n:
        # A silent fallback to another channel would hide the mistake: the
        # transcript would come from audio the caller did not ask for.
        has = "1 channel (mono)" if n == 1 else f"{n} channels"
        instead = "channel=0, 'first' or 'mean'" if n == 1 else f"channel=0..{n - 1}, 'mean', 'first' or 'all'"
        raise AudioLoadError(
            f"{name}: has {has}; channel={int(channel)} does not exist. Pass {instead} instead.",
            path=name,
            attempts=attempts,
        )
    if channel == "all":
        return data.copy(order="C") if not data.flags.c_contiguous else data, "all"
    if n == 1:
        return data.copy(order="C") if not data.flags.c_contiguous else data, "mono"
    if channel == "mean":
        return mix[None, :], f"mean of {n}"
    if channel == "first":
        channel = 0
    return np.ascontiguousarray(data[int(channel)])[None, :], f"channel {int(channel) % n} of {n}"


def _channel_warnings(levels: list[float], mix: np.ndarray | None) -> list[str]:
    if mix is None:
        return []
    n = len(levels)
    out = []
    live = [lv for lv in levels if lv > SILENCE_DBFS]
    for i, lv in enumerate(levels):
        if lv <= SILENCE_DBFS and live:
            out.append(
                f"channel {i} of {n} is silent ({lv:.0f} dBFS): a mean mix is about "
                f"{20 * math.log10(n):.0f} dB quieter than the live channel; consider channel=<live channel>"
            )
    if live:
        mix_db = _rms_dbfs(mix)
        chan_db = _to_db(math.sqrt(np.mean([10 ** (lv / 10) for lv in levels])))
        if mix_db - chan_db < CANCELLATION_DB:
            out.append(
                f"channels cancel when mixed (mix {mix_db:.0f} dBFS vs channels {chan_db:.0f} dBFS): "
                "the stereo is phase-inverted; use channel='first' instead of a mean mix"
            )
    return out


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
    """
    status = backend_status()
    names = list(backends) if backends else [b for b in BACKENDS if status[b][0]]
    if len(names) < (1 if reference else 2):
        raise ValueError(f"comparing decoders needs two available backends (or a reference file); available here: {names}")
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
            raise ValueError(f"{path}: {b} decoded at {other.sample_rate} Hz but {ref_name} is {ref.sample_rate} Hz; cannot align")
        out.append(_compare(str(path), ref_name, ref, b, other, max_seconds))
    return out


def _compare(path, ref_name, ref: Clip, other_name, other: Clip, max_seconds) -> DecoderComparison:
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


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _to_db(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def _rms_dbfs(x: np.ndarray) -> float:
    """RMS level of a 1-D signal in dBFS (a BLAS dot product: no temporary arrays)."""
    if x.size == 0:
        return -math.inf
    x = np.asarray(x, dtype=np.float32)
    return _to_db(math.sqrt(max(float(np.dot(x, x)), 0.0) / x.size))


def _fmt_rate(rate: int) -> str:
    if rate >= 1_000_000:
        return f"{rate / 1e6:g} MHz"
    if rate >= 1000:
        return f"{rate / 1e3:g} kHz"
    return f"{rate} Hz"


def _check_rate(rate: int, name: str) -> int:
    if not (MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE):
        raise SampleRateError(
            f"{name}: a sample rate of {_fmt_rate(rate)} is outside {_fmt_rate(MIN_SAMPLE_RATE)}–{_fmt_rate(MAX_SAMPLE_RATE)}.", path=name
        )
    return rate
