"""``bench cli``: what a user waits for, in fresh processes, against a plain script that does the same.

Each engine is measured twice on the same file and model, each time in a new
Python process, as a user meets it:

- the workbench: ``python -m workbench transcribe FILE --engine ENGINE ...``;
- a plain script: the few lines a tutorial would write for that engine
  (faster-whisper: soundfile, soxr and ``WhisperModel``; transformers: the
  ``automatic-speech-recognition`` pipeline), loading the same converted
  model from the workbench's cache, with the same decoding settings.

Wall time, CPU time and peak resident memory come from the operating system
for each child process (``wait4``, and on Linux the child's own ``VmHWM``;
on Windows the child is sampled with psutil). Runs alternate between the two sides, and the
median wall time and the largest peak memory over the repeats are reported
with their ratio (workbench / plain), against :data:`TARGET_RATIO`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..errors import WorkbenchError

#: The workbench's command may cost at most this much more than the plain script (time and memory).
TARGET_RATIO = 1.3

_FASTER_WHISPER_SCRIPT = """
import sys
import numpy as np, soundfile as sf, soxr
from faster_whisper import WhisperModel
model_dir, path, language = sys.argv[1:4]
model = WhisperModel(model_dir, device="cpu", compute_type="int8")
audio, rate = sf.read(path, dtype="float32", always_2d=True)
audio = audio.mean(axis=1)
if rate != 16000:
    audio = soxr.resample(audio, rate, 16000, quality="VHQ").astype(np.float32)
segments, info = model.transcribe(audio, language=language, beam_size=5)
print("".join(s.text for s in segments).strip())
"""

_TRANSFORMERS_SCRIPT = """
import sys
import numpy as np, soundfile as sf, soxr, torch
from transformers import pipeline
model_dir, path, language = sys.argv[1:4]
pipe = pipeline("automatic-speech-recognition", model=model_dir, device="cpu", dtype=torch.float32)
audio, rate = sf.read(path, dtype="float32", always_2d=True)
audio = audio.mean(axis=1)
if rate != 16000:
    audio = soxr.resample(audio, rate, 16000, quality="VHQ").astype(np.float32)
out = pipe({"raw": audio, "sampling_rate": 16000}, generate_kwargs={"language": language, "task": "transcribe", "num_beams": 5})
print(out["text"].strip())
"""


def _measure(cmd: list[str], env: dict) -> dict:
    """Run ``cmd`` in a new process: wall and CPU seconds, peak RSS in bytes, exit code, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        if hasattr(os, "wait4"):
            status, usage, own_peak = _wait(proc)
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak, cpu = own_peak or usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024), usage.ru_utime + usage.ru_stime
        else:  # Windows: sample the child
            peak, cpu = _sample(proc)
            wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "peak_rss_bytes": peak,
            "returncode": proc.returncode,
            "text": out.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""],
            "stderr": err.read().decode("utf-8", "replace"),
        }


def _wait(proc) -> tuple[int, object, int]:
    """Wait for ``proc``: its wait status, resource usage, and (on Linux) its own peak resident memory.

    A child's ``ru_maxrss`` also counts the memory of the process it was
    started from (Linux carries the high-water mark over ``exec``), so on
    Linux the child's ``VmHWM`` is read from ``/proc`` every 10 ms until it
    exits; being a high-water mark, the last reading holds the peak. 0 where
    there is no ``/proc``.
    """
    from .monitor import _vm_hwm

    if _vm_hwm(proc.pid) is None:
        _, status, usage = os.wait4(proc.pid, 0)
        return status, usage, 0
    peak = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return status, usage, peak
        peak = max(peak, _vm_hwm(proc.pid) or 0)
        time.sleep(0.01)


def _sample(proc) -> tuple[int, float]:
    try:
        import psutil
    except ImportError:
        proc.wait()
        return 0, float("nan")
    peak, cpu = 0, 0.0
    child = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, child.memory_info().rss)
            times = child.cpu_times()
            cpu = times.user + times.system
        except psutil.Error:
            break
        time.sleep(0.02)
    return peak, cpu


def _commands(engine: str, path: Path, language: str, model_dir: Path) -> tuple[list[str], list[str]]:
    from ..options import FASTER_WHISPER

    workbench = [sys.executable, "-m", "workbench", "transcribe", str(path), "--engine", engine, "--language", language]
    workbench += ["--beam-size", "5", "--device", "cpu"]
    script = _FASTER_WHISPER_SCRIPT if engine == FASTER_WHISPER else _TRANSFORMERS_SCRIPT
    return workbench, [sys.executable, "-c", script, str(model_dir), str(path), language]


def bench_cli(
    file=None,
    *,
    language: str = "en",
    engines=("faster-whisper", "transformers"),
    repeat: int = 3,
    progress: bool = True,
) -> dict:
    """Time and peak memory of ``transcribe`` against a plain script, each in fresh processes.

    Parameters
    ----------
    file : path, optional
        The audio; default the bundled English clip ``en_weather_44k.flac``.
    language : str
        Its language, given to both sides (no language detection).
    engines : sequence of str
    repeat : int
        Runs of each side (alternating); the median wall time and the largest
        peak memory are compared.

    Returns
    -------
    dict
        ``file``, ``repeat``, ``target_ratio`` and per engine: the runs of each
        side, their medians, the ratios and whether both meet the target.
    """
    from ..datasets import BUNDLED_DIR
    from ..models import embedded_ctranslate2_dir, embedded_transformers_dir
    from ..options import ENGINES, FASTER_WHISPER

    path = Path(file) if file is not None else BUNDLED_DIR / "en_weather_44k.flac"
    if not path.is_file():
        raise WorkbenchError(f"bench cli: no audio file {path}; pass an existing FILE")
    if repeat < 1:
        raise WorkbenchError(f"bench cli: --repeat must be at least 1; got {repeat}")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise WorkbenchError(f"bench cli: unknown engine {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = {"file": str(path), "language": language, "repeat": repeat, "target_ratio": TARGET_RATIO, "engines": {}}
    for engine in engines:
        model_dir = embedded_ctranslate2_dir() if engine == FASTER_WHISPER else embedded_transformers_dir()  # built before timing
        workbench_cmd, plain_cmd = _commands(engine, path, language, model_dir)
        runs = {"workbench": [], "plain": []}
        for i in range(repeat):
            for side, cmd in (
                (("plain", plain_cmd), ("workbench", workbench_cmd))
                if i % 2 == 0
                else (
                    ("workbench", workbench_cmd),
                    ("plain", plain_cmd),
                )
            ):
                run = _measure(cmd, env)
                if run["returncode"] != 0:
                    tail = run["stderr"].strip().splitlines()[-3:]
                    raise WorkbenchError(f"bench cli: the {side} {engine} run failed (exit {run['returncode']}): {' | '.join(tail)}")
                runs[side].append(run)
                if progress:
                    print(
                        f"{engine:>14} {side:>9} run {i + 1}: {run['wall_s']:.2f} s, {run['peak_rss_bytes'] / 2**20:.0f} MiB",
                        file=sys.stderr,
                    )
        result["engines"][engine] = _summarise(runs)
    return result


def _summarise(runs: dict) -> dict:
    side = {
        name: {
            "wall_s": statistics.median(r["wall_s"] for r in rs),
            "cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "peak_rss_bytes": max(r["peak_rss_bytes"] for r in rs),
            "text": rs[-1]["text"][0],
            "runs": [{k: r[k] for k in ("wall_s", "cpu_s", "peak_rss_bytes")} for r in rs],
        }
        for name, rs in runs.items()
    }
    wb, plain = side["workbench"], side["plain"]
    time_ratio = wb["wall_s"] / plain["wall_s"]
    memory_ratio = wb["peak_rss_bytes"] / plain["peak_rss_bytes"] if plain["peak_rss_bytes"] else float("nan")
    return {
        **side,
        "time_ratio": time_ratio,
        "memory_ratio": memory_ratio,
        "same_text": wb["text"] == plain["text"],
        "meets_target": time_ratio <= TARGET_RATIO and memory_ratio <= TARGET_RATIO,
    }


def format_cli_bench(result: dict) -> str:
    """The result as a short table with a verdict per engine."""
    lines = [
        f"bench cli: {Path(result['file']).name}, {result['repeat']} fresh process(es) per side, "
        f"median wall time, largest peak memory; target: workbench within {result['target_ratio']:g}x of the plain script",
        f"{'engine':<15}{'side':<11}{'wall (s)':>9}{'CPU (s)':>9}{'peak RSS (MiB)':>16}",
    ]
    for engine, r in result["engines"].items():
        for side in ("plain", "workbench"):
            s = r[side]
            lines.append(f"{engine:<15}{side:<11}{s['wall_s']:>9.2f}{s['cpu_s']:>9.2f}{s['peak_rss_bytes'] / 2**20:>16.0f}")
        verdict = "meets the target" if r["meets_target"] else "misses the target"
        same = "same text" if r["same_text"] else f"texts differ: workbench {r['workbench']['text']!r} vs plain {r['plain']['text']!r}"
        lines.append(f"{'':<15}ratio: time {r['time_ratio']:.2f}x, memory {r['memory_ratio']:.2f}x ({verdict}; {same})")
    return "\n".join(lines)
