"""The performance harness (``bench``): which configurations to measure, running each in a fresh process, and the result.

Every engine x precision x batch size x device (:func:`measure_configuration`),
a batch against the per-file loop (:func:`measure_batch_vs_loop`) and a long
run of consecutive files (:func:`measure_stability`); the result is written
as JSON with its figure (:mod:`workbench.benchmarks.results`).
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

from ..options import FASTER_WHISPER, TRANSFORMERS
from . import measure
from .large_v3 import bench_random_large_v3
from .measure import BATCH_CLIPS, DRIFT_WINDOW, TARGET_BATCH_SPEEDUP, TARGET_DRIFT, TARGET_MEMORY_GROWTH_MB, harness_clips
from .monitor import _cores, _cuda_available
from .results import DEFAULT_SECTIONS, RESULTS_DIR, SECTIONS, SUITE, write_harness_result

STABILITY_FILES = 100
BATCH_REPEATS = 3
QUICK_CLIPS = 4
QUICK_STABILITY_FILES = 12
QUICK_DRIFT_WINDOW = 4
#: Decoding settings of the harness: greedy, text only (throughput settings).
HARNESS_BEAM_SIZE = 1
HARNESS_TIMESTAMPS = "none"
#: A configuration that runs longer than this in its child process is stopped.
CHILD_TIMEOUT_S = 3600
#: The seed's cap on new tokens per window; the ``variants`` section uses it, so that one clip
#: decoding on to the model's 448-token limit cannot hold a whole batch for minutes.
SEED_MAX_NEW_TOKENS = 128
#: Other ways to batch, tried by the ``variants`` section (each against its own per-file loop).
BATCH_VARIANTS = (
    {"engine": FASTER_WHISPER, "precision": "int8", "beam_size": 1, "timestamps": "segment"},
    {"engine": FASTER_WHISPER, "precision": "int8", "beam_size": 5, "timestamps": "none"},
    {"engine": FASTER_WHISPER, "precision": "float32", "beam_size": 1, "timestamps": "none"},
    {"engine": FASTER_WHISPER, "precision": "int8", "beam_size": 1, "timestamps": "none", "batch_size": 8},
    {"engine": TRANSFORMERS, "precision": "float32", "beam_size": 1, "timestamps": "segment"},
    {"engine": TRANSFORMERS, "precision": "float32", "beam_size": 5, "timestamps": "none"},
    {"engine": TRANSFORMERS, "precision": "float32", "beam_size": 1, "timestamps": "none", "batch_size": 8},
)
VARIANT_REPEATS = 2
#: Precisions measured per engine and device kind.
PRECISIONS = {
    "cpu": {TRANSFORMERS: ("float32",), FASTER_WHISPER: ("int8", "float32")},
    "cuda": {TRANSFORMERS: ("float32", "float16", "bfloat16"), FASTER_WHISPER: ("int8", "float32", "float16")},
}

_CHILD_MARK = "WORKBENCH-BENCH-RESULT "
_CHILD_CALL = f"""
import json, sys
from workbench import benchmarks
print({_CHILD_MARK!r} + json.dumps(getattr(benchmarks, sys.argv[1])(json.loads(sys.argv[2]))))
"""


def machine_label(device: str | None = None) -> str:
    """A short name for this machine in result file names: ``cpu-2core``, or the GPU's name."""
    import re

    if device and device.startswith("cuda"):
        import torch

        name = torch.cuda.get_device_name(torch.device(device))
        return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"cpu-{_cores()}core"


def _measure(function: str, spec: dict, isolate: bool) -> dict:
    """Run one of the ``measure_*`` functions in a fresh Python process (``isolate``) or in this one."""
    import os
    import subprocess
    import sys

    spec = {**spec, "isolated": isolate}
    if not isolate:
        return getattr(measure, function)(spec)
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"), "TQDM_DISABLE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD_CALL, function, json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
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
    from ..options import resolve_compute_type, resolve_dtype

    return resolve_dtype("auto", device) if engine == TRANSFORMERS else resolve_compute_type("auto", device)


def bench_harness(
    *,
    quick: bool = False,
    engines=(TRANSFORMERS, FASTER_WHISPER),
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

    from ..environment import run_doctor

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
                plans += [
                    ("measure_configuration", {**base, "engine": engine, "precision": p, "device": device, "batch_size": b})
                    for p in precisions
                    for b in (1, batch)
                ]
            default = {**base, "engine": engine, "precision": _default_precision(engine, device), "device": device}
            if "batch" in sections:
                plans.append(("measure_batch_vs_loop", {**default, "batch_size": batch, "repeats": 1 if quick else BATCH_REPEATS}))
            if "stability" in sections:
                files, window = (QUICK_STABILITY_FILES, QUICK_DRIFT_WINDOW) if quick else (STABILITY_FILES, DRIFT_WINDOW)
                plans.append(("measure_stability", {**default, "files": files, "window": window}))
            if "variants" in sections and kind == "cpu":
                repeats = 1 if quick else VARIANT_REPEATS
                plans += [
                    (
                        "measure_batch_vs_loop",
                        {
                            **base,
                            "device": device,
                            "batch_size": batch,
                            "repeats": repeats,
                            "max_new_tokens": SEED_MAX_NEW_TOKENS,
                            **v,
                            "variant": True,
                        },
                    )
                    for v in BATCH_VARIANTS
                    if v["engine"] == engine
                ]

    started = datetime.now(UTC)
    result: dict = {
        "suite": SUITE,
        "quick": quick,
        "started": started.isoformat(timespec="seconds"),
        "machine": {
            "label": label or machine_label(devices[-1]),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cores": _cores(),
        },
        "settings": {
            "beam_size": beam_size,
            "timestamps": timestamps,
            "clips": [[Path(p).name, lang] for p, lang in clips],
            "batch_size": batch,
            "isolated": isolate,
            "model": "embedded (Whisper base)",
        },
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
        section = (
            "variants"
            if spec.get("variant")
            else {"measure_configuration": "matrix", "measure_batch_vs_loop": "batch", "measure_stability": "stability"}[function]
        )
        result[section].append(row)
    bar.close()
    if random_large_v3:
        result["random_large_v3"] = [
            bench_random_large_v3(layers=large_v3_layers, device=d, quick=quick, progress=progress) for d in devices
        ]
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
        targets[f"batch speed-up, {row['engine']} {row['precision']} {row['device']}"] = {
            "target": f">= {TARGET_BATCH_SPEEDUP}x",
            "value": row["speedup"],
            "met": row["met"],
        }
    for row in result["stability"]:
        where = f"{row['engine']} {row['precision']} {row['device']}, {row['files']} files"
        targets[f"latency drift, {where}"] = {"target": f"within +/-{TARGET_DRIFT:.0%}", "value": row["drift"], "met": row["drift_met"]}
        targets[f"memory growth, {where}"] = {
            "target": f"< {TARGET_MEMORY_GROWTH_MB:g} MB",
            "value": row["memory_growth_bytes"],
            "met": row["memory_met"],
        }
    return targets
