"""How fast the panel's figures follow a change of resampler (part of ``bench audio``).

The panel comes from :mod:`workbench.widgets`, imported only when the
benchmark runs (it needs ipywidgets and plotly).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ..audio import Clip
from ..resampling import DEFAULT_RESAMPLER, RESAMPLERS
from ..signals import band_limited_noise, speech_like

#: The resampler-switch speed target (seconds, 30-second 48 kHz clip).
SWITCH_TARGET_SECONDS = 0.5
BENCH_SECONDS = 30.0
BENCH_RATE = 48_000
#: Level of the hiss above the new Nyquist in the benchmark clip (linear, relative to the speech).
BENCH_HISS_LEVEL = 0.1
BENCH_HISS_LOW_HZ = 9_000.0
BENCH_RESAMPLERS = ("soxr_vhq", "scipy_poly", "torchaudio_default", "naive_decimation", "linear", "mislabelled")


def measure_resampler_switch(
    seconds: float = BENCH_SECONDS,
    resamplers=BENCH_RESAMPLERS,
    *,
    sample_rate: int = BENCH_RATE,
    background: bool = False,
) -> dict:
    """Time how fast the panel's figures follow a change of resampler.

    A panel is opened on a synthetic speech-like clip with hiss above the
    new Nyquist frequency (``seconds`` long at ``sample_rate``, written to
    a temporary WAV file), showing :data:`DEFAULT_RESAMPLER`. Then, for each
    resampler: switch to it (``cold_s``: resample, spectrogram, figure and
    player audio computed), switch back to the default (``back_s``: cached)
    and to it again (``cached_s``). Each resampler is run once on a short
    signal first, so library imports and filter design are not counted.

    Parameters
    ----------
    seconds : float
        Clip length; the target is stated for 30 s.
    resamplers : iterable of str
        Resamplers to switch to; ones not available here are skipped.
    sample_rate : int
        The clip's rate.
    background : bool
        Run the panel's work in its background thread (and wait for it).

    Returns
    -------
    dict
        ``first_render_s``, per-resampler timings under ``switch``,
        ``max_cold_s``, ``max_cached_s``, ``target_s`` and ``met`` (every
        cold switch under the target), plus ``skipped`` resamplers.
    """
    import soundfile as sf

    from ..datasets import ManifestEntry
    from ..widgets import SYNTHETIC_MARK, TARGET_RATE, ClipSource, Panel, time_resampler_change

    wanted = [r for r in resamplers if r != DEFAULT_RESAMPLER]
    unknown = [r for r in wanted if r not in RESAMPLERS]
    if unknown:
        raise ValueError(f"unknown resampler(s) {', '.join(unknown)}; choose from: {', '.join(RESAMPLERS)}")
    skipped = {r: RESAMPLERS[r].available()[1] for r in wanted if not RESAMPLERS[r].available()[0]}
    names = [r for r in wanted if r not in skipped]

    x = speech_like(sr=sample_rate, duration=seconds, seed=1)
    x = x + BENCH_HISS_LEVEL * band_limited_noise(sr=sample_rate, duration=seconds, low=BENCH_HISS_LOW_HZ, seed=2)
    short = x[: sample_rate // 10]
    for name in [DEFAULT_RESAMPLER, *names]:
        Clip.from_array(short, sample_rate).resample(TARGET_RATE, name)

    result: dict = {
        "clip_seconds": float(seconds),
        "sample_rate": int(sample_rate),
        "target_rate": TARGET_RATE,
        "background": bool(background),
        "start_resampler": DEFAULT_RESAMPLER,
        "switch": {},
        "skipped": skipped,
        "target_s": SWITCH_TARGET_SECONDS,
    }
    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as tmp:
        path = Path(tmp) / f"speech_like_{seconds:g}s_{sample_rate // 1000}k.wav"
        sf.write(str(path), x, sample_rate, subtype="FLOAT")
        entry = ManifestEntry(path, "en", "", {"source": f"{SYNTHETIC_MARK}: workbench.signals.speech_like plus hiss"})
        p = Panel([], resampler=DEFAULT_RESAMPLER, background=background)
        try:
            t0 = time.perf_counter()
            p.set_sources([ClipSource.from_entry(entry)])
            p.wait()
            result["first_render_s"] = time.perf_counter() - t0
            for name in names:
                cold = time_resampler_change(p, name)
                back = time_resampler_change(p, DEFAULT_RESAMPLER)
                cached = time_resampler_change(p, name)
                result["switch"][name] = {"cold_s": cold, "back_s": back, "cached_s": cached}
        finally:
            p.close()
    colds = [t["cold_s"] for t in result["switch"].values()]
    warm = [t[k] for t in result["switch"].values() for k in ("back_s", "cached_s")]
    result["max_cold_s"] = max(colds, default=float("nan"))
    result["max_cached_s"] = max(warm, default=float("nan"))
    result["met"] = bool(colds) and result["max_cold_s"] < SWITCH_TARGET_SECONDS
    return result
