"""The command line as a user runs it: help everywhere, JSON where results are printed."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from workbench.cli import build_parser

from .conftest import ROOT

SUBCOMMANDS = [
    "doctor",
    "info",
    "compare-decoders",
    "resample",
    "resamplers",
    "resample-report",
    "bench",
    "transcribe",
    "score",
    "demo",
    "export",
    "import",
    "run",
    "results",
]


def run(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, cwd=ROOT)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


def test_every_subcommand_has_help_and_json_where_it_prints_results():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(SUBCOMMANDS)
    for name, p in sub.choices.items():
        assert p.format_help()
        assert "--json" in p.format_help(), name


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_help_runs(name):
    assert "usage:" in run(name, "--help").stdout


def test_resamplers_json_lists_the_default():
    rows = json.loads(run("resamplers", "--json").stdout)
    defaults = [r["name"] for r in rows if r["default"]]
    assert defaults == ["soxr_hq"]
    assert {"naive_decimation", "mislabelled", "torchaudio_default"} <= {r["name"] for r in rows}


@pytest.mark.slow
def test_bench_audio_quick(tmp_path):
    out = tmp_path / "bench.json"
    result = json.loads(run("bench", "audio", "--quick", "--json", "--out", str(out)).stdout)
    assert result["quick"] is True
    assert result["load"]["decoder"] == "soundfile"
    assert result["load"]["seconds_mean_mix"] > 0
    assert result["resample"]["default"] == "soxr_hq"
    assert result["resample"]["methods"]["soxr_hq"]["x_real_time"] > result["resample"]["methods"]["librosa_kaiser_best"]["x_real_time"]
    assert result["figure"]["seconds"] > 0
    assert result["panel"]["switch"] and result["panel"]["max_cold_s"] > 0
    assert json.loads(out.read_text()) == result


@pytest.mark.slow
def test_demo_writes_a_self_contained_report(tmp_path):
    proc = run("demo", "--quick", "--out", str(tmp_path))
    match = re.search(r"report: (.+\.html)", proc.stdout)
    assert match, proc.stdout
    assert "What the audio path does" in proc.stdout and "naive_decimation" in proc.stdout  # verdicts and the table are printed
    html = (tmp_path / "cantonese-diagnosis.html").read_text(encoding="utf-8")
    assert "<table" in html and "mislabelled" in html and "real Cantonese" in html
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert "What often gets blamed on the operating system" in visible and "seed" not in visible.lower()
    assert not re.search(r"<script[^>]+src=[\"']https?:", html), "the report must open offline"
    assert html.count("Plotly.newPlot") >= 1
    assert (tmp_path / "cantonese-diagnosis-runs.csv").exists()
