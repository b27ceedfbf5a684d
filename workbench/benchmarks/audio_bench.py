"""The audio benchmark (``bench audio``): loading, resampling, figures, the panel's resampler switch, and a 2-hour file.

Targets are checked by running the benchmark, not by timed tests: timing
on a shared CI machine is too noisy to fail a build on.

The long-file case measures peak memory, so each of its measurements runs
in a fresh Python process (the operating system's high-water mark of a
process's resident memory only ever grows).
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
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
TARGET_LONG_PEAK_BYTES = 1_000_000_000  # 2-hour 48 kHz stereo FLAC to 16 kHz mono, and its info: peak resident memory

LOAD_MINUTES = 10
FIGURE_SECONDS = 30
RESAMPLE_SECONDS = 60
LONG_FILE_MINUTES = 120
QUICK_LONG_FILE_MINUTES = 2


def make_long_flac(path, *, minutes: float = LOAD_MINUTES, sr: int = 48_000) -> Path:
    """Write a stereo 24-bit FLAC of synthetic speech-like audio plus hiss (the load benchmark's input)."""
    import soundfile as sf

    seconds = minutes * 60
    left = speech_like(sr=sr, duration=seconds, seed=1) + 0.05 * band_limited_noise(sr=sr, duration=seconds, low=9000, seed=2)
    right = np.roll(left, sr // 100)
    sf.write(str(path), np.stack([left, right], axis=1), sr, subtype="PCM_24")
    return Path(path)


def make_long_flac_in_pieces(path, *, minutes: float = LONG_FILE_MINUTES, sr: int = 48_000, piece_seconds: float = 60.0) -> Path:
    """Write a long stereo 24-bit FLAC a piece at a time, so making even hours of it takes little memory.

    Two different pieces of synthetic speech-like audio plus hiss alternate
    (the right channel is the left delayed by 10 ms), as in :func:`make_long_flac`.
    """
    import soundfile as sf

    pieces = []
    for seed in (1, 2):
        left = speech_like(sr=sr, duration=piece_seconds, seed=seed)
        left = left + 0.05 * band_limited_noise(sr=sr, duration=piece_seconds, low=9000, seed=seed + 10)
        pieces.append(np.stack([left, np.roll(left, sr // 100)], axis=1))
    total = int(round(minutes * 60 * sr))
    written = 0
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, subtype="PCM_24", format="FLAC") as f:
        while written < total:
            piece = pieces[(written // len(pieces[0])) % 2][: total - written]
            f.write(piece)
            written += len(piece)
    return Path(path)


#: Run in a fresh process by :func:`measure_long_file`: one load or probe, its time and the process's peak memory.
_LONG_CHILD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from workbench.audio import load_audio, probe_audio
from workbench.benchmarks.monitor import _process_peak_rss  # Linux: this program's own peak (VmHWM)
path, what, stream = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
baseline = _process_peak_rss()
t0 = time.perf_counter()
if what == "load":
    clip = load_audio(path, target_rate=16000, stream=stream)
    out = {"frames": clip.num_frames, "rate": clip.sample_rate, "channels": clip.num_channels, "decoder": clip.info.decoder}
else:
    info = probe_audio(path, stream=stream)
    out = {"frames": info.frames, "rate": info.original_sample_rate, "channels": info.original_channels, "decoder": info.decoder}
out.update(seconds=time.perf_counter() - t0, peak_rss_bytes=_process_peak_rss(), baseline_rss_bytes=baseline)
print(json.dumps(out))
"""


def measure_long_file(path, what: str = "load", *, stream: bool | None = None) -> dict:
    """Time and peak memory of one ``load_audio(path, target_rate=16000)`` (``what="load"``) or ``probe_audio(path)`` (``"info"``).

    Runs in a fresh Python process, so ``peak_rss_bytes`` is that
    operation's high-water mark (with the interpreter and the imports,
    given alone as ``baseline_rss_bytes``); ``None`` where the operating
    system keeps no such figure.

    Raises
    ------
    WorkbenchError
        The child process failed; the message ends with its last line of error output.
    """
    from ..errors import WorkbenchError

    if what not in ("load", "info"):
        raise WorkbenchError(f"what must be 'load' or 'info'; got {what!r}")
    proc = subprocess.run(
        [sys.executable, "-c", _LONG_CHILD, str(path), what, json.dumps(stream)], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise WorkbenchError(f"bench audio: measuring {what} of {path} failed: {lines[-1] if lines else proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _bench_long(quick: bool) -> dict:
    minutes = QUICK_LONG_FILE_MINUTES if quick else LONG_FILE_MINUTES
    stream = True if quick else None  # quick: too short to stream by itself, so streaming is asked for
    with tempfile.TemporaryDirectory() as tmp:
        path = make_long_flac_in_pieces(Path(tmp) / "two_hours.flac", minutes=minutes)
        size = path.stat().st_size
        load = measure_long_file(path, "load", stream=stream)
        info = measure_long_file(path, "info", stream=stream)
    peaks = [r["peak_rss_bytes"] for r in (load, info) if r["peak_rss_bytes"] is not None]
    return {
        "input": f"{minutes} min, 48 kHz, stereo, 24-bit FLAC ({size / 1e6:.0f} MB)",
        "streamed": "stream=True" if quick else "automatically",
        "load_16k_mono": load,
        "info": info,
        "target_peak_bytes": TARGET_LONG_PEAK_BYTES,
        "met": bool(peaks) and max(peaks) < TARGET_LONG_PEAK_BYTES,
    }


def bench_audio(*, quick: bool = False, out=None, progress: bool = True) -> dict:
    """Measure audio loading, resampling and figure building on this machine.

    Parameters
    ----------
    quick : bool
        Use 1-minute / 5-second / 10-second / 2-minute inputs instead of
        10 min / 60 s / 30 s / 2 hours: a smoke test, not a measurement
        against the targets.
    out : path, optional
        Also write the result as JSON there.

    Returns
    -------
    dict
        ``load``, ``resample`` (per method), ``figure``, ``panel`` and
        ``long`` (a 2-hour file to 16 kHz mono, and its ``info``: time and
        peak memory) sections, each with the measured figure, the target
        and whether it was met.
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
    steps = tqdm(total=5, desc="bench audio", disable=not progress)

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
        rows[name] = {"kind": RESAMPLERS[name].kind, "seconds": wall, "x_real_time": resample_seconds / wall if wall > 0 else None}
    default = rows[DEFAULT_RESAMPLER]["x_real_time"]
    result["resample"] = {
        "input": f"{resample_seconds} s mono, 48 kHz -> 16 kHz",
        "methods": rows,
        "default": DEFAULT_RESAMPLER,
        "default_x_real_time": default,
        "target_x_real_time": TARGET_DEFAULT_REALTIME,
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
    result["long"] = _bench_long(quick)
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
    for name, row in sorted(rs["methods"].items(), key=lambda kv: -(kv[1]["x_real_time"] or 0)):
        mark = "  <- default" if name == rs["default"] else ""
        lines.append(f"  {name:<24} {row['x_real_time']:>10.0f}x  {1000 * row['seconds']:>8.1f} ms{mark}")
    lines.append(
        f"  default {rs['default']}: {rs['default_x_real_time']:.0f}x; target >= {rs['target_x_real_time']:.0f}x: {verdict(rs['met'])}"
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
    lg = result.get("long")
    if lg:

        def gb(v):
            return "n/a" if v is None else f"{v / 1e9:.2f} GB"

        ld, inf = lg["load_16k_mono"], lg["info"]
        lines.append(
            f"long  {lg['input']}, read in blocks ({lg['streamed']}): "
            f"to 16 kHz mono {ld['seconds']:.1f} s, peak memory {gb(ld['peak_rss_bytes'])}; "
            f"info {inf['seconds']:.1f} s, peak memory {gb(inf['peak_rss_bytes'])} "
            f"(the interpreter and imports alone: {gb(ld['baseline_rss_bytes'])}); "
            f"target < {lg['target_peak_bytes'] / 1e9:g} GB: {verdict(lg['met'])}"
        )
    return "\n".join(lines)
