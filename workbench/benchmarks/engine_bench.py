"""The engines benchmark (``bench engines``): raw library calls against the workbench's engines.

Overhead of :func:`~workbench.transcribe` over the raw ``transformers`` and
``faster_whisper`` calls, faster-whisper int8 against transformers float32,
the second load of the embedded model, and the peak memory of a long file,
each of the last two in a fresh process.
"""

from __future__ import annotations

import json
import platform

import numpy as np

from ..audio import SAMPLE_RATE, load_audio
from .monitor import REPEATS, _best_of

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
print(json.dumps({
    "import_s": t1 - t0,
    "resolve_s": time.perf_counter() - t1 - load_s,
    "load_s": load_s,
    "total_s": time.perf_counter() - t1,
}))
"""

#: The long file is one clip tiled: its windows repeat one text, which Whisper's compression-ratio check
#: takes for a loop and decodes again at every fallback temperature. One decoding pass per window (no
#: fallback) measures what a long file costs, not that artefact. The peak is this process's own
#: (``ru_maxrss`` would also count the parent's, whose pages a child inherits until it starts).
_CHILD_LONG = """
import json, sys, time
import numpy as np
from workbench.benchmarks.monitor import _process_peak_rss
from workbench.transcription import transcribe
clip = np.load(sys.argv[1])
t0 = time.perf_counter()
t = transcribe(
    (clip, 16000), engine=sys.argv[2], language="en", beam_size=int(sys.argv[3]), temperature_increment=0, timestamps="none"
)
wall = time.perf_counter() - t0
peak = _process_peak_rss()
print(json.dumps({
    "seconds": wall,
    "audio_s": t.timings["audio_s"],
    "peak_rss_bytes": peak,
    "chars": len(t.text),
    "precision": t.settings["precision"],
}))
"""


def _run_child(code: str, *args) -> dict:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_engines(
    files,
    *,
    language: str = "en",
    beam_size: int = ENGINES_BEAM_SIZE,
    repeats: int = REPEATS,
    quick: bool = False,
    out=None,
    progress: bool = True,
) -> dict:
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

    from ..engines import clear_engines
    from ..models import embedded_ctranslate2_dir, embedded_transformers_dir
    from ..transcription import transcribe

    clips = [load_audio(f).resample(SAMPLE_RATE).mono.copy() for f in files]
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    hf_dir, ct2_dir = embedded_transformers_dir(), embedded_ctranslate2_dir()
    steps = tqdm(total=6, desc="bench engines", disable=not progress)

    def best(fn):
        fn()  # warm-up: first-call allocations, kernels, caches
        return _best_of(fn, 1 if quick else repeats)

    model = AutoModelForSpeechSeq2Seq.from_pretrained(str(hf_dir), dtype=torch.float32, low_cpu_mem_usage=True, use_safetensors=True)
    processor = AutoProcessor.from_pretrained(str(hf_dir))
    pipe = pipeline(
        "automatic-speech-recognition",
        model=model,
        tokenizer=processor.tokenizer,
        feature_extractor=processor.feature_extractor,
        dtype=torch.float32,
        device="cpu",
    )
    gen = {"language": language, "task": "transcribe", "num_beams": beam_size}
    raw_tf = best(lambda: [pipe({"raw": c, "sampling_rate": SAMPLE_RATE}, return_timestamps=True, generate_kwargs=gen) for c in clips])
    steps.update()
    wb_tf = best(
        lambda: [
            transcribe((c, SAMPLE_RATE), engine="transformers", language=language, beam_size=beam_size, dtype="float32") for c in clips
        ]
    )
    clear_engines()
    steps.update()
    fw = WhisperModel(str(ct2_dir), device="cpu", compute_type="int8")
    raw_fw = best(lambda: [list(fw.transcribe(c, language=language, beam_size=beam_size, temperature=0.0)[0]) for c in clips])
    steps.update()
    wb_fw = best(
        lambda: [
            transcribe((c, SAMPLE_RATE), engine="faster-whisper", language=language, beam_size=beam_size, compute_type="int8")
            for c in clips
        ]
    )
    clear_engines()
    steps.update()

    reload = {e: _run_child(_CHILD_LOAD, e, p) for e, p in (("transformers", "float32"), ("faster-whisper", "int8"))}
    steps.update()

    minutes = 1 if quick else LONG_MINUTES
    long_clip = np.tile(np.concatenate(clips), int(np.ceil(minutes * 60 * SAMPLE_RATE / sum(map(len, clips)))))[
        : minutes * 60 * SAMPLE_RATE
    ]
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
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
        },
        "clips": [str(f) for f in files],
        "audio_seconds": audio_s,
        "beam_size": beam_size,
        "transformers": {
            "raw_s": raw_tf,
            "workbench_s": wb_tf,
            "raw_rtf": rtf(raw_tf),
            "workbench_rtf": rtf(wb_tf),
            "overhead": wb_tf / raw_tf - 1,
            "dtype": "float32",
        },
        "faster_whisper": {
            "raw_s": raw_fw,
            "workbench_s": wb_fw,
            "raw_rtf": rtf(raw_fw),
            "workbench_rtf": rtf(wb_fw),
            "overhead": wb_fw / raw_fw - 1,
            "compute_type": "int8",
        },
        "speedup_fw_int8_vs_tf_fp32": raw_tf / raw_fw,
        "reload": reload,
        "long_file": {"minutes": minutes, **long},
    }
    result["targets"] = {
        "transformers_overhead": {"target": f"<= {TARGET_OVERHEAD:.0%}", "met": result["transformers"]["overhead"] <= TARGET_OVERHEAD},
        "faster_whisper_overhead": {"target": f"<= {TARGET_OVERHEAD:.0%}", "met": result["faster_whisper"]["overhead"] <= TARGET_OVERHEAD},
        "fw_speedup": {"target": f">= {TARGET_FW_SPEEDUP}x", "met": result["speedup_fw_int8_vs_tf_fp32"] >= TARGET_FW_SPEEDUP},
        "reload": {"target": f"< {TARGET_RELOAD_SECONDS} s", "met": all(r["total_s"] < TARGET_RELOAD_SECONDS for r in reload.values())},
        "peak_memory": {
            "target": f"< {TARGET_PEAK_GB} GB for {LONG_MINUTES} min",
            "met": all(v["peak_rss_bytes"] < TARGET_PEAK_GB * 1e9 for v in long.values()),
        },
    }
    if out:
        from ..io import dumps, write_text

        write_text(out, dumps(result, indent=2))
    return result


def format_engines_bench(r: dict) -> str:
    """The engines benchmark as a short report."""
    t = r["targets"]

    def ok(key):
        return "meets target" if t[key]["met"] else "MISSES target"

    lines = [
        f"engines benchmark{' (quick mode)' if r['quick'] else ''}: {r['audio_seconds']:.1f} s of audio, "
        f"beam {r['beam_size']}, CPU, {r['machine']['threads']} threads"
    ]
    for name, key in (("transformers float32", "transformers"), ("faster-whisper int8", "faster_whisper")):
        e = r[key]
        lines.append(
            f"  {name:<21} raw {e['raw_rtf']:.3f} RTF   workbench {e['workbench_rtf']:.3f} RTF   "
            f"overhead {e['overhead']:+.1%} ({ok(key + '_overhead')})"
        )
    lines.append(
        f"  faster-whisper int8 vs transformers float32: {r['speedup_fw_int8_vs_tf_fp32']:.2f}x faster "
        f"({ok('fw_speedup')}, target {t['fw_speedup']['target']})"
    )
    for e, v in r["reload"].items():
        lines.append(
            f"  second load of the embedded model, {e}: {v['total_s']:.2f} s "
            f"(plus {v['import_s']:.2f} s importing the libraries, once per process)"
        )
    lines.append(f"    {ok('reload')} ({t['reload']['target']})")
    for e, v in r["long_file"].items():
        if isinstance(v, dict):
            lines.append(
                f"  {r['long_file']['minutes']}-minute file, {e} ({v['precision']}, beam 1, no fallback): {v['seconds']:.0f} s, "
                f"RTF {v['seconds'] / v['audio_s']:.3f}, peak RSS {v['peak_rss_bytes'] / 1e9:.2f} GB"
            )
    lines.append(f"    {ok('peak_memory')} ({t['peak_memory']['target']})")
    return "\n".join(lines)
