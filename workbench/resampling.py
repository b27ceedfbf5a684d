"""The resampling lab: named resamplers, one call to use any of them, and
measurements of how well each does its job.

Whisper wants 16 kHz; real files are 44.1 or 48 kHz. Between them sits a
resampler, and resamplers differ enormously in how much of the 8-24 kHz band
they let fold back ("alias") into the speech band. :data:`RESAMPLERS` holds
well-kept library implementations side by side with deliberately bad ones
kept for teaching.

Rates are checked in one place, :func:`check_sample_rate`, with the same
bounds for what the workbench reads and what it writes. soxr's resamplers
also work block by block (:func:`stream_resampler`, :class:`ResampledBlocks`),
which is how a long file reaches 16 kHz without being held in memory whole.

Examples
--------
>>> import numpy as np
>>> from workbench.resampling import resample
>>> y = resample(np.zeros(48_000, np.float32), 48_000, 16_000)
>>> y.shape
(16000,)
"""

from __future__ import annotations

import functools
import importlib.util
import math
import numbers
import subprocess
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from .constants import SAMPLE_RATE
from .errors import ResampleError, SampleRateError, install_hint
from .ffmpeg import ffmpeg_binary
from .signals import band_limited_noise, log_sweep, tone

#: The default: soxr's "HQ" preset. See :func:`resample`.
DEFAULT_RESAMPLER = "soxr_hq"
#: Rates the lab is tested on (Hz).
COMMON_RATES = (8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 96_000, 192_000)

#: Sample rates outside this range are refused everywhere: in a file's header, as
#: ``assume_sample_rate``, as a resampler's input or output (see :func:`check_sample_rate`).
MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 768_000

# librosa's "kaiser_best" filter, as recommended in torchaudio's resampling tutorial.
KAISER_BEST_WIDTH = 64
KAISER_BEST_ROLLOFF = 0.9475937167399596
KAISER_BEST_BETA = 14.769656459379492


def check_sample_rate(
    rate, name: str = "sample_rate", *, error=SampleRateError, subject: str | None = None, advice: str = "", **details
) -> int:
    """The one check of a sample rate, wherever it comes from: an integer from :data:`MIN_SAMPLE_RATE` to :data:`MAX_SAMPLE_RATE` Hz.

    A file's header, ``assume_sample_rate``, ``target_rate``, a resampler's
    input and output, the command line's ``--rate``: all are held to the
    same bounds, so the workbench never writes a file it would refuse to read.

    Parameters
    ----------
    rate : int
    name : str
        How the caller names the value in messages (``"--rate"``, ``"target_sr"``).
    error : type
        The exception to raise (a :class:`~workbench.errors.WorkbenchError` subclass).
    subject : str, optional
        The start of the out-of-range message, instead of ``"<name>: a sample rate of"``.
    advice : str
        Appended to the message: what to do.
    **details
        Passed to ``error`` (``path=``, ``attempts=``).

    Returns
    -------
    int

    Examples
    --------
    >>> check_sample_rate(16_000)
    16000
    >>> check_sample_rate(0, "assume_sample_rate")
    Traceback (most recent call last):
    ...
    workbench.errors.SampleRateError: assume_sample_rate must be a positive integer number of Hz; got 0
    >>> check_sample_rate(100_000_000, "--rate")
    Traceback (most recent call last):
    ...
    workbench.errors.SampleRateError: --rate: a sample rate of 100 MHz, outside 1 kHz–768 kHz; choose a rate in that range
    """
    if isinstance(rate, bool) or not isinstance(rate, numbers.Integral) or rate <= 0:
        raise error(f"{name} must be a positive integer number of Hz; got {rate!r}{advice}", **details)
    rate = int(rate)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        lead = subject or f"{name}: a sample rate of"
        bounds = f"{fmt_rate(MIN_SAMPLE_RATE)}–{fmt_rate(MAX_SAMPLE_RATE)}"
        raise error(f"{lead} {fmt_rate(rate)}, outside {bounds}{advice or '; choose a rate in that range'}", **details)
    return rate


def fmt_rate(rate: int) -> str:
    """A rate in words: ``"16 kHz"``, ``"44.1 kHz"``, ``"100 MHz"``, ``"8 Hz"``."""
    if rate >= 1_000_000:
        return f"{rate / 1e6:g} MHz"
    if rate >= 1000:
        return f"{rate / 1e3:g} kHz"
    return f"{rate} Hz"


@dataclass(frozen=True)
class Resampler:
    """One named way of changing the sample rate.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"soxr_hq"``.
    description : str
        One line: what it is and what it is good for.
    kind : {"quality", "common", "bad", "mislabel"}
        ``quality``: band-limited to better than 100 dB; ``common``: what many
        tutorials and tools use; ``bad``: deliberately wrong, kept for teaching;
        ``mislabel``: no resampling at all, the rate is just relabelled.
    library : str
        The package that does the work.
    packages : tuple of str
        Python packages it imports; it is unavailable where one is not
        installed (checked without importing them).
    stream : callable, optional
        ``stream(orig, target, channels)`` makes a block-by-block resampler
        whose output equals :attr:`func`'s on the whole signal; ``None`` for
        methods that need the whole signal at once.
    """

    name: str
    description: str
    kind: str
    library: str
    func: Callable[[np.ndarray, int, int], np.ndarray]
    requires: Callable[[], tuple[bool, str]] = lambda: (True, "")
    packages: tuple[str, ...] = ()
    stream: Callable[[int, int, int], object] | None = None

    @property
    def streams(self) -> bool:
        """Whether this method can resample a signal block by block (see :func:`stream_resampler`)."""
        return self.stream is not None

    def missing_packages(self) -> list[str]:
        """Those of :attr:`packages` not installed here."""
        return [p for p in self.packages if not _installed(p)]

    def available(self) -> tuple[bool, str]:
        """``(True, "")`` or ``(False, reason)`` for this machine."""
        missing = self.missing_packages()
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            return False, f"{', '.join(missing)} {verb} not installed ({install_hint(*missing)})"
        return self.requires()


# --------------------------------------------------------------------------
# Implementations. Each takes float32 (channels, frames) and returns the same layout.
# --------------------------------------------------------------------------


def _soxr(quality: str):
    def run(x, orig, target):
        import soxr

        return soxr.resample(x.T, orig, target, quality=quality).T

    return run


def _soxr_stream(quality: str):
    def make(orig, target, channels):
        import soxr

        return soxr.ResampleStream(orig, target, channels, dtype="float32", quality=quality)

    return make


def _torchaudio(**kwargs):
    def run(x, orig, target):
        import torch
        import torchaudio.functional as F

        with torch.inference_mode():
            return F.resample(torch.from_numpy(np.ascontiguousarray(x)), orig, target, **kwargs).numpy()

    return run


def _librosa(res_type: str):
    def run(x, orig, target):
        import librosa

        return librosa.resample(x, orig_sr=orig, target_sr=target, res_type=res_type, axis=-1)

    return run


def _scipy_poly(x, orig, target):
    from scipy.signal import resample_poly

    g = math.gcd(orig, target)
    return resample_poly(x, target // g, orig // g, axis=-1)


def _ffmpeg(resampler: str | None):
    def run(x, orig, target):
        exe = ffmpeg_binary()
        channels = x.shape[0]
        cmd = [exe, "-nostdin", "-v", "error", "-f", "f32le", "-ar", str(orig), "-ac", str(channels), "-i", "-"]
        if resampler:
            cmd += ["-af", f"aresample=resampler={resampler}"]
        cmd += ["-ar", str(target), "-f", "f32le", "-c:a", "pcm_f32le", "-"]
        raw = np.ascontiguousarray(x.T, dtype="<f4").tobytes()
        proc = subprocess.run(cmd, input=raw, capture_output=True)
        if proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ResampleError(f"ffmpeg failed to resample {orig} -> {target} Hz: {msg[-1] if msg else proc.returncode}")
        y = np.frombuffer(proc.stdout, dtype="<f4")
        return y[: len(y) - len(y) % channels].reshape(-1, channels).T

    return run


def _naive(x, orig, target):
    """Keep the nearest earlier input sample for each output instant; no filter at all."""
    n_out = _out_len(x.shape[-1], orig, target)
    idx = (np.arange(n_out, dtype=np.int64) * orig) // target
    return x[:, idx]


def _linear(x, orig, target):
    """Straight lines between neighbouring samples; no anti-aliasing filter."""
    n_in = x.shape[-1]
    n_out = _out_len(n_in, orig, target)
    t = np.arange(n_out) * (orig / target)
    return np.stack([np.interp(t, np.arange(n_in), ch) for ch in x])


def _mislabel(x, orig, target):
    """Return the samples untouched: the caller will declare them ``target`` Hz."""
    return x.copy()


def _out_len(n: int, orig: int, target: int) -> int:
    return int(math.ceil(n * target / orig))


# --------------------------------------------------------------------------
# Availability checks
# --------------------------------------------------------------------------


def _installed(package: str) -> bool:
    """Whether ``package`` can be imported, found without importing it (torchaudio and librosa take seconds)."""
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


@functools.lru_cache(maxsize=1)
def _ffmpeg_buildconf() -> str:
    exe = ffmpeg_binary()
    if not exe:
        return ""
    return subprocess.run([exe, "-hide_banner", "-buildconf"], capture_output=True, text=True).stdout


def _ffmpeg_available():
    return (True, "") if ffmpeg_binary() else (False, "the ffmpeg binary is not on PATH")


def _ffmpeg_soxr_available():
    if not ffmpeg_binary():
        return False, "the ffmpeg binary is not on PATH"
    if "libsoxr" not in _ffmpeg_buildconf():
        return False, "this ffmpeg was built without libsoxr"
    return True, ""


RESAMPLERS: dict[str, Resampler] = {
    r.name: r
    for r in [
        Resampler(
            "soxr_hq",
            "soxr 'HQ': fast, alias-free to ~-140 dB; the workbench default",
            "quality",
            "soxr",
            _soxr("HQ"),
            packages=("soxr",),
            stream=_soxr_stream("HQ"),
        ),
        Resampler(
            "soxr_vhq",
            "soxr 'VHQ': steeper and deeper than HQ (~-150 dB) for a little more time",
            "quality",
            "soxr",
            _soxr("VHQ"),
            packages=("soxr",),
            stream=_soxr_stream("VHQ"),
        ),
        Resampler(
            "torchaudio_default",
            "torchaudio.transforms.Resample out of the box (sinc_interp_hann, width 6, rolloff 0.99): what the seed and many tutorials use",
            "common",
            "torchaudio",
            _torchaudio(),
            packages=("torchaudio",),
        ),
        Resampler(
            "torchaudio_kaiser_best",
            "torchaudio sinc_interp_kaiser with librosa's kaiser_best settings (width 64, rolloff 0.9476, beta 14.77)",
            "quality",
            "torchaudio",
            _torchaudio(
                lowpass_filter_width=KAISER_BEST_WIDTH,
                rolloff=KAISER_BEST_ROLLOFF,
                resampling_method="sinc_interp_kaiser",
                beta=KAISER_BEST_BETA,
            ),
            packages=("torchaudio",),
        ),
        Resampler(
            "librosa_soxr_hq",
            "librosa.resample(res_type='soxr_hq'): librosa's default, soxr underneath",
            "quality",
            "librosa",
            _librosa("soxr_hq"),
            packages=("librosa",),
        ),
        Resampler(
            "librosa_kaiser_best",
            "librosa.resample(res_type='kaiser_best'): resampy's best band-limited sinc",
            "quality",
            "librosa+resampy",
            _librosa("kaiser_best"),
            packages=("librosa", "resampy"),
        ),
        Resampler(
            "librosa_polyphase",
            "librosa.resample(res_type='polyphase'): scipy's polyphase filter via librosa",
            "common",
            "librosa",
            _librosa("polyphase"),
            packages=("librosa",),
        ),
        Resampler(
            "scipy_poly",
            "scipy.signal.resample_poly with its default Kaiser window (beta 5): modest stop band",
            "common",
            "scipy",
            _scipy_poly,
            packages=("scipy",),
        ),
        Resampler(
            "ffmpeg_swr",
            "the ffmpeg binary with -ar 16000 and its default swr resampler",
            "common",
            "ffmpeg",
            _ffmpeg(None),
            _ffmpeg_available,
        ),
        Resampler(
            "ffmpeg_soxr",
            "the ffmpeg binary with -af aresample=resampler=soxr",
            "quality",
            "ffmpeg",
            _ffmpeg("soxr"),
            _ffmpeg_soxr_available,
        ),
        Resampler(
            "naive_decimation",
            "BAD (teaching): keep every n-th sample, no filter; everything above the new Nyquist aliases",
            "bad",
            "numpy",
            _naive,
        ),
        Resampler("linear", "BAD (teaching): linear interpolation between samples, no filter", "bad", "numpy", _linear),
        Resampler(
            "mislabelled",
            "BUG (teaching): samples untouched but declared at the new rate, like handing a raw 44.1 kHz array to a 16 kHz pipeline",
            "mislabel",
            "none",
            _mislabel,
        ),
    ]
}


def check_resampler(method: str) -> Resampler:
    """The :class:`Resampler` called ``method``, if it exists and can run here.

    Raises
    ------
    ResampleError
        An unknown name (the message lists the known ones) or a method this
        machine cannot run (the message says what is missing).
    """
    if method not in RESAMPLERS:
        raise ResampleError(f"unknown resampler {method!r}; choose one of: {', '.join(RESAMPLERS)}")
    r = RESAMPLERS[method]
    ok, why = r.available()
    if not ok:
        raise ResampleError(f"resampler {method!r} is not available here: {why}")
    return r


class StreamResampler:
    """A resampler fed block by block; what comes out equals resampling the whole signal at once.

    Made by :func:`stream_resampler`. Blocks are float32 ``(channels, n)``;
    :meth:`push` returns what is ready, :meth:`finish` the rest.
    """

    def __init__(self, engine, channels: int):
        self._engine = engine
        self.channels = channels

    def push(self, block: np.ndarray) -> np.ndarray:
        """Resample the next ``(channels, n)`` block; returns ``(channels, m)`` (``m`` may be 0)."""
        x = np.ascontiguousarray(np.asarray(block, dtype=np.float32).T)
        return self._engine.resample_chunk(x, last=False).T

    def finish(self) -> np.ndarray:
        """The output still held back by the filter, once the input has ended."""
        return self._engine.resample_chunk(np.zeros((0, self.channels), dtype=np.float32), last=True).T


def stream_resampler(method: str, orig_sr: int, target_sr: int, channels: int) -> StreamResampler:
    """A :class:`StreamResampler` for ``method`` from ``orig_sr`` to ``target_sr``.

    Raises
    ------
    ResampleError
        The method is unknown, unavailable, or cannot stream (only soxr's
        can: see :attr:`Resampler.streams`), or a rate is out of range.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((1, 48_000)).astype(np.float32)
    >>> rs = stream_resampler("soxr_hq", 48_000, 16_000, 1)
    >>> y = np.concatenate([rs.push(x[:, :20_000]), rs.push(x[:, 20_000:]), rs.finish()], axis=1)
    >>> bool(np.array_equal(y, resample(x, 48_000, 16_000, "soxr_hq")))
    True
    """
    r = check_resampler(method)
    if not r.streams:
        streaming = ", ".join(n for n, m in RESAMPLERS.items() if m.streams)
        raise ResampleError(f"resampler {method!r} needs the whole signal at once; those that stream: {streaming}")
    orig = check_sample_rate(orig_sr, "orig_sr", error=ResampleError)
    target = check_sample_rate(target_sr, "target_sr", error=ResampleError)
    return StreamResampler(r.stream(orig, target, int(channels)), int(channels))


class ResampledBlocks:
    """Blocks of samples gathered into one array, resampled on the way when the rates differ.

    The array is allocated once from the expected length (``expected_frames``
    at ``orig_sr``, e.g. a file header's), so a long signal is never held
    twice; frames beyond it are kept too.

    Parameters
    ----------
    channels : int
    orig_sr, target_sr : int
        The blocks' rate and the result's.
    method : str, optional
        A resampler that streams, needed when the rates differ.
    expected_frames : int, optional
    """

    def __init__(self, channels: int, orig_sr: int, target_sr: int, method: str | None = None, expected_frames: int | None = None):
        self.resampler = stream_resampler(method, orig_sr, target_sr, channels) if target_sr != orig_sr else None
        self.rate = int(target_sr)
        expected = math.ceil(expected_frames * target_sr / orig_sr) + 64 if expected_frames else 0
        self._buf = np.empty((channels, expected if expected <= 86_400 * target_sr else 0), dtype=np.float32)
        self._n = 0
        self._extra: list[np.ndarray] = []

    def add(self, block: np.ndarray) -> None:
        """Add the next ``(channels, n)`` block."""
        self._store(self.resampler.push(block) if self.resampler is not None else block)

    def _store(self, x: np.ndarray) -> None:
        m = min(self._buf.shape[1] - self._n, x.shape[1])
        self._buf[:, self._n : self._n + m] = x[:, :m]
        self._n += m
        if m < x.shape[1]:  # more than expected
            self._extra.append(np.array(x[:, m:], dtype=np.float32))

    def result(self) -> np.ndarray:
        """Everything added, float32 ``(channels, frames)`` at ``target_sr``; call once, at the end."""
        if self.resampler is not None:
            self._store(self.resampler.finish())
        head = self._buf[:, : self._n]
        if self._extra:
            return np.concatenate([head, *self._extra], axis=1)
        return head if head.flags.c_contiguous else np.ascontiguousarray(head)


def available_resamplers() -> list[str]:
    """Names of the resamplers that can run on this machine."""
    return [name for name, r in RESAMPLERS.items() if r.available()[0]]


def resample(samples, orig_sr: int, target_sr: int = SAMPLE_RATE, method: str = DEFAULT_RESAMPLER) -> np.ndarray:
    """Change the sample rate of ``samples`` with a named method.

    The default, ``"soxr_hq"``, is chosen because it is both the cleanest and
    among the fastest here: measured with noise confined above the new
    Nyquist, it lets through about -140 dB (torchaudio's default lets through
    about -35 dB, naive decimation everything), its passband is flat to within
    0.1 dB up to 7 kHz at 16 kHz, and it runs at thousands of times real time.

    Parameters
    ----------
    samples : np.ndarray
        1-D mono or ``(channels, frames)``; converted to float32.
    orig_sr, target_sr : int
        Rates in Hz. Any pair works, downsampling or upsampling.
    method : str
        A key of :data:`RESAMPLERS`.

    Returns
    -------
    np.ndarray
        float32, same number of dimensions as the input. For
        ``"mislabelled"`` the samples are returned unchanged: declaring them
        to be ``target_sr`` is the bug being demonstrated.

    Raises
    ------
    ResampleError
        Unknown or unavailable method, or a rate that is not an integer
        within :data:`MIN_SAMPLE_RATE` to :data:`MAX_SAMPLE_RATE`.
    """
    r = check_resampler(method)
    for label, rate in (("orig_sr", orig_sr), ("target_sr", target_sr)):
        check_sample_rate(rate, label, error=ResampleError)
    x = np.asarray(samples, dtype=np.float32)
    squeeze = x.ndim == 1
    if squeeze:
        x = x[None, :]
    if x.ndim != 2:
        raise ResampleError(f"samples must be 1-D or (channels, frames); got shape {x.shape}")
    if orig_sr == target_sr or x.shape[-1] == 0:
        y = x.copy()
    else:
        y = np.asarray(r.func(x, int(orig_sr), int(target_sr)), dtype=np.float32)
    y = np.ascontiguousarray(y)
    return y[0] if squeeze else y


# --------------------------------------------------------------------------
# Quality measurements
# --------------------------------------------------------------------------

#: Alias test signals start this far above the new Nyquist (Hz), leaving a transition band.
ALIAS_GUARD_HZ = 1_000.0
#: Passband tones, as fractions of the new Nyquist (at 16 kHz: 125 Hz ... 7 kHz).
PASSBAND_FRACTIONS = (0.015625, 0.125, 0.375, 0.625, 0.75, 0.875)
MEASURE_SECONDS = 4.0
TIMING_SECONDS = 30.0


@dataclass
class ResamplerQuality:
    """How one resampler did on one rate pair. dB figures are energy ratios.

    ``alias_noise_db`` and ``alias_sweep_db``: output energy relative to input
    energy, for noise and for a log sweep confined above the new Nyquist
    (everything that comes out is aliasing; lower is better; ``None`` when
    upsampling). ``passband_ripple_db``: the largest gain error of the tones
    at :data:`PASSBAND_FRACTIONS` of the new Nyquist, measured at the tone's
    true frequency (so a mislabelled rate scores very badly).
    ``x_real_time``: the speed, "× real time": seconds of audio processed per second of wall time
    (higher is faster; not a real-time factor, which is wall time per second of audio).
    """

    method: str
    kind: str
    orig_sr: int
    target_sr: int
    alias_noise_db: float | None
    alias_sweep_db: float | None
    passband_ripple_db: float
    passband_gains_db: dict[str, float]
    x_real_time: float
    ms_per_10s: float

    def to_dict(self) -> dict:
        return asdict(self)


def alias_energy_db(
    method: str, orig_sr: int, target_sr: int = SAMPLE_RATE, *, signal: str = "noise", duration: float = MEASURE_SECONDS
) -> float:
    """Energy a resampler lets through from a signal that lies wholly above the new Nyquist.

    The test signal (band-limited ``"noise"`` or a log ``"sweep"``) spans
    ``target_sr/2 + ALIAS_GUARD_HZ`` to 95 % of the original Nyquist. An ideal
    resampler outputs silence, so any output energy is aliasing. Returned as
    10·log10(output energy / input energy), energy being sum of squares
    divided by the rate.
    """
    if target_sr >= orig_sr:
        raise ResampleError("alias rejection is measured when downsampling (target_sr < orig_sr)")
    low = target_sr / 2 + ALIAS_GUARD_HZ
    high = 0.95 * orig_sr / 2
    if signal == "noise":
        x = band_limited_noise(sr=orig_sr, duration=duration, low=low, high=high)
    elif signal == "sweep":
        x = log_sweep(sr=orig_sr, duration=duration, f0=low, f1=high)
    else:
        raise ValueError(f"signal must be 'noise' or 'sweep'; got {signal!r}")
    y = resample(x, orig_sr, target_sr, method)
    if RESAMPLERS[method].kind == "mislabel":
        y_rate = target_sr
    else:
        y_rate = target_sr
    e_in = np.sum(np.square(x, dtype=np.float64)) / orig_sr
    e_out = np.sum(np.square(y, dtype=np.float64)) / y_rate
    return float(10 * np.log10(max(e_out, 1e-30) / e_in))


def passband_gains_db(method: str, orig_sr: int, target_sr: int = SAMPLE_RATE, *, duration: float = 1.0) -> dict[float, float]:
    """Gain (dB) of tones in the passband, measured at each tone's true frequency.

    Each tone is fitted by least squares with a sine and cosine of the same
    frequency at the output rate, over the middle of the output (edges
    excluded), so both level errors and frequency errors show up.
    """
    nyq = min(orig_sr, target_sr) / 2
    gains = {}
    for frac in PASSBAND_FRACTIONS:
        f = frac * nyq
        x = tone(f, sr=orig_sr, duration=duration)
        y = resample(x, orig_sr, target_sr, method).astype(np.float64)
        n = len(y)
        core = slice(n // 4, 3 * n // 4)
        t = np.arange(n)[core] / target_sr
        basis = np.stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)], axis=1)
        coef, *_ = np.linalg.lstsq(basis, y[core], rcond=None)
        amp = float(np.hypot(*coef))
        in_amp = float(np.max(np.abs(x)))
        gains[f] = 20 * math.log10(max(amp, 1e-12) / in_amp)
    return gains


def time_resampler(method: str, orig_sr: int, target_sr: int = SAMPLE_RATE, *, seconds: float = TIMING_SECONDS, repeats: int = 3) -> float:
    """Best wall time (s) to resample ``seconds`` of mono noise."""
    x = band_limited_noise(sr=orig_sr, duration=seconds, seed=1)
    resample(x[: orig_sr // 10], orig_sr, target_sr, method)  # warm-up: imports, filter design
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        resample(x, orig_sr, target_sr, method)
        best = min(best, time.perf_counter() - t0)
    return best


def measure_resampler(
    method: str, orig_sr: int, target_sr: int = SAMPLE_RATE, *, timing_seconds: float = TIMING_SECONDS
) -> ResamplerQuality:
    """All quality figures for one method and rate pair."""
    down = target_sr < orig_sr
    gains = passband_gains_db(method, orig_sr, target_sr)
    wall = time_resampler(method, orig_sr, target_sr, seconds=timing_seconds)
    return ResamplerQuality(
        method=method,
        kind=RESAMPLERS[method].kind,
        orig_sr=orig_sr,
        target_sr=target_sr,
        alias_noise_db=alias_energy_db(method, orig_sr, target_sr, signal="noise") if down else None,
        alias_sweep_db=alias_energy_db(method, orig_sr, target_sr, signal="sweep") if down else None,
        passband_ripple_db=float(max(abs(g) for g in gains.values())),
        passband_gains_db={f"{f:.0f}": round(g, 4) for f, g in gains.items()},
        x_real_time=timing_seconds / wall if wall > 0 else math.inf,
        ms_per_10s=1000 * wall * 10 / timing_seconds,
    )


# --------------------------------------------------------------------------
# The report: every method on every rate pair
# --------------------------------------------------------------------------

#: Rates the report measures by default: the two every real file comes in.
REPORT_RATES = (44_100, 48_000)


def resample_report(
    orig_rates=REPORT_RATES,
    target_sr: int = SAMPLE_RATE,
    methods=None,
    *,
    timing_seconds: float = TIMING_SECONDS,
    progress: bool = True,
):
    """Measure every (available) resampler on synthetic signals.

    Parameters
    ----------
    orig_rates : iterable of int
        Source rates; each is converted to ``target_sr``.
    methods : iterable of str, optional
        Defaults to every resampler available here.
    timing_seconds : float
        Audio length used for the speed measurement.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (method, rate pair), sorted by alias energy (best first),
        with the columns of :class:`ResamplerQuality` plus ``description``.
        Methods not available here are listed in ``df.attrs["skipped"]``.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    names = list(methods) if methods else list(RESAMPLERS)
    unknown = [m for m in names if m not in RESAMPLERS]
    if unknown:
        raise ResampleError(f"unknown resampler {unknown[0]!r}; choose from: {', '.join(RESAMPLERS)}")
    skipped = {m: RESAMPLERS[m].available()[1] for m in names if not RESAMPLERS[m].available()[0]}
    runnable = [m for m in names if m not in skipped]
    jobs = [(m, r) for r in orig_rates for m in runnable]
    rows = []
    for m, r in tqdm(jobs, desc="measuring resamplers", disable=not progress, unit="method"):
        q = measure_resampler(m, int(r), int(target_sr), timing_seconds=timing_seconds)
        row = q.to_dict()
        row.pop("passband_gains_db")
        row["description"] = RESAMPLERS[m].description
        rows.append(row)
    df = pd.DataFrame(rows)
    if not df.empty:
        df = df.sort_values(["orig_sr", "alias_noise_db"], na_position="last", kind="stable").reset_index(drop=True)
    df.attrs["skipped"] = skipped
    return df
