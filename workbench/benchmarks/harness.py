"""Speed benchmarks, run by ``python -m workbench bench``.

Targets are checked by running the benchmark, not by timed tests: timing
on a shared CI machine is too noisy to fail a build on.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from .audio import SAMPLE_RATE, load_audio
from .engines import default_encoder_batch
from .resampling import DEFAULT_RESAMPLER, RESAMPLERS, available_resamplers, time_resampler
from .signals import band_limited_noise, speech_like

#: Targets from the project's issues, checked and reported by :func:`bench_audio`.
TARGET_LOAD_SECONDS = 1.0  # 10-minute 48 kHz stereo FLAC
TARGET_DEFAULT_REALTIME = 500.0  # default resampler, 48k -> 16k
TARGET_FIGURE_SECONDS = 0.3  # before/after spectrogram figure, 30-second clip

LOAD_MINUTES = 10
FIGURE_SECONDS = 30
RESAMPLE_SECONDS = 60
REPEATS = 3


def _best_of(fn, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


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

    from . import figures

    minutes = 1 if quick else LOAD_MINUTES
    resample_seconds = 5 if quick else RESAMPLE_SECONDS
    figure_seconds = 10 if quick else FIGURE_SECONDS
    result: dict = {
        "suite": "audio",
        "quick": quick,
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(), "python": platform.python_version()},
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
    from .resampling import resample

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

    from .widgets import measure_resampler_switch

    result["panel"] = measure_resampler_switch(seconds=figure_seconds)
    steps.update()
    steps.close()
    if out:
        from .io import write_text

        write_text(out, json.dumps(result, indent=2))
    return result


def format_audio_bench(result: dict) -> str:
    """The benchmark result as a short human-readable report."""

    def verdict(ok):
        return "meets target" if ok else "MISSES target"

    lines = [f"audio benchmark{' (quick mode: not comparable to the targets)' if result['quick'] else ''} on {result['machine']['platform']}"]
    ld = result["load"]
    lines.append(f"load  {ld['input']}: {ld['seconds_mean_mix']:.3f} s mean-mixed, {ld['seconds_all_channels']:.3f} s all channels ({ld['decoder']}); target < {ld['target_seconds']} s: {verdict(ld['met'])}")
    rs = result["resample"]
    lines.append(f"resample  {rs['input']} (x real time, best of {REPEATS}):")
    for name, row in sorted(rs["methods"].items(), key=lambda kv: -(kv[1]["realtime_factor"] or 0)):
        mark = "  <- default" if name == rs["default"] else ""
        lines.append(f"  {name:<24} {row['realtime_factor']:>10.0f}x  {1000 * row['seconds']:>8.1f} ms{mark}")
    lines.append(f"  default {rs['default']}: {rs['default_realtime_factor']:.0f}x; target >= {rs['target_realtime_factor']:.0f}x: {verdict(rs['met'])}")
    fg = result["figure"]
    lines.append(f"figure  before/after spectrograms, {fg['input']}: {fg['seconds']:.3f} s; target < {fg['target_seconds']} s: {verdict(fg['met'])}")
    pn = result.get("panel")
    if pn:
        lines.append(
            f"panel  changing only the resampler, {pn['clip_seconds']:g} s clip: slowest re-render {pn['max_cold_s']:.3f} s "
            f"(back to a cached setting {pn['max_cached_s']:.3f} s); target < {pn['target_s']} s: {verdict(pn['met'])}"
        )
        for name, t in pn["switch"].items():
            lines.append(f"  {name:<24} {1000 * t['cold_s']:>7.0f} ms   cached {1000 * t['cached_s']:>5.0f} ms")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------

TARGET_OVERHEAD = 0.10  # workbench engine vs the raw library call
TARGET_FW_SPEEDUP = 2.5  # faster-whisper int8 vs transformers float32, CPU
TARGET_RELOAD_SECONDS = 3.0  # second load of the embedded model
TARGET_PEAK_GB = 2.5  # 10-minute file, base model
LONG_MINUTES = 10
#: Beam size of ``bench engines`` unless told otherwise.
ENGINES_BEAM_SIZE = 5

_CHILD_LOAD = """
import json, sys, time
t0 = time.perf_counter()
from workbench.engines import get_engine
from workbench.models import resolve_model
if sys.argv[1] == "transformers":
    import torch, transformers.pipelines  # the libraries, imported once per process
else:
    import faster_whisper
t1 = time.perf_counter()
ref = resolve_model("embedded", engine=sys.argv[1])
engine, load_s = get_engine(sys.argv[1], ref, "cpu", sys.argv[2])
print(json.dumps({"import_s": t1 - t0, "resolve_s": time.perf_counter() - t1 - load_s, "load_s": load_s, "total_s": time.perf_counter() - t1}))
"""

_CHILD_LONG = """
import json, resource, sys, time
import numpy as np
from workbench.transcription import transcribe
clip = np.load(sys.argv[1])
t0 = time.perf_counter()
t = transcribe((clip, 16000), engine=sys.argv[2], language="en", beam_size=int(sys.argv[3]), timestamps="none")
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": wall, "audio_s": t.timings["audio_s"], "peak_rss_bytes": peak, "chars": len(t.text), "precision": t.settings["precision"]}))
"""


def _run_child(code: str, *args) -> dict:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_engines(files, *, language: str = "en", beam_size: int = ENGINES_BEAM_SIZE, repeats: int = REPEATS, quick: bool = False, out=None, progress: bool = True) -> dict:
    """Raw library calls vs the workbench's engines, on the same clips, in one process.

    Measures, with the embedded model on the CPU: the raw ``transformers``
    pipeline and raw ``faster_whisper.WhisperModel.transcribe`` against
    :func:`workbench.transcribe` with each engine (overhead), faster-whisper
    int8 against transformers float32 (speed-up), the second load of the
    embedded model in a fresh process (conversion cached), and the peak
    memory of a 10-minute file (1 minute with ``quick``) in a fresh process.
    """
    import resource  # noqa: F401  (POSIX only; the peak-memory child needs it)
    import tempfile

    import torch
    from faster_whisper import WhisperModel
    from tqdm.auto import tqdm
    from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor, pipeline

    from .engines import clear_engines
    from .models import embedded_ctranslate2_dir, embedded_transformers_dir
    from .transcription import transcribe

    clips = [load_audio(f).resample(SAMPLE_RATE).mono.copy() for f in files]
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    hf_dir, ct2_dir = embedded_transformers_dir(), embedded_ctranslate2_dir()
    steps = tqdm(total=6, desc="bench engines", disable=not progress)

    def best(fn):
        fn()  # warm-up: first-call allocations, kernels, caches
        return _best_of(fn, 1 if quick else repeats)

    model = AutoModelForSpeechSeq2Seq.from_pretrained(str(hf_dir), dtype=torch.float32, low_cpu_mem_usage=True, use_safetensors=True)
    processor = AutoProcessor.from_pretrained(str(hf_dir))
    pipe = pipeline("automatic-speech-recognition", model=model, tokenizer=processor.tokenizer, feature_extractor=processor.feature_extractor, dtype=torch.float32, device="cpu")
    gen = {"language": language, "task": "transcribe", "num_beams": beam_size}
    raw_tf = best(lambda: [pipe({"raw": c, "sampling_rate": SAMPLE_RATE}, return_timestamps=True, generate_kwargs=gen) for c in clips])
    steps.update()
    wb_tf = best(lambda: [transcribe((c, SAMPLE_RATE), engine="transformers", language=language, beam_size=beam_size, dtype="float32") for c in clips])
    clear_engines()
    steps.update()
    fw = WhisperModel(str(ct2_dir), device="cpu", compute_type="int8")
    raw_fw = best(lambda: [list(fw.transcribe(c, language=language, beam_size=beam_size, temperature=0.0)[0]) for c in clips])
    steps.update()
    wb_fw = best(lambda: [transcribe((c, SAMPLE_RATE), engine="faster-whisper", language=language, beam_size=beam_size, compute_type="int8") for c in clips])
    clear_engines()
    steps.update()

    reload = {e: _run_child(_CHILD_LOAD, e, p) for e, p in (("transformers", "float32"), ("faster-whisper", "int8"))}
    steps.update()

    minutes = 1 if quick else LONG_MINUTES
    long_clip = np.tile(np.concatenate(clips), int(np.ceil(minutes * 60 * SAMPLE_RATE / sum(map(len, clips)))))[: minutes * 60 * SAMPLE_RATE]
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/long.npy", long_clip.astype(np.float32))
        long = {e: _run_child(_CHILD_LONG, f"{tmp}/long.npy", e, 1) for e in ("faster-whisper", "transformers")}
    steps.update()
    steps.close()

    def rtf(s):
        return s / audio_s

    result = {
        "suite": "engines",
        "quick": quick,
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(), "threads": torch.get_num_threads()},
        "clips": [str(f) for f in files],
        "audio_seconds": audio_s,
        "beam_size": beam_size,
        "transformers": {"raw_s": raw_tf, "workbench_s": wb_tf, "raw_rtf": rtf(raw_tf), "workbench_rtf": rtf(wb_tf), "overhead": wb_tf / raw_tf - 1, "dtype": "float32"},
        "faster_whisper": {"raw_s": raw_fw, "workbench_s": wb_fw, "raw_rtf": rtf(raw_fw), "workbench_rtf": rtf(wb_fw), "overhead": wb_fw / raw_fw - 1, "compute_type": "int8"},
        "speedup_fw_int8_vs_tf_fp32": raw_tf / raw_fw,
        "reload": reload,
        "long_file": {"minutes": minutes, **long},
    }
    result["targets"] = {
        "transformers_overhead": {"target": f"<= {TARGET_OVERHEAD:.0%}", "met": result["transformers"]["overhead"] <= TARGET_OVERHEAD},
        "faster_whisper_overhead": {"target": f"<= {TARGET_OVERHEAD:.0%}", "met": result["faster_whisper"]["overhead"] <= TARGET_OVERHEAD},
        "fw_speedup": {"target": f">= {TARGET_FW_SPEEDUP}x", "met": result["speedup_fw_int8_vs_tf_fp32"] >= TARGET_FW_SPEEDUP},
        "reload": {"target": f"< {TARGET_RELOAD_SECONDS} s", "met": all(r["total_s"] < TARGET_RELOAD_SECONDS for r in reload.values())},
        "peak_memory": {"target": f"< {TARGET_PEAK_GB} GB for {LONG_MINUTES} min", "met": all(v["peak_rss_bytes"] < TARGET_PEAK_GB * 1e9 for v in long.values())},
    }
    if out:
        from .io import write_text

        write_text(out, json.dumps(result, indent=2))
    return result


def format_engines_bench(r: dict) -> str:
    """The engines benchmark as a short report."""
    t = r["targets"]

    def ok(key):
        return "meets target" if t[key]["met"] else "MISSES target"

    lines = [f"engines benchmark{' (quick mode)' if r['quick'] else ''}: {r['audio_seconds']:.1f} s of audio, beam {r['beam_size']}, CPU, {r['machine']['threads']} threads"]
    for name, key in (("transformers float32", "transformers"), ("faster-whisper int8", "faster_whisper")):
        e = r[key]
        lines.append(f"  {name:<21} raw {e['raw_rtf']:.3f} RTF   workbench {e['workbench_rtf']:.3f} RTF   overhead {e['overhead']:+.1%} ({ok(key + '_overhead')})")
    lines.append(f"  faster-whisper int8 vs transformers float32: {r['speedup_fw_int8_vs_tf_fp32']:.2f}x faster ({ok('fw_speedup')}, target {t['fw_speedup']['target']})")
    for e, v in r["reload"].items():
        lines.append(f"  second load of the embedded model, {e}: {v['total_s']:.2f} s (plus {v['import_s']:.2f} s importing the libraries, once per process)")
    lines.append(f"    {ok('reload')} ({t['reload']['target']})")
    for e, v in r["long_file"].items():
        if isinstance(v, dict):
            lines.append(f"  {r['long_file']['minutes']}-minute file, {e} ({v['precision']}, beam 1): {v['seconds']:.0f} s, RTF {v['seconds'] / v['audio_s']:.3f}, peak RSS {v['peak_rss_bytes'] / 1e9:.2f} GB")
    lines.append(f"    {ok('peak_memory')} ({t['peak_memory']['target']})")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Performance harness: engine x precision x batch size x device
# --------------------------------------------------------------------------

#: Claims checked by :func:`bench_harness`.
TARGET_BATCH_SPEEDUP = 1.3  # a batch of 16 short clips vs the per-file loop, same engine and precision
TARGET_DRIFT = 0.05  # |mean latency of the last 10 files / first 10 - 1| over 100 files
TARGET_MEMORY_GROWTH_MB = 100.0  # RSS growth from after the first 10 files to the end
MB = 1_000_000

BATCH_CLIPS = 16
HARNESS_BATCH_SIZES = (1, BATCH_CLIPS)
STABILITY_FILES = 100
DRIFT_WINDOW = 10
BATCH_REPEATS = 3
QUICK_CLIPS = 4
QUICK_STABILITY_FILES = 12
QUICK_DRIFT_WINDOW = 4
#: Decoding settings of the harness: greedy, text only (throughput settings).
HARNESS_BEAM_SIZE = 1
HARNESS_TIMESTAMPS = "none"
#: Seconds between two samples of the memory monitor (RSS; GPU memory through NVML is slower).
RSS_SAMPLE_S = 0.05
GPU_SAMPLE_S = 0.2
#: A configuration that runs longer than this in its child process is stopped.
CHILD_TIMEOUT_S = 3600
#: Where results go, relative to the working directory (the project root).
RESULTS_DIR = Path("benchmarks") / "results"
COMPARISON_FIGURE = "comparison.html"
SUITE = "harness"
#: Sections of :func:`bench_harness`; the first three are the default run.
SECTIONS = ("matrix", "batch", "stability", "variants")
DEFAULT_SECTIONS = SECTIONS[:3]
#: The seed's cap on new tokens per window; the ``variants`` section uses it, so that one clip
#: decoding on to the model's 448-token limit cannot hold a whole batch for minutes.
SEED_MAX_NEW_TOKENS = 128
#: Other ways to batch, tried by the ``variants`` section (each against its own per-file loop).
BATCH_VARIANTS = (
    {"engine": "faster-whisper", "precision": "int8", "beam_size": 1, "timestamps": "segment"},
    {"engine": "faster-whisper", "precision": "int8", "beam_size": 5, "timestamps": "none"},
    {"engine": "faster-whisper", "precision": "float32", "beam_size": 1, "timestamps": "none"},
    {"engine": "faster-whisper", "precision": "int8", "beam_size": 1, "timestamps": "none", "batch_size": 8},
    {"engine": "transformers", "precision": "float32", "beam_size": 1, "timestamps": "segment"},
    {"engine": "transformers", "precision": "float32", "beam_size": 5, "timestamps": "none"},
    {"engine": "transformers", "precision": "float32", "beam_size": 1, "timestamps": "none", "batch_size": 8},
)
VARIANT_REPEATS = 2
#: Precisions measured per engine and device kind.
PRECISIONS = {
    "cpu": {"transformers": ("float32",), "faster-whisper": ("int8", "float32")},
    "cuda": {"transformers": ("float32", "float16", "bfloat16"), "faster-whisper": ("int8", "float32", "float16")},
}

_CHILD_MARK = "WORKBENCH-BENCH-RESULT "
_CHILD_CALL = f"""
import json, sys
from workbench import benchmarks
print({_CHILD_MARK!r} + json.dumps(getattr(benchmarks, sys.argv[1])(json.loads(sys.argv[2]))))
"""


def latency_drift(latencies, window: int = DRIFT_WINDOW) -> float:
    """Relative change of the mean latency from the first ``window`` files to the last ``window``.

    Parameters
    ----------
    latencies : sequence of float
        Seconds per file, in the order they were processed.
    window : int

    Returns
    -------
    float
        ``mean(last window) / mean(first window) - 1``: 0.03 is 3 % slower at the end.

    Raises
    ------
    ValueError
        With fewer than ``2 * window`` latencies (the two windows would overlap).

    Examples
    --------
    >>> latency_drift([1.0] * 10 + [1.1] * 10, window=10)  # doctest: +ELLIPSIS
    0.100...
    """
    values = [float(v) for v in latencies]
    if window < 1 or len(values) < 2 * window:
        raise ValueError(f"latency drift needs at least {2 * window} latencies for a window of {window}; got {len(values)}")
    first = sum(values[:window]) / window
    last = sum(values[-window:]) / window
    return last / first - 1


def memory_growth(rss, after: int = DRIFT_WINDOW) -> int:
    """Bytes the resident set grew from after the first ``after`` files to the end.

    Parameters
    ----------
    rss : sequence of int
        Resident set size (bytes) measured after each file.
    after : int
        Files treated as warm-up (caches, allocator pools).

    Returns
    -------
    int
        ``rss[-1] - rss[after - 1]``; negative when memory was given back.

    Raises
    ------
    ValueError
        With ``after`` files or fewer.
    """
    values = [int(v) for v in rss]
    if after < 1 or len(values) <= after:
        raise ValueError(f"memory growth after {after} files needs more than {after} measurements; got {len(values)}")
    return values[-1] - values[after - 1]


def cpu_utilisation(cpu_seconds: float, wall_seconds: float, cores: int) -> float:
    """Share of the machine's cores busy: process CPU time / wall time / cores (0 to 1)."""
    if wall_seconds <= 0 or cores < 1:
        raise ValueError(f"wall time and cores must be positive; got {wall_seconds} s and {cores} cores")
    return cpu_seconds / wall_seconds / cores


def batch_speedup(loop_seconds, batch_seconds) -> float:
    """Per-file loop time over batch time, each the best of its repeats (the least disturbed run)."""
    return min(loop_seconds) / min(batch_seconds)


def machine_label(device: str | None = None) -> str:
    """A short name for this machine in result file names: ``cpu-2core``, or the GPU's name."""
    import re

    if device and device.startswith("cuda"):
        import torch

        name = torch.cuda.get_device_name(torch.device(device))
        return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"cpu-{_cores()}core"


def _cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return False


def _gpu_used_bytes(index: int) -> int | None:
    """Memory in use on GPU ``index`` by every process (NVML through pynvml, else nvidia-smi)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index)).used)
    except Exception:  # noqa: BLE001 - no pynvml, or NVML unusable: ask nvidia-smi
        return _nvidia_smi_used_bytes(index)


def _nvidia_smi_used_bytes(index: int) -> int | None:
    import shutil
    import subprocess

    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    proc = subprocess.run([exe, "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", str(index)], capture_output=True, text=True, check=False)
    try:
        return int(float(proc.stdout.strip().splitlines()[0])) * 2**20  # MiB
    except (ValueError, IndexError):
        return None


class ResourceMonitor:
    """Peak resident memory (and GPU memory) of this process while a block runs, plus its CPU time.

    RSS is sampled with psutil every :data:`RSS_SAMPLE_S`; GPU memory with
    ``torch.cuda.max_memory_allocated`` for PyTorch (``gpu="torch"``) or,
    for CTranslate2, device memory in use through NVML (``gpu="nvml"``,
    every :data:`GPU_SAMPLE_S`, less what was in use at the start).

    Examples
    --------
    >>> with ResourceMonitor() as mon:          # doctest: +SKIP
    ...     work()
    >>> mon.result()["peak_rss_bytes"]          # doctest: +SKIP
    """

    def __init__(self, *, gpu: str | None = None, device_index: int = 0):
        import psutil

        self.process = psutil.Process()
        self.gpu, self.device_index = gpu, device_index
        self.peak_rss = self.process.memory_info().rss
        self.gpu_base = self.gpu_peak = None
        self._stop = None

    def __enter__(self):
        import threading

        if self.gpu == "torch":
            import torch

            torch.cuda.synchronize(self.device_index)
            torch.cuda.reset_peak_memory_stats(self.device_index)
        elif self.gpu == "nvml":
            self.gpu_base = self.gpu_peak = _gpu_used_bytes(self.device_index)
        self._cpu0 = self._cpu_seconds()
        self._t0 = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _cpu_seconds(self) -> float:
        t = self.process.cpu_times()
        return t.user + t.system

    def _sample(self) -> None:
        next_gpu = 0.0
        while not self._stop.wait(RSS_SAMPLE_S):
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            if self.gpu == "nvml" and time.perf_counter() >= next_gpu:
                used = _gpu_used_bytes(self.device_index)
                if used is not None:
                    self.gpu_peak = max(self.gpu_peak or 0, used)
                next_gpu = time.perf_counter() + GPU_SAMPLE_S

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.wall_s = time.perf_counter() - self._t0
        self.cpu_s = self._cpu_seconds() - self._cpu0
        self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
        if self.gpu == "torch":
            import torch

            torch.cuda.synchronize(self.device_index)
            self.gpu_peak = int(torch.cuda.max_memory_allocated(self.device_index))

    def result(self) -> dict:
        """``wall_s``, ``cpu_s``, ``cpu_utilisation``, ``peak_rss_bytes``, ``peak_gpu_bytes`` (None on the CPU) and how it was measured."""
        gpu = None
        if self.gpu == "torch":
            gpu = self.gpu_peak
        elif self.gpu == "nvml" and self.gpu_peak is not None and self.gpu_base is not None:
            gpu = self.gpu_peak - self.gpu_base
        methods = {"torch": "torch.cuda.max_memory_allocated", "nvml": "NVML device memory in use, less the memory in use before loading"}
        return {
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "cpu_utilisation": cpu_utilisation(self.cpu_s, self.wall_s, _cores()) if self.wall_s > 0 else None,
            "peak_rss_bytes": int(self.peak_rss),
            "peak_gpu_bytes": gpu,
            "gpu_memory_method": methods.get(self.gpu),
        }


def _process_peak_rss() -> int | None:
    """The operating system's high-water mark of this process's resident set (bytes), where it keeps one."""
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux
    except ImportError:  # Windows
        return None


def harness_clips(n: int) -> list[tuple[str, str]]:
    """``n`` bundled clean speech clips (cycled when there are fewer), as ``(path, language)`` pairs.

    Stress variants are left out: a bad resampler is not in play here, and
    their noise would only add Whisper's temperature fallback to the timings.
    """
    from .datasets import bundled

    speech = [(str(e.path), e.language) for e in bundled() if e.language and e.meta.get("condition", "clean") == "clean"]
    return [speech[i % len(speech)] for i in range(n)]


def _gpu_kind(engine: str, device: str) -> str | None:
    if not device.startswith("cuda"):
        return None
    return "torch" if engine == "transformers" else "nvml"


def _options(spec: dict) -> dict:
    """Keyword options of :func:`~workbench.transcribe` for a configuration."""
    precision = {"dtype": spec["precision"]} if spec["engine"] == "transformers" else {"compute_type": spec["precision"]}
    cap = {"max_new_tokens": spec["max_new_tokens"]} if spec.get("max_new_tokens") else {}
    return {"device": spec["device"], "beam_size": spec["beam_size"], "timestamps": spec["timestamps"], "language_fallback": True, **precision, **cap}


def _run_clips(spec: dict, clips, batch_size: int) -> list:
    """Transcribe ``(path, language)`` clips: the seed's per-file loop at batch size 1, else :func:`transcribe_batch`."""
    import warnings

    from .transcription import TranscriptionWarning, transcribe, transcribe_batch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TranscriptionWarning)  # yue -> zh on a model without <|yue|>: recorded, expected
        if batch_size == 1:
            return [transcribe(path, engine=spec["engine"], language=lang, **_options(spec)) for path, lang in clips]
        return transcribe_batch([p for p, _ in clips], engine=spec["engine"], languages=[lang for _, lang in clips], batch_size=batch_size, **_options(spec))


def _load_fresh(spec: dict) -> tuple[object, float]:
    from .engines import clear_engines, get_engine
    from .models import resolve_model

    clear_engines()
    ref = resolve_model("embedded", engine=spec["engine"])
    return get_engine(spec["engine"], ref, spec["device"], spec["precision"])


def _audio_seconds(clips) -> float:
    import soundfile as sf

    return sum(sf.info(path).duration for path, _ in clips)


def measure_configuration(spec: dict) -> dict:
    """Load time, speed, memory and CPU use of one configuration (run in a fresh process by the harness).

    Parameters
    ----------
    spec : dict
        ``engine``, ``precision``, ``device``, ``batch_size``, ``clips``
        (``[path, language]`` pairs), ``beam_size``, ``timestamps``, and
        ``isolated`` (True in a child process of its own).

    Returns
    -------
    dict
        The spec's settings plus ``load_s`` (fresh load, after
        :func:`~workbench.engines.clear_engines`), ``wall_s``, ``audio_s``,
        ``real_time_factor``, ``throughput`` (audio seconds per wall
        second), ``peak_rss_bytes``, ``peak_gpu_bytes``, ``cpu_utilisation``.
        Timing starts after one warm-up clip.
    """
    clips = [tuple(c) for c in spec["clips"]]
    gpu = _gpu_kind(spec["engine"], spec["device"])
    index = int(spec["device"].partition(":")[2] or 0)
    with ResourceMonitor(gpu=gpu, device_index=index) as whole:
        _, load_s = _load_fresh(spec)
        _run_clips(spec, clips[:1], 1)  # warm-up: first-call allocations and kernels
        with ResourceMonitor() as run:
            texts = [t.text for t in _run_clips(spec, clips, spec["batch_size"])]
    audio_s = _audio_seconds(clips)
    peak = whole.result()
    os_peak = _process_peak_rss() if spec.get("isolated") else None
    return {
        **{k: spec[k] for k in ("engine", "precision", "device", "batch_size", "beam_size", "timestamps")},
        "mode": "per-file loop" if spec["batch_size"] == 1 else "transcribe_batch",
        "encoder_batch": None if spec["batch_size"] == 1 else default_encoder_batch(spec["device"], spec["batch_size"]),
        "clips": len(clips),
        "load_s": load_s,
        "wall_s": run.wall_s,
        "audio_s": audio_s,
        "real_time_factor": run.wall_s / audio_s,
        "throughput": audio_s / run.wall_s,
        "cpu_utilisation": run.result()["cpu_utilisation"],
        "peak_rss_bytes": max(peak["peak_rss_bytes"], os_peak or 0),
        "peak_gpu_bytes": peak["peak_gpu_bytes"],
        "gpu_memory_method": peak["gpu_memory_method"],
        "isolated": bool(spec.get("isolated")),
        "texts": texts,
    }


def measure_batch_vs_loop(spec: dict) -> dict:
    """The same clips through the per-file loop and through :func:`transcribe_batch`, one loaded engine.

    Runs alternate (loop, batch, batch, loop, ...) after a warm-up of
    each, ``spec["repeats"]`` times; the speed-up compares the best run of
    each. Also measures one encoder pass per clip alone and batched, the
    part of the work that batching cannot shrink.
    """
    clips = [tuple(c) for c in spec["clips"]]
    loaded, _ = _load_fresh(spec)
    _run_clips(spec, clips[:2], 1)
    _run_clips(spec, clips[:2], 2)
    loop_s, batch_s = [], []
    for r in range(spec["repeats"]):
        order = ("loop", "batch") if r % 2 == 0 else ("batch", "loop")
        for mode in order:
            t0 = time.perf_counter()
            out = _run_clips(spec, clips, 1 if mode == "loop" else spec["batch_size"])
            (loop_s if mode == "loop" else batch_s).append(time.perf_counter() - t0)
            if mode == "loop":
                loop_texts = [t.text for t in out]
            else:
                batch_texts = [t.text for t in out]
    audio_s = _audio_seconds(clips)
    speedup = batch_speedup(loop_s, batch_s)
    return {
        **{k: spec[k] for k in ("engine", "precision", "device", "batch_size", "beam_size", "timestamps")},
        "encoder_batch": default_encoder_batch(spec["device"], spec["batch_size"]),
        "max_new_tokens": spec.get("max_new_tokens"),
        "clips": len(clips),
        "audio_s": audio_s,
        "loop_s": loop_s,
        "batch_s": batch_s,
        "speedup": speedup,
        "target": TARGET_BATCH_SPEEDUP,
        "met": speedup >= TARGET_BATCH_SPEEDUP,
        "identical_transcripts": sum(a == b for a, b in zip(loop_texts, batch_texts)),
        "encoder": _encoder_seconds(loaded, [c for c, _ in clips], spec["batch_size"]),
    }


def _encoder_seconds(loaded, paths, batch_size: int) -> dict:
    """Seconds per clip of the encoder alone: one clip at a time, and ``batch_size`` together."""
    clips = [load_audio(p).resample(SAMPLE_RATE).mono.astype(np.float32) for p in paths[:batch_size]]
    if loaded.name == "faster-whisper":
        from faster_whisper.audio import pad_or_trim

        feats = np.stack([pad_or_trim(loaded.model.feature_extractor(c)[..., :-1]) for c in clips])

        def encode(x):
            loaded.model.encode(x)
    else:
        import torch

        feats = loaded.processor.feature_extractor(clips, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        feats = feats.to(loaded.device, dtype=loaded.model.dtype)

        def encode(x):
            with torch.inference_mode():
                loaded.model.get_encoder()(x)
            if loaded.device.startswith("cuda"):
                torch.cuda.synchronize()

    encode(feats[:1])  # warm-up
    t0 = time.perf_counter()
    for i in range(len(clips)):
        encode(feats[i : i + 1])
    single = (time.perf_counter() - t0) / len(clips)
    t0 = time.perf_counter()
    encode(feats)
    batched = (time.perf_counter() - t0) / len(clips)
    return {"per_clip_alone_s": single, "per_clip_batched_s": batched, "clips": len(clips)}


def measure_stability(spec: dict) -> dict:
    """``spec["files"]`` consecutive files through one loaded engine, each read from disk, as a service would.

    One warm-up file goes first (recorded as ``warmup_s``, not counted).
    Returns per-file latency and RSS, the latency drift (mean of the last
    ``spec["window"]`` files vs the first) and the RSS growth from after
    the first ``window`` files to the end, with their targets.
    """
    import psutil

    clips = [tuple(c) for c in spec["clips"]]
    _load_fresh(spec)
    process = psutil.Process()
    t0 = time.perf_counter()
    _run_clips(spec, clips[:1], 1)  # the first call's one-off set-up is not drift
    warmup_s = time.perf_counter() - t0
    latencies, rss = [], []
    for i in range(spec["files"]):
        t0 = time.perf_counter()
        _run_clips(spec, [clips[i % len(clips)]], 1)
        latencies.append(time.perf_counter() - t0)
        rss.append(process.memory_info().rss)
    window = spec["window"]
    drift = latency_drift(latencies, window)
    growth = memory_growth(rss, window)
    return {
        **{k: spec[k] for k in ("engine", "precision", "device", "beam_size", "timestamps")},
        "files": spec["files"],
        "window": window,
        "warmup_s": warmup_s,
        "latencies_s": latencies,
        "rss_bytes": rss,
        "drift": drift,
        "drift_target": TARGET_DRIFT,
        "drift_met": abs(drift) <= TARGET_DRIFT,
        "memory_growth_bytes": growth,
        "memory_growth_target_bytes": TARGET_MEMORY_GROWTH_MB * MB,
        "memory_met": growth < TARGET_MEMORY_GROWTH_MB * MB,
    }


def _measure(function: str, spec: dict, isolate: bool) -> dict:
    """Run one of the ``measure_*`` functions in a fresh Python process (``isolate``) or in this one."""
    import os
    import subprocess
    import sys

    spec = {**spec, "isolated": isolate}
    if not isolate:
        return globals()[function](spec)
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"), "TQDM_DISABLE": "1"}
    proc = subprocess.run([sys.executable, "-c", _CHILD_CALL, function, json.dumps(spec)], capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT_S, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(_CHILD_MARK)]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit status {proc.returncode}"
        raise RuntimeError(f"benchmark child {function}({spec['engine']} {spec['precision']} {spec['device']}) failed: {tail}")
    return json.loads(lines[-1][len(_CHILD_MARK) :])


def _devices(devices) -> list[str]:
    if devices is not None:
        return list(devices)
    return ["cpu", "cuda:0"] if _cuda_available() else ["cpu"]


def _default_precision(engine: str, device: str) -> str:
    from .options import resolve_compute_type, resolve_dtype

    return resolve_dtype("auto", device) if engine == "transformers" else resolve_compute_type("auto", device)


def bench_harness(
    *,
    quick: bool = False,
    engines=("transformers", "faster-whisper"),
    devices=None,
    sections=DEFAULT_SECTIONS,
    beam_size: int = HARNESS_BEAM_SIZE,
    timestamps: str = HARNESS_TIMESTAMPS,
    random_large_v3: bool = False,
    large_v3_layers: int | None = None,
    out_dir=RESULTS_DIR,
    label: str | None = None,
    isolate: bool = True,
    progress: bool = True,
) -> dict:
    """Measure every engine x precision x batch size x device, batching, and stability; write JSON and a figure.

    Parameters
    ----------
    quick : bool
        :data:`QUICK_CLIPS` clips in batches of as many, :data:`QUICK_STABILITY_FILES`
        stability files (drift window :data:`QUICK_DRIFT_WINDOW`), one
        repeat, and only each engine's default precision: a smoke test,
        not a measurement against the targets.
    engines : iterable of str
    devices : iterable of str, optional
        Default ``cpu``, plus ``cuda:0`` when PyTorch sees a GPU.
    sections : iterable of str
        Any of ``matrix`` (load time, RTF, throughput, peak RSS and GPU
        memory, CPU use per configuration), ``batch`` (batch vs per-file
        loop, :data:`TARGET_BATCH_SPEEDUP`), ``stability``
        (:data:`STABILITY_FILES` files: :data:`TARGET_DRIFT`,
        :data:`TARGET_MEMORY_GROWTH_MB`) and ``variants`` (batch vs loop
        for each of :data:`BATCH_VARIANTS`, on the CPU; not in the default run).
    beam_size, timestamps
        Decoding settings for every measurement.
    random_large_v3 : bool
        Also run :func:`bench_random_large_v3` on each device (meant for GPUs).
    large_v3_layers : int, optional
        Layers of that model (default all 32).
    out_dir : path or None
        Where ``<date>-<machine label>.json`` and ``.html`` go (and the
        machines' comparison figure); None writes nothing.
    label : str, optional
        Machine label in the file names (default :func:`machine_label`).
    isolate : bool
        Run each configuration in a fresh Python process, so that its load
        time is a fresh load and its peak memory its own. False runs them
        here (faster; peak memory is then this process's).

    Returns
    -------
    dict
        ``environment`` (:func:`~workbench.environment.run_doctor`),
        ``matrix``, ``batch``, ``stability``, ``random_large_v3`` (when
        asked), ``targets`` and ``files`` (the paths written).
    """
    from datetime import UTC, datetime

    from tqdm.auto import tqdm

    from .environment import run_doctor

    engines, devices, sections = list(engines), _devices(devices), set(sections)
    unknown = sections - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown harness section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    n_clips = QUICK_CLIPS if quick else BATCH_CLIPS
    batch = QUICK_CLIPS if quick else BATCH_CLIPS
    clips = harness_clips(n_clips)
    base = {"beam_size": beam_size, "timestamps": timestamps, "clips": clips}

    plans = []
    for device in devices:
        kind = "cuda" if device.startswith("cuda") else "cpu"
        for engine in engines:
            precisions = (_default_precision(engine, device),) if quick else PRECISIONS[kind][engine]
            if "matrix" in sections:
                plans += [("measure_configuration", {**base, "engine": engine, "precision": p, "device": device, "batch_size": b}) for p in precisions for b in (1, batch)]
            default = {**base, "engine": engine, "precision": _default_precision(engine, device), "device": device}
            if "batch" in sections:
                plans.append(("measure_batch_vs_loop", {**default, "batch_size": batch, "repeats": 1 if quick else BATCH_REPEATS}))
            if "stability" in sections:
                files, window = (QUICK_STABILITY_FILES, QUICK_DRIFT_WINDOW) if quick else (STABILITY_FILES, DRIFT_WINDOW)
                plans.append(("measure_stability", {**default, "files": files, "window": window}))
            if "variants" in sections and kind == "cpu":
                repeats = 1 if quick else VARIANT_REPEATS
                plans += [
                    ("measure_batch_vs_loop", {**base, "device": device, "batch_size": batch, "repeats": repeats, "max_new_tokens": SEED_MAX_NEW_TOKENS, **v, "variant": True})
                    for v in BATCH_VARIANTS
                    if v["engine"] == engine
                ]

    started = datetime.now(UTC)
    result: dict = {
        "suite": SUITE,
        "quick": quick,
        "started": started.isoformat(timespec="seconds"),
        "machine": {"label": label or machine_label(devices[-1]), "platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cores": _cores()},
        "settings": {"beam_size": beam_size, "timestamps": timestamps, "clips": [[Path(p).name, lang] for p, lang in clips], "batch_size": batch, "isolated": isolate, "model": "embedded (Whisper base)"},
        "environment": run_doctor().to_dict(),
        "sections": sorted(sections, key=SECTIONS.index),
        "matrix": [],
        "batch": [],
        "stability": [],
        "variants": [],
    }
    load = _load_average()
    bar = tqdm(plans, desc="bench harness", unit="run", disable=not progress)
    for function, spec in bar:
        bar.set_postfix_str(f"{function.removeprefix('measure_')} {spec['engine']} {spec['precision']} {spec['device']}")
        row = _measure(function, spec, isolate)
        section = "variants" if spec.get("variant") else {"measure_configuration": "matrix", "measure_batch_vs_loop": "batch", "measure_stability": "stability"}[function]
        result[section].append(row)
    bar.close()
    if random_large_v3:
        result["random_large_v3"] = [bench_random_large_v3(layers=large_v3_layers, device=d, quick=quick, progress=progress) for d in devices]
    result["load_average"] = {"start": load, "end": _load_average()}
    result["seconds"] = (datetime.now(UTC) - started).total_seconds()
    result["targets"] = _harness_targets(result)
    if out_dir is not None:
        result["files"] = write_harness_result(result, out_dir)
    return result


def _load_average():
    import os

    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):  # Windows
        return None


def _harness_targets(result: dict) -> dict:
    targets = {}
    for row in result["batch"]:
        targets[f"batch speed-up, {row['engine']} {row['precision']} {row['device']}"] = {"target": f">= {TARGET_BATCH_SPEEDUP}x", "value": row["speedup"], "met": row["met"]}
    for row in result["stability"]:
        where = f"{row['engine']} {row['precision']} {row['device']}, {row['files']} files"
        targets[f"latency drift, {where}"] = {"target": f"within +/-{TARGET_DRIFT:.0%}", "value": row["drift"], "met": row["drift_met"]}
        targets[f"memory growth, {where}"] = {"target": f"< {TARGET_MEMORY_GROWTH_MB:g} MB", "value": row["memory_growth_bytes"], "met": row["memory_met"]}
    return targets


def write_harness_result(result: dict, out_dir=RESULTS_DIR) -> dict:
    """Write ``result`` as ``<date>-<label>[-quick].json`` with its figure beside it, and refresh the comparison figure.

    Returns
    -------
    dict
        ``json``, ``figure`` and ``comparison``: the paths written.
    """
    from .figures import to_html
    from .io import write_text

    out = Path(out_dir)
    part = "" if set(result["sections"]) == set(DEFAULT_SECTIONS) else "-" + "-".join(result["sections"])
    stem = f"{result['started'][:10]}-{result['machine']['label']}{part}{'-quick' if result['quick'] else ''}"
    files = {"json": str(out / f"{stem}.json"), "figure": str(out / f"{stem}.html"), "comparison": str(out / COMPARISON_FIGURE)}
    write_text(files["json"], json.dumps({**result, "files": files}, indent=2, ensure_ascii=False, default=_json_default))
    # plotly.js is written once beside the figures, so that they open offline without a copy each
    to_html(harness_figure(result), files["figure"], include_plotlyjs="directory")
    to_html(compare_machines_figure(load_results(out)), files["comparison"], include_plotlyjs="directory")
    return files


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def load_results(folder=RESULTS_DIR) -> list[dict]:
    """Every harness result JSON in ``folder``, oldest first."""
    results = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("suite") == SUITE:
            results.append(data)
    return results


def config_label(row: dict) -> str:
    """``faster-whisper int8 cpu, batch 16``: one configuration in a table or on an axis."""
    return f"{row['engine']} {row['precision']} {row['device']}, batch {row['batch_size']}"


def harness_figure(result: dict):
    """Throughput and peak memory per configuration, batch speed-ups and stability traces of one run."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    titles = ("Throughput (audio seconds per wall second)", "Peak memory (GB)", "Batch vs per-file loop (speed-up)", "Stability: latency per file (s)")
    fig = make_subplots(rows=2, cols=2, subplot_titles=titles, vertical_spacing=0.22, horizontal_spacing=0.1)
    rows = result.get("matrix", [])
    labels = [config_label(r) for r in rows]
    fig.add_trace(go.Bar(x=labels, y=[r["throughput"] for r in rows], name="throughput", text=[f"{r['throughput']:.1f}x" for r in rows], showlegend=False), row=1, col=1)
    fig.add_trace(go.Bar(x=labels, y=[r["peak_rss_bytes"] / 1e9 for r in rows], name="peak RSS"), row=1, col=2)
    if any(r.get("peak_gpu_bytes") for r in rows):
        fig.add_trace(go.Bar(x=labels, y=[(r.get("peak_gpu_bytes") or 0) / 1e9 for r in rows], name="peak GPU memory"), row=1, col=2)
    batch = result.get("batch", []) + result.get("variants", [])
    if batch:
        names = [f"{r['engine']} {r['precision']} {r['device']}, beam {r['beam_size']}, {r['timestamps']}, batch {r['batch_size']}" for r in batch]
        fig.add_trace(go.Bar(x=names, y=[r["speedup"] for r in batch], text=[f"{r['speedup']:.2f}x" for r in batch], showlegend=False), row=2, col=1)
        fig.add_hline(y=TARGET_BATCH_SPEEDUP, line_dash="dash", annotation_text=f"target {TARGET_BATCH_SPEEDUP}x", row=2, col=1)
    for r in result.get("stability", []):
        fig.add_trace(go.Scatter(y=r["latencies_s"], mode="lines+markers", name=f"{r['engine']} latency (drift {r['drift']:+.1%})"), row=2, col=2)
    for r in result.get("random_large_v3", []):
        for b in r["runs"]:
            fig.add_trace(go.Bar(x=[f"{r['label']}, {r['device']}, batch {b['batch_size']}"], y=[b["throughput"]], name=r["label"], showlegend=False), row=1, col=1)
    quick = " (quick mode: a smoke test)" if result.get("quick") else ""
    fig.update_layout(title=f"Whisper Workbench harness on {result['machine']['label']}, {result['started'][:10]}{quick}", height=900, barmode="group")
    return fig


def compare_machines_figure(results):
    """Throughput per configuration and batch speed-up per engine, one colour per machine run."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("Throughput (audio seconds per wall second)", "Batch vs per-file loop (speed-up)"), horizontal_spacing=0.1)
    for r in results:
        name = f"{r['machine']['label']} {r['started'][:10]}{' quick' if r.get('quick') else ''}"
        rows = r.get("matrix", [])
        fig.add_trace(go.Bar(x=[config_label(x) for x in rows], y=[x["throughput"] for x in rows], name=name, legendgroup=name), row=1, col=1)
        batch = r.get("batch", []) + r.get("variants", [])
        fig.add_trace(go.Bar(x=[f"{x['engine']} {x['precision']} {x['device']}, beam {x['beam_size']}, {x['timestamps']}, batch {x['batch_size']}" for x in batch], y=[x["speedup"] for x in batch], name=name, legendgroup=name, showlegend=False), row=1, col=2)
    fig.add_hline(y=TARGET_BATCH_SPEEDUP, line_dash="dash", annotation_text=f"target {TARGET_BATCH_SPEEDUP}x", row=1, col=2)
    fig.update_layout(title="Whisper Workbench harness: machines compared", barmode="group", height=550)
    return fig


def format_harness(result: dict) -> str:
    """The harness result as a readable table."""

    def gb(v):
        return f"{v / 1e9:.2f}" if v else "-"

    def mark(ok):
        return "meets target" if ok else "MISSES target"

    quick = " (quick mode: a smoke test, not comparable to the targets)" if result["quick"] else ""
    s = result["settings"]
    lines = [
        f"harness{quick} on {result['machine']['label']} ({result['machine']['platform']}), embedded Whisper base, beam {s['beam_size']}, timestamps {s['timestamps']}, {len(s['clips'])} clips",
    ]
    if result["matrix"]:
        lines.append(f"{'configuration':<44} {'load s':>7} {'RTF':>7} {'x real time':>11} {'peak RSS GB':>11} {'peak GPU GB':>11} {'CPU use':>8}")
        for r in result["matrix"]:
            lines.append(
                f"{config_label(r):<44} {r['load_s']:>7.2f} {r['real_time_factor']:>7.3f} {r['throughput']:>11.1f} {gb(r['peak_rss_bytes']):>11} {gb(r['peak_gpu_bytes']):>11} {r['cpu_utilisation']:>8.0%}"
            )
    for r in result["batch"]:
        enc = r["encoder"]
        lines.append(
            f"batch of {r['clips']} vs per-file loop, {r['engine']} {r['precision']} {r['device']}: loop {min(r['loop_s']):.2f} s, batch {min(r['batch_s']):.2f} s, "
            f"{r['speedup']:.2f}x ({mark(r['met'])}, target >= {r['target']}x); {r['identical_transcripts']}/{r['clips']} transcripts identical; "
            f"encoder {enc['per_clip_alone_s']:.3f} s per clip alone, {enc['per_clip_batched_s']:.3f} s batched"
        )
    if result.get("variants"):
        lines.append(f"other ways to batch ({len(result['settings']['clips'])} clips, best of each):")
        lines.append(f"  {'engine':<15} {'precision':<9} {'beam':>4} {'timestamps':<10} {'batch':>5} {'max tokens':>10} {'loop s':>7} {'batch s':>7} {'speed-up':>8} {'identical':>9}")
        for r in result["variants"]:
            lines.append(
                f"  {r['engine']:<15} {r['precision']:<9} {r['beam_size']:>4} {r['timestamps']:<10} {r['batch_size']:>5} {r.get('max_new_tokens') or '-':>10} "
                f"{min(r['loop_s']):>7.2f} {min(r['batch_s']):>7.2f} {r['speedup']:>7.2f}x {r['identical_transcripts']:>4}/{r['clips']}"
            )
    for r in result["stability"]:
        lines.append(
            f"stability, {r['engine']} {r['precision']} {r['device']}, {r['files']} files: latency drift {r['drift']:+.1%} ({mark(r['drift_met'])}, within +/-{r['drift_target']:.0%}), "
            f"memory growth {r['memory_growth_bytes'] / MB:+.1f} MB ({mark(r['memory_met'])}, < {r['memory_growth_target_bytes'] / MB:g} MB)"
        )
    for r in result.get("random_large_v3", []):
        lines.append(format_random_large_v3(r))
    for key, path in (result.get("files") or {}).items():
        lines.append(f"wrote {key}: {path}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Whisper large-v3's architecture with random weights: throughput and memory only
# --------------------------------------------------------------------------

RANDOM_LARGE_V3_LABEL = "large-v3 architecture, random weights (not a transcription)"
#: openai/whisper-large-v3's published config.json (the architecture; the weights are not used).
LARGE_V3_CONFIG = {
    "d_model": 1280,
    "encoder_layers": 32,
    "decoder_layers": 32,
    "encoder_attention_heads": 20,
    "decoder_attention_heads": 20,
    "encoder_ffn_dim": 5120,
    "decoder_ffn_dim": 5120,
    "num_mel_bins": 128,
    "vocab_size": 51866,
    "max_source_positions": 1500,
    "max_target_positions": 448,
    "activation_function": "gelu",
    "scale_embedding": False,
    "bos_token_id": 50257,
    "eos_token_id": 50257,
    "pad_token_id": 50256,
    "decoder_start_token_id": 50258,
    "dropout": 0.0,
    "attention_dropout": 0.0,
    "activation_dropout": 0.0,
    "init_std": 0.02,
    "use_cache": True,
}
#: <|startoftranscript|><|en|><|transcribe|><|notimestamps|> in large-v3's vocabulary.
LARGE_V3_PROMPT = (50258, 50259, 50360, 50364)
LARGE_V3_NEW_TOKENS = 64
LARGE_V3_BATCH_SIZES = (1, BATCH_CLIPS)
LARGE_V3_REPEATS = 3
QUICK_LARGE_V3_NEW_TOKENS = 8
#: Seconds of audio in one encoder window.
WINDOW_SECONDS = 30


def random_large_v3(layers: int | None = None, *, device: str = "cpu", dtype: str = "float32", seed: int = 0):
    """``WhisperForConditionalGeneration`` with large-v3's architecture and random weights.

    Parameters
    ----------
    layers : int, optional
        Encoder and decoder layers (default 32, as published); fewer make a
        small stand-in for tests.
    device, dtype : str
    seed : int
        For the random initialisation.

    Returns
    -------
    transformers.WhisperForConditionalGeneration
        In eval mode. Its output is meaningless: use it for throughput and
        memory only (:data:`RANDOM_LARGE_V3_LABEL`).
    """
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    config = dict(LARGE_V3_CONFIG)
    if layers is not None:
        config.update(encoder_layers=layers, decoder_layers=layers)
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(WhisperConfig(**config))
    return model.to(device=device, dtype=_torch_dtype(dtype)).eval()


def _torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def large_v3_log_mels(n: int):
    """``(n, 128, 3000)`` log-mel windows of the bundled clips (cycled), with large-v3's feature extractor settings."""
    from transformers import WhisperFeatureExtractor

    extractor = WhisperFeatureExtractor(feature_size=LARGE_V3_CONFIG["num_mel_bins"])
    audio = [load_audio(p).resample(SAMPLE_RATE).mono.astype(np.float32) for p, _ in harness_clips(n)]
    return extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features


def decode_fixed_tokens(model, features, new_tokens: int):
    """Encode ``features`` and decode exactly ``new_tokens`` tokens greedily, with the key/value cache.

    Returns
    -------
    torch.Tensor
        ``(batch, len(LARGE_V3_PROMPT) + new_tokens)`` token ids (meaningless with random weights).
    """
    import torch
    from transformers.modeling_outputs import BaseModelOutput

    with torch.inference_mode():
        encoded = BaseModelOutput(last_hidden_state=model.get_encoder()(features).last_hidden_state)
        ids = torch.tensor([LARGE_V3_PROMPT] * features.shape[0], device=features.device)
        out = model(encoder_outputs=encoded, decoder_input_ids=ids, use_cache=True)
        tokens = [ids]
        for step in range(new_tokens):
            nxt = out.logits[:, -1:].argmax(-1)
            tokens.append(nxt)
            if step + 1 < new_tokens:
                out = model(encoder_outputs=encoded, decoder_input_ids=nxt, past_key_values=out.past_key_values, use_cache=True)
        return torch.cat(tokens, dim=1)


def bench_random_large_v3(
    *, layers: int | None = None, device: str | None = None, dtype: str | None = None, batch_sizes=LARGE_V3_BATCH_SIZES, new_tokens: int | None = None, quick: bool = False, progress: bool = True
) -> dict:
    """Throughput and memory of large-v3's architecture with random weights (:data:`RANDOM_LARGE_V3_LABEL`).

    Real log-mels of the bundled clips go through the encoder, then exactly
    ``new_tokens`` tokens are decoded greedily per window, so every run does
    the same work whatever the (random) weights say. Meant for GPUs: the
    full model is 1.5 billion parameters.

    Parameters
    ----------
    layers : int, optional
        Encoder and decoder layers (default 32).
    device : str, optional
        Default ``cuda:0`` when available, else ``cpu``.
    dtype : str, optional
        Default float16 on CUDA, float32 on the CPU.
    batch_sizes : iterable of int
        30-second windows decoded together.
    new_tokens : int, optional
        Default :data:`LARGE_V3_NEW_TOKENS` (:data:`QUICK_LARGE_V3_NEW_TOKENS` with ``quick``).
    quick : bool
        One timed run per batch size instead of :data:`LARGE_V3_REPEATS`.

    Returns
    -------
    dict
        ``label``, ``parameters``, ``build_s`` and per batch size
        ``seconds`` (best run: encoder plus ``new_tokens`` decoding steps),
        ``encode_s`` (the encoder alone), ``decode_s`` (the difference),
        ``throughput`` (audio seconds per wall second), ``tokens_per_s``,
        ``peak_gpu_bytes`` / ``peak_rss_bytes``.
    """
    import torch
    from tqdm.auto import tqdm

    device = device or ("cuda:0" if _cuda_available() else "cpu")
    dtype = dtype or ("float16" if device.startswith("cuda") else "float32")
    new_tokens = new_tokens or (QUICK_LARGE_V3_NEW_TOKENS if quick else LARGE_V3_NEW_TOKENS)
    cuda = device.startswith("cuda")

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    t0 = time.perf_counter()
    model = random_large_v3(layers, device=device, dtype=dtype)
    sync()
    build_s = time.perf_counter() - t0
    runs = []
    sizes = list(batch_sizes)
    features = large_v3_log_mels(max(sizes))
    for b in tqdm(sizes, desc="large-v3 architecture (random weights)", disable=not progress):
        x = features[:b].to(device=device, dtype=_torch_dtype(dtype))
        decode_fixed_tokens(model, x, new_tokens)  # warm-up
        encode_s, seconds = [], []
        with ResourceMonitor(gpu="torch" if cuda else None, device_index=torch.device(device).index or 0) as mon:
            for _ in range(1 if quick else LARGE_V3_REPEATS):
                sync()
                t1 = time.perf_counter()
                with torch.inference_mode():
                    model.get_encoder()(x)
                sync()
                t2 = time.perf_counter()
                tokens = decode_fixed_tokens(model, x, new_tokens)
                sync()
                encode_s.append(t2 - t1)
                seconds.append(time.perf_counter() - t2)
        measured = mon.result()
        best = min(seconds)
        runs.append(
            {
                "label": RANDOM_LARGE_V3_LABEL,
                "batch_size": b,
                "new_tokens": new_tokens,
                "output_shape": list(tokens.shape),
                "encode_s": min(encode_s),
                "decode_s": best - min(encode_s),
                "seconds": best,
                "throughput": b * WINDOW_SECONDS / best,
                "tokens_per_s": b * new_tokens / best,
                "peak_gpu_bytes": measured["peak_gpu_bytes"],
                "peak_rss_bytes": measured["peak_rss_bytes"],
            }
        )
    return {
        "label": RANDOM_LARGE_V3_LABEL,
        "architecture": {**LARGE_V3_CONFIG, **({"encoder_layers": layers, "decoder_layers": layers} if layers is not None else {})},
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": device,
        "dtype": dtype,
        "build_s": build_s,
        "new_tokens": new_tokens,
        "window_seconds": WINDOW_SECONDS,
        "runs": runs,
    }


def format_random_large_v3(r: dict) -> str:
    """One line per batch size, each saying that this is not a transcription."""
    arch = r["architecture"]
    lines = [f"{r['label']}: {arch['encoder_layers']}+{arch['decoder_layers']} layers, {r['parameters'] / 1e9:.2f} B parameters, {r['dtype']} on {r['device']}, built in {r['build_s']:.1f} s"]
    for b in r["runs"]:
        mem = f"peak GPU {b['peak_gpu_bytes'] / 1e9:.2f} GB" if b["peak_gpu_bytes"] else f"peak RSS {b['peak_rss_bytes'] / 1e9:.2f} GB"
        lines.append(
            f"  [{r['label']}] batch {b['batch_size']} x {r['window_seconds']} s, {b['new_tokens']} tokens each: {b['seconds']:.2f} s "
            f"({b['throughput']:.1f} audio s per s, {b['tokens_per_s']:.0f} tokens/s), {mem}"
        )
    return "\n".join(lines)
