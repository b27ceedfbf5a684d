"""The performance harness: batch transcription, its measurements, results files and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench import benchmarks
from workbench.audio import load_audio
from workbench.cli import main
from workbench.datasets import bundled
from workbench.engines import EngineOutput, Segment
from workbench.transcription import TranscriptionWarning, transcribe, transcribe_batch

ENGLISH = [e for e in bundled() if e.language == "en"]
CANTONESE = [
    e for e in bundled() if e.language == "yue" and e.meta.get("condition") == "clean"
]  # real speech; Whisper base detects it as zh
GREEDY = {"beam_size": 1, "device": "cpu"}
#: Batch and per-file transcripts of the same clip may differ by at most this character error rate.
MAX_BATCH_CER = 0.02
MEASURED = ("load_s", "wall_s", "audio_s", "real_time_factor", "throughput", "peak_rss_bytes", "cpu_utilisation")


# --------------------------------------------------------------------------
# Pure measurements on known inputs
# --------------------------------------------------------------------------


def test_latency_drift_compares_last_window_with_first():
    assert benchmarks.latency_drift([1.0] * 10 + [1.1] * 10) == pytest.approx(0.10)
    assert benchmarks.latency_drift([2.0] * 100) == 0.0
    assert benchmarks.latency_drift([1.0, 1.0, 9.0, 0.5, 0.5], window=2) == pytest.approx(-0.5)  # the middle does not count
    with pytest.raises(ValueError, match="at least 20 latencies"):
        benchmarks.latency_drift([1.0] * 19)


def test_memory_growth_counts_from_after_the_warm_up_files():
    mb = benchmarks.MB
    rss = [100 * mb] * 5 + [400 * mb] * 5 + [420 * mb] * 90
    assert benchmarks.memory_growth(rss, after=10) == 20 * mb  # the climb during warm-up is not growth
    assert benchmarks.memory_growth([5, 4, 3], after=1) == -2
    with pytest.raises(ValueError, match="more than 10"):
        benchmarks.memory_growth([1] * 10, after=10)


def test_cpu_utilisation_and_speedup():
    assert benchmarks.cpu_utilisation(cpu_seconds=3.0, wall_seconds=2.0, cores=2) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        benchmarks.cpu_utilisation(1.0, 0.0, 2)
    assert benchmarks.batch_speedup([3.0, 2.6], [2.0, 1.3]) == pytest.approx(2.0)  # best of each


def test_machine_label_on_the_cpu():
    label = benchmarks.machine_label("cpu")
    assert label.startswith("cpu-") and label.endswith("core") and int(label[4:-4]) >= 1


# --------------------------------------------------------------------------
# Batch transcription
# --------------------------------------------------------------------------


@pytest.mark.parametrize("encoder_batch", [1, 2])
@pytest.mark.parametrize("engine", ["faster-whisper", pytest.param("transformers", marks=pytest.mark.slow)])
def test_batch_matches_per_file(engine, encoder_batch):
    import jiwer

    paths = [e.path for e in ENGLISH]
    batch = transcribe_batch(
        paths, engine=engine, batch_size=len(paths), encoder_batch=encoder_batch, language="en", timestamps="segment", **GREEDY
    )
    alone = [transcribe(p, engine=engine, language="en", timestamps="segment", **GREEDY) for p in paths]
    assert len(batch) == len(paths)
    for b, a, entry in zip(batch, alone, ENGLISH, strict=True):
        assert b.text and jiwer.cer(a.text, b.text) <= MAX_BATCH_CER, (b.text, a.text)
        assert b.source == a.source == str(entry.path) and b.language == "en"
        assert b.settings["batch_size"] == len(paths) and b.settings["batched"] and b.settings["encoder_batch"] == encoder_batch
        assert b.settings["audio"] == a.settings["audio"]  # the same audio preparation
        assert b.timings["audio_s"] == pytest.approx(a.timings["audio_s"])
        assert b.timings["batch_clips"] == len(paths) and b.timings["batch_inference_s"] >= b.timings["inference_s"] > 0
        # segments belong to their own clip, with times relative to it
        assert all(0 <= s.start <= s.end <= b.timings["audio_s"] + 0.5 for s in b.segments if s.end is not None)


@pytest.mark.slow
def test_batch_detects_each_clip_language_and_takes_per_clip_languages():
    paths = [ENGLISH[0].path, CANTONESE[0].path]
    detected = transcribe_batch(paths, engine="faster-whisper", batch_size=2, timestamps="none", **GREEDY)
    alone = [transcribe(p, engine="faster-whisper", timestamps="none", **GREEDY) for p in paths]
    assert [t.language for t in detected] == [t.language for t in alone] == ["en", "zh"]
    assert [t.language_probability for t in detected] == pytest.approx([t.language_probability for t in alone], abs=0.01)
    assert [t.text for t in detected] == [t.text for t in alone]
    with pytest.warns(TranscriptionWarning, match="used 'zh'"):
        given = transcribe_batch(
            paths, engine="faster-whisper", batch_size=2, languages=["english", "粤语"], language_fallback=True, timestamps="none", **GREEDY
        )
    assert [t.language for t in given] == ["en", "zh"] and given[0].language_probability is None
    assert any("yue" in f for f in given[1].fallbacks)
    assert given[1].text == detected[1].text


@pytest.mark.slow
def test_long_clip_in_a_batch_is_transcribed_on_its_own():
    clip = load_audio(ENGLISH[0].path).resample(16_000).mono.astype(np.float32)
    long = np.tile(clip, 13)[: 40 * 16_000]  # more than one 30-second window
    out = transcribe_batch(
        [(clip, 16_000), (long, 16_000)],
        engine="faster-whisper",
        language="en",
        timestamps="segment",
        temperature_increment=0,  # one sentence tiled compresses well: the fallback would sample every window at five temperatures
        **GREEDY,
    )
    assert out[1].timings["audio_s"] == pytest.approx(40.0)
    assert out[1].segments[-1].end > 30  # decoded past the first window
    assert "weather" in out[0].text.lower() and "weather" in out[1].text.lower()


class _OutOfMemoryAboveTwo:
    """An engine that runs out of memory for batches of more than two clips."""

    name = "transformers"

    def __init__(self):
        self.batches = []

    def languages(self):
        return {"en"}

    def version(self):
        return "fake"

    def transcribe_many(self, clips, opts, languages=None, encoder_batch=None):
        self.batches.append(len(clips))
        if len(clips) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return [EngineOutput("ok", [Segment(0.0, 1.0, "ok")], "en", None) for _ in clips]


def test_batch_halves_on_out_of_memory(monkeypatch):
    fake = _OutOfMemoryAboveTwo()
    monkeypatch.setattr("workbench.transcription.get_engine", lambda *args: (fake, 0.0))
    clips = [(np.full(1600, 0.01, np.float32), 16_000)] * 5
    with pytest.warns(TranscriptionWarning, match="batch size 4"):
        out = transcribe_batch(clips, batch_size=4, language="en", device="cpu")
    assert fake.batches == [4, 2, 2, 1] and len(out) == 5
    assert out[-1].settings["batch_size"] == 2 and "retried with batch size 2" in out[-1].fallbacks[0]


# --------------------------------------------------------------------------
# Large-v3's architecture with random weights
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_random_large_v3_has_the_published_shapes_and_says_what_it_is():
    model = benchmarks.random_large_v3(layers=2)
    config = model.config
    assert (config.d_model, config.num_mel_bins, config.vocab_size) == (1280, 128, 51866)
    assert (config.encoder_layers, config.decoder_layers, config.encoder_attention_heads) == (2, 2, 20)
    assert tuple(model.model.encoder.embed_positions.weight.shape) == (1500, 1280)
    assert tuple(model.model.decoder.embed_positions.weight.shape) == (448, 1280)
    assert model.proj_out.out_features == 51866

    r = benchmarks.bench_random_large_v3(layers=2, device="cpu", batch_sizes=(1,), new_tokens=3, quick=True, progress=False)
    assert r["label"] == benchmarks.RANDOM_LARGE_V3_LABEL and "random weights" in r["label"] and "not a transcription" in r["label"]
    assert r["architecture"]["encoder_layers"] == 2 and r["architecture"]["d_model"] == 1280
    (run,) = r["runs"]
    assert run["label"] == r["label"] and run["output_shape"] == [1, len(benchmarks.LARGE_V3_PROMPT) + 3]
    assert run["seconds"] > 0 and run["encode_s"] > 0 and run["throughput"] > 0 and run["peak_rss_bytes"] > 0
    assert run["decode_s"] == max(0.0, run["seconds"] - run["encode_s"])  # timed apart: on a busy machine they can cross
    text = benchmarks.format_random_large_v3(r)
    assert all(benchmarks.RANDOM_LARGE_V3_LABEL in line for line in text.splitlines())


# --------------------------------------------------------------------------
# Results files and figures
# --------------------------------------------------------------------------


def _fake_result(label: str, throughput: float, speedup: float) -> dict:
    row = {"engine": "faster-whisper", "precision": "int8", "device": "cpu", "batch_size": 16, "beam_size": 1, "timestamps": "none"}
    return {
        "suite": benchmarks.SUITE,
        "quick": False,
        "started": "2025-01-02T03:04:05+00:00",
        "sections": list(benchmarks.DEFAULT_SECTIONS),
        "machine": {"label": label},
        "matrix": [{**row, "throughput": throughput, "peak_rss_bytes": 1e9, "peak_gpu_bytes": None}],
        "batch": [{**row, "speedup": speedup}],
        "stability": [{**row, "latencies_s": [1.0, 1.1], "drift": 0.1}],
        "variants": [],
    }


def test_results_are_written_and_machines_compared(tmp_path):
    files = benchmarks.write_harness_result(_fake_result("cpu-2core", 5.0, 1.1), tmp_path)
    benchmarks.write_harness_result(_fake_result("nvidia-h100", 80.0, 3.0), tmp_path)
    (tmp_path / "other.json").write_text(json.dumps({"suite": "audio"}))
    assert json.loads((tmp_path / "2025-01-02-cpu-2core.json").read_text())["files"] == files
    results = benchmarks.load_results(tmp_path)
    assert [r["machine"]["label"] for r in results] == ["cpu-2core", "nvidia-h100"]
    fig = benchmarks.compare_machines_figure(results)
    assert {t.name for t in fig.data} == {"cpu-2core 2025-01-02", "nvidia-h100 2025-01-02"}
    html = (tmp_path / benchmarks.COMPARISON_FIGURE).read_text()
    assert "nvidia-h100" in html and (tmp_path / "plotly.min.js").is_file()  # opens offline


# --------------------------------------------------------------------------
# The harness end to end, quick mode
# --------------------------------------------------------------------------


def _check_harness_result(result: dict, engines: list[str]) -> None:
    assert result["suite"] == "harness" and result["quick"]
    assert {f["id"] for f in result["environment"]["findings"]} >= {"torch", "memory"}  # the doctor report
    assert {(r["engine"], r["batch_size"]) for r in result["matrix"]} == {(e, b) for e in engines for b in (1, benchmarks.QUICK_CLIPS)}
    for row in result["matrix"]:
        assert all(isinstance(row[k], float | int) and row[k] > 0 for k in MEASURED), row
        assert row["throughput"] == pytest.approx(row["audio_s"] / row["wall_s"]) and row["peak_gpu_bytes"] is None
        assert len(row["texts"]) == benchmarks.QUICK_CLIPS
    (batch,) = result["batch"]
    assert len(batch["loop_s"]) == len(batch["batch_s"]) == 1 and batch["speedup"] == pytest.approx(
        batch["loop_s"][0] / batch["batch_s"][0]
    )
    assert batch["met"] == (batch["speedup"] >= benchmarks.TARGET_BATCH_SPEEDUP)
    (stable,) = result["stability"]
    assert len(stable["latencies_s"]) == len(stable["rss_bytes"]) == benchmarks.QUICK_STABILITY_FILES
    assert stable["drift"] == pytest.approx(benchmarks.latency_drift(stable["latencies_s"], benchmarks.QUICK_DRIFT_WINDOW))
    assert stable["memory_growth_bytes"] == benchmarks.memory_growth(stable["rss_bytes"], benchmarks.QUICK_DRIFT_WINDOW)
    assert len(result["targets"]) == 3


@pytest.mark.slow
def test_harness_quick_in_process(tmp_path):
    """The matrix measured here rather than in fresh processes; every section, isolated, is the next test's."""
    result = benchmarks.bench_harness(
        quick=True, engines=["faster-whisper"], sections=("matrix",), out_dir=tmp_path, isolate=False, progress=False
    )
    assert {(r["engine"], r["batch_size"]) for r in result["matrix"]} == {("faster-whisper", b) for b in (1, benchmarks.QUICK_CLIPS)}
    for row in result["matrix"]:
        assert all(isinstance(row[k], float | int) and row[k] > 0 for k in MEASURED), row
        assert not row["isolated"] and len(row["texts"]) == benchmarks.QUICK_CLIPS
    assert result["batch"] == result["stability"] == []
    written = json.loads(Path(result["files"]["json"]).read_text(encoding="utf-8"))
    assert written["environment"] == result["environment"] and written["matrix"][0]["load_s"] == result["matrix"][0]["load_s"]
    assert "Throughput" in Path(result["files"]["figure"]).read_text(encoding="utf-8")
    text = benchmarks.format_harness(result)
    assert "faster-whisper int8 cpu, batch 1" in text and result["files"]["json"] in text


@pytest.mark.slow
def test_cli_bench_quick_runs_each_configuration_in_its_own_process(tmp_path, capsys):
    assert main(["bench", "--quick", "--engines", "faster-whisper", "--out", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    _check_harness_result(result, ["faster-whisper"])
    assert all(row["isolated"] for row in result["matrix"])
    stem = f"{result['started'][:10]}-{result['machine']['label']}-quick"
    assert {f"{stem}.json", f"{stem}.html", benchmarks.COMPARISON_FIGURE, "plotly.min.js"} <= {p.name for p in tmp_path.iterdir()}
    assert json.loads((tmp_path / f"{stem}.json").read_text(encoding="utf-8"))["environment"]["findings"]
    assert "latency drift" in benchmarks.format_harness(result)


def test_cli_bench_harness_takes_no_files(capsys):
    assert main(["bench", "harness", "clip.wav"]) == 2
    assert "takes no FILEs" in capsys.readouterr().err
