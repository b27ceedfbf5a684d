"""Experiment grids: settings, the crash-safe results store, resume, summaries and Ray."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import datasets, experiments
from workbench.cli import experiments as experiments_cli
from workbench.experiments import ExperimentError, ResultsStore

from .conftest import ROOT

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def english_clips(n=2):
    """The bundled English clips first (the embedded model reads them well), then others."""
    entries = datasets.bundled()
    entries.sort(key=lambda e: (e.language != "en", e.path.name))
    return entries[:n]


def fake_run(self, task):
    """A stand-in for transcription: instant, deterministic, shaped like a real row."""
    rate = (int(task.key[:4], 16) % 100) / 100
    return {
        "format": experiments.RESULTS_FORMAT,
        "key": task.key,
        "setting_id": task.setting_id,
        "clip": task.clip,
        "path": str(task.entry.path),
        "clip_language": task.entry.language,
        "reference": task.entry.reference,
        "settings": task.setting,
        "error": None,
        "hypothesis": "x",
        "metric": "cer",
        "error_rate": rate,
        "lenient_error_rate": rate,
        "errors": int(rate * 10),
        "reference_length": 10,
        "breakdown": {},
        "timings": {"real_time_factor": 0.1},
    }


def write_results(
    path, per_setting: dict[str, dict[str, float]], failed: dict[str, list[str]] | None = None, recordings: dict[str, str] | None = None
):
    """A results file with given per-clip rates: {resampler: {clip: rate}}; ``recordings`` ({clip: recording}) adds that key to the rows."""
    with ResultsStore(path, fsync=False) as store:
        for resampler, clips in per_setting.items():
            setting = experiments.expand_grid({"resampler": [resampler]})[0]
            sid = experiments.setting_id(setting)
            for clip, rate in clips.items():
                row = {
                    "key": f"{sid}-{clip}",
                    "setting_id": sid,
                    "clip": clip,
                    "settings": setting,
                    "error": None,
                    "metric": "cer",
                    "error_rate": rate,
                    "lenient_error_rate": rate / 2,
                    "errors": round(rate * 20),
                    "reference_length": 20,
                    "timings": {"real_time_factor": 0.5},
                }
                if recordings is not None and clip in recordings:
                    row["recording"] = recordings[clip]
                store.append(row)
            for clip in (failed or {}).get(resampler, []):
                store.append(
                    {"key": f"{sid}-{clip}", "setting_id": sid, "clip": clip, "settings": setting, "error": "AudioLoadError: broken"}
                )
    return Path(path)


def lines(path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------


def test_grid_is_the_product_with_defaults_filled_and_repeats_dropped():
    settings = experiments.expand_grid({"resampler": ["soxr_hq", "linear"], "beam_size": [1, 5, 5]}, fixed={"language": "粵語"})
    assert len(settings) == 4
    assert {(s["resampler"], s["beam_size"]) for s in settings} == {("soxr_hq", 1), ("soxr_hq", 5), ("linear", 1), ("linear", 5)}
    assert all(s["language"] == "yue" and s["engine"] == "faster-whisper" and s["timestamps"] == "none" for s in settings)
    assert set(settings[0]) == set(experiments.setting_keys())


def test_setting_id_ignores_whether_a_default_was_written_out():
    implicit = experiments.expand_grid({"resampler": ["soxr_hq"]})[0]
    explicit = experiments.expand_grid(
        {"resampler": ["soxr_hq"], "beam_size": [experiments.default_setting()["beam_size"]], "channel": ["mean"]}
    )[0]
    other = experiments.expand_grid({"resampler": ["soxr_hq"], "beam_size": [2]})[0]
    assert experiments.setting_id(implicit) == experiments.setting_id(explicit) != experiments.setting_id(other)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"resampler": ["sinc_magic"]}, "unknown resampler 'sinc_magic'"),
        ({"beam": [1]}, "unknown setting(s) beam"),
        ({"beam_size": [0]}, "beam_size must be a whole number >= 1"),
        ({"engine": ["whisper.cpp"]}, "unknown engine"),
        ({"decoder": ["gstreamer"]}, "decoder 'gstreamer'"),
        ({"channel": ["left"]}, "channel 'left'"),
        ({"language": ["klingon"]}, "klingon"),
        ({"resampler": []}, "resampler has no values"),
    ],
)
def test_a_bad_grid_is_refused_before_any_work(grid, message):
    with pytest.raises(ExperimentError) as err:
        experiments.expand_grid(grid)
    assert message in str(err.value)


# --------------------------------------------------------------------------
# the store
# --------------------------------------------------------------------------


def test_store_cuts_a_torn_last_line_and_keeps_every_complete_one(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsStore(path) as store:
        store.append({"key": "a", "v": 1})
        store.append({"key": "b", "v": "粵語"})
    with open(path, "ab") as f:
        f.write(b'{"key":"c","v":')  # a writer killed mid-line
    assert [r["key"] for r in experiments.read_rows(path)] == ["a", "b"]
    with ResultsStore(path) as store:
        assert store.repaired_bytes == len(b'{"key":"c","v":')
        store.append({"key": "c", "v": 3})
    assert [r["key"] for r in lines(path)] == ["a", "b", "c"]


def test_store_refuses_a_second_writer(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsStore(path):
        with pytest.raises(ExperimentError, match="another run is writing"):
            ResultsStore(path).open()
    with ResultsStore(path):  # released on close
        pass


def test_store_writes_nan_as_null_so_every_line_is_valid_json(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsStore(path) as store:
        store.append({"key": "a", "rate": float("nan"), "n": np.int64(3), "x": np.float32(0.5)})
    assert lines(path) == [{"key": "a", "rate": None, "n": 3, "x": 0.5}]


# --------------------------------------------------------------------------
# run and resume (transcription replaced by an instant stand-in)
# --------------------------------------------------------------------------


def test_resume_skips_what_is_done_and_a_changed_setting_adds_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments.Runner, "run", fake_run)
    entries = datasets.bundled()[:5]
    results = tmp_path / "r.jsonl"
    grid = {"resampler": ["soxr_hq", "linear"]}
    first = experiments.run(entries, grid, results, progress=False)
    assert (first.total, first.computed, first.skipped) == (10, 10, 0)
    before = results.read_bytes()
    again = experiments.run(entries, grid, results, progress=False)
    assert (again.computed, again.skipped) == (0, 10)
    assert results.read_bytes() == before

    wider = experiments.run(entries, {"resampler": ["soxr_hq", "linear"], "beam_size": [5, 1]}, results, progress=False)
    assert (wider.total, wider.computed, wider.skipped) == (20, 10, 10)
    rows = lines(results)
    assert results.read_bytes().startswith(before)  # never an overwrite
    assert len(rows) == 20 and len({r["key"] for r in rows}) == 20


def test_a_failed_clip_is_recorded_and_only_retried_when_asked(tmp_path, monkeypatch):
    calls = []

    def flaky(self, task):
        calls.append(task.clip)
        row = fake_run(self, task)
        if task.clip.startswith("en_"):
            row.update(error="AudioLoadError: cannot decode", error_rate=None)
        return row

    monkeypatch.setattr(experiments.Runner, "run", flaky)
    entries = [e for e in datasets.bundled() if e.reference]
    results = tmp_path / "r.jsonl"
    exp = experiments.run(entries, {"resampler": ["soxr_hq"]}, results, progress=False)
    n_bad = sum(e.path.name.startswith("en_") for e in entries)
    assert n_bad >= 1 and exp.failed == n_bad
    calls.clear()
    assert experiments.run(entries, {"resampler": ["soxr_hq"]}, results, progress=False).computed == 0
    retry = experiments.run(entries, {"resampler": ["soxr_hq"]}, results, retry_errors=True, progress=False)
    assert retry.computed == n_bad and all(c.startswith("en_") for c in calls)
    table = experiments.load_results(results, include_errors=True)
    assert len(table) == len(entries)  # the retried row replaces the failed one when read


def test_missing_clips_are_reported_together_and_the_rest_run(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments.Runner, "run", fake_run)
    manifest = tmp_path / "m.csv"
    good = english_clips(1)[0]
    import shutil

    shutil.copy(good.path, tmp_path / good.path.name)
    shutil.copy(good.path, tmp_path / "unlabelled.flac")
    reference = '"' + good.reference.replace('"', '""') + '"'  # quoted: the reference holds a comma
    manifest.write_text(
        f"path,language,reference\n{good.path.name},en,{reference}\ngone1.wav,en,a\ngone2.wav,en,b\nunlabelled.flac,en,\n",
        encoding="utf-8",
    )
    with pytest.warns(experiments.ExperimentWarning) as caught:
        exp = experiments.run(manifest, {"resampler": ["soxr_hq"]}, tmp_path / "r.jsonl", progress=False)
    message = str(caught[0].message)
    assert "3 clip(s) left out" in message and "gone1.wav" in message and "gone2.wav" in message
    assert "unlabelled.flac: no reference transcript" in message
    assert exp.computed == 1 and len(exp.problems) == 3


# --------------------------------------------------------------------------
# summaries on known inputs
# --------------------------------------------------------------------------


def test_bootstrap_interval_on_known_inputs():
    assert experiments.bootstrap_ci([0.2, 0.2, 0.2]) == (0.2, 0.2)
    assert all(np.isnan(experiments.bootstrap_ci([0.3])))
    rng = np.random.default_rng(1)
    x = rng.normal(0.5, 0.1, 400)
    low, high = experiments.bootstrap_ci(x)
    half_width = 1.96 * x.std(ddof=1) / np.sqrt(len(x))  # the normal-theory interval
    assert low < x.mean() < high
    assert (high - low) / 2 == pytest.approx(half_width, rel=0.15)


def test_summary_means_intervals_failures_and_order(tmp_path):
    path = write_results(
        tmp_path / "r.jsonl",
        {"soxr_hq": {"c1": 0.1, "c2": 0.2, "c3": 0.3}, "naive_decimation": {"c1": 0.4, "c2": 0.5, "c3": 0.9}},
        failed={"naive_decimation": ["c4"]},
    )
    table = experiments.summarise(path)
    assert list(table["resampler"]) == ["soxr_hq", "naive_decimation"]  # best first
    best = table.iloc[0]
    assert best["mean"] == pytest.approx(0.2) and best["clips"] == 3 and best["failed"] == 0
    assert best["ci_low"] <= 0.2 <= best["ci_high"] and best["ci_low"] >= 0.1 and best["ci_high"] <= 0.3
    assert best["lenient_mean"] == pytest.approx(0.1)
    assert best["pooled"] == pytest.approx((2 + 4 + 6) / 60)
    assert table.iloc[1]["failed"] == 1 and table.iloc[1]["mean"] == pytest.approx(0.6)
    fig = experiments.summary_chart(table)
    assert list(fig.data[0].x) == ["resampler=soxr_hq", "resampler=naive_decimation"]


def test_paired_comparison_finds_a_consistent_difference(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.uniform(0.1, 0.5, 12)
    clips = [f"c{i}" for i in range(12)]
    path = write_results(
        tmp_path / "r.jsonl",
        {"soxr_hq": dict(zip(clips, base, strict=True)), "linear": dict(zip(clips, base + 0.1 + rng.normal(0, 0.01, 12), strict=True))},
    )
    c = experiments.compare(path, {"resampler": "soxr_hq"}, "resampler=linear")
    assert c.clips == 12 and c.losses == 12 and c.wins == 0
    assert c.mean_diff == pytest.approx(0.1, abs=0.01)
    assert c.ci_low > 0.08 and c.ci_high < 0.12
    assert c.p_value < 0.01 and c.significant
    assert "worse" in c.verdict() and "real difference" in c.verdict()
    assert len(c.chart().data) == 2
    text = c.format_text().splitlines()  # what `results --compare` prints: every count says for which setting
    assert text[0].startswith("A  resampler=soxr_hq") and text[1].startswith("B  resampler=linear")
    assert text[3] == "clip by clip: B better on 0, worse on 12, the same on 0"
    assert not any(re.search(r"\d\.\d{4,}", line) for line in (text[0], text[1], text[2].split(", p=")[0])), text  # rounded


def test_paired_comparison_calls_noise_noise(tmp_path):
    clips = [f"c{i}" for i in range(10)]
    base = np.linspace(0.1, 0.6, 10)
    noise = np.array([0.02, -0.02] * 5)  # differences that cancel out
    path = write_results(
        tmp_path / "r.jsonl", {"soxr_hq": dict(zip(clips, base, strict=True)), "linear": dict(zip(clips, base + noise, strict=True))}
    )
    c = experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert c.mean_diff == pytest.approx(0.0, abs=1e-12)
    assert c.p_value > 0.5 and not c.significant
    assert c.ci_low < 0 < c.ci_high
    assert "not distinguishable" in c.verdict()


def test_paired_comparison_uses_only_clips_both_finished_and_names_bad_selections(tmp_path):
    path = write_results(
        tmp_path / "r.jsonl",
        {"soxr_hq": {"c1": 0.1, "c2": 0.2, "c3": 0.3}, "linear": {"c1": 0.2, "c2": 0.3}},
        failed={"linear": ["c3"]},
    )
    c = experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert c.clips == 2 and list(c.per_clip["clip"]) == ["c1", "c2"]
    with pytest.raises(ExperimentError, match="matches no results"):
        experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "mislabelled"})
    with pytest.raises(ExperimentError, match="not a setting"):
        experiments.compare(path, {"resampler": "soxr_hq"}, {"colour": "red"})
    with pytest.raises(ExperimentError, match="matches 2 settings"):
        experiments.compare(path, {"engine": "faster-whisper"}, {"resampler": "linear"})


# --------------------------------------------------------------------------
# variants of one recording, and samples too small for any test
# --------------------------------------------------------------------------


def variants(n_recordings: int, per_recording: int, shift, *, spread: float = 0.0, seed: int = 0):
    """Rates under soxr_hq and linear for ``n_recordings`` x ``per_recording`` clips, and each clip's recording.

    ``shift[r]`` is recording r's difference (linear − soxr_hq); ``spread`` adds independent per-clip noise to it.
    """
    rng = np.random.default_rng(seed)
    base, worse, recordings = {}, {}, {}
    for r in range(n_recordings):
        level = rng.uniform(0.2, 0.6)
        for v in range(per_recording):
            clip = f"rec{r}_v{v}.flac"
            base[clip] = level + rng.normal(0, 0.01)
            worse[clip] = base[clip] + shift[r] + rng.normal(0, spread)
            recordings[clip] = f"rec{r}"
    return {"soxr_hq": base, "linear": worse}, recordings


def test_min_p_value_is_two_over_two_to_the_n_and_the_exact_test_reaches_it(tmp_path):
    assert [experiments.min_sign_flip_p(n) for n in (0, 1, 2, 4, 5, 6)] == [1.0, 1.0, 0.5, 0.125, 0.0625, 0.03125]
    assert experiments.units_needed(0.05) == experiments.units_needed(1 - 0.95) == 6
    assert experiments.units_needed(0.01) == 8 and experiments.units_needed(0.0625) == 6
    for n in (4, 6):  # every difference the same sign: the most extreme pattern there is
        clips = {f"c{i}": 0.3 for i in range(n)}
        path = write_results(tmp_path / f"r{n}.jsonl", {"soxr_hq": clips, "linear": {c: 0.5 + 0.01 * i for i, c in enumerate(clips)}})
        c = experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"})
        assert c.grouped_by is None and c.n_units == n
        assert c.min_p_value == experiments.min_sign_flip_p(n)
        assert c.p_value == pytest.approx(c.min_p_value)
    assert c.significant and "real difference" in c.verdict()  # six clips: just enough


def test_variants_of_three_recordings_are_three_units_and_the_verdict_says_too_few(tmp_path):
    per_setting, recordings = variants(3, 4, shift=[0.2, 0.25, 0.18])
    path = write_results(tmp_path / "r.jsonl", per_setting, recordings=recordings)
    c = experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert c.clips == 12 and c.losses == 12
    assert (c.grouped_by, c.n_groups, c.n_units, c.unit_ties) == ("recording", 3, 3, 0)
    assert c.min_p_value == 0.25 and c.p_value == pytest.approx(0.25)
    assert not c.significant
    assert list(c.per_group["recording"]) == ["rec0", "rec1", "rec2"] and list(c.per_group["clips"]) == [4, 4, 4]
    assert c.mean_diff == pytest.approx(c.per_group["diff"].mean())
    verdict = c.verdict()
    assert "too few independent recordings (3) for any test to reach p < 0.05: at least 6 are needed" in verdict
    assert "the observed difference was +0.2" in verdict and "12 clips from 3 recordings" in verdict
    assert "not distinguishable" not in verdict
    row = c.to_frame().iloc[0]
    assert (row["grouped_by"], row["n_groups"], row["n_units"], row["min_p_value"]) == ("recording", 3, 3, 0.25)

    per_file = experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"}, group_by="clip")
    assert per_file.grouped_by is None and per_file.n_groups is None and per_file.n_units == 12
    assert per_file.p_value < 0.001 and per_file.significant  # what counting files as independent would claim


def test_grouped_interval_is_wider_when_variants_of_a_recording_agree(tmp_path):
    rng = np.random.default_rng(3)
    shift = rng.normal(0.05, 0.1, 10)  # recordings differ a lot; their 4 variants hardly at all
    per_setting, recordings = variants(10, 4, shift=shift, spread=0.002, seed=3)
    path = write_results(tmp_path / "r.jsonl", per_setting, recordings=recordings)
    grouped = experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"}, group_by="recording")
    per_file = experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"}, group_by="clip")
    assert grouped.n_units == 10 and per_file.n_units == 40
    assert grouped.mean_diff == pytest.approx(per_file.mean_diff)  # equal groups: same mean, honest width
    assert grouped.ci_high - grouped.ci_low > 1.5 * (per_file.ci_high - per_file.ci_low)
    assert grouped.p_value > per_file.p_value

    table = experiments.summarise(path)  # every row names a recording: grouped by default
    by_file = experiments.summarise(path, group_by="clip")
    assert table.attrs["grouped_by"] == "recording" and by_file.attrs["grouped_by"] is None
    assert list(table["groups"]) == [10, 10] and list(table["clips"]) == [40, 40] and list(by_file["groups"]) == [40, 40]
    assert np.allclose(table["mean"], by_file["mean"])
    assert all(table["ci_high"] - table["ci_low"] > 1.5 * (by_file["ci_high"] - by_file["ci_low"]))
    assert "groups" in experiments.format_summary(table) and "groups" not in experiments.format_summary(by_file)


def test_summary_means_are_over_recordings_when_grouped(tmp_path):
    clips = {"a1": 0.1, "a2": 0.1, "a3": 0.1, "b1": 0.5}  # three variants of a, one clip of b
    path = write_results(tmp_path / "r.jsonl", {"soxr_hq": clips}, recordings={"a1": "a", "a2": "a", "a3": "a", "b1": "b"})
    row = experiments.summarise(path).iloc[0]
    assert (row["clips"], row["groups"]) == (4, 2)
    assert row["mean"] == pytest.approx(0.3) and row["lenient_mean"] == pytest.approx(0.15)
    assert row["pooled"] == pytest.approx((2 + 2 + 2 + 10) / 80)  # pooled stays over every clip
    assert experiments.summarise(path, group_by="clip").iloc[0]["mean"] == pytest.approx(0.2)


def test_results_without_recordings_still_compare_clip_by_clip(tmp_path):
    clips = [f"c{i}" for i in range(8)]
    base = np.linspace(0.1, 0.5, 8)
    per_setting = {"soxr_hq": dict(zip(clips, base, strict=True)), "linear": dict(zip(clips, base + 0.1, strict=True))}
    old = write_results(tmp_path / "old.jsonl", per_setting)  # rows written before they kept a recording
    c = experiments.compare(old, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert (c.grouped_by, c.n_groups, c.n_units, c.clips) == (None, None, 8, 8)
    assert c.per_group is None and "recording" not in c.per_clip
    assert c.significant and "8 clips)" in c.verdict()
    assert experiments.summarise(old).attrs["grouped_by"] is None
    with pytest.raises(ExperimentError, match="cannot group by 'recording'"):
        experiments.compare(old, {"resampler": "soxr_hq"}, {"resampler": "linear"}, group_by="recording")

    blank = write_results(tmp_path / "blank.jsonl", per_setting, recordings={c: "" for c in clips})  # a manifest without the column
    assert experiments.compare(blank, {"resampler": "soxr_hq"}, {"resampler": "linear"}).grouped_by is None

    mixed = write_results(tmp_path / "mixed.jsonl", per_setting, recordings={c: "r" + c for c in clips[:4]})
    with pytest.warns(experiments.ExperimentWarning, match="8 of 16 result rows name no recording"):
        c = experiments.compare(mixed, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert c.grouped_by is None and c.n_units == 8
    with pytest.raises(ExperimentError, match="8 of 16 result rows have no 'recording' value"):
        experiments.compare(mixed, {"resampler": "soxr_hq"}, {"resampler": "linear"}, group_by="recording")


def test_identical_pairs_carry_no_sign_and_are_counted(tmp_path):
    clips = [f"c{i}" for i in range(8)]
    a = dict(zip(clips, np.linspace(0.1, 0.5, 8), strict=True))
    b = {c: v + (0.2 if i < 5 else 0.0) for i, (c, v) in enumerate(a.items())}  # 5 worse, 3 identical
    path = write_results(tmp_path / "r.jsonl", {"soxr_hq": a, "linear": b})
    c = experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert (c.losses, c.wins, c.ties, c.n_units, c.unit_ties) == (5, 0, 3, 5, 3)
    assert c.min_p_value == 0.0625 and c.p_value == pytest.approx(0.0625) and not c.significant
    verdict = c.verdict()
    assert "too few independent clips with a difference (5)" in verdict and "at least 6 are needed" in verdict
    assert "3 of 8 clip pairs identical" in verdict

    same = write_results(tmp_path / "same.jsonl", {"soxr_hq": a, "linear": a})
    c = experiments.compare(same, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert (c.n_units, c.p_value) == (0, 1.0) and "the same error_rate on every one of the 8 clips" in c.verdict()


def test_a_single_recording_gives_no_interval_and_says_why(tmp_path):
    per_setting, recordings = variants(1, 5, shift=[0.1])
    path = write_results(tmp_path / "r.jsonl", per_setting, recordings=recordings)
    c = experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert (c.clips, c.n_groups, c.n_units, c.min_p_value) == (5, 1, 1, 1.0)
    assert np.isnan(c.ci_low) and not c.significant
    assert "too few independent recordings (1)" in c.verdict() and "no 95% interval from a single recording" in c.verdict()
    assert "5 clips from 1 recording" in c.verdict()


def test_a_clip_filed_under_two_recordings_is_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    write_results(path, {"soxr_hq": {"c1": 0.1, "c2": 0.2}}, recordings={"c1": "r1", "c2": "r2"})
    extra = tmp_path / "extra.jsonl"
    write_results(extra, {"linear": {"c1": 0.2, "c2": 0.3}}, recordings={"c1": "r9", "c2": "r2"})
    path.write_text(path.read_text(encoding="utf-8") + extra.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ExperimentError, match="1 clip\\(s\\) have a different 'recording'.*first: c1"):
        experiments.compare(path, {"resampler": "soxr_hq"}, {"resampler": "linear"})


def test_the_manifest_recording_reaches_every_stored_row(tmp_path, monkeypatch):
    """The real row builder (decoding, transcription and scoring stood in for): recording comes from the manifest's column."""
    import types

    import workbench.audio
    import workbench.scoring
    import workbench.transcription

    def fake_transcribe(clip, **kwargs):
        return types.SimpleNamespace(
            text=kwargs["resampler"], language="en", timings={"inference_s": 0.01}, fallbacks=[],
            settings={"device": "cpu", "precision": "float32", "audio": {}}, versions={"engine": "stand-in"},
        )  # fmt: skip

    def fake_score(hypothesis, reference, **kwargs):
        rate = 0.1 if hypothesis == "soxr_hq" else 0.3
        return types.SimpleNamespace(
            metric="wer", error_rate=rate, lenient_error_rate=rate, errors=1, substitutions=1, deletions=0, insertions=0,
            reference_length=10, breakdown={c: 0 for c in workbench.scoring.CAUSES},
        )  # fmt: skip

    monkeypatch.setattr(workbench.audio, "load_audio", lambda path, **kwargs: object())
    monkeypatch.setattr(workbench.transcription, "transcribe", fake_transcribe)
    monkeypatch.setattr(workbench.scoring, "score", fake_score)
    for name in ("a_44k.wav", "a_48k.wav", "b.wav", "c.wav"):
        (tmp_path / name).write_bytes(b"RIFF")  # never decoded here
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "path,language,reference,recording\na_44k.wav,en,hello world,speech_a\na_48k.wav,en,hello there,speech_a\n"
        "b.wav,en,hello world,speech_b\nc.wav,en,goodbye,\n",
        encoding="utf-8",
    )
    results = tmp_path / "r.jsonl"
    exp = experiments.run(manifest, {"resampler": ["soxr_hq", "linear"]}, results, progress=False)
    assert (exp.computed, exp.failed) == (8, 0)
    rows = lines(results)
    assert {r["clip"]: r["recording"] for r in rows} == {"a_44k.wav": "speech_a", "a_48k.wav": "speech_a", "b.wav": "speech_b", "c.wav": ""}
    table = experiments.load_results(results)
    assert set(table["recording"]) == {"speech_a", "speech_b", ""}
    with pytest.warns(experiments.ExperimentWarning, match="2 of 8 result rows name no recording"):
        c = experiments.compare(results, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert c.grouped_by is None and c.n_units == 4  # c.wav names no recording: clip by clip
    table.loc[table["clip"] == "c.wav", "recording"] = "speech_c"  # the fix the warning suggests
    c = experiments.compare(table, {"resampler": "soxr_hq"}, {"resampler": "linear"})
    assert (c.grouped_by, c.n_groups, c.n_units, c.clips) == ("recording", 3, 3, 4)
    assert c.mean_diff == pytest.approx(0.2) and "too few independent recordings (3)" in c.verdict()


def test_results_command_groups_by_recording_unless_told(tmp_path, capsys):
    per_setting, recordings = variants(3, 4, shift=[0.2, 0.25, 0.18])
    path = write_results(tmp_path / "r.jsonl", per_setting, recordings=recordings)
    args = ["results", str(path), "--compare", "resampler=soxr_hq", "resampler=linear"]
    parser = __import__("argparse").ArgumentParser()
    experiments_cli.add_commands(parser.add_subparsers())
    assert experiments_cli.cmd_results(parser.parse_args(args)) == 0
    assert "too few independent recordings (3)" in capsys.readouterr().out
    assert experiments_cli.cmd_results(parser.parse_args([*args, "--group-by", "clip"])) == 0
    assert "real difference" in capsys.readouterr().out
    assert experiments_cli.cmd_results(parser.parse_args(["results", str(path)])) == 0
    assert "groups" in capsys.readouterr().out


# --------------------------------------------------------------------------
# configuration and the command line
# --------------------------------------------------------------------------


def write_config(tmp_path, clips, *, grid=None, extra="") -> Path:
    manifest = tmp_path / "clips" / "manifest.csv"
    datasets.write_manifest(_copies(clips, manifest.parent), manifest)
    grid = grid or {"resampler": ["soxr_hq", "linear"]}
    grid_yaml = "\n".join(f"  {k}: [{', '.join(map(str, v))}]" for k, v in grid.items())
    config = tmp_path / "exp.yaml"
    config.write_text(
        f"dataset: clips/manifest.csv\nresults: out/results.jsonl\ngrid:\n{grid_yaml}\nfixed:\n  beam_size: 1\n  language: en\n{extra}",
        encoding="utf-8",
    )
    return config


def _copies(entries, folder: Path):
    import shutil
    from dataclasses import replace

    folder.mkdir(parents=True, exist_ok=True)
    return [replace(e, path=Path(shutil.copy(e.path, folder / e.path.name))) for e in entries]


def test_config_errors_name_the_file_and_the_fix(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: x.csv\nresults: r.jsonl\ngird: {}\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"unknown key\(s\) gird"):
        experiments.load_config(bad)
    bad.write_text("grid: {}\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match="missing dataset, results"):
        experiments.load_config(bad)
    bad.write_text("dataset: {zenodo: x}\nresults: r.jsonl\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match="exactly one of manifest, common_voice"):
        experiments.load_config(bad)


@pytest.mark.slow
def test_cli_run_then_summarise_compare_chart_and_parquet(tmp_path, capsys):
    from workbench.cli import main

    config = write_config(tmp_path, english_clips(2))
    assert main(["run", str(config), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["total"], out["computed"], out["failed"]) == (4, 4, 0)
    assert {row["resampler"] for row in out["summary"]} == {"soxr_hq", "linear"}
    results = tmp_path / "out" / "results.jsonl"
    rows = lines(results)
    assert all(r["hypothesis"] and r["metric"] == "wer" and r["versions"]["engine"].startswith("faster-whisper") for r in rows)
    assert all(r["timings"]["inference_s"] > 0 and r["settings"]["beam_size"] == 1 for r in rows)

    assert main(["run", str(config)]) == 0
    assert "0 computed now, 4 already" in capsys.readouterr().out

    chart, parquet = tmp_path / "cmp.html", tmp_path / "rows.parquet"
    assert (
        main(
            [
                "results",
                str(results),
                "--compare",
                "resampler=soxr_hq",
                "resampler=linear",
                "--chart",
                str(chart),
                "--parquet",
                str(parquet),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "B - A:" in text and "clip by clip: B better on" in text
    assert "too few independent" in text or "no difference to test" in text  # two clips: no test can decide
    assert "plotly" in chart.read_text(encoding="utf-8")
    assert len(pd.read_parquet(parquet)) == 4

    assert main(["results", str(tmp_path / "nothing.jsonl")]) == 2
    assert "no results file" in capsys.readouterr().err


# --------------------------------------------------------------------------
# a real crash: kill -9 mid-run, then resume
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path):
    config = write_config(tmp_path, english_clips(2) + datasets.bundled()[:2], grid={"resampler": ["soxr_hq", "linear"]})
    results = tmp_path / "out" / "results.jsonl"
    cmd = [sys.executable, "-m", "workbench", "run", str(config)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if results.is_file() and results.read_bytes().count(b"\n") >= 3:
                break
            if proc.poll() is not None:
                pytest.fail("the run ended before it could be killed")
            time.sleep(0.05)
        else:
            pytest.fail("no results appeared in time")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    before = results.read_bytes()
    kept = before[: before.rfind(b"\n") + 1]
    n_before = kept.count(b"\n")
    assert 3 <= n_before < 8, f"killed after {n_before} rows"

    done = subprocess.run(cmd + ["--json"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts["skipped"] == n_before and counts["computed"] == 8 - n_before
    after = results.read_bytes()
    assert after.startswith(kept)  # what was there is untouched
    rows = lines(results)
    assert len(rows) == 8 and len({r["key"] for r in rows}) == 8
    assert len({(r["clip"], r["setting_id"]) for r in rows}) == 8


# --------------------------------------------------------------------------
# Ray, on a local instance
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_ray_run_matches_the_local_run_and_resumes(tmp_path):
    pytest.importorskip("ray")
    import ray

    clips = english_clips(2)
    grid = {"resampler": ["soxr_hq", "linear"]}
    # Greedy with no temperature fallback: the fallback samples, and a sample depends on the process it runs in.
    fixed = {"beam_size": 1, "language": "en", "temperature_increment": 0.0}
    local = experiments.run(clips, grid, tmp_path / "local.jsonl", fixed=fixed, progress=False)
    try:
        first = experiments.run(
            clips[:1], grid, tmp_path / "ray.jsonl", fixed=fixed, executor="ray", ray={"workers": 2, "batch": 1}, progress=False
        )
        assert first.computed == 2
        second = experiments.run(
            clips, grid, tmp_path / "ray.jsonl", fixed=fixed, executor="ray", ray={"workers": 2, "batch": 1}, progress=False
        )
    finally:
        ray.shutdown()
    assert local.computed == 4 and (second.computed, second.skipped) == (2, 2)
    ray_rows_all = lines(tmp_path / "ray.jsonl")
    for pid in {r["pid"] for r in ray_rows_all}:  # each worker process loads the model once
        assert sum(r["timings"]["load_s"] > 0 for r in ray_rows_all if r["pid"] == pid) <= 1
    assert os.getpid() not in {r["pid"] for r in ray_rows_all}
    by_key = lambda path: {r["key"]: r for r in lines(path)}  # noqa: E731
    local_rows, ray_rows = by_key(tmp_path / "local.jsonl"), by_key(tmp_path / "ray.jsonl")
    assert set(local_rows) == set(ray_rows) and len(lines(tmp_path / "ray.jsonl")) == 4
    from workbench.scoring import normalise_text

    for key, row in local_rows.items():
        # A Ray worker runs CTranslate2 with its own thread count, and a different summation order can flip a
        # comma on a borderline clip; the words, and so the scores, are the same.
        assert normalise_text(ray_rows[key]["hypothesis"], "en") == normalise_text(row["hypothesis"], "en")
        assert ray_rows[key]["error_rate"] == row["error_rate"]


def test_the_shipped_example_experiment_is_valid():
    config = experiments.load_config(ROOT / "experiments" / "resamplers.yaml")
    assert len(config.dataset) >= 10 and config.dataset.problems == []
    settings = experiments.expand_grid(config.grid, config.fixed)
    assert [s["resampler"] for s in settings] == ["soxr_hq", "torchaudio_default", "naive_decimation", "mislabelled"]
    assert config.results == ROOT / "experiments" / ".." / "reports" / "experiments" / "resamplers.jsonl"


def test_an_experiment_file_can_name_a_hugging_face_dataset(tmp_path, monkeypatch):
    hf = pytest.importorskip("datasets")
    import io

    import soundfile as sf

    from workbench.signals import tone

    monkeypatch.setattr(experiments.Runner, "run", fake_run)
    monkeypatch.setattr(hf.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    clips = []
    for freq in (440.0, 550.0, 660.0):
        buffer = io.BytesIO()
        sf.write(buffer, tone(freq, sr=16_000, duration=0.1), 16_000, format="FLAC")
        clips.append({"bytes": buffer.getvalue(), "path": f"tone_{int(freq)}.flac"})
    source = tmp_path / "hub_like"
    source.mkdir()
    ds = hf.Dataset.from_dict({"audio": clips, "sentence": ["一", "二", "三"]}).cast_column("audio", hf.Audio())
    ds.to_parquet(str(source / "test-00000-of-00001.parquet"))
    config = tmp_path / "exp.yaml"
    config.write_text(
        "dataset: {hf: hub_like, out: imported, language: yue, limit: 2}\nresults: r.jsonl\ngrid: {resampler: [soxr_hq, linear]}\n",
        encoding="utf-8",
    )
    loaded = experiments.load_config(config)
    assert len(loaded.dataset) == 2 and (tmp_path / "imported" / "manifest.csv").is_file()
    exp = loaded.run(progress=False)
    assert exp.computed == 4
    assert {r["clip"] for r in lines(tmp_path / "r.jsonl")} == {
        e.path.relative_to((tmp_path / "imported").resolve()).as_posix() for e in loaded.dataset
    }
