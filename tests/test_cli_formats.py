"""The transcribe command's output files (txt, srt, vtt, tsv, json) and ``bench cli``."""

from __future__ import annotations

import json
import shutil

import pytest

from workbench.cli import main
from workbench.datasets import BUNDLED_DIR
from workbench.engines.common import Segment, Word
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
