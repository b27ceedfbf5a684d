"""Hugging Face datasets import (import_hf) and the ``import`` command, on local fixtures built with ``datasets``; no network."""

from __future__ import annotations

import io
import json
import socket
import sys

import numpy as np
import pytest
import soundfile as sf

from workbench.cli import main
from workbench.datasets import (
    HubDatasetError,
    ManifestError,
    audio_suffix,
    import_hf,
    load_manifest,
    read_manifest,
)
from workbench.errors import WorkbenchError
from workbench.signals import tone

from .test_datasets import cv_row, make_cv

hf = pytest.importorskip("datasets")

RATE = 16_000
SECONDS = 0.05
FORMATS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".ogg": ("OGG", "VORBIS"),
    ".opus": ("OGG", "OPUS"),
}
OPUS_RATE = 48_000  # the only rates Opus takes are 8, 12, 16, 24 and 48 kHz; 48 kHz is its native one


def encoded(suffix: str, freq: float = 440.0) -> bytes:
    """A short tone encoded as ``suffix`` says, in memory."""
    fmt, subtype = FORMATS[suffix]
    rate = OPUS_RATE if suffix == ".opus" else RATE
    buffer = io.BytesIO()
    sf.write(buffer, tone(freq, sr=rate, duration=SECONDS), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


MP3, WAV, FLAC = encoded(".mp3"), encoded(".wav", 550.0), encoded(".flac", 660.0)


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Every connection attempt is recorded and refused; ``datasets`` caches under tmp_path."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise RuntimeError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(hf.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    return attempts


def cv_rows():
    """Common Voice-like rows: two good clips, one without audio, one without text, one not audio, one unnamed."""
    return {
        "client_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "path": [
            "common_voice_zh-HK_1.mp3",
            "common_voice_zh-HK_2.wav",
            "common_voice_zh-HK_3.mp3",
            "common_voice_zh-HK_4.flac",
            "common_voice_zh-HK_5.mp3",
            None,
        ],
        "audio": [
            {"bytes": MP3, "path": "common_voice_zh-HK_1.mp3"},
            {"bytes": WAV, "path": "common_voice_zh-HK_2.wav"},
            None,
            {"bytes": FLAC, "path": "common_voice_zh-HK_4.flac"},
            {"bytes": b"version https://git-lfs.github.com/spec/v1\noid sha256:0\n", "path": "common_voice_zh-HK_5.mp3"},
            {"bytes": FLAC, "path": None},
        ],
        "sentence": ["我哋今日去飲茶", " 你好 ", "冇聲", None, "壞檔", "早晨"],
        "gender": ["female", "male", "", "", "", "male"],
        "up_votes": [2, 3, 1, 1, 1, 4],
        "segment": [[1], [2], [3], [4], [5], [6]],  # not a scalar: left out of the manifest
    }


def make_parquet(folder, splits, config=None):
    """A local dataset folder laid out as on the hub: ``<config>/<split>-00000-of-00001.parquet`` and a README declaring it."""
    folder.mkdir(parents=True, exist_ok=True)
    sub = folder / config if config else folder
    sub.mkdir(exist_ok=True)
    for split, columns in splits.items():
        ds = hf.Dataset.from_dict(columns)
        if "audio" in columns:
            ds = ds.cast_column("audio", hf.Audio())
        ds.to_parquet(str(sub / f"{split}-00000-of-00001.parquet"))
    if config:
        files = "".join(f"  - split: {split}\n    path: {config}/{split}-*.parquet\n" for split in splits)
        (folder / "README.md").write_text(f"---\nconfigs:\n- config_name: {config}\n  data_files:\n{files}---\n", encoding="utf-8")
    return folder


@pytest.fixture
def cv_hub(tmp_path):
    """A Common Voice-like dataset as a local hub snapshot, config zh-HK, splits test and train."""
    train = {k: v[:1] for k, v in cv_rows().items()}
    return make_parquet(tmp_path / "common_voice_like", {"test": cv_rows(), "train": train}, config="zh-HK")


# --- import from a local hub-style folder --------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False])
def test_import_keeps_original_bytes_and_reports_every_bad_row(cv_hub, tmp_path, streaming):
    out = tmp_path / "out"
    ds = import_hf(str(cv_hub), out, config="zh-HK", streaming=streaming, progress=False)
    assert ds.root == out.resolve() and ds.name == "common_voice_like/zh-HK (test)"
    names = [e.name for e in ds]
    assert names == ["000000_common_voice_zh-HK_1.mp3", "000001_common_voice_zh-HK_2.wav", "000005_clip.flac"]
    assert [e.reference for e in ds] == ["我哋今日去飲茶", "你好", "早晨"]
    assert {e.language for e in ds} == {"yue"}  # from the config name zh-HK
    assert [(e.path.read_bytes() == b) for e, b in zip(ds, (MP3, WAV, FLAC), strict=True)] == [True, True, True]
    assert all(e.path.parent == (out / "clips").resolve() for e in ds)
    first = ds.entries[0].meta
    assert (first["speaker"], first["gender"], first["up_votes"], first["original_path"]) == ("c1", "female", 2, "common_voice_zh-HK_1.mp3")
    assert "segment" not in first and "client_id" not in first and "path" not in first
    assert len(ds.problems) == 3, ds.problems
    no_audio, no_text, not_audio = ds.problems
    assert "row 2" in no_audio and "no audio" in no_audio
    assert "row 3" in no_text and "no text" in no_text and "sentence" in no_text
    assert "row 4" in not_audio and "Git LFS" in not_audio
    assert sorted(p.name for p in (out / "clips").iterdir()) == names  # nothing written for the bad rows, no temporary files
    assert read_manifest(out / "manifest.csv") == ds.entries
    back = load_manifest(out / "manifest.csv")
    assert back.ok and back.entries == ds.entries
    assert back.entries[0].meta["gender"] == "female"


def test_language_argument_beats_the_config(cv_hub, tmp_path):
    ds = import_hf(cv_hub, tmp_path / "out", config="zh-HK", language="English", progress=False)
    assert {e.language for e in ds} == {"en"}


def test_config_subfolder_without_readme(tmp_path):
    folder = make_parquet(tmp_path / "snapshot", {"test": {k: v[:2] for k, v in cv_rows().items()}}, config="zh-HK")
    (folder / "README.md").unlink()
    ds = import_hf(folder, tmp_path / "out", config="zh-HK", progress=False)
    assert [e.language for e in ds] == ["yue", "yue"] and len(ds) == 2


def test_per_row_locale_column(tmp_path):
    rows = {
        "audio": [{"bytes": MP3, "path": f"{i}.mp3"} for i in range(4)],
        "text": ["粵語", "english", "???", "冇 locale"],
        "locale": ["zh-HK", "en", "xx-klingon", ""],
    }
    folder = make_parquet(tmp_path / "multi", {"test": rows})
    ds = import_hf(folder, tmp_path / "out", progress=False)
    assert [(e.name, e.language) for e in ds] == [("000000_0.mp3", "yue"), ("000001_1.mp3", "en")]
    assert len(ds.problems) == 2
    assert "row 2" in ds.problems[0] and "xx-klingon" in ds.problems[0]
    assert "row 3" in ds.problems[1] and "language" in ds.problems[1]
    assert ds.entries[0].meta["locale"] == "zh-HK"
    assert len(import_hf(folder, tmp_path / "out", language="yue", progress=False)) == 4


def test_no_language_anywhere_is_refused_before_writing(tmp_path):
    folder = make_parquet(tmp_path / "plain", {"test": {"audio": [{"bytes": MP3, "path": "a.mp3"}], "text": ["x"]}})
    with pytest.raises(ManifestError, match=r"language=") as info:
        import_hf(folder, tmp_path / "out", progress=False)
    assert isinstance(info.value, HubDatasetError)
    assert not (tmp_path / "out" / "manifest.csv").exists()


# --- columns --------------------------------------------------------------------------------------


def test_columns_detected_by_feature_or_named(tmp_path):
    rows = {
        "recording": [{"bytes": WAV, "path": "r.wav"}],
        "utterance": ["唔該"],
        "transcription": ["not this one"],
        "sentence": ["this one"],
    }
    folder = tmp_path / "odd"
    folder.mkdir()
    hf.Dataset.from_dict(rows).cast_column("recording", hf.Audio()).to_parquet(str(folder / "test.parquet"))
    (entry,) = import_hf(folder, tmp_path / "auto", language="yue", progress=False)
    assert (
        entry.reference == "this one" and entry.path.read_bytes() == WAV
    )  # Audio feature found under any name; sentence before transcription
    assert entry.meta["utterance"] == "唔該" and entry.meta["transcription"] == "not this one"
    (entry,) = import_hf(folder, tmp_path / "named", audio_column="recording", text_column="utterance", language="yue", progress=False)
    assert entry.reference == "唔該"


@pytest.mark.parametrize(("option", "flag"), [("text_column", "--text-column"), ("audio_column", "--audio-column")])
def test_unknown_column_lists_the_columns(cv_hub, tmp_path, option, flag):
    with pytest.raises(HubDatasetError) as info:
        import_hf(cv_hub, tmp_path / "out", config="zh-HK", progress=False, **{option: "nope"})
    message = str(info.value)
    assert "'nope'" in message and "audio, sentence, gender" in message and flag in message


def test_no_text_column_found_lists_the_columns(tmp_path):
    folder = make_parquet(tmp_path / "notext", {"test": {"audio": [{"bytes": MP3, "path": "a.mp3"}], "words": ["x"]}})
    with pytest.raises(HubDatasetError, match=r"no reference text column.*its columns: audio, words"):
        import_hf(folder, tmp_path / "out", language="en", progress=False)


# --- other layouts and audio shapes --------------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False])
def test_audiofolder_reads_the_files_it_names(tmp_path, streaming):
    folder = tmp_path / "audiofolder" / "test"
    folder.mkdir(parents=True)
    (folder / "一.mp3").write_bytes(MP3)
    (folder / "b.flac").write_bytes(FLAC)
    (folder / "metadata.csv").write_text("file_name,transcription,speaker_id\n一.mp3,早晨,s1\nb.flac,,s2\n", encoding="utf-8")
    ds = import_hf(folder.parent, tmp_path / "out", language="粤语", streaming=streaming, progress=False)
    (entry,) = ds
    assert entry.name == "000000_一.mp3" and entry.path.read_bytes() == MP3
    assert (entry.language, entry.reference, entry.meta["speaker"]) == ("yue", "早晨", "s1")
    assert len(ds.problems) == 1 and "row 1 (b.flac)" in ds.problems[0] and "no text" in ds.problems[0]


def test_rows_with_samples_only_are_written_as_flac(tmp_path):
    samples = tone(440, sr=RATE, duration=SECONDS)
    rows = {"audio": [{"array": samples.tolist(), "sampling_rate": RATE}], "text": ["tone"]}
    folder = tmp_path / "arrays"
    folder.mkdir()
    hf.Dataset.from_dict(rows).to_parquet(str(folder / "test.parquet"))
    (entry,) = import_hf(folder, tmp_path / "out", language="en", progress=False)
    assert entry.name == "000000_clip.flac"
    data, rate = sf.read(str(entry.path), dtype="float32")
    assert rate == RATE and np.allclose(data, samples, atol=1e-4)


def test_save_to_disk_folder(tmp_path):
    rows = {"audio": [{"bytes": WAV, "path": "a.wav"}], "sentence": ["你好"]}
    saved = tmp_path / "saved"
    hf.DatasetDict({"validation": hf.Dataset.from_dict(rows).cast_column("audio", hf.Audio())}).save_to_disk(str(saved))
    (entry,) = import_hf(saved, tmp_path / "out", split="validation", language="yue", progress=False)
    assert entry.path.read_bytes() == WAV
    with pytest.raises(HubDatasetError, match=r"no split 'test'.*validation"):
        import_hf(saved, tmp_path / "out", language="yue", progress=False)
    alone = tmp_path / "alone"
    hf.Dataset.from_dict(rows).cast_column("audio", hf.Audio()).save_to_disk(str(alone))  # load_dataset refuses this folder
    (entry,) = import_hf(alone, tmp_path / "alone-out", language="yue", progress=False)
    assert entry.path.read_bytes() == WAV and entry.reference == "你好"


def test_single_parquet_file(cv_hub, tmp_path):
    ds = import_hf(cv_hub / "zh-HK" / "test-00000-of-00001.parquet", tmp_path / "out", language="yue", progress=False)
    assert len(ds) == 3 and len(ds.problems) == 3


# --- limit and resuming ---------------------------------------------------------------------------


def test_limit_takes_the_first_rows(cv_hub, tmp_path):
    ds = import_hf(cv_hub, tmp_path / "out", config="zh-HK", limit=2, progress=False)
    assert [e.name for e in ds] == ["000000_common_voice_zh-HK_1.mp3", "000001_common_voice_zh-HK_2.wav"] and ds.ok
    assert len(import_hf(cv_hub, tmp_path / "none", config="zh-HK", limit=0, progress=False)) == 0
    with pytest.raises(HubDatasetError, match="limit"):
        import_hf(cv_hub, tmp_path / "out", config="zh-HK", limit=-1, progress=False)


def test_reimport_does_not_rewrite_existing_clips(cv_hub, tmp_path):
    out = tmp_path / "out"
    first = import_hf(cv_hub, out, config="zh-HK", progress=False)
    stats = {e.name: (e.path.stat().st_ino, e.path.stat().st_mtime_ns) for e in first}
    removed = first.entries[1].path
    removed.unlink()
    again = import_hf(cv_hub, out, config="zh-HK", progress=False)
    assert again.entries == first.entries and again.problems == first.problems
    after = {e.name: (e.path.stat().st_ino, e.path.stat().st_mtime_ns) for e in again}
    assert {k: v for k, v in after.items() if k != removed.name} == {k: v for k, v in stats.items() if k != removed.name}
    assert removed.read_bytes() == WAV  # the missing clip was written again


# --- errors ---------------------------------------------------------------------------------------


def test_unknown_hub_id_offline_names_the_ways_out(monkeypatch, no_network, tmp_path):
    import huggingface_hub

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf.config, "HF_HUB_OFFLINE", True)  # both libraries read the variables when imported
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubDatasetError) as info:
        import_hf("nobody/no-such-dataset", tmp_path / "out", progress=False)
    message = str(info.value)
    assert message.startswith("nobody/no-such-dataset")
    for needle in (
        "HF_HUB_OFFLINE",
        "HF_DATASETS_OFFLINE",
        "hf auth login",
        "terms",
        "huggingface.co/datasets/nobody/no-such-dataset",
        "local-dir",
    ):
        assert needle in message, needle
    assert no_network == []
    assert not (tmp_path / "out").exists()


def test_missing_local_path_is_not_sent_to_the_hub(no_network, tmp_path):
    with pytest.raises(HubDatasetError, match="local dataset not found"):
        import_hf(tmp_path / "nowhere", tmp_path / "out", progress=False)
    with pytest.raises(HubDatasetError, match="local dataset not found"):
        import_hf("./nowhere/at/all", tmp_path / "out", progress=False)
    assert no_network == []


def test_unknown_split_and_config_list_what_exists(cv_hub, tmp_path):
    for streaming in (True, False):
        with pytest.raises(HubDatasetError, match=r"no split 'dev'; its splits: test, train; pass split="):
            import_hf(cv_hub, tmp_path / "out", split="dev", config="zh-HK", streaming=streaming, progress=False)
    with pytest.raises(HubDatasetError, match=r"no config 'yue'; its configs: zh-HK"):
        import_hf(cv_hub, tmp_path / "out", config="yue", progress=False)


def test_without_the_datasets_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(WorkbenchError, match=r'pip install "whisper-workbench\[hub\]"'):
        import_hf("owner/name", tmp_path / "out", progress=False)


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_audio_suffix_recognises_containers(suffix):
    assert audio_suffix(encoded(suffix)) == suffix


@pytest.mark.parametrize("data", [b"", b"hello, not audio", b"<!DOCTYPE html><html>", bytes(range(3, 67))])
def test_audio_suffix_refuses_what_is_not_audio(data):
    assert audio_suffix(data) is None


# --- command line ---------------------------------------------------------------------------------


def test_cli_import_hf_json_and_text(cv_hub, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["import", "hf", str(cv_hub), "--config", "zh-HK", "--out", str(out), "--limit", "4", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 2 and len(result["problems"]) == 2 and result["manifest"] == str(out / "manifest.csv")
    assert [e.reference for e in read_manifest(out / "manifest.csv")] == ["我哋今日去飲茶", "你好"]
    assert main(["import", "hf", str(cv_hub), "--config", "zh-HK", "--out", str(out), "--no-streaming"]) == 0
    captured = capsys.readouterr()
    assert "3 clip(s), 3 problem(s)" in captured.out and f"manifest: {out / 'manifest.csv'}" in captured.out
    assert captured.err.count("problem: row") == 3 and "Git LFS" in captured.err
    assert len(read_manifest(out / "manifest.csv")) == 3


def test_cli_import_folder_round_trip(tmp_path, capsys):
    folder = tmp_path / "粤语"
    folder.mkdir()
    (folder / "a.wav").write_bytes(WAV)
    (folder / "a.txt").write_text("我哋去飲茶", encoding="utf-8")
    (folder / "b.wav").write_bytes(WAV)
    assert main(["import", "folder", str(folder), "--language", "cantonese"]) == 0
    captured = capsys.readouterr()
    assert "1 clip(s), 1 problem(s)" in captured.out and "b.txt" in captured.err
    (entry,) = read_manifest(folder / "manifest.csv")
    assert (entry.name, entry.language, entry.reference) == ("a.wav", "yue", "我哋去飲茶")
    assert main(["import", "folder", str(folder), "--language", "yue", "--out", str(folder / "other.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clips"] == 1
    assert read_manifest(folder / "other.csv") == [entry]


def test_cli_import_common_voice_to_another_manifest(tmp_path, capsys):
    folder = make_cv(tmp_path / "zh-HK", [cv_row("c1", "a.mp3", "多謝"), cv_row("c2", "gone.mp3", "唔見咗")], split="dev")
    (folder / "clips" / "a.mp3").write_bytes(MP3)
    manifest = tmp_path / "zh-HK" / "lists" / "dev.csv"
    assert main(["import", "common-voice", str(folder), "--split", "dev", "--out", str(manifest), "--allow-outside", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 1 and "gone.mp3" in result["problems"][0]
    (entry,) = read_manifest(manifest, allow_outside=True)
    assert (entry.path, entry.language, entry.reference) == ((folder / "clips" / "a.mp3").resolve(), "yue", "多謝")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["import", "hf", "owner/name"], "--out"),
        (["import", "folder", "somewhere"], "--language"),
        (["import", "folder", "somewhere", "--language", "yue", "--config", "zh-HK"], "--config"),
        (["import", "mdcc", "somewhere", "--limit", "3"], "--limit"),
    ],
)
def test_cli_import_usage_errors_exit_2(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err


def test_cli_import_hub_failure_is_one_line(monkeypatch, tmp_path, capsys):
    import huggingface_hub

    monkeypatch.setattr(hf.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    assert main(["import", "hf", "nobody/no-such-dataset", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nobody/no-such-dataset") and "Traceback" not in err
