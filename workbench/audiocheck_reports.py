"""What the audio-path checks of :mod:`workbench.audiocheck` return: one frozen dataclass per check.

Each report holds the numbers measured, the verdict and ``messages`` (plain
English, with the evidence). ``to_dict()`` gives them as JSON-ready values.
The thresholds the verdicts use are defined, and documented, in
:mod:`workbench.audiocheck`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .io import to_jsonable


class _Report:
    def to_dict(self) -> dict:
        """Every field as JSON-ready values (tuples become lists; infinities ``None``)."""
        return to_jsonable(asdict(self))


@dataclass(frozen=True)
class ChannelPair(_Report):
    """How two channels of one clip relate.

    Attributes
    ----------
    a, b : int
        Channel indices.
    correlation : float or None
        Pearson correlation of the two channels as they are (broadband);
        ``None`` when either channel is constant. Near -1: one channel is the
        other phase-inverted.
    best_correlation : float or None
        The highest Pearson correlation with ``b`` shifted by up to
        :data:`~workbench.audiocheck.MAX_LAG_MS` either way.
    best_lag_ms : float or None
        The shift that gives ``best_correlation``; positive when ``b`` lags ``a``.
    """

    a: int
    b: int
    correlation: float | None
    best_correlation: float | None
    best_lag_ms: float | None


@dataclass(frozen=True)
class ChannelReport(_Report):
    """What mixing the channels to mono does, and which channel to use.

    Attributes
    ----------
    sample_rate, channels, frames : int
        The audio measured.
    level_basis : str
        How the levels were measured.
    levels_dbfs : tuple of float
        RMS level of each channel (floored at :data:`~workbench.audiocheck.LEVEL_FLOOR_DBFS`).
    peaks_dbfs : tuple of float
        Sample peak of each channel; empty when not measured.
    downmix_dbfs : float or None
        Level of the mean of the channels (what ``load_audio``'s default
        ``channel="mean"`` gives); ``None`` when unknown.
    downmix_loss_db : float or None
        How far the down-mix is below the loudest channel (dB; 0 for
        identical channels, about 3 for unrelated ones, 6 for a stereo pair
        with one side silent, very large when they cancel).
    pairs : tuple of ChannelPair
        Correlation of every pair of channels; empty when not measured.
    cancels : bool
        The down-mix loses at least :data:`~workbench.audiocheck.DOWNMIX_LOSS_DB` and falls
        :data:`~workbench.audiocheck.CANCELLATION_EXCESS_DB` below what unrelated channels give.
    silent_channels : tuple of int
        Channels :data:`~workbench.audiocheck.SILENT_CHANNEL_RELATIVE_DB` below the loudest or
        below :data:`~workbench.audiocheck.SILENT_CHANNEL_DBFS`, while some channel is not.
    best_channel : "mean" or int
        What to pass as ``load_audio(..., channel=...)``.
    best_channel_reason : str
        Why.
    messages : tuple of str
        The findings in plain English, with their evidence; empty when none.
    """

    sample_rate: int
    channels: int
    frames: int
    level_basis: str
    levels_dbfs: tuple[float, ...]
    peaks_dbfs: tuple[float, ...]
    downmix_dbfs: float | None
    downmix_loss_db: float | None
    pairs: tuple[ChannelPair, ...]
    cancels: bool
    silent_channels: tuple[int, ...]
    best_channel: str | int
    best_channel_reason: str
    messages: tuple[str, ...] = ()

    @property
    def correlation(self) -> float | None:
        """Pearson correlation of the first two channels (``None`` for mono or unmeasured)."""
        return self.pairs[0].correlation if self.pairs else None


@dataclass(frozen=True)
class ClippingReport(_Report):
    """Samples stuck at full scale.

    Attributes
    ----------
    samples : int
        Samples examined (all channels).
    peak : float
        Largest absolute sample value.
    full_scale_samples : int
        Samples with ``|x| >= CLIP_LEVEL`` in runs of at least
        :data:`~workbench.audiocheck.CLIP_RUN` consecutive ones (a lone full-scale sample is a peak,
        a run is a flattened waveform).
    over_full_scale_samples : int
        Samples with ``|x| > 1`` (float input only): they will be clipped by
        anything that writes the audio as integers.
    clipped_fraction : float
        Fraction of samples that are either of the above.
    clipped : bool
        ``clipped_fraction >= CLIPPED_FRACTION``.
    messages : tuple of str
    """

    samples: int
    peak: float
    full_scale_samples: int
    over_full_scale_samples: int
    clipped_fraction: float
    clipped: bool
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class SilenceReport(_Report):
    """Whether there is anything to transcribe.

    Attributes
    ----------
    level_dbfs : float
        Speech-band RMS level of all channels together (their mean power).
    peak_dbfs : float
        Sample peak over all channels.
    silent : bool
        ``level_dbfs < SILENT_DBFS``.
    near_silent : bool
        Not silent, but ``level_dbfs < NEAR_SILENT_DBFS``.
    level_basis : str
    messages : tuple of str
    """

    level_dbfs: float
    peak_dbfs: float
    silent: bool
    near_silent: bool
    level_basis: str
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class RateReport(_Report):
    """Evidence on whether the declared sample rate is the true one.

    A mislabelled rate does not change the samples, only how fast they
    play: 48 kHz audio declared as 16 kHz lasts three times as long and
    every frequency is a third of what it was. The duration is the proof;
    the spectrum only hints.

    Attributes
    ----------
    declared_rate : int
    frames : int
    declared_seconds : float
        Duration at the declared rate.
    expected_seconds : float or None
        How long the audio really is, when known (from a transcript, a
        manifest, the recording's metadata).
    duration_ratio : float or None
        ``declared_seconds / expected_seconds``: 3.0 for 48 kHz audio
        declared as 16 kHz, 1/3 for 16 kHz audio declared as 48 kHz.
    implied_rate : float or None
        ``frames / expected_seconds``: the rate the audio must really have.
    likely_rate : int or None
        The common rate (:data:`~workbench.audiocheck.COMMON_RATES`) within
        :data:`~workbench.audiocheck.LIKELY_RATE_TOLERANCE` of ``implied_rate``.
    mislabelled : bool
        ``duration_ratio`` differs from 1 by more than
        :data:`~workbench.audiocheck.RATE_RATIO_TOLERANCE`; never set without ``expected_seconds``.
    rolloff_hz : float
        Frequency, at the declared rate, below which :data:`~workbench.audiocheck.ROLLOFF_ENERGY`
        of the energy lies.
    nyquist_hz : float
        Half the declared rate.
    rolloff_fraction : float
        ``rolloff_hz / nyquist_hz``: how much of the declared band the signal
        uses. Relabelling scales both alike, so this alone cannot show a
        wrong rate; a band-limited original (telephone audio) reaches 1.
    spectral_cue : {"low"} or None
        ``"low"`` when the rolloff is below :data:`~workbench.audiocheck.SPEECH_ROLLOFF_MIN_HZ`: if
        the audio is speech, its formants sit lower than speech's, as when
        the declared rate is too low. Supporting evidence only: a low tone
        or a hum does the same. There is no ``"high"`` cue: genuine
        recordings often carry energy far above speech's (hiss, cymbals, a
        whine), so a high rolloff proves nothing about the rate.
    messages : tuple of str
    """

    declared_rate: int
    frames: int
    declared_seconds: float
    expected_seconds: float | None
    duration_ratio: float | None
    implied_rate: float | None
    likely_rate: int | None
    mislabelled: bool
    rolloff_hz: float
    nyquist_hz: float
    rolloff_fraction: float
    spectral_cue: str | None
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class AudioPathReport(_Report):
    """Every audio-path check on one clip.

    Attributes
    ----------
    channels : ChannelReport
    clipping : ClippingReport
    silence : SilenceReport
    rate : RateReport
    causes : tuple of str
        Problems found, named from :data:`~workbench.audiocheck.CAUSES`, in that order.
    evidence : dict
        The numbers behind the verdicts (JSON-ready).
    messages : tuple of str
        Every finding in plain English; one reassuring line when there is none.
    """

    channels: ChannelReport
    clipping: ClippingReport
    silence: SilenceReport
    rate: RateReport
    causes: tuple[str, ...]
    evidence: dict = field(default_factory=dict)
    messages: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No cause found."""
        return not self.causes
