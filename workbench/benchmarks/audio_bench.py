"""The audio benchmark (``bench audio``): loading, resampling, figures and the panel's resampler switch.

Targets are checked by running the benchmark, not by timed tests: timing
on a shared CI machine is too noisy to fail a build on.
"""

from __future__ import annotations

import platform
import tempfile
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE, load_audio
from ..resampling import DEFAULT_RESAMPLER, RESAMPLERS, available_resamplers, time_resampler
from ..signals import band_limited_noise, speech_like
from .monitor import REPEATS, _best_of

#: Targets from the project's issues, checked and reported by :func:`bench_audio`.
TARGET_LOAD_SECONDS = 1.0  # 10-minute 48 kHz stereo FLAC
TARGET_DEFAULT_REALTIME = 500.0  # default resampler, 48k -> 16k
TARGET_FIGURE_SECONDS = 0.3  # before/after spectrogram figure, 30-second clip

LOAD_MINUTES = 10
FIGURE_SECONDS = 30
RESAMPLE_SECONDS = 60


def make_long_flac(path, *, minutes: float = LOAD_MINUTES, sr: int = 48_000) -> Path:
    """Write a stereo 24-bit FLAC of synthetic speech-like audio plus hiss (the load benchmark's input)."""
    import soundfile as sf

    seconds = minutes * 60
    left = speech_like(sr=sr, duration=seconds, seed=1) + 0.05 * band_limited_noise(sr=sr, duration=seconds, low=9000, seed=2)
    right = np.roll(left, sr // 100)
    sf.write(str(path), np.stack([left, right], axis=1), sr, subtype="PCM_24")
    return Path(path)


def bench_audio(*, quick: bool = False, out=None, progress: bool = True) -> dict:
    """Measure audio loading, resampling and figure building on this machine.

    Parameters
    ----------
    quick : bool
        Use 1-minute / 5-second / 10-second inputs instead of 10 min / 60 s /
        30 s: a smoke test, not a measurement against the targets.
    out : path, optional
        Also write the result as JSON there.

    Returns
    -------
    dict
        ``load``, ``resample`` (per method) and ``figure`` sections, each
        with the measured figure, the target and whether it was met.
    """
    from tqdm.auto import tqdm

    from .. import figures

    minutes = 1 if quick else LOAD_MINUTES
    resample_seconds = 5 if quick else RESAMPLE_SECONDS
    figure_seconds = 10 if quick else FIGURE_SECONDS
    result: dict = {
        "suite": "audio",
        "quick": quick,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
    }
    steps = tqdm(total=4, desc="bench audio", disable=not progress)

    with tempfile.TemporaryDirectory() as tmp:
        path = make_long_flac(Path(tmp) / "long.flac", minutes=minutes)
        load_audio(path)  # warm the page cache and imports
        t_mean = _best_of(lambda: load_audio(path))
        t_all = _best_of(lambda: load_audio(path, channel="all"))
        clip = load_audio(path, channel="all")
    result["load"] = {
        "input": f"{minutes} min, 48 kHz, stereo, 24-bit FLAC",
        "decoder": clip.info.decoder,
        "seconds_mean_mix": t_mean,
        "seconds_all_channels": t_all,
        "target_seconds": TARGET_LOAD_SECONDS,
        "met": t_mean < TARGET_LOAD_SECONDS,
    }
    steps.update()

    rows = {}
    for name in available_resamplers():
        wall = time_resampler(name, 48_000, SAMPLE_RATE, seconds=resample_seconds, repeats=REPEATS)
        rows[name] = {"kind": RESAMPLERS[name].kind, "seconds": wall, "realtime_factor": resample_seconds / wall if wall > 0 else None}
    default = rows[DEFAULT_RESAMPLER]["realtime_factor"]
    result["resample"] = {
        "input": f"{resample_seconds} s mono, 48 kHz -> 16 kHz",
        "methods": rows,
        "default": DEFAULT_RESAMPLER,
        "default_realtime_factor": default,
        "target_realtime_factor": TARGET_DEFAULT_REALTIME,
        "met": default >= TARGET_DEFAULT_REALTIME,
    }
    steps.update()

    before = speech_like(sr=48_000, duration=figure_seconds)
    from ..resampling import resample

    after = resample(before, 48_000, SAMPLE_RATE)
    figures.before_after_figure((before, 48_000), (after, SAMPLE_RATE))  # warm-up
    t_fig = _best_of(lambda: figures.before_after_figure((before, 48_000), (after, SAMPLE_RATE)))
    result["figure"] = {
        "input": f"{figure_seconds} s clip, 48 kHz before / 16 kHz after",
        "seconds": t_fig,
        "target_seconds": TARGET_FIGURE_SECONDS,
        "met": t_fig < TARGET_FIGURE_SECONDS,
    }
    steps.update()

    from .switch import measure_resampler_switch

    result["panel"] = measure_resampler_switch(seconds=figure_seconds)
    steps.update()
    steps.close()
    if out:
        from ..io import dumps, write_text

        write_text(out, dumps(result, indent=2))
    return result


def format_audio_bench(result: dict) -> str:
    """The benchmark result as a short human-readable report."""

    def verdict(ok):
        return "meets target" if ok else "MISSES target"

    lines = [
        f"audio benchmark{' (quick mode: not comparable to the targets)' if result['quick'] else ''} on {result['machine']['platform']}"
    ]
    ld = result["load"]
    lines.append(
        f"load  {ld['input']}: {ld['seconds_mean_mix']:.3f} s mean-mixed, "
        f"{ld['seconds_all_channels']:.3f} s all channels ({ld['decoder']}); "
        f"target < {ld['target_seconds']} s: {verdict(ld['met'])}"
    )
    rs = result["resample"]
    lines.append(f"resample  {rs['input']} (x real time, best of {REPEATS}):")
    for name, row in sorted(rs["methods"].items(), key=lambda kv: -(kv[1]["realtime_factor"] or 0)):
        mark = "  <- default" if name == rs["default"] else ""
        lines.append(f"  {name:<24} {row['realtime_factor']:>10.0f}x  {1000 * row['seconds']:>8.1f} ms{mark}")
    lines.append(
        f"  default {rs['default']}: {rs['default_realtime_factor']:.0f}x; "
        f"target >= {rs['target_realtime_factor']:.0f}x: {verdict(rs['met'])}"
    )
    fg = result["figure"]
    lines.append(
        f"figure  before/after spectrograms, {fg['input']}: {fg['seconds']:.3f} s; target < {fg['target_seconds']} s: {verdict(fg['met'])}"
    )
    pn = result.get("panel")
    if pn:
        lines.append(
            f"panel  changing only the resampler, {pn['clip_seconds']:g} s clip: slowest re-render {pn['max_cold_s']:.3f} s "
            f"(back to a cached setting {pn['max_cached_s']:.3f} s); target < {pn['target_s']} s: {verdict(pn['met'])}"
        )
        for name, t in pn["switch"].items():
            lines.append(f"  {name:<24} {1000 * t['cold_s']:>7.0f} ms   cached {1000 * t['cached_s']:>5.0f} ms")
    return "\n".join(lines)
