"""Audio loading: from a file on disk to a :class:`Clip` of float32 samples.

Every step between a file and the model can change a transcript, so this
module makes the steps explicit and records them:

* which **decoder** read the file (TorchCodec, soundfile, PyAV or the
  ``ffmpeg`` binary) and why the others were skipped;
* how **channels** were handled (mean mix, first channel, a chosen channel);
* what the file declared (codec, rate, channels, bit depth, duration);
* what is wrong with it: a path that is not a regular file, a file cut
  short, samples that are not numbers (NaN, infinity), levels beyond full
  scale, silence, channels that cancel.

Long files are decoded in blocks rather than at once: ``load_audio(path,
target_rate=16000)`` resamples block by block with a streaming resampler,
and :func:`probe_audio` measures a file without keeping its samples, so
memory does not grow with the file's length (see :data:`STREAM_BYTES`).

The decoders themselves are in :mod:`workbench.decoders`; what they need
from FFmpeg, and how to install it, in :mod:`workbench.ffmpeg`.

Examples
--------
>>> clip = load_audio("speech.flac")                    # doctest: +SKIP
>>> clip.info.decoder, clip.sample_rate, clip.samples.shape   # doctest: +SKIP
('soundfile', 44100, (1, 485100))
>>> whisper_in = clip.resample(SAMPLE_RATE)             # doctest: +SKIP
>>> long = load_audio("meeting.flac", target_rate=SAMPLE_RATE)   # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .audiocheck import BlockMeter
from .constants import SAMPLE_RATE
from .decoders import (  # noqa: F401  (PARALLEL_DECODE_SECONDS, _decode_threads, _compare...: re-exported)
    _DECODERS,
    _STREAMERS,
    BACKENDS,
    PARALLEL_DECODE_SECONDS,
    DecoderComparison,
    _audio_signature,
    _compare,
    _content_hint,
    _decode_threads,
    _Decoded,
    _DecodeFailed,
    _looks_like_text,
    _NotRecognised,
    _Stream,
    _Unavailable,
    _wav_declared_frames,
    backend_status,
    check_audio_path,
    check_backends,
    compare_decoders,
)
from .errors import (
    AudioFileNotFoundError,  # noqa: F401  (re-exported)
    AudioLoadError,
    AudioWarning,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    ResampleError,
    SampleRateError,  # noqa: F401  (re-exported)
    UnsupportedCodecError,
    WorkbenchError,
    first_line,
    install_hint,
)
from .ffmpeg import explain_torchcodec_error, ffmpeg_binary, torchcodec_status  # noqa: F401  (re-exported)
from .resampling import (  # noqa: F401  (MIN_SAMPLE_RATE, MAX_SAMPLE_RATE: re-exported)
    DEFAULT_RESAMPLER,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    RESAMPLERS,
    ResampledBlocks,
    check_resampler,
    check_sample_rate,
    resample,
)

#: A clip whose peak is below this level (dBFS) is reported as silent.
SILENCE_DBFS = -80.0
#: A mean mix this far below the channels' own level means they cancel.
CANCELLATION_DB = -20.0
#: A peak this far above full scale (dB) is reported: float data not scaled to [-1, 1].
#: (Lossy decoders overshoot a loud master by a fraction of a dB; that is not reported.)
OVER_FULL_SCALE_DB = 1.0
#: What ``non_finite=`` accepts: refuse a file with NaN or infinite samples, or replace them with 0.
NON_FINITE_CHOICES = ("error", "zero")
#: A file whose decoded samples (float32, every channel) would take more than this many bytes
#: is read in blocks when it is resampled or probed (256 MiB: about 11 minutes of 48 kHz stereo).
STREAM_BYTES = 256 << 20
#: A lossy file that decodes this much shorter than its header declares (fraction, and at least
#: this many seconds) is reported as cut short. Decoders differ from headers by milliseconds.
LOSSY_SHORT_FRACTION = 0.05
LOSSY_SHORT_SECONDS = 0.5
#: Channel choices besides an index.
CHANNEL_CHOICES = ("mean", "first", "all")
#: Frames measured at a time when a whole decoded file is checked (bounds temporary arrays).
_MEASURE_FRAMES = 1 << 20

#: Formats whose headers state the exact frame count, so truncation is detectable.
_LOSSLESS_WITH_EXACT_LENGTH = {"wav", "flac", "aiff", "aif", "w64", "rf64"}
#: Containers libsndfile does not read; an FFmpeg-based backend is needed.
_FFMPEG_ONLY_SUFFIXES = {".m4a", ".mp4", ".aac", ".wma", ".webm", ".amr", ".ac3", ".mkv", ".mka", ".3gp"}
#: Formats known by their first bytes but read only by the FFmpeg-based backends.
_FFMPEG_ONLY_SIGNATURES = {"MP4/M4A", "Matroska/WebM", "ASF/WMA", "AMR"}


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
    peak_dbfs : float or None
        Highest sample magnitude of the original channels, in dBFS (above 0
        for float data beyond full scale; ``-inf`` for digital silence).
    non_finite_samples : int
        Samples that were NaN or infinite and replaced with 0
        (``non_finite="zero"``); such a file is refused otherwise.
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
    peak_dbfs: float | None = None
    non_finite_samples: int = 0
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
            raise AudioLoadError(f"{name or 'array'}: samples must be 1-D or (channels, frames); got shape {arr.shape}", path=name)
        rate = check_sample_rate(int(sample_rate), name or "array")
        info = AudioInfo(
            path=name,
            original_sample_rate=rate,
            original_channels=arr.shape[0],
            frames=arr.shape[1],
            duration=arr.shape[1] / rate,
            channel_levels_dbfs=[_rms_dbfs(c) for c in arr],
            peak_dbfs=_to_db(float(np.max(np.abs(arr)))) if arr.size else None,
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
# load_audio and probe_audio
# --------------------------------------------------------------------------


def load_audio(
    path: str | os.PathLike,
    backend: str = "auto",
    *,
    channel: str | int = "mean",
    assume_sample_rate: int | None = None,
    allow_truncated: bool = False,
    backends: Sequence[str] | None = None,
    non_finite: str = "error",
    target_rate: int | None = None,
    resampler: str | None = None,
    stream: bool | None = None,
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
        shorter than its header says. (A lossy file that decodes much
        shorter than its header declares always loads, with a warning.)
    backends : sequence of str, optional
        Restrict ``"auto"`` to these backends, in this order.
    non_finite : {"error", "zero"}
        Samples that are NaN or infinite (a damaged float file) are refused
        with their count and the time of the first (``"error"``, the
        default), or replaced with 0, warned about and counted in
        ``info.non_finite_samples`` (``"zero"``).
    target_rate : int, optional
        Return the audio resampled to this rate with ``resampler``, as
        ``load_audio(path).resample(target_rate, resampler)`` would, the step
        recorded in history. A long file is then decoded and resampled block
        by block (see ``stream``), so memory holds the result, not the file.
    resampler : str, optional
        A key of :data:`~workbench.resampling.RESAMPLERS` (default
        :data:`~workbench.resampling.DEFAULT_RESAMPLER`); used with
        ``target_rate``. The soxr resamplers stream; the others need the
        whole file in memory.
    stream : bool, optional
        Decode in blocks (``True``), at once (``False``), or in blocks when
        the decoded file would exceed :data:`STREAM_BYTES` (``None``, the
        default). Streaming applies with ``target_rate`` and a resampler
        that streams; soundfile, PyAV and the ffmpeg binary stream,
        TorchCodec does not. The samples are identical either way.

    Returns
    -------
    Clip

    Raises
    ------
    AudioLoadError
        A subclass that names the file and says what to do: missing, a
        folder, a link that leads nowhere, a pipe or device, empty, not
        audio, corrupt/truncated, NaN or infinite samples, unsupported codec,
        absurd sample rate, a channel the file does not have, an unknown
        backend or channel choice.
    ResampleError
        ``target_rate`` out of range, or an unknown or unavailable resampler.

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> from workbench.signals import tone
    >>> path = tempfile.mkdtemp() + "/a.wav"
    >>> sf.write(path, tone(440, sr=48_000, duration=1.0), 48_000)
    >>> clip = load_audio(path, target_rate=16_000)
    >>> clip.sample_rate, clip.num_frames, clip.info.history[-1]["method"]
    (16000, 16000, 'soxr_hq')
    """
    p = check_audio_path(path)
    o = _options(p, backend, backends, channel, assume_sample_rate, allow_truncated, non_finite, target_rate, resampler, stream)
    if o.target_rate is not None and o.stream is not False and RESAMPLERS[o.resampler].streams:
        clip = _load_streamed(p, o, keep=True)
        if clip is not None:
            return clip
    clip = _load_whole(p, o)
    if o.target_rate is not None and clip.sample_rate != o.target_rate:
        clip = clip.resample(o.target_rate, o.resampler)
    return clip


def probe_audio(
    path: str | os.PathLike,
    backend: str = "auto",
    *,
    channel: str | int = "mean",
    assume_sample_rate: int | None = None,
    allow_truncated: bool = False,
    backends: Sequence[str] | None = None,
    non_finite: str = "error",
    stream: bool | None = None,
) -> AudioInfo:
    """What :func:`load_audio` would report about a file, without keeping its samples.

    The header is read, and the samples are decoded only to be measured
    (levels, peak, NaN or infinite samples, length against the header): a
    long file (see :data:`STREAM_BYTES`) block by block, so a two-hour
    recording takes the memory of one block. The same warnings are issued
    and the same errors raised as by :func:`load_audio`, whose parameters
    these are.

    Returns
    -------
    AudioInfo
    """
    p = check_audio_path(path)
    o = _options(p, backend, backends, channel, assume_sample_rate, allow_truncated, non_finite, None, None, stream)
    if o.stream is not False:
        info = _load_streamed(p, o, keep=False)
        if info is not None:
            return info
    return _load_whole(p, o).info


@dataclass(frozen=True)
class _Options:
    """A load's checked parameters."""

    order: tuple[str, ...]
    forced: bool
    channel: str | int
    assume_sample_rate: int | None
    allow_truncated: bool
    non_finite: str
    target_rate: int | None
    resampler: str | None
    stream: bool | None


def _options(p: Path, backend, backends, channel, assume, allow_truncated, non_finite, target_rate, resampler, stream) -> _Options:
    """Check every parameter before any decoding, so a mistake costs nothing."""
    name = str(p)
    order = _backend_order(backend, backends)
    if isinstance(channel, bool) or not (isinstance(channel, (int, np.integer)) or channel in CHANNEL_CHOICES):
        raise AudioLoadError(
            f"{name}: channel={channel!r} is not a channel choice; pass 'mean' (the average of the channels), "
            "'first', 'all' or a channel index (0 is the first, -1 the last).",
            path=name,
        )
    if assume is not None:
        assume = check_sample_rate(assume, "assume_sample_rate", advice="; pass the rate the audio was recorded at", path=name)
    if non_finite not in NON_FINITE_CHOICES:
        raise AudioLoadError(
            f"non_finite={non_finite!r}: pass 'error' (refuse a file with NaN or infinite samples) or 'zero' (replace them with silence)",
            path=name,
        )
    if target_rate is not None:
        target_rate = check_sample_rate(target_rate, "target_rate", error=ResampleError)
        resampler = check_resampler(resampler or DEFAULT_RESAMPLER).name
    elif resampler is not None:
        raise ResampleError(f"resampler={resampler!r} is used only with target_rate=<Hz>; pass both, or neither")
    channel = int(channel) if isinstance(channel, (int, np.integer)) else channel
    return _Options(tuple(order), backend != "auto", channel, assume, bool(allow_truncated), non_finite, target_rate, resampler, stream)


def _backend_order(backend: str, backends: Sequence[str] | None) -> list[str]:
    if backend == "auto":
        return check_backends(backends, "backends") if backends else list(BACKENDS)
    if backend not in BACKENDS:
        raise AudioLoadError(f"unknown audio backend {backend!r}; choose one of: auto, {', '.join(BACKENDS)}")
    return [backend]


def _attempt(b: str, fn, p: Path, attempts: dict, failures: dict | None = None):
    """``fn(p)`` for backend ``b``, or ``None`` with the reason it could not recorded in ``attempts`` (and ``failures``)."""
    try:
        return fn(p)
    except WorkbenchError:  # a finding about the file (NaN samples, cut short...): final, whichever decoder made it
        raise
    except (_Unavailable, _NotRecognised, _DecodeFailed) as exc:
        kind = {_Unavailable: "unavailable", _NotRecognised: "not recognised", _DecodeFailed: "decode failed"}[type(exc)]
        attempts[b], failure = f"{kind}: {exc}", exc
    except Exception as exc:  # a decoder's own bug must not become the user's traceback
        attempts[b], failure = f"failed unexpectedly: {type(exc).__name__}: {first_line(exc)}", _NotRecognised(first_line(exc))
    if failures is not None:
        failures[b] = failure
    return None


def _load_whole(p: Path, o: _Options) -> Clip:
    """Decode the whole file with the first backend that reads it."""
    attempts: dict[str, str] = {}
    failures: dict[str, Exception] = {}
    for b in o.order:
        decoded = _attempt(b, _DECODERS[b], p, attempts, failures)
        if decoded is not None:
            attempts[b] = "ok"
            return _finish(p, decoded, b, attempts, o)
    raise _explain_failure(p, o.order, failures, attempts, forced=o.forced)


def _load_streamed(p: Path, o: _Options, keep: bool):
    """Read ``p`` in blocks: a :class:`Clip` (``keep``) or its :class:`AudioInfo`.

    ``None`` when the file is small enough to decode at once (``stream=None``),
    or no streaming backend reads it: the caller then decodes it whole, and
    explains any failure with every backend's reason.
    """
    attempts: dict[str, str] = {}
    for b in o.order:
        if b not in _STREAMERS:
            attempts[b] = "skipped: it decodes whole files only, and this file is read in blocks"
            continue
        s = _attempt(b, _STREAMERS[b], p, attempts)
        if s is None:
            continue
        with s:
            if o.stream is None and s.declared_frames and s.declared_frames * s.channels * 4 <= STREAM_BYTES:
                return None
            result = _attempt(b, lambda p: _consume(p, s, b, attempts, o, keep), p, attempts)  # noqa: B023 (called at once)
        if result is not None:
            return result
    return None


def _consume(p: Path, s: _Stream, used: str, attempts: dict, o: _Options, keep: bool):
    name = str(p)
    rate, history = _labelled_rate(name, s.sample_rate, o.assume_sample_rate, attempts)
    _check_channel_index(o.channel, s.channels, name, attempts)
    plan, mode = _channel_plan(o.channel, s.channels)
    meter = BlockMeter(s.channels, o.non_finite == "zero")
    sink = None
    if keep:
        target = o.target_rate or rate
        sink = ResampledBlocks(s.channels if plan == "all" else 1, rate, target, o.resampler, s.declared_frames)
    refusing = o.non_finite == "error"
    for block in s.blocks:
        block, mix = meter.add(block)
        if sink is not None and not (refusing and meter.non_finite):  # a refused file is only counted to its end
            sink.add(_select_channels(block, plan, mix))
    attempts[used] = "ok"
    info = _conclude(p, s, used, attempts, meter, rate, history, mode, o)
    if sink is None:
        return info
    samples, rate_out = sink.result(), sink.rate
    if rate_out != rate:
        info.history.append({"step": "resample", "method": o.resampler, "from_rate": rate, "to_rate": rate_out})
    return Clip(samples, rate_out, info)


def _explain_failure(p: Path, order, failures, attempts, forced: bool) -> AudioLoadError:
    name = str(p)
    tried = "; ".join(f"{b}: {attempts[b]}" for b in order)
    corrupt = [b for b in order if isinstance(failures.get(b), _DecodeFailed)]
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
    if forced and others:
        return UnsupportedCodecError(
            f"{name}: the {order[0]} backend cannot read this file ({attempts[order[0]]}). "
            f"Backends here that would: {', '.join(others)} (use backend='auto' or name one).",
            path=name,
            attempts=attempts,
        )
    signature = _audio_signature(p)
    could = [b for b in order if b not in unavailable and not (b == "soundfile" and signature in _FFMPEG_ONLY_SIGNATURES)]
    if signature and could:
        note = ""
        if signature == "MP4/M4A":
            note = (
                " (an MP4/M4A file keeps its index, the 'moov' box, at its end unless written for streaming, "
                "so a copy cut short cannot be opened)"
            )
        return CorruptAudioError(
            f"{name}: its first bytes say {signature}, but no decoder here can open it ({', '.join(could)} tried): "
            f"it is damaged or was cut short{note}, or uses an encoding none of them reads. Re-export or re-download it. Tried: {tried}",
            path=name,
            attempts=attempts,
        )
    ffmpeg_needed = suffix in _FFMPEG_ONLY_SUFFIXES or signature in _FFMPEG_ONLY_SIGNATURES
    ffmpeg_usable = [b for b in order if b != "soundfile" and b not in unavailable]
    if ((ffmpeg_needed and not ffmpeg_usable) or (unavailable and not others)) and not _looks_like_text(p):
        status = backend_status()
        needs = [b for b in ("torchcodec", "pyav", "ffmpeg") if b in BACKENDS]
        why = "; ".join(f"{b}: {status[b][1]}" for b in needs if not status[b][0]) or tried
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
    return [b for b in BACKENDS if b not in exclude and status[b][0] and not (b == "soundfile" and suffix in _FFMPEG_ONLY_SUFFIXES)]


# --------------------------------------------------------------------------
# Measuring what was decoded, and what it says about the file
# --------------------------------------------------------------------------


def _finish(p: Path, d: _Decoded, used: str, attempts: dict, o: _Options) -> Clip:
    """A clip from a whole decoded file, measured as a stream would be."""
    name = str(p)
    data = d.samples  # (channels, frames); a file without frames is refused by _conclude
    rate, history = _labelled_rate(name, d.sample_rate, o.assume_sample_rate, attempts)
    n = data.shape[0]
    _check_channel_index(o.channel, n, name, attempts)
    plan, mode = _channel_plan(o.channel, n)
    if o.non_finite == "zero" and not data.flags.writeable:
        data = data.copy()
    meter = BlockMeter(n, o.non_finite == "zero")
    for start in range(0, data.shape[1], _MEASURE_FRAMES):
        meter.add(data[:, start : start + _MEASURE_FRAMES], mix=False)  # NaN and infinities are zeroed in place, if asked
    mix = None
    if n > 1 and not (meter.non_finite and o.non_finite == "error"):
        mix = _mean_mix(data)
        meter.mix_sumsq = float(np.dot(mix, mix))
    info = _conclude(p, d, used, attempts, meter, rate, history, mode, o)
    return Clip(_select_channels(data, plan, mix), rate, info)


def _conclude(p: Path, src, used: str, attempts: dict, meter: BlockMeter, rate: int, history: list, mode: str, o: _Options) -> AudioInfo:
    """Refuse, or warn about, what the measurements show; the clip's :class:`AudioInfo`."""
    name = str(p)
    if meter.frames == 0:
        raise EmptyAudioError(
            f"{name}: the file is valid {src.codec or 'audio'} but contains no audio frames.", path=name, attempts=attempts
        )
    warns = _non_finite_findings(name, meter, rate, o.non_finite, attempts, history)
    warns += _length_findings(p, src, meter.frames, o.allow_truncated, attempts)
    levels = meter.levels()
    peak_db = meter.peak_dbfs()
    if peak_db > OVER_FULL_SCALE_DB:
        warns.append(
            f"levels beyond full scale: peak {peak_db:+.1f} dBFS, {meter.over} samples beyond ±1.0. The data is not scaled to "
            "[-1, 1]: it clips wherever it is written or played as integers, and level checks misread it. Scale it down "
            "(e.g. normalise to -1 dBFS)."
        )
    warns += _channel_warnings(levels, meter.mix_db())
    if peak_db < SILENCE_DBFS:
        warns.append(f"silent: peak level {peak_db:.0f} dBFS; there is nothing to transcribe")
    for w in warns:
        warnings.warn(f"{name}: {w}", AudioWarning, stacklevel=5)
    return AudioInfo(
        path=name,
        decoder=used,
        decoder_version=src.version,
        codec=src.codec,
        container=src.container,
        original_sample_rate=src.sample_rate,
        original_channels=meter.channels,
        frames=meter.frames,
        duration=meter.frames / rate,
        bit_depth=src.bit_depth,
        sample_format=src.sample_format,
        channel_mode=mode,
        channel_levels_dbfs=levels,
        peak_dbfs=peak_db,
        non_finite_samples=meter.non_finite,
        attempts=attempts,
        warnings=warns,
        history=history,
    )


def _non_finite_findings(name: str, meter: BlockMeter, rate: int, policy: str, attempts: dict, history: list) -> list[str]:
    if not meter.non_finite:
        return []
    frame, channel = meter.first_non_finite
    count = f"{meter.non_finite} sample{'s' if meter.non_finite != 1 else ''}"
    where = f"the first at {frame / rate:.3f} s (channel {channel})"
    if policy == "error":
        raise CorruptAudioError(
            f"{name}: {count} of {meter.frames * meter.channels} are not numbers (NaN or infinite), {where}. The float data is "
            "damaged: it would be measured as silence and heard as full-scale clicks. Re-export the file, or pass "
            "non_finite='zero' (command line: --non-finite zero) to replace them with silence.",
            path=name,
            attempts=attempts,
        )
    history.append({"step": "non_finite", "replaced_with": 0.0, "samples": meter.non_finite, "first_seconds": frame / rate})
    return [f"{count} were not numbers (NaN or infinite), {where}; replaced with 0 (silence), as non_finite='zero' asks"]


def _length_findings(p: Path, src, have: int, allow_truncated: bool, attempts: dict) -> list[str]:
    """A file shorter than its header declares: refused if lossless (unless allowed), warned about if lossy."""
    name = str(p)
    suffix = p.suffix.lower().lstrip(".")
    container = (src.container or suffix).lower()
    exact = any(k in container for k in _LOSSLESS_WITH_EXACT_LENGTH) or suffix in _LOSSLESS_WITH_EXACT_LENGTH
    declared = src.declared_frames
    if exact and suffix in ("wav", "wave"):
        declared = _wav_declared_frames(p) or declared
    rate = src.sample_rate
    if not declared or have >= declared or not rate:
        return []
    missing = declared - have
    if exact:
        if missing <= max(16, 0.001 * declared):
            return []
        msg = (
            f"{name}: truncated: its header declares {declared} frames ({declared / rate:.2f} s) "
            f"but only {have} ({have / rate:.2f} s) are present; the copy or download was cut short."
        )
        if not allow_truncated:
            raise CorruptAudioError(
                msg + " Re-export it, or pass allow_truncated=True to use the part that is there.", path=name, attempts=attempts
            )
        return [f"truncated: {have} of {declared} frames present"]
    if missing <= max(LOSSY_SHORT_SECONDS * rate, LOSSY_SHORT_FRACTION * declared):
        return []
    return [
        f"truncated: decoded {have / rate:.2f} s of the {declared / rate:.2f} s its header declares; the file was probably "
        "cut short (an interrupted download, copy or recording). Re-export or re-download it."
    ]


def _labelled_rate(name: str, file_rate: int, assume: int | None, attempts: dict) -> tuple[int, list[dict]]:
    """The rate the samples will carry, and the relabelling step when ``assume_sample_rate`` overrides the file's."""
    if assume is not None:
        return assume, [{"step": "relabel", "from_rate": file_rate, "to_rate": assume, "reason": "assume_sample_rate"}]
    rate = check_sample_rate(
        file_rate,
        f"{name}: the declared sample rate",
        subject=f"{name}: declares a sample rate of",
        advice="; the header is almost certainly wrong. If you know the true rate, pass assume_sample_rate=<Hz>.",
        path=name,
        attempts=attempts,
    )
    return rate, []


def _check_channel_index(channel, n: int, name: str, attempts: dict) -> None:
    if isinstance(channel, int) and not -n <= channel < n:
        # A silent fallback to another channel would hide the mistake: the
        # transcript would come from audio the caller did not ask for.
        has = "1 channel (mono)" if n == 1 else f"{n} channels"
        instead = "channel=0, 'first' or 'mean'" if n == 1 else f"channel=0..{n - 1}, 'mean', 'first' or 'all'"
        raise AudioLoadError(f"{name}: has {has}; channel={channel} does not exist. Pass {instead} instead.", path=name, attempts=attempts)


def _channel_plan(channel, n: int) -> tuple[str | int, str]:
    """What to keep of ``n`` channels (``"all"``, ``"mono"``, ``"mean"`` or an index) and how to describe it."""
    if channel == "all":
        return "all", "all"
    if n == 1:
        return "mono", "mono"
    if channel == "mean":
        return "mean", f"mean of {n}"
    index = 0 if channel == "first" else int(channel) % n
    return index, f"channel {index} of {n}"


def _select_channels(data: np.ndarray, plan: str | int, mix: np.ndarray | None) -> np.ndarray:
    if plan in ("all", "mono"):
        return data if data.flags.c_contiguous else data.copy(order="C")
    if plan == "mean":
        return mix[None, :]
    return np.ascontiguousarray(data[plan])[None, :]


def _mean_mix(data: np.ndarray) -> np.ndarray:
    """Average of the channels, (frames,), as one BLAS matrix-vector product."""
    weights = np.full(data.shape[0], 1.0 / data.shape[0], dtype=np.float32)
    return weights @ data


def _channel_warnings(levels: list[float], mix_db: float | None) -> list[str]:
    if mix_db is None:
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
        chan_db = _to_db(math.sqrt(np.mean([10 ** (lv / 10) for lv in levels])))
        if mix_db - chan_db < CANCELLATION_DB:
            out.append(
                f"channels cancel when mixed (mix {mix_db:.0f} dBFS vs channels {chan_db:.0f} dBFS): "
                "the stereo is phase-inverted; use channel='first' instead of a mean mix"
            )
    return out


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
