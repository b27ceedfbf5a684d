"""The harness's measurements: one configuration, batch against loop, stability; and the figures they are judged by.

Each ``measure_*`` function takes a JSON-able spec and returns a JSON-able
row, so that :func:`~workbench.benchmarks.bench_harness` can run it in a
fresh Python process of its own.
"""

from __future__ import annotations

import time

import numpy as np

from ..audio import SAMPLE_RATE, load_audio
from ..engines import default_encoder_batch
from .monitor import ResourceMonitor, _process_peak_rss

#: Claims checked by :func:`~workbench.benchmarks.bench_harness`.
TARGET_BATCH_SPEEDUP = 1.3  # a batch of 16 short clips vs the per-file loop, same engine and precision
TARGET_DRIFT = 0.05  # |mean latency of the last 10 files / first 10 - 1| over 100 files
TARGET_MEMORY_GROWTH_MB = 100.0  # RSS growth from after the first 10 files to the end
MB = 1_000_000

#: Clips in the harness's batch.
BATCH_CLIPS = 16
#: Files at each end of the stability run whose mean latencies are compared.
DRIFT_WINDOW = 10


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
    >>> round(latency_drift([1.0] * 10 + [1.1] * 10, window=10), 6)
    0.1
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


def batch_speedup(loop_seconds, batch_seconds) -> float:
    """Per-file loop time over batch time, each the best of its repeats (the least disturbed run)."""
    return min(loop_seconds) / min(batch_seconds)


def harness_clips(n: int) -> list[tuple[str, str]]:
    """``n`` bundled clean speech clips (cycled when there are fewer), as ``(path, language)`` pairs.

    Stress variants are left out: a bad resampler is not in play here, and
    their noise would only add Whisper's temperature fallback to the timings.
    """
    from ..datasets import bundled

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
    return {
        "device": spec["device"],
        "beam_size": spec["beam_size"],
        "timestamps": spec["timestamps"],
        "language_fallback": True,
        **precision,
        **cap,
    }


def _run_clips(spec: dict, clips, batch_size: int) -> list:
    """Transcribe ``(path, language)`` clips: the seed's per-file loop at batch size 1, else :func:`transcribe_batch`."""
    import warnings

    from ..errors import TranscriptionWarning
    from ..transcription import transcribe, transcribe_batch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TranscriptionWarning)  # yue -> zh on a model without <|yue|>: recorded, expected
        if batch_size == 1:
            return [transcribe(path, engine=spec["engine"], language=lang, **_options(spec)) for path, lang in clips]
        return transcribe_batch(
            [p for p, _ in clips], engine=spec["engine"], languages=[lang for _, lang in clips], batch_size=batch_size, **_options(spec)
        )


def _load_fresh(spec: dict) -> tuple[object, float]:
    from ..engines import clear_engines, get_engine
    from ..models import resolve_model

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
        "identical_transcripts": sum(a == b for a, b in zip(loop_texts, batch_texts, strict=True)),
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
