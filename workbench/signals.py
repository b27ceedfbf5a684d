"""Synthetic test signals for measuring the audio path.

Deterministic (seeded) so that every measurement is repeatable. All
functions return float32 mono arrays and take an explicit ``sr``.
"""

from __future__ import annotations

import numpy as np

from .errors import SignalError

#: Default peak level of generated signals (linear, -6 dBFS).
DEFAULT_AMPLITUDE = 0.5
#: Fade length applied to both ends, so edges do not splatter energy across the spectrum.
FADE_SECONDS = 0.05


def tone(freq: float, *, sr: int, duration: float = 1.0, amplitude: float = DEFAULT_AMPLITUDE, phase: float = 0.0) -> np.ndarray:
    """A sine tone of ``freq`` Hz."""
    t = np.arange(int(round(duration * sr))) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def log_sweep(
    *, sr: int, duration: float = 4.0, f0: float = 50.0, f1: float | None = None, amplitude: float = DEFAULT_AMPLITUDE
) -> np.ndarray:
    """Exponential (log) sine sweep from ``f0`` to ``f1`` Hz, faded at both ends.

    ``f1`` defaults to 95 % of the Nyquist frequency. On a spectrogram a
    resampler's aliasing shows up as extra lines mirrored about the new
    Nyquist frequency.
    """
    f1 = 0.95 * sr / 2 if f1 is None else f1
    if not 0 < f0 < f1 <= sr / 2:
        raise SignalError(f"sweep needs 0 < f0 < f1 <= sr/2; got f0={f0}, f1={f1}, sr={sr}")
    n = int(round(duration * sr))
    t = np.arange(n) / sr
    k = np.log(f1 / f0)
    phase = 2 * np.pi * f0 * duration / k * (np.exp(t * k / duration) - 1.0)
    return fade(amplitude * np.sin(phase), sr=sr)


def band_limited_noise(
    *, sr: int, duration: float = 4.0, low: float = 0.0, high: float | None = None, amplitude: float = DEFAULT_AMPLITUDE, seed: int = 0
) -> np.ndarray:
    """White noise with no energy outside ``[low, high]`` Hz (brick-wall in the FFT domain).

    The result is windowed (Hann) so that it starts and ends at zero; the
    window's spectral leakage falls off fast enough that, 1 kHz away from
    the band edge, it is far below anything a resampler lets through.
    """
    high = sr / 2 if high is None else high
    n = int(round(duration * sr))
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    spec[(f < low) | (f > high)] = 0.0
    x = np.fft.irfft(spec, n) * np.hanning(n)
    peak = np.max(np.abs(x)) or 1.0
    return (amplitude * x / peak).astype(np.float32)


def fade(x: np.ndarray, *, sr: int, seconds: float = FADE_SECONDS) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of ``seconds`` at each end."""
    x = np.asarray(x, dtype=np.float64).copy()
    m = min(int(seconds * sr), len(x) // 2)
    if m > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(m) / m)
        x[:m] *= ramp
        x[-m:] *= ramp[::-1]
    return x.astype(np.float32)


def speech_like(*, sr: int, duration: float = 30.0, seed: int = 0) -> np.ndarray:
    """A stand-in for speech when no recording is at hand: harmonics with a
    wandering pitch and syllable-rate amplitude modulation, plus a little hiss.

    Not speech: no model will transcribe it. Use it for speed and figure
    measurements, never for accuracy.
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration * sr))
    t = np.arange(n) / sr
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 16) if k * 170 < sr / 2)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t) ** 2
    hiss = 0.01 * rng.standard_normal(n)
    x = voice * envelope + hiss
    return (DEFAULT_AMPLITUDE * x / np.max(np.abs(x))).astype(np.float32)
