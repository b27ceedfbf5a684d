"""The resampling diagnosis: honest summaries on constructed runs, and the lesson it must teach on real speech.

The fast tests build run tables by hand, so every property of the summaries
is checked against known answers. The slow ones run the whole main job on
the bundled real Cantonese recordings (and on the shared real recordings when
present) and assert what the report must show: clean speech forgives every
resampler, energy above 8 kHz through an unfiltered one does not, mislabelled
rates stand apart, and loops are flagged.
"""

from __future__ import annotations

import csv
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import diagnosis as dg
from workbench.datasets import bundled
from workbench.reports import describe_data, run_demo

STRESS = ("hiss", "cymbals", "whine", "music")
MAX_REPORT_BYTES = 3_000_000


def run_row(clip, condition, resampler, cer, *, recording="r1", looped=False, kind=None, length=20):
    errors = round(cer * length)
    return {
        "clip": clip,
        "recording": recording,
        "condition": condition,
        "resampler": resampler,
        "kind": kind
        or {"soxr_vhq": "quality", "soxr_hq": "quality", "naive_decimation": "bad", "mislabelled": "mislabel"}.get(resampler, "common"),
        "cer": cer,
        "lenient_cer": cer,
        "looped": looped,
        "loop_evidence": "'按' repeated 40 times" if looped else "",
        "text": "x",
        "reference": "y" * length,
        "reference_length": length,
        "errors": errors,
        "script": 1,
        "punctuation_width": 0,
        "numerals": 0,
        "colloquial": 2,
        "hallucination": errors if looped else 0,
        "other": 0 if looped else errors,
        "fallbacks": "",
        "source": "",
        "sample_rate": 48_000,
        "channels": 1,
        "duration_ratio": 3.0 if resampler == "mislabelled" else None,
        "declared_rate": 16_000 if resampler == "mislabelled" else None,
    }


@pytest.fixture
def constructed():
    rows = []
    for clip, rec in (("a_clean", "a"), ("b_clean", "b")):
        rows += [
            run_row(clip, "clean", "soxr_vhq", 0.20, recording=rec),
            run_row(clip, "clean", "soxr_hq", 0.20, recording=rec),
            run_row(clip, "clean", "naive_decimation", 0.22, recording=rec),
        ]
        rows.append(run_row(clip, "clean", "mislabelled", 9.5, recording=rec, looped=True))
    for clip, rec, naive in (("a_hiss", "a", 1.0), ("b_hiss", "b", 7.0)):
        rows += [run_row(clip, "hiss", "soxr_vhq", 0.25, recording=rec), run_row(clip, "hiss", "soxr_hq", 0.20, recording=rec)]
        rows.append(run_row(clip, "hiss", "naive_decimation", naive, recording=rec, looped=naive > 2))
    return dg.Diagnosis(pd.DataFrame(rows))


def test_summary_is_per_condition_with_medians_and_paired_differences(constructed):
    s = constructed.summary()
    assert list(dict.fromkeys(s["condition"])) == ["clean", "hiss"]
    assert "mislabelled" not in set(s["resampler"]), "mislabelled runs have their own table"
    naive = s[(s["condition"] == "hiss") & (s["resampler"] == "naive_decimation")].iloc[0]
    assert naive["median_cer"] == pytest.approx(4.0) and naive["mean_cer"] == pytest.approx(4.0)
    assert naive[dg.diff_column()] == pytest.approx(np.median([1.0 - 0.25, 7.0 - 0.25]))
    assert naive["looped"] == 1
    clean_naive = s[(s["condition"] == "clean") & (s["resampler"] == "naive_decimation")].iloc[0]
    assert clean_naive[dg.diff_column()] == pytest.approx(0.02)


def test_a_runaway_loop_does_not_rank_a_good_resampler_worst():
    # One loop on soxr_hq: the mean says soxr_hq is worst; the median per condition must not.
    rows = []
    for i, (hq, naive) in enumerate(((0.2, 0.9), (0.2, 0.8), (14.0, 0.85))):
        clip = f"c{i}"
        rows += [
            run_row(clip, "hiss", "soxr_vhq", 0.2),
            run_row(clip, "hiss", "soxr_hq", hq, looped=hq > 2),
            run_row(clip, "hiss", "naive_decimation", naive),
        ]
    s = dg.Diagnosis(pd.DataFrame(rows)).summary().set_index("resampler")
    assert s.loc["soxr_hq", "mean_cer"] > s.loc["naive_decimation", "mean_cer"]  # what a pooled mean would teach
    assert s.loc["soxr_hq", "median_cer"] < s.loc["naive_decimation", "median_cer"]
    assert s["median_cer"].idxmax() == "naive_decimation"
    assert s.loc["soxr_hq", "looped"] == 1


def test_verdicts_name_the_resamplers_that_matter_and_stand_mislabelled_apart(constructed):
    v = constructed.verdicts()
    hiss = next(x for x in v if x.startswith("hiss"))
    clean = next(x for x in v if x.startswith("clean"))
    assert "naive_decimation" in hiss and "clearly worse" in hiss and "1 run looped" in hiss
    assert "does not matter" in clean
    assert any("mislabelled sample rate" in x and "3×" in x for x in v)


def test_a_verdict_names_every_resampler_of_its_condition():
    rows = []
    for clip in ("a", "b"):
        rows += [
            run_row(clip, "hiss", "soxr_vhq", 0.25),
            run_row(clip, "hiss", "soxr_hq", 0.15),  # 0.10 fewer errors: neither the same nor clearly worse
            run_row(clip, "hiss", "torchaudio_default", 0.25),
            run_row(clip, "hiss", "naive_decimation", 0.90),
        ]
    (hiss,) = dg.Diagnosis(pd.DataFrame(rows)).verdicts()
    assert "naive_decimation (+0.65) is clearly worse than soxr_vhq, while torchaudio_default stays within 0.05 of it" in hiss
    assert "and soxr_hq differs from it by -0.10 (less than 0.15)" in hiss


def test_cause_table_splits_the_reference_pipelines_errors(constructed):
    causes = constructed.causes().set_index("condition")
    assert causes.loc["clean", "reference_cer"] == pytest.approx(0.2)
    assert causes.loc["clean", "colloquial"] == pytest.approx(2 / 20)
    assert causes.loc["clean", "script"] == pytest.approx(1 / 20)
    assert causes.loc["hiss", "worst_resampler"] == "naive_decimation"
    assert causes.loc["hiss", "worst_resampler_adds"] == pytest.approx(np.median([0.75, 6.75]))


def test_chart_caps_error_rates_at_one_and_keeps_the_raw_value_in_the_hover(constructed):
    fig = dg.condition_chart(constructed.summary())
    naive = next(t for t in fig.data if t.name == "naive_decimation")
    assert max(naive.y) == pytest.approx(dg.CHART_CAP)
    assert max(row[0] for row in naive.customdata) == pytest.approx(np.median([0.75, 6.75]))  # the raw paired difference
    assert max(row[1] for row in naive.customdata) == pytest.approx(4.0)  # the raw median CER
    assert {t.name for t in fig.data} == {"soxr_hq", "naive_decimation"}, "the reference is the zero line, not a bar"
    assert len({t.marker.color for t in fig.data}) == len(fig.data)


def test_token_cap_grows_with_duration_up_to_whispers_limit():
    assert dg.token_cap(0.5) < dg.token_cap(5.0) < dg.token_cap(20.0) <= dg.MAX_TOKENS
    assert dg.token_cap(600.0) == dg.MAX_TOKENS


def test_the_data_is_described_from_its_manifest():
    about = describe_data([e for e in bundled() if e.language == "yue"])
    assert about["kind"] == "real" and about["languages"] == ["yue"] and about["recordings"] == 2
    assert "real Cantonese" in about["title"]
    english = describe_data([e for e in bundled() if e.language == "en"])
    assert english["kind"] == "synthetic" and "English" in english["title"]


# ----------------------------------------------------------------------------
# The main job on real speech (slow: every clip through every resampler)
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The full demo, run once for the whole session: parallel test workers share it through a file, under a lock.

    While one worker runs it (on every core), another that needs it waits.
    """
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the workers' common folder
    out, saved = shared / "demo", shared / "demo-diagnosis.pickle"
    with FileLock(str(shared / "demo.lock")):
        if not saved.is_file():
            diagnosis, _ = run_demo(out, progress=False)
            saved.write_bytes(pickle.dumps(diagnosis))
    return pickle.loads(saved.read_bytes()), out / "cantonese-diagnosis.html"


def paired_vs(runs: pd.DataFrame, condition: str, resampler: str, against: str) -> float:
    r = runs[runs["condition"] == condition].pivot_table(index="clip", columns="resampler", values="cer")
    return float((r[resampler] - r[against]).median())


@pytest.mark.slow
def test_clean_speech_forgives_every_resampler(demo):
    diagnosis, _ = demo
    summary = diagnosis.summary()
    clean = summary[summary["condition"].str.startswith("clean")]
    assert not clean.empty
    assert (clean[dg.diff_column()].abs() <= 0.05).all(), clean.to_string()


@pytest.mark.slow
def test_energy_above_8khz_through_an_unfiltered_resampler_destroys_accuracy(demo):
    diagnosis, _ = demo
    runs = diagnosis.runs
    for condition in STRESS:
        for bad in ("naive_decimation", "linear"):
            assert paired_vs(runs, condition, bad, "soxr_hq") >= 0.15, f"{condition}: {bad} should be clearly worse than soxr_hq"
        verdict = next(v for v in diagnosis.verdicts() if v.startswith(condition))
        assert "naive_decimation" in verdict and "clearly worse" in verdict, verdict


@pytest.mark.slow
def test_no_quality_resampler_is_ranked_worst(demo):
    diagnosis, _ = demo
    col = dg.diff_column()
    for condition, g in diagnosis.summary().groupby("condition"):
        worst = g.loc[g[col].idxmax()]
        if worst["kind"] == "quality":
            assert worst[col] <= dg.SAME_CER, f"{condition}: {worst['resampler']} ranked worst ({worst[col]:+.3f})"
        verdict = next(v for v in diagnosis.verdicts() if v.startswith(condition))
        for quality in g.loc[g["kind"] == "quality", "resampler"]:
            assert f"{quality} (+" not in verdict, f"{condition}: a quality resampler named as clearly worse"


@pytest.mark.slow
def test_mislabelled_rates_stand_apart_and_are_catastrophic(demo):
    diagnosis, _ = demo
    mis = diagnosis.mislabelled()
    assert len(mis) >= 2 and (mis["duration_ratio"] > 2.5).all() and set(mis["sample_rate"]) == {44_100, 48_000}
    assert mis["cer"].median() > 0.8
    assert "mislabelled" not in set(diagnosis.summary()["resampler"])


LOOP = re.compile(r"(\S{2,}?)(?:[\s,，、。]*\1){3,}|(\S{4,}?)(?:[\s,，、。]*\2){2,}")  # a unit repeated back to back


@pytest.mark.slow
def test_every_loop_is_flagged(demo):
    diagnosis, path = demo
    runs = diagnosis.runs
    loops = runs[runs["text"].fillna("").map(lambda t: bool(LOOP.search(t)))]
    assert loops["looped"].all(), loops[["clip", "resampler", "text"]].to_string()
    flagged = runs[runs["looped"]]
    assert (flagged["loop_evidence"].str.len() > 0).all()
    if not flagged.empty:  # greedy decoding with one sample per fallback temperature may leave no loop at all
        assert (flagged["hallucination"] > 0).any(), "a loop's extra text is attributed to hallucination"
        assert "looped:" in path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_inverted_down_mix_is_named_with_evidence_and_a_better_channel(demo):
    diagnosis, _ = demo
    ch = diagnosis.channels
    inverted = ch[ch["clip"].str.contains("inverted")]
    assert not inverted.empty
    assert (inverted["correlation"] < -0.5).all() and (inverted["downmix_loss_db"] > 6).all()
    best = inverted[inverted["best"]].iloc[0]
    assert best["choice"] != "mean"
    mean = inverted[inverted["choice"] == "mean"].iloc[0]
    assert mean["cer"] - best["cer"] >= 0.15
    assert any(v.startswith("Down-mix") and "inverted" in v for v in diagnosis.verdicts())
    runs = diagnosis.runs
    assert runs.loc[runs["clip"].str.contains("inverted"), "audio_causes"].str.contains("downmix_cancellation").all()


@pytest.mark.slow
def test_the_report_answers_first_fits_and_stays_small(demo):
    diagnosis, path = demo
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size < MAX_REPORT_BYTES
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert visible.index("The answer") < visible.index("Per condition and resampler") < visible.index("Clip by clip")
    assert "seed" not in visible.lower() and '{"' not in visible, "no jargon, no raw JSON on the page"
    assert "Noto Sans CJK" in html and "Microsoft JhengHei" in html
    assert "max-width: 62rem" in html  # about 1000 px
    assert "<details>" in visible
    assert not re.search(r"<script[^>]+src=", html), "plotly.js is inlined: the page opens offline"
    assert diagnosis.audio_path_clip and diagnosis.audio_path_clip.endswith(".mp3")
    audio = diagnosis.audio_path.dropna(subset=["frames"])
    assert audio["frames"].nunique() > 1 or audio["text"].nunique() > 1, "the decoder table should show a difference"
    with open(path.with_name(path.stem + "-runs.csv"), newline="", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == len(diagnosis.runs)


@pytest.mark.slow
def test_demo_diagnoses_a_users_own_folder(tmp_path):
    folder = tmp_path / "my clips"
    folder.mkdir()
    for e in [e for e in bundled() if e.meta.get("condition") in ("clean", "whine")][:2]:
        shutil.copy(e.path, folder / e.path.name)
        (folder / e.path.with_suffix(".txt").name).write_text(e.reference, encoding="utf-8")
    diagnosis, path = run_demo(tmp_path / "out", data=folder, language="yue", progress=False)
    assert set(diagnosis.runs["condition"]) == {"as recorded"}
    html = path.read_text(encoding="utf-8")
    assert "Cantonese" in html and "2 clips" in html


def test_demo_refuses_an_unwritable_output_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(Exception, match="cannot write the report"):
        run_demo(blocker / "sub", progress=False)


@pytest.mark.slow
def test_shared_real_english_clean_forgives_every_resampler(shared_audio, shared_manifest):
    from workbench.datasets import read_manifest

    entries = [e for e in read_manifest(shared_audio / "manifest.csv") if e.language == "en"]
    d = dg.diagnose(
        entries, ("soxr_vhq", "soxr_hq", "torchaudio_default", "naive_decimation"), mislabelled=False, audio_path_clip=None, progress=False
    )
    s = d.summary()
    assert (s[dg.diff_column()].abs() <= 0.05).all(), s.to_string()
    ch = d.channels
    assert set(ch["choice"]) >= {"mean", "channel 0", "channel 1"}


def test_folder_without_manifest_needs_a_language(tmp_path):
    from workbench.reports import load_demo_data

    (tmp_path / "a.wav").write_bytes(b"")
    with pytest.raises(Exception, match="--language"):
        load_demo_data(tmp_path)
    with pytest.raises(Exception, match="no such manifest or folder"):
        load_demo_data(Path(tmp_path) / "missing")


def test_unreadable_clips_are_named_and_nothing_runs_without_a_readable_one(tmp_path):
    from workbench.datasets import ManifestEntry
    from workbench.errors import WorkbenchError

    bad = tmp_path / "not-audio.wav"
    bad.write_text("these are not samples", encoding="utf-8")
    with pytest.raises(WorkbenchError, match="no clip could be diagnosed: not-audio.wav"):
        dg.diagnose([ManifestEntry(bad, "yue", "你好")], progress=False)


def test_a_polarity_inverted_input_shares_the_transcription_of_the_original():
    """Whisper hears power spectra: x and -x are transcribed once, however the diagnosis meets them."""
    from workbench.audio import Clip

    entry = next(e for e in bundled() if e.path.name == "yue_liberation_44k.flac")
    from workbench.audio import load_audio

    clip = load_audio(entry.path)
    flipped = Clip(-clip.samples, clip.sample_rate, clip.info)
    key, *_ = dg.run._prepare(clip, entry, "embedded", "faster-whisper", "soxr_vhq", dg.DIAGNOSIS_OPTIONS)
    flipped_key, *_ = dg.run._prepare(flipped, entry, "embedded", "faster-whisper", "soxr_vhq", dg.DIAGNOSIS_OPTIONS)
    other, *_ = dg.run._prepare(clip, entry, "embedded", "faster-whisper", "linear", dg.DIAGNOSIS_OPTIONS)
    assert key == flipped_key and key != other


def test_two_engine_copies_only_for_faster_whisper_on_a_multicore_cpu(monkeypatch):
    monkeypatch.setattr(dg.run.os, "cpu_count", lambda: 2)
    assert dg.diagnosis_workers("faster-whisper", "cpu") == (2, 1)
    assert dg.diagnosis_workers("transformers", "cpu") == (1, 0)
    monkeypatch.setattr(dg.run.os, "cpu_count", lambda: 1)
    assert dg.diagnosis_workers("faster-whisper", "cpu") == (1, 0)


@pytest.mark.slow
def test_two_engine_copies_give_the_same_diagnosis_in_a_fresh_process():
    """The copies get their clips in a fixed order, so even sampled fallback decodes repeat from one run of the command to the next."""
    import subprocess
    import sys

    from .conftest import ROOT

    code = (
        "from workbench import diagnosis as dg\n"
        "from workbench.datasets import bundled\n"
        "names = ('yue_liberation_48k_whine.flac', 'yue_liberation_48k_hiss.flac')\n"
        "entries = [e for e in bundled() if e.path.name in names]\n"
        "runs = dg.diagnose(entries, ('soxr_vhq', 'linear'), mislabelled=False, channels=False, audio_path_clip=None,"
        " progress=False, workers=2).runs\n"
        "print(runs[['resampler', 'cer', 'text']].to_json(orient='records', force_ascii=False))\n"
    )
    outs = [
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True).stdout
        for _ in range(2)
    ]
    assert outs[0] == outs[1]
    runs = pd.read_json(__import__("io").StringIO(outs[0]))
    linear, reference = runs[runs["resampler"] == "linear"], runs[runs["resampler"] == "soxr_vhq"]
    assert (linear["cer"].to_numpy() > reference["cer"].to_numpy()).all()
