"""Spectrograms as arrays: the computation behind :mod:`workbench.figures`.

Nothing here draws. Each function takes samples and an explicit sample rate
and returns a :class:`Spectrogram` (values plus the time and frequency of
every cell), so a figure, a test or a notebook cell can all use the same
numbers.

Two kinds of spectrogram are computed:

* :func:`stft_spectrogram` -- linear-frequency STFT magnitude in dB relative
  to full scale (dBFS). The window and hop are given in *seconds*, so a clip
  at 48 kHz and its 16 kHz resampled copy get the same frequency resolution
  in Hz and the same frame times: their spectrograms line up cell for cell
  and can be subtracted (:func:`spectral_difference`).
* :func:`log_mel_spectrogram` -- exactly the log-mel features Whisper's
  feature extractor gives the model (80 mel bins, or 128 for large-v3).

:func:`downsample_for_display` and :func:`waveform_envelope` shrink long
clips to a size a browser draws quickly, keeping peaks so that narrow lines
(a tone, an aliased sweep) stay visible.

Examples
--------
>>> import numpy as np
>>> sr = 48_000
>>> t = np.arange(sr) / sr
>>> tone = 0.5 * np.sin(2 * np.pi * 1000 * t)
>>> spec = stft_spectrogram(tone, sr)
>>> spec.values.shape, spec.kind, spec.units
((601, 101), 'stft', 'dBFS')
>>> float(spec.freqs[spec.values[:, 50].argmax()])
1000.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from .constants import HOP_LENGTH, N_FFT, SAMPLE_RATE
from .errors import SpectrogramError

#: Whisper's input sample rate (Hz); log-mel features exist only at this rate.
WHISPER_SAMPLE_RATE = SAMPLE_RATE
#: Mel bins of Whisper base ... large-v2, and of large-v3 / large-v3-turbo.
N_MELS = 80
N_MELS_LARGE_V3 = 128

#: STFT window and hop in seconds (Whisper's 25 ms / 10 ms at every rate).
WINDOW_SECONDS = N_FFT / WHISPER_SAMPLE_RATE
HOP_SECONDS = HOP_LENGTH / WHISPER_SAMPLE_RATE
#: STFT values below this level (dBFS) are clipped to it (avoids log of 0).
FLOOR_DB = -140.0

#: Display limits: a spectrogram heatmap at most this many columns and rows,
#: a waveform at most this many points.
MAX_FRAMES = 1200
MAX_BINS = 400
MAX_POINTS = 4000

#: Frames transformed per block, so a long clip never needs its whole
#: complex STFT in memory at once.
_BLOCK_FRAMES = 4096
#: Pooling by up to this many cells uses one pass per offset; larger groups are reshaped.
_STRIDED_POOL_MAX_STEP = 16


@dataclass
class Spectrogram:
    """A spectrogram and the coordinates of its cells.

    Attributes
    ----------
    values : np.ndarray
        float32, shape ``(n_bins, n_frames)``: row ``i`` is frequency
        ``freqs[i]``, column ``j`` is time ``times[j]``.
    times : np.ndarray
        Centre of each frame, in seconds.
    freqs : np.ndarray
        Frequency of each row in Hz (for log-mel: each filter's centre).
    sample_rate : int
        Rate of the samples the spectrogram was computed from.
    kind : str
        ``"stft"``, ``"log-mel"`` or ``"difference"``.
    units : str
        What ``values`` measure, e.g. ``"dBFS"``.
    hop_seconds : float
        Time between frames.
    """

    values: np.ndarray
    times: np.ndarray
    freqs: np.ndarray
    sample_rate: int
    kind: str
    units: str
    hop_seconds: float

    @property
    def n_bins(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[1])

    @property
    def duration(self) -> float:
        """Seconds covered by the frames (``n_frames * hop_seconds``)."""
        return self.n_frames * self.hop_seconds

    @property
    def nyquist(self) -> float:
        """Half the sample rate, in Hz."""
        return self.sample_rate / 2


# --------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------


def as_mono(samples) -> np.ndarray:
    """1-D float32 samples from a 1-D array or a ``(channels, frames)`` array.

    Several channels are averaged, as :attr:`workbench.audio.Clip.mono` does.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x[0] if x.shape[0] == 1 else x.mean(axis=0, dtype=np.float32)
    if x.ndim != 1:
        raise SpectrogramError(f"samples must be 1-D or (channels, frames); got shape {x.shape}")
    return x


def _check_rate(sr) -> int:
    """``sr`` held to the workbench's one sample-rate check; a float with a whole value (``16000.0``) is taken as that integer."""
    from .resampling import check_sample_rate

    if sr is None:
        raise SpectrogramError("a sample rate is required: pass sr=<Hz>")
    if isinstance(sr, float) and sr.is_integer():
        sr = int(sr)
    return check_sample_rate(sr, "sr", error=SpectrogramError)


def n_mels_for_model(model_name: str) -> int:
    """Mel bins a Whisper checkpoint expects: 128 for large-v3 (and turbo), else 80.

    Examples
    --------
    >>> n_mels_for_model("openai/whisper-large-v3-turbo"), n_mels_for_model("openai/whisper-small")
    (128, 80)
    """
    return N_MELS_LARGE_V3 if "large-v3" in model_name.lower() else N_MELS


# --------------------------------------------------------------------------
# STFT
# --------------------------------------------------------------------------


def stft_spectrogram(
    samples,
    sr: int,
    *,
    window_seconds: float = WINDOW_SECONDS,
    hop_seconds: float = HOP_SECONDS,
    n_fft: int | None = None,
    floor_db: float = FLOOR_DB,
) -> Spectrogram:
    """Linear-frequency STFT magnitude in dBFS.

    A Hann window of ``window_seconds`` is moved in steps of ``hop_seconds``;
    frames are centred on ``times`` (the signal is zero-padded by half a
    window at each end). Values are scaled so that a full-scale sine reads
    0 dB at its frequency, whatever the sample rate: because the window is
    fixed in seconds, the same audio at 48 kHz and at 16 kHz gives the same
    bin spacing in Hz, the same frame times and the same levels below the
    lower Nyquist.

    Parameters
    ----------
    samples : array_like
        1-D, or ``(channels, frames)`` (channels are averaged).
    sr : int
        Sample rate of ``samples`` in Hz.
    window_seconds, hop_seconds : float
        Window length and hop. Defaults: Whisper's 25 ms and 10 ms.
    n_fft : int, optional
        FFT size in samples; defaults to the window length (bin spacing
        ``1 / window_seconds`` Hz). A larger value zero-pads each frame.
    floor_db : float
        Lowest value returned (dBFS).

    Returns
    -------
    Spectrogram
        ``kind="stft"``, ``units="dBFS"``, ``n_fft // 2 + 1`` rows from 0 Hz
        to the Nyquist frequency.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 16_000
    >>> x = np.sin(2 * np.pi * 3000 * np.arange(sr) / sr)
    >>> spec = stft_spectrogram(x, sr)
    >>> float(spec.freqs[1] - spec.freqs[0]), spec.hop_seconds
    (40.0, 0.01)
    >>> bool(abs(spec.values[:, 50].max()) < 0.01)   # a full-scale sine reads 0 dBFS
    True
    """
    rate = _check_rate(sr)
    x = as_mono(samples)
    win_length = max(2, int(round(window_seconds * rate)))
    hop = max(1, int(round(hop_seconds * rate)))
    n_fft = win_length if n_fft is None else int(n_fft)
    if n_fft < win_length:
        raise SpectrogramError(f"n_fft={n_fft} is shorter than the {win_length}-sample window ({window_seconds * 1000:g} ms at {rate} Hz)")

    window = np.zeros(n_fft, dtype=np.float32)
    start = (n_fft - win_length) // 2
    window[start : start + win_length] = np.hanning(win_length + 1)[:-1]  # periodic Hann, as for an STFT
    # A sine of amplitude A gives |X| = A * sum(window) / 2 at its bin.
    power_scale = np.float32((2.0 / window.sum()) ** 2)

    half = n_fft // 2
    padded = np.zeros(len(x) + 2 * half, dtype=np.float32)
    padded[half : half + len(x)] = x
    if len(padded) < n_fft:
        padded = np.pad(padded, (0, n_fft - len(padded)))
    n_frames = 1 + (len(padded) - n_fft) // hop
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]

    n_bins = n_fft // 2 + 1
    power = np.empty((n_frames, n_bins), dtype=np.float32)
    for i in range(0, n_frames, _BLOCK_FRAMES):
        block = frames[i : i + _BLOCK_FRAMES] * window
        spec = np.fft.rfft(block, axis=1)
        np.square(spec.real, out=power[i : i + _BLOCK_FRAMES])
        power[i : i + _BLOCK_FRAMES] += np.square(spec.imag)

    values = np.ascontiguousarray(power.T)
    values *= power_scale
    np.maximum(values, np.float32(10.0 ** (floor_db / 10.0)), out=values)
    np.log10(values, out=values)
    values *= np.float32(10.0)

    return Spectrogram(
        values=values,
        times=np.arange(n_frames) * (hop / rate),
        freqs=np.arange(n_bins) * (rate / n_fft),
        sample_rate=rate,
        kind="stft",
        units="dBFS",
        hop_seconds=hop / rate,
    )


# --------------------------------------------------------------------------
# Whisper log-mel
# --------------------------------------------------------------------------


@lru_cache(maxsize=4)
def whisper_feature_extractor(n_mels: int = N_MELS):
    """The transformers ``WhisperFeatureExtractor`` for ``n_mels`` bins (cached).

    Its settings are those of every Whisper checkpoint: 16 kHz, 400-point
    FFT, hop 160, 30-second chunks; only the number of mel bins differs.
    """
    from transformers import WhisperFeatureExtractor

    if n_mels not in (N_MELS, N_MELS_LARGE_V3):
        raise SpectrogramError(f"Whisper models use {N_MELS} or {N_MELS_LARGE_V3} mel bins; got n_mels={n_mels}")
    return WhisperFeatureExtractor(feature_size=n_mels)


def log_mel_spectrogram(
    samples,
    sr: int = WHISPER_SAMPLE_RATE,
    n_mels: int = N_MELS,
    *,
    pad_to_30s: bool = False,
    feature_extractor=None,
) -> Spectrogram:
    """Whisper's log-mel features, computed by Whisper's own feature extractor.

    The values are exactly ``WhisperFeatureExtractor(feature_size=n_mels)``'s
    ``input_features``: power spectrum of 25 ms Hann frames every 10 ms, mel
    filter bank, ``log10``, clipped to 8 below the maximum, then
    ``(x + 4) / 4``.

    By default the audio is *not* padded to 30 s, so a short clip gives
    ``len(samples) // 160`` frames and a long one is not cut. The clipping
    step uses the maximum over the whole array given; the model instead sees
    one 30-second window at a time, each clipped at its own maximum, which
    is what ``pad_to_30s=True`` reproduces for the first window (the audio
    padded with silence or truncated to 30 s, 3000 frames).

    Parameters
    ----------
    samples : array_like
        Mono audio at 16 kHz (``(channels, frames)`` input is averaged).
    sr : int
        Sample rate of ``samples``; must be 16000.
    n_mels : int
        80 (Whisper tiny ... large-v2) or 128 (large-v3); see
        :func:`n_mels_for_model`.
    pad_to_30s : bool
        Pad or truncate to 30 s as the model input is.
    feature_extractor : WhisperFeatureExtractor, optional
        Use this extractor (e.g. ``WhisperProcessor.from_pretrained(...)
        .feature_extractor``) instead of a default one; ``n_mels`` is then
        taken from it.

    Returns
    -------
    Spectrogram
        ``kind="log-mel"``; ``freqs`` are the mel filters' centre
        frequencies (Slaney mel scale, 0 to 8 kHz).

    Raises
    ------
    SpectrogramError
        If ``sr`` is not 16 kHz: resample first (a ``ValueError`` too).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(0, 0.1, 16_000).astype("float32")
    >>> mel = log_mel_spectrogram(x, 16_000)
    >>> mel.values.shape
    (80, 100)
    """
    fe = feature_extractor if feature_extractor is not None else whisper_feature_extractor(int(n_mels))
    rate = _check_rate(sr)
    if rate != fe.sampling_rate:
        raise SpectrogramError(
            f"Whisper's log-mel features are defined only at {fe.sampling_rate} Hz, but these samples are at {rate} Hz. "
            f"Resample them to {fe.sampling_rate} Hz first, e.g. clip.resample({fe.sampling_rate}) or "
            f"workbench.resampling.resample(samples, {rate}, {fe.sampling_rate})."
        )
    x = as_mono(samples)
    if not pad_to_30s and len(x) <= fe.n_fft // 2:
        raise SpectrogramError(f"log-mel needs more than {fe.n_fft // 2} samples ({fe.n_fft // 2 / rate * 1000:g} ms); got {len(x)}")
    if pad_to_30s:
        out = fe(x, sampling_rate=rate, return_tensors="np")
    else:
        out = fe(x, sampling_rate=rate, padding="longest", truncation=False, return_tensors="np")
    values = np.ascontiguousarray(out["input_features"][0], dtype=np.float32)
    hop = fe.hop_length / rate
    return Spectrogram(
        values=values,
        times=np.arange(values.shape[1]) * hop,
        freqs=mel_frequencies(values.shape[0]),
        sample_rate=rate,
        kind="log-mel",
        units="log10 mel power (Whisper-normalised)",
        hop_seconds=hop,
    )


def mel_frequencies(n_mels: int = N_MELS, fmax: float = WHISPER_SAMPLE_RATE / 2) -> np.ndarray:
    """Centre frequencies (Hz) of Whisper's mel filters (Slaney scale, 0 Hz to ``fmax``)."""
    from transformers.audio_utils import hertz_to_mel, mel_to_hertz

    mels = np.linspace(hertz_to_mel(0.0, "slaney"), hertz_to_mel(float(fmax), "slaney"), n_mels + 2)
    return np.asarray(mel_to_hertz(mels, "slaney"), dtype=np.float64)[1:-1]


# --------------------------------------------------------------------------
# Display-size reduction
# --------------------------------------------------------------------------


def downsample_for_display(spec: Spectrogram, max_frames: int = MAX_FRAMES, max_bins: int = MAX_BINS) -> Spectrogram:
    """Shrink a spectrogram to at most ``max_bins x max_frames`` by max-pooling.

    Neighbouring frames (and bins) are merged into one cell holding their
    maximum, so a narrow line such as an aliased tone stays as bright as it
    was (decimating would drop it in most columns). A ``"difference"``
    spectrogram keeps, per cell, the value furthest from 0, with its sign.
    Times and frequencies of merged cells are the mean of those merged.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(0, 0.1, 48_000 * 60)
    >>> spec = stft_spectrogram(x, 48_000)
    >>> small = downsample_for_display(spec, max_frames=1000, max_bins=300)
    >>> spec.values.shape, small.values.shape
    ((601, 6001), (201, 858))
    >>> bool(small.values.max() == spec.values.max())
    True
    """
    if max_frames < 1 or max_bins < 1:
        raise SpectrogramError("max_frames and max_bins must be at least 1")
    values, times, freqs = spec.values, spec.times, spec.freqs
    signed = spec.kind == "difference"
    frame_step = math.ceil(spec.n_frames / max_frames) if spec.n_frames else 1
    bin_step = math.ceil(spec.n_bins / max_bins) if spec.n_bins else 1
    if frame_step > 1:
        values = _pool(values, frame_step, axis=1, signed=signed)
        times = _mean_pool(times, frame_step)
    if bin_step > 1:
        values = _pool(values, bin_step, axis=0, signed=signed)
        freqs = _mean_pool(freqs, bin_step)
    if frame_step == 1 and bin_step == 1:
        return spec
    return replace(spec, values=values, times=times, freqs=freqs, hop_seconds=spec.hop_seconds * frame_step)


def _pool(values: np.ndarray, step: int, axis: int, signed: bool) -> np.ndarray:
    hi = _reduce_groups(values, step, axis, np.fmax)
    if not signed:
        return hi
    lo = _reduce_groups(values, step, axis, np.fmin)
    return np.where(-lo > hi, lo, hi)


def _reduce_groups(values: np.ndarray, step: int, axis: int, ufunc) -> np.ndarray:
    """``ufunc`` over consecutive groups of ``step`` along ``axis``; the last group may be shorter.

    ``fmax`` / ``fmin`` ignore NaN unless a whole group is NaN.
    """
    n = values.shape[axis]
    full = (n // step) * step

    def take(sl: slice) -> np.ndarray:
        return values[(slice(None),) * axis + (sl,)]

    if step <= _STRIDED_POOL_MAX_STEP:
        out = take(slice(0, full, step)).copy()
        for k in range(1, step):
            ufunc(out, take(slice(k, full, step)), out=out)
    else:
        shape = values.shape[:axis] + (full // step, step) + values.shape[axis + 1 :]
        out = ufunc.reduce(take(slice(0, full)).reshape(shape), axis=axis + 1)
    if full < n:
        out = np.concatenate([out, ufunc.reduce(take(slice(full, n)), axis=axis, keepdims=True)], axis=axis)
    return out


def _mean_pool(coords: np.ndarray, step: int) -> np.ndarray:
    starts = np.arange(0, len(coords), step)
    counts = np.diff(np.append(starts, len(coords)))
    return np.add.reduceat(np.asarray(coords, dtype=np.float64), starts) / counts


def waveform_envelope(samples, sr: int, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Times and values for drawing a waveform with at most ``max_points`` points.

    A clip with more samples is split into ``max_points // 2`` columns and
    each column is drawn as its minimum and maximum, so clipping, clicks and
    silences stay visible at any length.

    Returns
    -------
    times : np.ndarray
        Seconds (float64).
    values : np.ndarray
        float32; samples, or alternating column minimum and maximum.

    Examples
    --------
    >>> import numpy as np
    >>> t, v = waveform_envelope(np.zeros(16_000 * 600), 16_000, max_points=4000)
    >>> len(t), len(v)
    (4000, 4000)
    """
    rate = _check_rate(sr)
    x = as_mono(samples)
    if max_points < 2:
        raise SpectrogramError("max_points must be at least 2")
    if len(x) <= max_points:
        return np.arange(len(x)) / rate, x
    columns = max_points // 2
    starts = np.linspace(0, len(x), columns + 1).astype(np.int64)[:-1]
    lo = np.minimum.reduceat(x, starts)
    hi = np.maximum.reduceat(x, starts)
    centres = (starts + np.diff(np.append(starts, len(x))) / 2) / rate
    return np.repeat(centres, 2), np.column_stack([lo, hi]).ravel()


# --------------------------------------------------------------------------
# Comparing spectrograms
# --------------------------------------------------------------------------


def spectral_difference(
    before: Spectrogram,
    after: Spectrogram,
    *,
    max_freq: float | None = None,
    floor_db: float | None = None,
) -> Spectrogram:
    """``after - before`` on a shared time and frequency grid.

    The grid covers the frequencies both spectrograms have (up to the lower
    Nyquist frequency, or ``max_freq``) and the times both cover. It uses the
    coarser of the two spacings on each axis and linear interpolation; two
    :func:`stft_spectrogram` results with the same window and hop in seconds
    already share a grid, so their cells are subtracted unchanged.

    Parameters
    ----------
    before, after : Spectrogram
        Of the same kind and units.
    max_freq : float, optional
        Highest frequency compared (Hz).
    floor_db : float, optional
        Cells where both spectrograms are below this level become NaN, so
        differences between two noise floors are not shown as changes.

    Returns
    -------
    Spectrogram
        ``kind="difference"``, ``units="dB (after - before)"`` for STFTs;
        ``sample_rate`` is the lower of the two.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.signal import resample_poly
    >>> x = np.random.default_rng(0).normal(0, 0.1, 48_000)
    >>> d = spectral_difference(stft_spectrogram(x, 48_000), stft_spectrogram(resample_poly(x, 1, 3), 16_000))
    >>> float(d.freqs[-1]), d.values.shape
    (8000.0, (201, 101))
    """
    if before.kind != after.kind or before.units != after.units:
        raise SpectrogramError(f"cannot subtract a {after.kind} spectrogram ({after.units}) from a {before.kind} one ({before.units})")
    fmax = min(before.freqs[-1], after.freqs[-1])
    if max_freq is not None:
        fmax = min(fmax, float(max_freq))
    freqs = _coarser(before.freqs, after.freqs)
    freqs = freqs[(freqs >= max(before.freqs[0], after.freqs[0])) & (freqs <= fmax + 1e-9)]
    times = _coarser(before.times, after.times)
    t_end = min(before.times[-1], after.times[-1])
    times = times[(times >= max(before.times[0], after.times[0])) & (times <= t_end + 1e-9)]
    if len(freqs) == 0 or len(times) == 0:
        raise SpectrogramError("the two spectrograms share no frequencies or no times")

    b = _on_grid(before, freqs, times)
    a = _on_grid(after, freqs, times)
    diff = (a - b).astype(np.float32)
    if floor_db is not None:
        diff[(a < floor_db) & (b < floor_db)] = np.nan
    units = "dB (after - before)" if "dB" in before.units else f"{before.units} (after - before)"
    return Spectrogram(
        values=diff,
        times=times,
        freqs=freqs,
        sample_rate=min(before.sample_rate, after.sample_rate),
        kind="difference",
        units=units,
        hop_seconds=float(times[1] - times[0]) if len(times) > 1 else max(before.hop_seconds, after.hop_seconds),
    )


def _coarser(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    step_a = (a[-1] - a[0]) / max(len(a) - 1, 1)
    step_b = (b[-1] - b[0]) / max(len(b) - 1, 1)
    return np.asarray(a if step_a >= step_b else b, dtype=np.float64)


def _on_grid(spec: Spectrogram, freqs: np.ndarray, times: np.ndarray) -> np.ndarray:
    v = _interp_axis(spec.values, spec.freqs, freqs, axis=0)
    return _interp_axis(v, spec.times, times, axis=1)


def _interp_axis(values: np.ndarray, src: np.ndarray, dst: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of ``values`` along ``axis`` from coordinates ``src`` to ``dst``."""
    src = np.asarray(src, dtype=np.float64)
    if len(src) == len(dst) and np.allclose(src, dst, rtol=0, atol=1e-9):
        return values
    if len(src) == 1:
        return np.repeat(values, len(dst), axis=axis)
    i = np.clip(np.searchsorted(src, dst, side="right") - 1, 0, len(src) - 2)
    w = np.clip((dst - src[i]) / (src[i + 1] - src[i]), 0.0, 1.0).astype(np.float32)
    shape = [1, 1]
    shape[axis] = len(dst)
    w = w.reshape(shape)
    lo = np.take(values, i, axis=axis)
    hi = np.take(values, i + 1, axis=axis)
    return lo * (1 - w) + hi * w


def band_energy_db(spec: Spectrogram, fmin: float, fmax: float) -> np.ndarray:
    """Level per frame (dB) of the power summed over bins in ``[fmin, fmax]`` Hz.

    For an STFT spectrogram, a sine inside the band reads about its level
    in dBFS (+1.8 dB from the Hann window's spread over neighbouring bins).
    Useful to put a number on aliasing: the energy a resampler lets into a
    band where the input had none.

    Examples
    --------
    >>> import numpy as np
    >>> x = 0.1 * np.sin(2 * np.pi * 1000 * np.arange(16_000) / 16_000)
    >>> level = band_energy_db(stft_spectrogram(x, 16_000), 900, 1100)
    >>> round(float(np.median(level)))
    -18
    """
    if spec.kind != "stft":
        raise SpectrogramError(f"band_energy_db needs an STFT spectrogram in dB; got kind={spec.kind!r}")
    rows = (spec.freqs >= fmin) & (spec.freqs <= fmax)
    if not rows.any():
        raise SpectrogramError(f"no frequency bins between {fmin} and {fmax} Hz (spectrogram covers 0-{spec.freqs[-1]:g} Hz)")
    power = np.power(np.float32(10.0), spec.values[rows] / np.float32(10.0)).sum(axis=0)
    return (10.0 * np.log10(np.maximum(power, 1e-30))).astype(np.float32)
