"""Dataset importers (Common Voice, plain folder, MDCC), JSONL/TSV manifests and write_manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from workbench.datasets import (
    Dataset,
    ManifestEntry,
    ManifestError,
    import_common_voice,
    import_folder,
    import_mdcc,
    load_manifest,
    read_manifest,
    write_manifest,
)
from workbench.errors import WorkbenchError

CV_HEADER = "client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccents\tvariant\tlocale\tsegment"


def wav(path, seconds=0.05, sr=16_000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.zeros(int(seconds * sr), dtype=np.float32), sr, subtype="PCM_16", format="WAV")  # WAV data whatever the suffix
    return path


def cv_row(client, clip, sentence, locale="zh-HK"):
    return f"{client}\t{clip}\t{sentence}\t2\t0\t\t\t\t\t{locale}\t"


def make_cv(folder, rows, header=CV_HEADER, split="test"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{split}.tsv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    (folder / "clips").mkdir(exist_ok=True)
    return folder


# --- read_manifest: CSV (unchanged), TSV, JSONL --------------------------------------------------


def test_read_manifest_jsonl_with_aliases(tmp_path):
    wav(tmp_path / "a.wav")
    wav(tmp_path / "sub" / "b.wav")
    lines = [
        {"path": "a.wav", "reference": " 你好 ", "language": "yue", "speaker": "s1", "duration": 0.05},
        {"audio": "sub/b.wav", "text": "hello", "language": "en"},
        {"path": "c.wav", "sentence": "早晨"},
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n", encoding="utf-8")
    entries = read_manifest(manifest)
    assert [e.path for e in entries] == [(tmp_path / n).resolve() for n in ("a.wav", "sub/b.wav", "c.wav")]
    assert [e.reference for e in entries] == ["你好", "hello", "早晨"]
    assert [e.language for e in entries] == ["yue", "en", ""]
    assert entries[0].meta == {"speaker": "s1", "duration": 0.05}


def test_read_manifest_json_lines_and_array(tmp_path):
    (tmp_path / "lines.json").write_text('{"path": "a.wav", "text": "x", "language": "en"}\n', encoding="utf-8")
    (tmp_path / "array.json").write_text('[{"path": "a.wav", "text": "x", "language": "en"}]', encoding="utf-8")
    assert read_manifest(tmp_path / "lines.json") == read_manifest(tmp_path / "array.json")


def test_read_manifest_jsonl_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"path": "a.wav", "text": "x"}\n{not json\n', encoding="utf-8")
    with pytest.raises(ManifestError, match="line 2"):
        read_manifest(bad)
    nokey = tmp_path / "nokey.jsonl"
    nokey.write_text('{"path": "a.wav"}\n', encoding="utf-8")
    with pytest.raises(ManifestError, match="reference"):
        read_manifest(nokey)


def test_read_manifest_tsv(tmp_path):
    manifest = tmp_path / "m.tsv"
    manifest.write_text("path\tlanguage\treference\tspeaker\na.wav\tyue\t你好, 世界\tx\n", encoding="utf-8")
    (entry,) = read_manifest(manifest)
    assert entry.reference == "你好, 世界" and entry.meta == {"speaker": "x"}


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_path_escaping_refused_unless_allowed(tmp_path, suffix):
    inner = tmp_path / "inner"
    inner.mkdir()
    wav(tmp_path / "x.wav")
    manifest = inner / f"m{suffix}"
    if suffix == ".csv":
        manifest.write_text("path,language,reference\n../x.wav,en,hi\n", encoding="utf-8")
    else:
        manifest.write_text('{"path": "../x.wav", "language": "en", "reference": "hi"}\n', encoding="utf-8")
    with pytest.raises(ManifestError, match="outside"):
        read_manifest(manifest)
    (entry,) = read_manifest(manifest, allow_outside=True)
    assert entry.path == (tmp_path / "x.wav").resolve()


def test_load_manifest_reports_all_missing(tmp_path):
    wav(tmp_path / "a.wav")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,language,reference\na.wav,en,a\nb.wav,en,b\nc.wav,en,c\n", encoding="utf-8")
    ds = load_manifest(manifest)
    assert [e.name for e in ds] == ["a.wav"]
    assert len(ds.problems) == 2 and "b.wav" in ds.problems[0] and "c.wav" in ds.problems[1]


# --- write_manifest -------------------------------------------------------------------------------


def test_write_manifest_round_trips(tmp_path):
    root = tmp_path / "粤语测试"
    entries = [
        ManifestEntry(wav(root / "a.wav").resolve(), "yue", "我哋去飲茶，好唔好？", {"speaker": "s1", "duration": "0.05", "gender": "F"}),
        ManifestEntry(wav(root / "sub" / "b 1.wav").resolve(), "en", 'say "hi", then\nbye', {"source": "test"}),
    ]
    manifest = write_manifest(entries, root / "manifest.csv")
    header = manifest.read_text(encoding="utf-8").splitlines()[0]
    assert header == "path,language,reference,speaker,duration,gender,source"
    back = read_manifest(manifest)
    assert back == entries
    assert back[0].meta == {"speaker": "s1", "duration": "0.05", "gender": "F", "source": ""}
    assert back[1].meta == {"speaker": "", "duration": "", "gender": "", "source": "test"}
    assert "sub/b 1.wav" in manifest.read_text(encoding="utf-8")
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_write_manifest_refuses_outside_entries(tmp_path):
    outside = ManifestEntry(wav(tmp_path / "x.wav").resolve(), "en", "x")
    with pytest.raises(ManifestError, match="outside"):
        write_manifest([outside], tmp_path / "inner" / "m.csv")
    assert not (tmp_path / "inner" / "m.csv").exists()
    written = write_manifest([outside], tmp_path / "inner" / "m.csv", allow_outside=True)
    assert read_manifest(written, allow_outside=True) == [outside]


# --- Common Voice ---------------------------------------------------------------------------------


def test_common_voice_zh_hk_is_yue_and_missing_clips_reported(tmp_path):
    folder = make_cv(
        tmp_path / "cv-corpus-17.0" / "zh-HK",
        [
            cv_row("c1", "common_voice_zh-HK_1.mp3", "我哋今日去飲茶"),
            cv_row("c2", "common_voice_zh-HK_2.mp3", '佢話"唔得"'),
            cv_row("c3", "common_voice_zh-HK_3.mp3", "冇問題"),
            cv_row("c4", "common_voice_zh-HK_4.mp3", "多謝"),
        ],
    )
    wav(folder / "clips" / "common_voice_zh-HK_1.mp3")  # content does not matter to the importer
    wav(folder / "clips" / "common_voice_zh-HK_3.mp3")
    ds = import_common_voice(folder)
    assert isinstance(ds, Dataset) and ds.root == folder.resolve() and "test" in ds.name
    assert [e.name for e in ds] == ["common_voice_zh-HK_1.mp3", "common_voice_zh-HK_3.mp3"]
    assert {e.language for e in ds} == {"yue"}
    assert [e.meta["speaker"] for e in ds] == ["c1", "c3"]
    assert ds.entries[0].reference == "我哋今日去飲茶"
    assert len(ds.problems) == 2
    assert "_2.mp3" in ds.problems[0] and "_4.mp3" in ds.problems[1]
    assert not ds.ok and "2 problem(s)" in ds.summary()


def test_common_voice_language_from_folder_name_or_argument(tmp_path):
    old_header = "client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccent"
    folder = make_cv(tmp_path / "zh-HK", ["c1\ta.mp3\t你好\t1\t0\t\t\t"], header=old_header, split="dev")
    wav(folder / "clips" / "a.mp3")
    (entry,) = import_common_voice(folder, split="dev")
    assert entry.language == "yue" and entry.meta["speaker"] == "c1"
    (entry,) = import_common_voice(folder, split="dev", language="Cantonese")
    assert entry.language == "yue"
    unnamed = make_cv(tmp_path / "release", ["c1\ta.mp3\t你好\t1\t0\t\t\t"], header=old_header)
    wav(unnamed / "clips" / "a.mp3")
    with pytest.raises(ManifestError, match="language"):
        import_common_voice(unnamed)
    assert import_common_voice(unnamed, language="en").entries[0].language == "en"


def test_common_voice_layout_errors(tmp_path):
    folder = make_cv(tmp_path / "zh-HK", [cv_row("c1", "a.mp3", "x")], split="train")
    with pytest.raises(ManifestError, match=r"test\.tsv.*train"):
        import_common_voice(folder)
    with pytest.raises(ManifestError, match="not found"):
        import_common_voice(tmp_path / "nowhere")
    (folder / "clips").rmdir()
    with pytest.raises(ManifestError, match="clips"):
        import_common_voice(folder, split="train")


def test_common_voice_escaping_path_refused_unless_allowed(tmp_path):
    folder = make_cv(tmp_path / "zh-HK", [cv_row("c1", "../../x.mp3", "x"), cv_row("c2", "ok.mp3", "y")])
    wav(tmp_path / "x.mp3")
    wav(folder / "clips" / "ok.mp3")
    ds = import_common_voice(folder)
    assert [e.name for e in ds] == ["ok.mp3"] and "outside" in ds.problems[0]
    assert len(import_common_voice(folder, allow_outside=True)) == 2


# --- plain folder ---------------------------------------------------------------------------------


def test_import_folder_non_ascii_and_missing_references(tmp_path):
    folder = tmp_path / "粤语测试"
    for name in ("一.wav", "b.FLAC", "c.wav", "d.ogg"):
        wav(folder / name)
    (folder / "一.txt").write_text("  我哋今日去飲茶\n", encoding="utf-8")
    (folder / "b.txt").write_text("\ufeff你好", encoding="utf-8")
    (folder / "d.txt").write_bytes(b"\xff\xfe\xfa bad")
    (folder / "notes.md").write_text("not audio", encoding="utf-8")
    ds = import_folder(folder, "粤语")
    assert ds.name == "粤语测试"
    assert sorted(e.name for e in ds) == ["b.FLAC", "一.wav"]
    assert {e.language for e in ds} == {"yue"}
    assert {e.name: e.reference for e in ds} == {"一.wav": "我哋今日去飲茶", "b.FLAC": "你好"}
    assert len(ds.problems) == 2
    assert any("c.txt" in p and "not found" in p for p in ds.problems)
    assert any("d.txt" in p and "UTF-8" in p for p in ds.problems)
    written = write_manifest(ds, folder / "manifest.csv")
    assert read_manifest(written) == ds.entries


def test_import_folder_pattern_and_errors(tmp_path):
    wav(tmp_path / "x" / "a.wav")
    (tmp_path / "x" / "a.txt").write_text("hi", encoding="utf-8")
    wav(tmp_path / "x" / "deep" / "b.wav")
    (tmp_path / "x" / "deep" / "b.txt").write_text("there", encoding="utf-8")
    assert len(import_folder(tmp_path / "x", "en")) == 1
    assert len(import_folder(tmp_path / "x", "en", pattern="**/*")) == 2
    with pytest.raises(ManifestError, match="no audio"):
        import_folder(tmp_path / "x", "en", pattern="*.mp3")
    with pytest.raises(WorkbenchError):
        import_folder(tmp_path / "x", "klingonese")


# --- MDCC -----------------------------------------------------------------------------------------


def make_mdcc(folder, rows, split="test"):
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["audio_path,text_path,gender,duration", *(",".join(r) for r in rows)]
    (folder / f"cnt_asr_{split}_metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_import_mdcc_reports_every_missing_file(tmp_path):
    folder = make_mdcc(
        tmp_path / "MDCC 粤语",
        [
            ("./audio/1.wav", "./transcription/1.txt", "F", "1.5"),
            ("./audio/2.wav", "./transcription/2.txt", "M", "2.0"),  # audio missing
            ("./audio/3.wav", "./transcription/3.txt", "M", "2.5"),  # text missing
            ("./audio/4.wav", "./transcription/4.txt", "F", "3.0"),  # both missing
            ("../escape.wav", "./transcription/1.txt", "F", "1.0"),  # outside
        ],
    )
    wav(folder / "audio" / "1.wav")
    wav(folder / "audio" / "3.wav")
    (folder / "transcription").mkdir()
    (folder / "transcription" / "1.txt").write_text("佢哋喺度食緊飯\n", encoding="utf-8")
    (folder / "transcription" / "2.txt").write_text("唔該", encoding="utf-8")
    wav(tmp_path / "escape.wav")
    ds = import_mdcc(folder)
    (entry,) = ds.entries
    assert entry.path == (folder / "audio" / "1.wav").resolve()
    assert (entry.language, entry.reference) == ("yue", "佢哋喺度食緊飯")
    assert entry.meta["gender"] == "F" and entry.meta["duration"] == "1.5"
    assert len(ds.problems) == 5
    joined = "\n".join(ds.problems)
    for needle in ("2.wav", "3.txt", "4.wav", "4.txt", "outside"):
        assert needle in joined
    assert len(import_mdcc(folder, allow_outside=True)) == 2


def test_import_mdcc_layout_error_names_expected_file(tmp_path):
    make_mdcc(tmp_path / "mdcc", [], split="train")
    with pytest.raises(ManifestError, match=r"cnt_asr_test_metadata\.csv.*cnt_asr_train_metadata\.csv"):
        import_mdcc(tmp_path / "mdcc")
    assert len(import_mdcc(tmp_path / "mdcc", split="train")) == 0


def test_the_recording_column_is_kept_in_meta_and_written_back(tmp_path):
    for name in ("a_44k.wav", "a_48k.wav", "b.wav"):
        wav(tmp_path / name)
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "path,language,reference,recording\na_44k.wav,en,a,speech_a\na_48k.wav,en,a,speech_a\nb.wav,en,b,\n", encoding="utf-8"
    )
    entries = read_manifest(manifest)
    assert [e.meta["recording"] for e in entries] == ["speech_a", "speech_a", ""]
    again = read_manifest(write_manifest(entries, tmp_path / "out.csv"))
    assert [e.meta["recording"] for e in again] == ["speech_a", "speech_a", ""]
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text(json.dumps({"path": "b.wav", "text": "b", "recording": "speech_b"}) + "\n", encoding="utf-8")
    assert read_manifest(jsonl)[0].meta["recording"] == "speech_b"
