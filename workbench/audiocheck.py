"""Audio-path checks: find what in the samples themselves will hurt a transcript.

Each check measures one thing and returns a plain dataclass holding the
numbers, the verdict and ``messages``: sentences in plain English, each with
the evidence it rests on.

* :func:`check_channels` -- do the channels cancel when mixed to mono (one
  phase-inverted)? Is a channel silent? Which channel, or the mean, to use.
* :func:`check_clipping` -- samples stuck at full scale, or beyond it.
* :func:`check_silence` -- is there anything to transcribe at all?
* :func:`check_rate` -- is the sample rate mislabelled (audio that plays
  slower or faster than it was recorded)?
* :func:`check_clip` -- all of them on a :class:`~workbench.audio.Clip`,
  with the causes found named from :data:`CAUSES`.
* :class:`BlockMeter` -- levels, peak and samples that are not numbers,
  measured a block at a time: how :func:`~workbench.audio.load_audio`
  measures a file, long ones without holding them whole.

Samples that are not numbers (NaN, infinity) are refused with
:class:`~workbench.errors.AudioCheckError`: every figure measured from
them would be NaN and every verdict meaningless.

The report dataclasses they return are defined in
:mod:`workbench.audiocheck_reports` and importable from here too.

Notes
------
Levels are RMS in dBFS as everywhere in the workbench (relative to a
full-scale square wave: a full-scale sine reads -3 dBFS), measured in the
speech band :data:`SPEECH_BAND_HZ` (100 Hz to 8 kHz, or to the Nyquist
frequency when that is lower) so that mains hum, DC offset and ultrasonic
noise do not count as speech. Peaks are plain sample peaks.

Examples
--------
>>> import numpy as np
>>> from workbench.signals import speech_like
>>> x = speech_like(sr=16_000, duration=1.0)
>>> report = check_channels(np.stack([x, -x]), 16_000)   # one side phase-inverted
>>> report.cancels, report.best_channel
(True, 0)
>>> print(report.messages[0])                             # doctest: +ELLIPSIS
The channels cancel when mixed to mono: the mean down-mix is ... dB below the loudest channel ...
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .audiocheck_reports import AudioPathReport, ChannelPair, ChannelReport, ClippingReport, RateReport, SilenceReport
from .errors import AudioCheckError
from .io import to_jsonable

if TYPE_CHECKING:  # pragma: no cover
    from .audio import Clip

#: Names of the causes :func:`check_clip` can report, in the order it reports them.
CAUSES = ("downmix_cancellation", "silent_channel", "clipping", "silence", "mislabelled_rate")

#: Band (Hz) in which levels are measured: where speech carries its energy.
SPEECH_BAND_HZ = (100.0, 8_000.0)
#: Levels are floored here (dBFS) so that digital silence gives a number, not -inf.
LEVEL_FLOOR_DBFS = -150.0
#: Length of the blocks levels and spectra are computed over (seconds).
BLOCK_SECONDS = 1.0
#: Samples handed to one FFT call at most (bounds memory on long files).
FFT_BATCH_SAMPLES = 1 << 20

#: The mean down-mix losing at least this much (dB) against the loudest channel...
DOWNMIX_LOSS_DB = 6.0
#: ...and falling at least this far (dB) below the sum of the channels' powers
#: (what unrelated channels would give) means they cancel: one is
#: phase-inverted, or the channels are strongly anti-correlated. A silent
#: channel alone costs 6 dB in a stereo mean but nothing against this sum.
CANCELLATION_EXCESS_DB = 3.0
#: A channel this far (dB) below the loudest one is reported silent...
SILENT_CHANNEL_RELATIVE_DB = 30.0
#: ...and so is any channel below this level (dBFS), when another channel is not.
SILENT_CHANNEL_DBFS = -60.0
#: Channel correlation is also searched over lags up to this many milliseconds.
MAX_LAG_MS = 1.0
#: At most this many seconds of audio (one-second pieces spread over the clip) are used for the lag search.
LAG_ANALYSIS_SECONDS = 30.0

#: A sample this close to full scale (absolute value) counts as at full scale...
CLIP_LEVEL = 0.999
#: ...when it is one of at least this many consecutive such samples.
CLIP_RUN = 3
#: Clipping is reported when at least this fraction of samples is clipped or beyond full scale.
CLIPPED_FRACTION = 0.001

#: Below this speech-band level (dBFS) there is nothing to transcribe...
SILENT_DBFS = -60.0
#: ...and below this one speech is faint enough to hurt recognition.
NEAR_SILENT_DBFS = -45.0

#: The duration at the declared rate may differ from the expected one by this fraction before the rate is called mislabelled.
RATE_RATIO_TOLERANCE = 0.10
#: The spectral rolloff is the frequency below which this fraction of the energy lies.
ROLLOFF_ENERGY = 0.95
#: Speech keeps 5 % of its energy above this frequency (Hz): recordings of
#: speech at their true rate roll off between about 0.8 and 3.5 kHz. A rolloff
#: below it looks like speech slowed down, i.e. a declared rate that is too low.
SPEECH_ROLLOFF_MIN_HZ = 500.0
#: Sample rates recordings come at, for naming the likely true rate.
COMMON_RATES = (8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000)
#: The implied rate must be within this fraction of a common rate to name it.
LIKELY_RATE_TOLERANCE = 0.02


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def _as_channels(samples) -> np.ndarray:
    """``(channels, frames)`` floats; integers scaled to [-1, 1)."""
    arr = np.asarray(samples)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise AudioCheckError(f"samples must be 1-D or (channels, frames); got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        info = np.iinfo(arr.dtype)
        if arr.dtype.kind == "u":
            mid = (int(info.max) + 1) / 2
            return (arr.astype(np.float64) - mid) / mid
        return arr.astype(np.float64) / -float(info.min)
    if arr.dtype.kind != "f":
        raise AudioCheckError(f"samples must be numbers; got dtype {arr.dtype}")
    if not math.isfinite(float(np.sum(arr, dtype=np.float64))):  # one pass, no temporary array; NaN and inf survive a sum
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if bad:
            frame = int(np.flatnonzero((~np.isfinite(arr)).any(axis=0))[0])
            raise AudioCheckError(
                f"{bad} samples are not numbers (NaN or infinite), the first at frame {frame}; nothing measured from them "
                "would mean anything. Load the file with non_finite='zero' to replace them with silence, or re-export it."
            )
    return arr


def _db_power(power: float) -> float:
    return 10.0 * math.log10(power) if power > 0 else LEVEL_FLOOR_DBFS


def _floor(db: float) -> float:
    return max(float(db), LEVEL_FLOOR_DBFS)


def _peak_dbfs(x: np.ndarray) -> float:
    if x.size == 0:
        return LEVEL_FLOOR_DBFS
    peak = float(np.max(np.abs(x)))
    return _floor(20.0 * math.log10(peak)) if peak > 0 else LEVEL_FLOOR_DBFS


def _spectra(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energy per frequency bin of each channel and of their mean.

    The signal is cut into :data:`BLOCK_SECONDS` blocks (the last one padded
    with zeros) and the block spectra's energies are added up, scaled so
    that a channel's bins sum to its sum of squares (Parseval). The mean
    down-mix's spectrum is the mean of the channel spectra, so cancellation
    shows without a second pass.

    Returns
    -------
    freqs : (bins,) array
    energy : (channels, bins) array
    mix_energy : (bins,) array
    """
    channels, frames = x.shape
    block = max(1, min(frames, int(round(rate * BLOCK_SECONDS))))
    freqs = np.fft.rfftfreq(block, 1.0 / rate)
    energy = np.zeros((channels, freqs.size))
    mix = np.zeros(freqs.size)
    if frames == 0:
        return freqs, energy, mix
    blocks_per_batch = max(1, FFT_BATCH_SAMPLES // (block * channels))
    n_blocks = -(-frames // block)
    for first in range(0, n_blocks, blocks_per_batch):
        count = min(blocks_per_batch, n_blocks - first)
        seg = x[:, first * block : (first + count) * block]
        if seg.shape[1] < count * block:
            seg = np.pad(seg, ((0, 0), (0, count * block - seg.shape[1])))
        spec = np.fft.rfft(seg.reshape(channels, count, block), axis=-1)
        energy += (spec.real**2 + spec.imag**2).sum(axis=1)
        mean = spec.mean(axis=0)
        mix += (mean.real**2 + mean.imag**2).sum(axis=0)
    weight = np.full(freqs.size, 2.0)
    weight[0] = 1.0
    if block % 2 == 0:
        weight[-1] = 1.0
    weight /= block
    return freqs, energy * weight, mix * weight


def _speech_band(freqs: np.ndarray) -> np.ndarray:
    low, high = SPEECH_BAND_HZ
    return (freqs >= low) & (freqs <= high)


def _band_basis(rate: int) -> str:
    low, high = SPEECH_BAND_HZ
    top = min(high, rate / 2)
    return f"RMS in the speech band {low:g} Hz-{top / 1000:g} kHz"


def _pair(a: np.ndarray, b: np.ndarray, rate: int, i: int, j: int) -> ChannelPair:
    """Pearson correlation of ``a`` and ``b`` at lag 0 and at the best lag within :data:`MAX_LAG_MS`."""
    n = a.size
    lag = int(round(MAX_LAG_MS * rate / 1000.0))
    lag = max(0, min(lag, (n - 1) // 2))
    span = n - 2 * lag
    piece = max(1, int(rate))  # one second
    pieces_max = max(1, int(LAG_ANALYSIS_SECONDS))
    if span <= piece * pieces_max:
        starts = [lag] if span > 0 else []
        length = span
    else:
        starts = np.linspace(lag, n - lag - piece, pieces_max).astype(np.int64).tolist()
        length = piece
    if not starts or length < 2:
        return ChannelPair(i, j, None, None, None)

    r0 = _pearson(*_pearson_sums(a, b))
    lags = 2 * lag + 1
    pa = np.stack([np.asarray(a[s : s + length], dtype=np.float64) for s in starts])
    pb = np.stack([np.asarray(b[s - lag : s + length + lag], dtype=np.float64) for s in starts])
    # Cross-correlation by FFT, summed over the pieces: sab[k] = sum pa[n] * pb[n + k], i.e. b shifted by k - lag.
    size = 1 << int(length + 2 * lag - 1).bit_length()
    cross = np.fft.irfft((np.conj(np.fft.rfft(pa, size)) * np.fft.rfft(pb, size)).sum(axis=0), size)
    sab = cross[:lags]
    cs = np.concatenate((np.zeros((len(starts), 1)), np.cumsum(pb, axis=1)), axis=1)
    cs2 = np.concatenate((np.zeros((len(starts), 1)), np.cumsum(pb * pb, axis=1)), axis=1)
    sb = (cs[:, length : length + lags] - cs[:, :lags]).sum(axis=0)
    sbb = (cs2[:, length : length + lags] - cs2[:, :lags]).sum(axis=0)
    sa, saa, m = float(pa.sum()), float(np.einsum("ij,ij->", pa, pa)), float(pa.size)
    rs = [_pearson(m, sa, float(sb[k]), saa, float(sbb[k]), float(sab[k])) for k in range(lags)]
    valid = [(r, k) for k, r in enumerate(rs) if r is not None]
    if not valid:
        return ChannelPair(i, j, r0, None, None)
    best, k = max(valid)
    return ChannelPair(i, j, r0, best, 1000.0 * (k - lag) / rate)


def _pearson_sums(a: np.ndarray, b: np.ndarray, chunk: int = 1 << 20) -> tuple[float, ...]:
    m = float(a.size)
    sa = sb = saa = sbb = sab = 0.0
    for s in range(0, a.size, chunk):
        pa = np.asarray(a[s : s + chunk], dtype=np.float64)
        pb = np.asarray(b[s : s + chunk], dtype=np.float64)
        sa += float(pa.sum())
        sb += float(pb.sum())
        saa += float(pa @ pa)
        sbb += float(pb @ pb)
        sab += float(pa @ pb)
    return m, sa, sb, saa, sbb, sab


def _pearson(m: float, sa: float, sb: float, saa: float, sbb: float, sab: float) -> float | None:
    if m < 2:
        return None
    va = saa - sa * sa / m
    vb = sbb - sb * sb / m
    # A channel whose variance is lost in rounding (digital silence, a constant) has no correlation.
    if va <= 1e-12 * max(saa, 1e-300) or vb <= 1e-12 * max(sbb, 1e-300) or va <= 0 or vb <= 0:
        return None
    r = (sab - sa * sb / m) / math.sqrt(va * vb)
    return float(min(1.0, max(-1.0, r)))


class BlockMeter:
    """Levels, peak and samples that are not numbers (NaN, infinity), measured a block at a time.

    Feed :meth:`add` consecutive ``(channels, n)`` float blocks; the
    figures cover everything added so far, so a file of any length is
    measured in the memory of one block.

    Parameters
    ----------
    channels : int
    replace_non_finite : bool
        Zero NaN and infinite samples (in the block itself when it is
        writable) and measure the rest; otherwise they are only counted,
        and nothing after the first is measured (the caller refuses the file).

    Examples
    --------
    >>> meter = BlockMeter(2, replace_non_finite=True)
    >>> block, mix = meter.add(np.array([[0.5, np.nan], [-0.5, 0.25]], dtype=np.float32))
    >>> meter.non_finite, meter.first_non_finite, meter.peak, block[0, 1]
    (1, (1, 0), 0.5, np.float32(0.0))
    """

    def __init__(self, channels: int, replace_non_finite: bool = False):
        self.channels = channels
        self.replace = replace_non_finite
        self.frames = 0
        self.sumsq = np.zeros(channels)
        self.mix_sumsq = 0.0
        self.peak = 0.0
        self.over = 0
        self.non_finite = 0
        self.first_non_finite: tuple[int, int] | None = None  # (frame, channel)

    def add(self, block: np.ndarray, mix: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Measure ``block``; return it (NaN and infinities zeroed when replacing) and, with ``mix``, its mean over channels."""
        sumsq = self._sumsq(block)
        if not np.isfinite(sumsq).all():  # a finite sum of squares means every sample is finite
            block, sumsq = self._non_finite(block, sumsq)
        n = block.shape[1]
        if (self.non_finite and not self.replace) or n == 0:
            self.frames += n
            return block, None
        peak = max(float(block.max()), -float(block.min()))
        if peak > 1.0:
            self.over += int(np.count_nonzero(np.abs(block) > 1.0))
        self.peak = max(self.peak, peak)
        self.sumsq += sumsq
        self.frames += n
        mixed = None
        if mix and self.channels > 1:
            mixed = np.full(self.channels, 1.0 / self.channels, dtype=np.float32) @ block
            self.mix_sumsq += float(np.dot(mixed, mixed))
        return block, mixed

    @staticmethod
    def _sumsq(block: np.ndarray) -> np.ndarray:
        return np.array([np.dot(c, c) for c in block], dtype=np.float64)

    def _non_finite(self, block: np.ndarray, sumsq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bad = ~np.isfinite(block)
        count = int(np.count_nonzero(bad))
        if not count:  # finite samples so large that their squares overflow
            return block, sumsq
        if self.first_non_finite is None:
            frame = int(np.flatnonzero(bad.any(axis=0))[0])
            self.first_non_finite = (self.frames + frame, int(np.flatnonzero(bad[:, frame])[0]))
        self.non_finite += count
        if not self.replace:
            return block, sumsq
        if not block.flags.writeable:
            block = block.copy()
        block[bad] = 0.0
        return block, self._sumsq(block)

    def levels(self) -> list[float]:
        """RMS level of each channel, dBFS (``-inf`` for digital silence)."""
        return [10.0 * math.log10(v / self.frames) if self.frames and v > 0 else -math.inf for v in self.sumsq]

    def mix_db(self) -> float | None:
        """RMS level of the mean over channels, dBFS; ``None`` for one channel."""
        if self.channels < 2 or not self.frames:
            return None
        return 10.0 * math.log10(self.mix_sumsq / self.frames) if self.mix_sumsq > 0 else -math.inf

    def peak_dbfs(self) -> float:
        """Highest sample magnitude, dBFS."""
        return 20.0 * math.log10(self.peak) if self.peak > 0 else -math.inf


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def check_channels(samples, sample_rate: int) -> ChannelReport:
    """Measure each channel and what the mean down-mix does to them.

    Parameters
    ----------
    samples : array_like
        ``(channels, frames)``, as in :attr:`Clip.samples`; 1-D is one channel.
        Integer samples are scaled to [-1, 1).
    sample_rate : int
        Samples per second.

    Returns
    -------
    ChannelReport
        Levels, correlations, the down-mix loss and the channel to use.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.signals import speech_like
    >>> x = speech_like(sr=16_000, duration=1.0)
    >>> same = check_channels(np.stack([x, x]), 16_000)
    >>> same.cancels, same.silent_channels, same.best_channel, round(same.downmix_loss_db, 1)
    (False, (), 'mean', 0.0)
    >>> one_side = check_channels(np.stack([np.zeros_like(x), x]), 16_000)
    >>> one_side.silent_channels, one_side.best_channel
    ((0,), 1)
    """
    x = _as_channels(samples)
    rate = int(sample_rate)
    if rate <= 0:
        raise AudioCheckError(f"sample_rate must be positive; got {sample_rate}")
    channels, frames = x.shape
    freqs, energy, mix_energy = _spectra(x, rate)
    band = _speech_band(freqs)
    n = max(frames, 1)
    powers = energy[:, band].sum(axis=1) / n
    levels = tuple(_db_power(float(p)) for p in powers)
    peaks = tuple(_peak_dbfs(c) for c in x)
    pairs = tuple(_pair(x[i], x[j], rate, i, j) for i in range(channels) for j in range(i + 1, channels))
    if channels > 1:
        mix_power = float(mix_energy[band].sum()) / n
        unrelated_power = float(powers.sum()) / channels**2
    else:
        mix_power = unrelated_power = float(powers[0]) if channels else 0.0
    return _channel_verdict(
        rate, channels, frames, _band_basis(rate), levels, peaks, _db_power(mix_power), _db_power(unrelated_power), pairs
    )


def _channel_verdict(rate, channels, frames, basis, levels, peaks, downmix_db, unrelated_db, pairs, kept=None) -> ChannelReport:
    """Findings from measured levels (``downmix_db``/``unrelated_db`` may be ``None`` when unknown).

    ``kept`` is the channel a clip already holds when the down-mix was not measured.
    """
    levels = tuple(_floor(v) for v in levels)
    loudest = int(np.argmax(levels)) if levels else 0
    top = levels[loudest] if levels else LEVEL_FLOOR_DBFS
    loss = None if downmix_db is None or channels < 2 else max(0.0, top - downmix_db)
    if channels < 2 and downmix_db is not None:
        loss = 0.0
    cancels = bool(
        channels > 1
        and loss is not None
        and unrelated_db is not None
        and loss >= DOWNMIX_LOSS_DB
        and unrelated_db - downmix_db >= CANCELLATION_EXCESS_DB
        and top > LEVEL_FLOOR_DBFS
    )
    quiet = [i for i, v in enumerate(levels) if v <= top - SILENT_CHANNEL_RELATIVE_DB or v < SILENT_CHANNEL_DBFS]
    silent = tuple(quiet) if channels > 1 and len(quiet) < channels else ()

    messages = []
    if cancels:
        worst = min((p for p in pairs if p.correlation is not None), key=lambda p: p.correlation, default=None)
        corr = f"; channels {worst.a} and {worst.b} correlate at {worst.correlation:+.2f}" if worst else ""
        messages.append(
            f"The channels cancel when mixed to mono: the mean down-mix is {loss:.0f} dB below the loudest channel "
            f"({downmix_db:.1f} vs {top:.1f} dBFS){corr}. One channel is probably phase-inverted; "
            f"load one channel (channel={loudest}) instead of the mean."
        )
    if silent:
        names = ", ".join(f"{i} ({levels[i]:.0f} dBFS)" for i in silent)
        drop = f" and drags the mean down-mix {loss:.1f} dB below it" if loss is not None else ""
        messages.append(
            f"Channel{'s' if len(silent) > 1 else ''} {names} {'are' if len(silent) > 1 else 'is'} silent next to "
            f"channel {loudest} ({top:.1f} dBFS){drop}; load channel={loudest}."
        )

    if channels < 2:
        best, reason = "mean", "one channel: nothing to choose"
    elif cancels:
        best, reason = loudest, f"the mean down-mix cancels ({loss:.0f} dB lost); channel {loudest} is the loudest"
    elif silent:
        live = [i for i in range(channels) if i not in silent]
        reason = f"channel{'s' if len(silent) > 1 else ''} {', '.join(map(str, silent))} silent; channel {loudest} is the loudest"
        if len(live) > 1:
            reason += f" of the live channels {', '.join(map(str, live))}"
        best = loudest
    elif loss is None and kept is not None:
        best, reason = kept, f"channel {kept} is not silent; the down-mix was not measured (load with channel='all' to compare)"
    elif loss is None:
        best, reason = "mean", "no channel is silent; the down-mix was not measured"
    else:
        best, reason = "mean", f"the channels mix without cancelling (down-mix {loss:.1f} dB below the loudest channel)"
    return ChannelReport(
        sample_rate=rate,
        channels=channels,
        frames=frames,
        level_basis=basis,
        levels_dbfs=levels,
        peaks_dbfs=tuple(peaks),
        downmix_dbfs=None if downmix_db is None else _floor(downmix_db),
        downmix_loss_db=loss,
        pairs=tuple(pairs),
        cancels=cancels,
        silent_channels=silent,
        best_channel=best,
        best_channel_reason=reason,
        messages=tuple(messages),
    )


def check_clipping(samples) -> ClippingReport:
    """Count samples flattened at full scale, or beyond it.

    Parameters
    ----------
    samples : array_like
        1-D or ``(channels, frames)``. Float samples are taken as they are
        (full scale is 1.0); integer samples are scaled to [-1, 1).

    Returns
    -------
    ClippingReport

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.signals import tone
    >>> loud = np.clip(tone(440, sr=16_000, amplitude=2.0), -1.0, 1.0)   # a sine driven 6 dB into clipping
    >>> report = check_clipping(loud)
    >>> report.clipped, round(report.clipped_fraction, 1)
    (True, 0.7)
    >>> check_clipping(tone(440, sr=16_000)).clipped
    False
    """
    x = _as_channels(samples)
    total = int(x.size)
    if total == 0:
        return ClippingReport(0, 0.0, 0, 0, 0.0, False, ())
    mags = np.abs(x)
    peak = float(mags.max())
    full_scale = over_count = 0
    fraction = 0.0
    if peak >= CLIP_LEVEL:  # otherwise nothing can be clipped
        at_full = mags >= CLIP_LEVEL
        over = mags > 1.0 if x.dtype.kind == "f" else np.zeros_like(at_full)
        in_runs = np.zeros_like(at_full)
        for c in range(x.shape[0]):
            edges = np.diff(at_full[c].astype(np.int8), prepend=0, append=0)
            starts = np.flatnonzero(edges == 1)
            ends = np.flatnonzero(edges == -1)
            long = (ends - starts) >= CLIP_RUN
            marks = np.zeros(x.shape[1] + 1, dtype=np.int32)
            marks[starts[long]] = 1  # a run starts where none ends, so the indices never collide
            marks[ends[long]] = -1
            in_runs[c] = np.cumsum(marks[:-1]) > 0
        full_scale = int(in_runs.sum())
        over_count = int(over.sum())
        fraction = float((in_runs | over).sum()) / total
    clipped = fraction >= CLIPPED_FRACTION
    messages = []
    if clipped:
        parts = []
        if full_scale:
            parts.append(f"{full_scale} samples sit at full scale in runs of {CLIP_RUN} or more")
        if over_count:
            parts.append(f"{over_count} go beyond it (peak {peak:.2f})")
        messages.append(
            f"The audio is clipped: {100 * fraction:.1f} % of samples ({'; '.join(parts)}). "
            "The flattened peaks add harmonics that blur consonants; record or export at a lower gain."
        )
    return ClippingReport(total, peak, full_scale, over_count, fraction, clipped, tuple(messages))


def check_silence(samples, sample_rate: int) -> SilenceReport:
    """The overall speech-band level: is there anything to transcribe?

    Parameters
    ----------
    samples : array_like
        1-D or ``(channels, frames)``.
    sample_rate : int

    Returns
    -------
    SilenceReport

    Examples
    --------
    >>> from workbench.signals import speech_like
    >>> x = speech_like(sr=16_000, duration=1.0)
    >>> check_silence(x, 16_000).silent, check_silence(x * 1e-4, 16_000).silent
    (False, True)
    """
    x = _as_channels(samples)
    rate = int(sample_rate)
    freqs, energy, _ = _spectra(x, rate)
    power = float(energy[:, _speech_band(freqs)].sum()) / max(x.size, 1)
    level = _db_power(power)
    peak = _peak_dbfs(x)
    silent = level < SILENT_DBFS
    near = not silent and level < NEAR_SILENT_DBFS
    messages = []
    if silent:
        messages.append(
            f"The audio is silent: speech-band level {level:.0f} dBFS (peak {peak:.0f} dBFS), below {SILENT_DBFS:.0f} dBFS. "
            "There is nothing to transcribe; Whisper may invent text from noise. Check the input device or the file."
        )
    elif near:
        messages.append(
            f"The audio is very quiet: speech-band level {level:.0f} dBFS (peak {peak:.0f} dBFS), below {NEAR_SILENT_DBFS:.0f} dBFS. "
            "Faint speech is recognised less reliably; raise the recording level."
        )
    return SilenceReport(level, peak, silent, near, _band_basis(rate), tuple(messages))


def _rolloff(freqs: np.ndarray, energy: np.ndarray) -> float:
    total = float(energy.sum())
    if total <= 0 or freqs.size == 0:
        return 0.0
    cumulative = np.cumsum(energy)
    return float(freqs[min(int(np.searchsorted(cumulative, ROLLOFF_ENERGY * total)), freqs.size - 1)])


def check_rate(declared_rate: int, samples, expected_seconds: float | None = None) -> RateReport:
    """Evidence that the declared sample rate is not the true one.

    Parameters
    ----------
    declared_rate : int
        The rate the file or clip says it has.
    samples : array_like
        1-D or ``(channels, frames)``.
    expected_seconds : float, optional
        The audio's true duration when known. Only with it can the rate be
        called mislabelled; without it the spectral cue is reported alone.

    Returns
    -------
    RateReport

    Examples
    --------
    48 kHz speech whose header says 16 kHz lasts three times too long:

    >>> from workbench.signals import speech_like
    >>> x = speech_like(sr=48_000, duration=2.0)
    >>> report = check_rate(16_000, x, expected_seconds=2.0)
    >>> report.mislabelled, report.duration_ratio, report.likely_rate, report.spectral_cue
    (True, 3.0, 48000, 'low')
    >>> check_rate(48_000, x, expected_seconds=2.0).mislabelled
    False
    """
    x = _as_channels(samples)
    rate = int(declared_rate)
    if rate <= 0:
        raise AudioCheckError(f"declared_rate must be positive; got {declared_rate}")
    frames = int(x.shape[1])
    declared_seconds = frames / rate
    freqs, energy, _ = _spectra(x, rate)
    rolloff = _rolloff(freqs, energy.sum(axis=0))
    nyquist = rate / 2
    cue = "low" if energy.sum() > 0 and rolloff < SPEECH_ROLLOFF_MIN_HZ else None

    ratio = implied = likely = None
    mislabelled = False
    if expected_seconds is not None:
        if not expected_seconds > 0:
            raise AudioCheckError(f"expected_seconds must be positive; got {expected_seconds}")
        ratio = declared_seconds / float(expected_seconds)
        implied = frames / float(expected_seconds)
        nearest = min(COMMON_RATES, key=lambda r: abs(r - implied))
        likely = nearest if abs(nearest - implied) <= LIKELY_RATE_TOLERANCE * nearest else None
        mislabelled = abs(ratio - 1.0) > RATE_RATIO_TOLERANCE

    messages = []
    if mislabelled:
        true_rate = f"{likely / 1000:g} kHz" if likely else f"about {implied / 1000:.1f} kHz"
        slower = "slower and lower" if ratio > 1 else "faster and higher"
        messages.append(
            f"The sample rate looks mislabelled: at the declared {rate / 1000:g} kHz the audio lasts {declared_seconds:.2f} s "
            f"but should last {expected_seconds:.2f} s ({ratio:.2f} times as long), so it plays {slower}. "
            f"Its true rate is {true_rate}; load it with assume_sample_rate={likely or round(implied)}."
        )
    if cue == "low":
        if mislabelled:
            support = "This supports the duration evidence."
        elif expected_seconds is None:
            support = "Compare the duration with the recording's true length (pass expected_seconds) to tell."
        else:
            support = "The duration matches, so this is the content (a low voice, a tone, hum), not the rate."
        messages.append(
            f"If this is speech, it sits unusually low: {100 * ROLLOFF_ENERGY:.0f} % of its energy lies below {rolloff:.0f} Hz "
            f"(speech at its true rate reaches above {SPEECH_ROLLOFF_MIN_HZ:.0f} Hz), as when the declared rate is too low. {support}"
        )
    return RateReport(
        declared_rate=rate,
        frames=frames,
        declared_seconds=declared_seconds,
        expected_seconds=None if expected_seconds is None else float(expected_seconds),
        duration_ratio=ratio,
        implied_rate=implied,
        likely_rate=likely,
        mislabelled=mislabelled,
        rolloff_hz=rolloff,
        nyquist_hz=nyquist,
        rolloff_fraction=rolloff / nyquist,
        spectral_cue=cue,
        messages=tuple(messages),
    )


def _channels_from_info(clip: "Clip") -> ChannelReport:
    """Channel findings for a clip that holds one channel (or the mean) of a multichannel file.

    Only the levels :func:`~workbench.audio.load_audio` recorded per channel
    (broadband RMS) are known, and the down-mix's level when the clip is the mean.
    """
    info = clip.info
    levels = [_floor(v) for v in info.channel_levels_dbfs]
    n = len(levels)
    downmix = unrelated = kept = None
    mode = str(info.channel_mode)
    if mode.startswith("channel ") and mode.split()[1].isdigit():  # "channel 1 of 2"
        kept = int(mode.split()[1])
    if mode.startswith("mean of"):
        mono = np.asarray(clip.samples[0], dtype=np.float64)
        downmix = _db_power(float(mono @ mono) / max(mono.size, 1))
        unrelated = _db_power(sum(10 ** (v / 10) for v in levels) / n**2)
    basis = f"broadband RMS recorded when the file was loaded ({info.channel_mode}; load with channel='all' for correlations)"
    return _channel_verdict(
        info.original_sample_rate or clip.sample_rate, n, clip.num_frames, basis, levels, (), downmix, unrelated, (), kept
    )


def check_clip(clip: "Clip", expected_seconds: float | None = None) -> AudioPathReport:
    """Run every audio-path check on a clip and name the causes found.

    Parameters
    ----------
    clip : Clip
        Ideally loaded with ``channel="all"``: a clip that already holds the
        mean or one channel of a multichannel file is judged from the
        channel levels recorded when it was loaded, without correlations.
    expected_seconds : float, optional
        The recording's true duration, when known: needed to call the
        sample rate mislabelled.

    Returns
    -------
    AudioPathReport

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.audio import Clip
    >>> from workbench.signals import speech_like
    >>> x = speech_like(sr=16_000, duration=2.0)
    >>> check_clip(Clip.from_array(np.stack([x, x]), 16_000)).causes
    ()
    >>> report = check_clip(Clip.from_array(np.stack([x, -x]), 16_000))
    >>> report.causes
    ('downmix_cancellation',)
    >>> report.channels.best_channel
    0
    """
    samples = clip.samples
    info = clip.info
    if clip.num_channels == 1 and info.original_channels > 1 and len(info.channel_levels_dbfs) == info.original_channels:
        channels = _channels_from_info(clip)
    else:
        channels = check_channels(samples, clip.sample_rate)
    clipping = check_clipping(samples)
    silence = check_silence(samples, clip.sample_rate)
    rate = check_rate(clip.sample_rate, samples, expected_seconds)

    found = {
        "downmix_cancellation": channels.cancels,
        "silent_channel": bool(channels.silent_channels),
        "clipping": clipping.clipped,
        "silence": silence.silent,
        "mislabelled_rate": rate.mislabelled,
    }
    causes = tuple(c for c in CAUSES if found[c])
    evidence = to_jsonable(
        {
            "channels": channels.channels,
            "channel_levels_dbfs": list(channels.levels_dbfs),
            "channel_level_basis": channels.level_basis,
            "downmix_dbfs": channels.downmix_dbfs,
            "downmix_loss_db": channels.downmix_loss_db,
            "correlation": channels.correlation,
            "best_channel": channels.best_channel,
            "clipped_fraction": clipping.clipped_fraction,
            "peak": clipping.peak,
            "level_dbfs": silence.level_dbfs,
            "declared_rate": rate.declared_rate,
            "declared_seconds": rate.declared_seconds,
            "expected_seconds": rate.expected_seconds,
            "duration_ratio": rate.duration_ratio,
            "likely_rate": rate.likely_rate,
            "rolloff_hz": rate.rolloff_hz,
            "rolloff_fraction": rate.rolloff_fraction,
        }
    )
    messages = [*channels.messages, *clipping.messages, *silence.messages, *rate.messages]
    if not causes:
        summary = (
            f"No audio-path problem found: level {silence.level_dbfs:.0f} dBFS, "
            f"{100 * clipping.clipped_fraction:.2f} % clipped, {clip.num_channels} channel(s)"
        )
        if channels.downmix_loss_db is not None and channels.channels > 1:
            summary += f" (down-mix {channels.downmix_loss_db:.1f} dB below the loudest)"
        if rate.duration_ratio is not None:
            summary += f", duration as expected ({rate.duration_ratio:.2f})"
        messages.insert(0, summary + ".")
    return AudioPathReport(channels, clipping, silence, rate, causes, evidence, tuple(messages))
