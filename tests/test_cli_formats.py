"""The transcribe command's output files (txt, srt, vtt, tsv, json) and ``bench cli``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from workbench.audio import load_audio
from workbench.cli import AUDIO_BAR_SECONDS, _AudioBar, main
from workbench.datasets import BUNDLED_DIR
from workbench.engines.common import Segment, Word
from workbench.transcription import transcribe
from workbench.writers import FORMATS, format_srt, format_tsv, format_txt, format_vtt, parse_formats, timestamp

CLIP = BUNDLED_DIR / "en_weather_44k.flac"


def test_subtitle_formats_follow_the_usual_conventions():
    segs = [Segment(0.0, 1.5, " First.", [Word(0.0, 0.7, " First.", 0.9)]), Segment(3599.9995, 3725.25, " Second\tline.")]
    srt = format_srt(segs)
    assert srt.splitlines()[:3] == ["1", "00:00:00,000 --> 00:00:01,500", "First."]
    assert "2\n01:00:00,000 --> 01:02:05,250\nSecond\tline.\n" in srt  # rounded to the millisecond, hours in SRT
    vtt = format_vtt(segs).splitlines()
    assert vtt[0] == "WEBVTT" and vtt[2] == "00:00.000 --> 00:01.500"
    assert vtt[5] == "01:00:00.000 --> 01:02:05.250"  # hours appear once there are any
    tsv = format_tsv(segs).splitlines()
    assert tsv == ["start\tend\ttext", "0\t1500\tFirst.", "3600000\t3725250\tSecond line."]
    assert format_txt(segs) == "First.\nSecond\tline.\n"


def test_segments_without_times_span_the_audio():
    assert "00:00:00,000 --> 00:00:04,250" in format_srt([Segment(None, None, "all of it")], duration=4.25)
    assert timestamp(0.0004) == "00:00:00.000"


def test_format_names_are_checked():
    assert parse_formats("ALL") == FORMATS
    assert parse_formats("srt, json,srt") == ("srt", "json")
    with pytest.raises(ValueError, match="unknown output format doc; choose from txt, srt, vtt, tsv, json, all"):
        parse_formats("srt,doc")


def test_transcribe_writes_every_format_named_after_the_audio(tmp_path, capsys):
    out = tmp_path / "subs" / "new"
    rc = main(
        [
            "transcribe",
            str(CLIP),
            "--engine",
            "faster-whisper",
            "--language",
            "en",
            "--beam-size",
            "1",
            "--timestamps",
            "segment",
            "--output-dir",
            str(out),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out.strip()
    assert "weather" in text.lower()
    assert sorted(p.name for p in out.iterdir()) == sorted(f"en_weather_44k.{f}" for f in FORMATS)
    srt = (out / "en_weather_44k.srt").read_text(encoding="utf-8").splitlines()
    assert srt[0] == "1" and " --> " in srt[1] and srt[2].strip()
    assert (out / "en_weather_44k.vtt").read_text(encoding="utf-8").startswith("WEBVTT\n\n")
    record = json.loads((out / "en_weather_44k.json").read_text(encoding="utf-8"))
    assert record["text"] == text and record["segments"][0]["end"] > 0
    assert (out / "en_weather_44k.txt").read_text(encoding="utf-8").strip() == text


def _copy(tmp_path, name):
    dst = tmp_path / name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(CLIP, dst)
    return dst


def test_outputs_are_checked_before_any_transcription(tmp_path, capsys, monkeypatch):
    import workbench.transcription as transcription

    def never(*a, **k):
        raise AssertionError("transcribed although an output was refused")

    monkeypatch.setattr(transcription, "transcribe", never)
    a = _copy(tmp_path, "a/clip.flac")
    b = _copy(tmp_path, "b/clip.flac")
    before = a.read_bytes()

    # the JSON-lines output is an input: refused, input untouched
    assert main(["transcribe", str(a), "--output", str(a)]) == 2
    assert "is also an input of this command" in capsys.readouterr().err
    assert a.read_bytes() == before

    # two inputs with the same name would overwrite each other's files
    assert main(["transcribe", str(a), str(b), "--output-format", "srt", "--output-dir", str(tmp_path / "o")]) == 2
    assert "would both be written to" in capsys.readouterr().err

    # an unknown format, and an output folder that is a file
    assert main(["transcribe", str(a), "--output-format", "docx", "--output-dir", str(tmp_path / "o")]) == 2
    assert "--output-format: unknown output format docx" in capsys.readouterr().err
    notes = tmp_path / "results.csv"
    notes.write_text("keep me", encoding="utf-8")
    assert main(["transcribe", str(a), "--output-dir", str(notes)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err

    # an existing file of another kind where an output goes: refused without --force
    assert main(["transcribe", str(a), "--output", str(notes)]) == 2
    assert "already exists and is not a .json/.jsonl file; choose another path, or pass --force" in capsys.readouterr().err
    assert notes.read_text(encoding="utf-8") == "keep me"


@pytest.mark.slow
def test_bench_cli_measures_both_sides_in_fresh_processes(capsys):
    assert main(["bench", "cli", "--repeat", "1", "--cli-engines", "faster-whisper", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    r = result["engines"]["faster-whisper"]
    assert r["same_text"], (r["workbench"]["text"], r["plain"]["text"])
    for side in ("workbench", "plain"):
        assert r[side]["wall_s"] > 0.2 and r[side]["peak_rss_bytes"] > 50 * 2**20  # a real process loaded a real model
    assert r["time_ratio"] == pytest.approx(r["workbench"]["wall_s"] / r["plain"]["wall_s"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the child's own peak is read from /proc (Linux)")
def test_bench_cli_measures_the_childs_own_memory_not_its_parents():
    from workbench.benchmarks.cli_bench import _measure

    held = np.ones(400 * 2**20 // 8)  # this process now peaks above 400 MiB; ru_maxrss would report that for any child
    small = _measure([sys.executable, "-c", "pass"], dict(os.environ))
    big = _measure([sys.executable, "-c", "import time; b = bytearray(300 * 2**20); time.sleep(0.2)"], dict(os.environ))
    assert small["returncode"] == big["returncode"] == 0 and held.sum() > 0
    assert small["peak_rss_bytes"] < 100 * 2**20
    assert 300 * 2**20 < big["peak_rss_bytes"] < 400 * 2**20


# --------------------------------------------------------------------------
# What the command prints while it works
# --------------------------------------------------------------------------


def _weather_16k() -> np.ndarray:
    return load_audio(CLIP, target_rate=16_000).mono.astype(np.float32)


def test_segments_reach_the_caller_as_they_are_decoded():
    speech = _weather_16k()
    # the sentence again in the second 30-s window: at least two segments, decoded one window after the other
    # (within one window, how many segments the model makes of repeated speech depends on the CPU's int8 arithmetic)
    gap = np.zeros(32 * 16_000 - len(speech), np.float32)
    audio = np.concatenate([speech, gap, speech])
    events = []
    t = transcribe(
        (audio, 16_000),
        engine="faster-whisper",
        language="en",
        beam_size=1,
        temperature_increment=0,  # one sentence said twice compresses well: no fallback wanted here
        on_segment=lambda s: events.append(("segment", s.end)),
        progress=lambda done, total: events.append(("progress", done, total)),
    )
    total = len(audio) / 16_000
    assert events[0] == ("progress", 0.0, total)  # said before the model loads: the caller can size its bar
    segments = [e for e in events if e[0] == "segment"]
    assert len(segments) == len(t.segments) >= 2
    # each segment is handed over before the progress that follows it: one after the other, not all at the end
    for k, event in enumerate(events[1:-1], start=1):
        if event[0] == "segment":
            assert events[k + 1] == ("progress", min(event[1], total), total)
    assert events[-1][1:] == (pytest.approx(t.segments[-1].end), total)


def test_verbose_prints_timed_segments_and_keeps_json_clean(capsys):
    assert main(["transcribe", str(CLIP), "--engine", "faster-whisper", "--language", "en", "--beam-size", "1", "--verbose"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1  # the segment said it: the text is not printed again
    assert re.fullmatch(r"\[00:00\.000 --> 00:0[23]\.\d\d0\] The weather today is sunny, with a light breeze from the west\.", out[0])

    assert main(["transcribe", str(CLIP), "--engine", "faster-whisper", "--language", "en", "--beam-size", "1", "--verbose", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["results"][0]["text"].startswith("The weather today")  # standard output stays JSON
    assert re.search(r"^\[00:00\.000 --> 00:0[23]\.\d\d0\] The weather today", err, re.M)


def test_long_files_get_a_bar_over_their_audio(capsys):
    bar = _AudioBar("long.flac", mininterval=0)  # every update drawn
    for done in (0.0, 30.0, 61.4, 90.0):
        bar.update(done, 90.0)
    bar.close()
    shown = capsys.readouterr().err.replace("\r", "\n")
    assert "long.flac: 100%" in shown and "90/90 s of audio" in shown and "30/90 s of audio" in shown
    short = _AudioBar("short.flac", mininterval=0)
    short.update(0.0, AUDIO_BAR_SECONDS)
    short.update(AUDIO_BAR_SECONDS, AUDIO_BAR_SECONDS)
    short.close()
    assert capsys.readouterr().err == ""  # one window: the answer comes before a bar would say anything


@pytest.mark.slow
def test_the_transformers_command_prints_only_the_transcript(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "transcribe", str(CLIP), "--engine", "transformers", "--language", "en", "--beam-size", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "The weather today is sunny, with a light breeze from the west."
    assert proc.stderr == ""  # no "Loading weights" bar, no generate() deprecation notice


@pytest.mark.slow
def test_transformers_reports_progress_per_chunk_of_a_long_file():
    speech = _weather_16k()
    audio = np.concatenate([np.concatenate([speech, np.zeros(32_000, np.float32)])] * 10)[: 50 * 16_000]  # 50 s: three chunks
    progress = []
    t = transcribe(
        (audio, 16_000),
        engine="transformers",
        language="en",
        beam_size=1,
        timestamps="none",
        temperature_increment=0,
        progress=lambda done, total: progress.append(done),
    )
    assert "weather" in t.text.lower()
    assert progress[0] == 0.0 and progress[-1] == 50.0
    assert progress == sorted(progress) and len(set(progress)) >= 3  # the bar moves while the chunks are decoded
    assert any("decodes overlapping 30-s chunks independently" in n for n in t.settings["safeguard_notes"])
