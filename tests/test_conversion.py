"""CTranslate2 -> transformers conversion of the embedded Whisper base.

The CTranslate2 folder is assembled here from the two PyPI packages (the
same way :mod:`workbench.models` does), converted once per session, and the
converted model is checked tensor by tensor, against CTranslate2's encoder,
and transcript by transcript against faster-whisper.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from workbench import models
from workbench.conversion import (
    ModelConversionError,
    convert_ctranslate2_to_transformers,
    read_ctranslate2_model,
)
from workbench.errors import WorkbenchError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

SHARED_AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"
JFK = SHARED_AUDIO / "en_jfk_44k_stereo.flac"
MANDARIN = SHARED_AUDIO / "zh_opening_hours_16k.wav"
JFK_REFERENCE = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
MANDARIN_REFERENCE = "开放时间早上9点至下午5点。"

MODEL_SIZE = 145_217_532
SAMPLE_RATE = 16_000

# Whisper base, multilingual.
BASE = {
    "d_model": 512,
    "encoder_layers": 6,
    "decoder_layers": 6,
    "encoder_attention_heads": 8,
    "decoder_attention_heads": 8,
    "encoder_ffn_dim": 2048,
    "decoder_ffn_dim": 2048,
    "vocab_size": 51865,
    "num_mel_bins": 80,
    "max_source_positions": 1500,
    "max_target_positions": 448,
    "decoder_start_token_id": 50258,
    "eos_token_id": 50257,
}
EN, ZH, TRANSLATE, TRANSCRIBE, START_OF_PREV, NO_TIMESTAMPS = 50259, 50260, 50358, 50359, 50361, 50363


def normalise_words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def without_punctuation(text: str) -> str:
    return re.sub(r"[\W_]", "", text)


# --------------------------------------------------------------------------
# Fixtures: assemble, convert, load -- once per session
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ct2_dir(tmp_path_factory) -> Path:
    """The embedded model assembled into a CTranslate2 folder (verified by size and sha256 on the way)."""
    try:
        out = models.embedded_ctranslate2_dir(tmp_path_factory.mktemp("cache"))
    except models.ModelNotAvailableError as exc:
        pytest.skip(str(exc))
    assert (out / "model.bin").stat().st_size == MODEL_SIZE
    return out


@pytest.fixture(scope="session")
def conversion(ct2_dir, tmp_path_factory) -> tuple[Path, float]:
    out = tmp_path_factory.mktemp("hf") / "whisper-base-hf"
    start = time.perf_counter()
    result = convert_ctranslate2_to_transformers(ct2_dir, out, progress=False)
    return result, time.perf_counter() - start


@pytest.fixture(scope="session")
def hf_dir(conversion) -> Path:
    return conversion[0]


@pytest.fixture(scope="session")
def hf_model(hf_dir):
    from transformers import WhisperForConditionalGeneration

    return WhisperForConditionalGeneration.from_pretrained(hf_dir, dtype=torch.float32).eval()


@pytest.fixture(scope="session")
def processor(hf_dir):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(hf_dir)


@pytest.fixture(scope="session")
def ct2_variables(ct2_dir):
    return read_ctranslate2_model(ct2_dir / "model.bin")


@pytest.fixture(scope="session")
def faster_model(ct2_dir):
    faster_whisper = pytest.importorskip("faster_whisper")
    return faster_whisper.WhisperModel(str(ct2_dir), device="cpu", compute_type="float32", cpu_threads=os.cpu_count() or 1)


def speech(path: Path) -> np.ndarray:
    if not path.is_file():
        pytest.skip(f"real recordings not present (expected {path}); they live outside the project")
    from workbench import load_audio

    return load_audio(path).resample(SAMPLE_RATE).mono.astype(np.float32)


def hf_transcribe(model, processor, audio=None, *, features=None, language=None, **kwargs) -> str:
    if features is None:
        features = processor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
    with torch.inference_mode():
        ids = model.generate(
            features, language=language, task="transcribe", return_timestamps=False, num_beams=1, do_sample=False, **kwargs
        )
    return processor.batch_decode(ids, skip_special_tokens=True)[0].strip()


def faster_transcribe(model, audio, language: str) -> str:
    segments, _ = model.transcribe(
        audio,
        beam_size=1,
        language=language,
        task="transcribe",
        without_timestamps=True,
        vad_filter=False,
        condition_on_previous_text=False,
        temperature=0.0,
    )
    return "".join(s.text for s in segments).strip()


def faster_whisper_features(audio: np.ndarray):
    """The log-mel input faster-whisper gives its model: features of the audio alone, zero-padded to 30 s."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.feature_extractor import FeatureExtractor

    features = pad_or_trim(FeatureExtractor(feature_size=80)(audio))
    return torch.from_numpy(np.ascontiguousarray(features[None], dtype=np.float32))


# --------------------------------------------------------------------------
# Reading model.bin
# --------------------------------------------------------------------------


def test_read_ctranslate2_model(ct2_variables):
    spec, revision, variables, aliases = ct2_variables
    assert spec == "WhisperSpec"
    assert revision == 3
    assert aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    assert variables["encoder/conv1/weight"].shape == (512, 80, 3)
    assert variables["decoder/embeddings/weight"].shape == (51865, 512)
    assert variables["decoder/embeddings/weight"].dtype == np.float16
    assert variables["encoder/layer_0/self_attention/linear_0/weight"].shape == (3 * 512, 512)
    assert variables["decoder/layer_0/attention/linear_1/weight"].shape == (2 * 512, 512)
    assert int(variables["encoder/num_heads"]) == 8
    assert sum(a.size * a.itemsize for a in variables.values()) > 0.99 * MODEL_SIZE
    # The key projections have no bias in Whisper; CTranslate2 stores zeros.
    assert not np.any(variables["encoder/layer_0/self_attention/linear_0/bias"][512:1024])
    assert not np.any(variables["decoder/layer_3/attention/linear_1/bias"][:512])


# --------------------------------------------------------------------------
# The converted folder
# --------------------------------------------------------------------------


def test_conversion_writes_the_transformers_layout(hf_dir, conversion):
    names = {p.name for p in hf_dir.iterdir()}
    assert {
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
    } <= names
    assert not [p for p in hf_dir.parent.iterdir() if p != hf_dir], "temporary folders left beside the output"
    assert conversion[1] < 120, f"converting Whisper base took {conversion[1]:.1f} s"


def test_config_comes_from_the_tensors(hf_dir):
    from transformers import WhisperConfig

    config = WhisperConfig.from_pretrained(hf_dir)
    for key, value in BASE.items():
        assert getattr(config, key) == value, key
    assert config.tie_word_embeddings is True
    assert config.activation_function == "gelu"


def test_state_dict_complete_and_tied(hf_dir, hf_model):
    from safetensors import safe_open
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    with torch.device("meta"):
        fresh = WhisperForConditionalGeneration(WhisperConfig.from_pretrained(hf_dir))
    loaded = hf_model.state_dict()
    assert set(fresh.state_dict()) == set(loaded)
    for key, tensor in fresh.state_dict().items():
        assert tuple(loaded[key].shape) == tuple(tensor.shape), key

    assert hf_model.proj_out.weight is hf_model.model.decoder.embed_tokens.weight
    with safe_open(hf_dir / "model.safetensors", framework="pt") as f:
        stored = set(f.keys())
        assert f.get_tensor("model.encoder.conv1.weight").dtype == torch.float32
    assert "proj_out.weight" not in stored, "the tied projection is stored once, as the token embeddings"
    assert stored | {"proj_out.weight"} == set(loaded)


def test_weights_are_the_ctranslate2_weights(hf_model, ct2_variables):
    _, _, variables, _ = ct2_variables
    sd = hf_model.state_dict()

    def same(hf: str, array) -> None:
        np.testing.assert_array_equal(sd[hf].numpy(), np.asarray(array, dtype=np.float32), err_msg=hf)

    qkv = variables["encoder/layer_2/self_attention/linear_0/weight"]
    same("model.encoder.layers.2.self_attn.q_proj.weight", qkv[:512])
    same("model.encoder.layers.2.self_attn.k_proj.weight", qkv[512:1024])
    same("model.encoder.layers.2.self_attn.v_proj.weight", qkv[1024:])
    same("model.encoder.layers.2.self_attn.v_proj.bias", variables["encoder/layer_2/self_attention/linear_0/bias"][1024:])
    kv = variables["decoder/layer_4/attention/linear_1/weight"]
    same("model.decoder.layers.4.encoder_attn.k_proj.weight", kv[:512])
    same("model.decoder.layers.4.encoder_attn.v_proj.weight", kv[512:])
    same("model.decoder.layers.4.encoder_attn.out_proj.weight", variables["decoder/layer_4/attention/linear_2/weight"])
    same("model.decoder.layers.1.fc2.weight", variables["decoder/layer_1/ffn/linear_1/weight"])
    same("model.decoder.layers.5.final_layer_norm.weight", variables["decoder/layer_5/ffn/layer_norm/gamma"])
    same("model.encoder.embed_positions.weight", variables["encoder/position_encodings/encodings"])
    same("model.decoder.layer_norm.bias", variables["decoder/layer_norm/beta"])
    same("proj_out.weight", variables["decoder/embeddings/weight"])


def test_encoder_matches_ctranslate2(hf_model, processor, ct2_dir):
    ctranslate2 = pytest.importorskip("ctranslate2")
    rng = np.random.default_rng(0)
    t = np.arange(8 * SAMPLE_RATE) / SAMPLE_RATE
    audio = (0.3 * np.sin(2 * np.pi * 220 * t * (1 + t / 8)) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    features = processor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features

    model = ctranslate2.models.Whisper(str(ct2_dir), device="cpu", compute_type="float32")
    expected = np.array(model.encode(ctranslate2.StorageView.from_array(features.numpy()), to_cpu=True))
    with torch.inference_mode():
        got = hf_model.model.encoder(features).last_hidden_state.numpy()
    assert got.shape == expected.shape == (1, 1500, 512)
    scale = np.abs(expected).max()
    assert np.abs(got - expected).max() < 1e-3 * scale
    assert np.abs(got - expected).mean() < 1e-5 * scale


def test_generation_config(hf_dir, ct2_dir):
    from transformers import GenerationConfig

    gen = GenerationConfig.from_pretrained(hf_dir)
    ct2 = json.loads((ct2_dir / "config.json").read_text())
    assert gen.lang_to_id["<|en|>"] == EN
    assert gen.lang_to_id["<|zh|>"] == ZH
    assert "<|yue|>" not in gen.lang_to_id, "only large-v3 checkpoints have a Cantonese token"
    assert len(gen.lang_to_id) == len(ct2["lang_ids"]) == 99
    assert sorted(gen.lang_to_id.values()) == ct2["lang_ids"]
    assert gen.task_to_id == {"transcribe": TRANSCRIBE, "translate": TRANSLATE}
    assert gen.task == "transcribe"
    assert gen.no_timestamps_token_id == NO_TIMESTAMPS
    assert gen.prev_sot_token_id == START_OF_PREV
    assert gen.is_multilingual is True
    assert gen.decoder_start_token_id == 50258
    assert gen.suppress_tokens == ct2["suppress_ids"]
    assert gen.begin_suppress_tokens == ct2["suppress_ids_begin"]
    assert gen.alignment_heads == ct2["alignment_heads"]
    assert gen.max_length == 448
    assert gen.max_initial_timestamp_index == 50


def test_processor_loads_offline(processor, hf_dir):
    from transformers import WhisperFeatureExtractor, WhisperProcessor

    assert isinstance(processor, WhisperProcessor)
    fe = WhisperFeatureExtractor.from_pretrained(hf_dir)
    assert fe.feature_size == processor.feature_extractor.feature_size == 80
    assert fe.sampling_rate == SAMPLE_RATE
    tok = processor.tokenizer
    assert len(tok) == 51865
    assert tok.convert_tokens_to_ids(["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]) == [
        50258,
        EN,
        TRANSCRIBE,
        NO_TIMESTAMPS,
    ]
    assert tok.convert_tokens_to_ids(["<|0.00|>", "<|30.00|>"]) == [NO_TIMESTAMPS + 1, 51864]
    assert tok.all_special_ids[-1] == NO_TIMESTAMPS  # transformers puts timestamps after the last special token
    ids = tok("ask not what your country can do for you").input_ids
    assert tok.decode(ids, skip_special_tokens=True) == "ask not what your country can do for you"
    assert tok.decode([NO_TIMESTAMPS + 1, 400, NO_TIMESTAMPS + 51], decode_with_timestamps=True) == "<|0.00|> And<|1.00|>"


# --------------------------------------------------------------------------
# Transcripts: transformers on the converted model vs faster-whisper on the original
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_jfk_transcripts_match(hf_model, processor, faster_model):
    import jiwer

    audio = speech(JFK)
    hf_text = hf_transcribe(hf_model, processor, audio, language="en")
    fw_text = faster_transcribe(faster_model, audio, "en")
    print(f"\ntransformers:   {hf_text!r}\nfaster-whisper: {fw_text!r}")
    assert hf_text == fw_text
    for text in (hf_text, fw_text):
        assert jiwer.wer(" ".join(normalise_words(JFK_REFERENCE)), " ".join(normalise_words(text))) <= 0.1


@pytest.mark.slow
def test_jfk_language_detection_and_timestamps(hf_model, processor):
    audio = speech(JFK)
    features = processor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
    with torch.inference_mode():
        detected = hf_model.detect_language(features).tolist()
        assert detected == [EN]
        # No language given: detection, then the default task (transcribe), not a run-on repetition.
        detected_text = processor.batch_decode(hf_model.generate(features), skip_special_tokens=True)[0].strip()
        stamped = hf_model.generate(features, language="en", return_timestamps=True)
    assert normalise_words(detected_text) == normalise_words(JFK_REFERENCE)
    tokens = stamped[0].tolist()
    timestamps = [t for t in tokens if t > NO_TIMESTAMPS]
    assert timestamps and timestamps[0] == NO_TIMESTAMPS + 1, "the first segment starts at 0.00 s"
    assert 9.0 <= (timestamps[-1] - NO_TIMESTAMPS - 1) * 0.02 <= 12.0, "the speech ends near 11 s"
    text = processor.batch_decode(stamped, skip_special_tokens=True)[0]
    assert normalise_words(text) == normalise_words(JFK_REFERENCE)


@pytest.mark.slow
def test_mandarin_transcripts_match(hf_model, processor, faster_model):
    audio = speech(MANDARIN)
    fw_text = faster_transcribe(faster_model, audio, "zh")
    # Same log-mel input, same text: the converted weights decode exactly like CTranslate2's.
    same_input = hf_transcribe(hf_model, processor, features=faster_whisper_features(audio), language="zh")
    # Each engine with its own front end. faster-whisper zero-pads the log-mel; transformers (like
    # openai/whisper) pads the audio with silence. On this clip that flips one near-tie: a comma or a space.
    hf_text = hf_transcribe(hf_model, processor, audio, language="zh")
    print(
        f"\ntransformers:                {hf_text!r}\ntransformers, fw's features: {same_input!r}\nfaster-whisper:              {fw_text!r}"
    )
    assert same_input == fw_text
    assert without_punctuation(hf_text) == without_punctuation(fw_text)
    try:
        import jiwer
        import opencc
    except ImportError:
        return
    simplified = opencc.OpenCC("t2s").convert(hf_text)
    assert jiwer.cer(without_punctuation(MANDARIN_REFERENCE), without_punctuation(simplified)) <= 0.3


# --------------------------------------------------------------------------
# Round trips through CTranslate2's own converter
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_round_trip_through_ctranslate2_is_exact(hf_dir, ct2_variables, tmp_path):
    converters = pytest.importorskip("ctranslate2.converters")
    out = tmp_path / "round-trip"
    converters.TransformersConverter(str(hf_dir), load_as_float16=True).convert(str(out), quantization="float16")
    _, _, original, _ = ct2_variables
    _, _, again, aliases = read_ctranslate2_model(out / "model.bin")
    assert aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    assert {n for n, a in original.items() if a.ndim} == {n for n, a in again.items() if a.ndim}
    for name, array in original.items():
        np.testing.assert_array_equal(again[name], array, err_msg=name)


@pytest.mark.slow
def test_int8_model_is_dequantized(hf_dir, hf_model, tmp_path):
    converters = pytest.importorskip("ctranslate2.converters")
    int8 = tmp_path / "int8"
    converters.TransformersConverter(str(hf_dir), copy_files=["tokenizer.json"]).convert(str(int8), quantization="int8")
    # Also a config.json without the language list or the start-of-transcript suppressions:
    # languages then come from the tokenizer, suppressions from openai/whisper's default.
    config = json.loads((int8 / "config.json").read_text())
    del config["lang_ids"], config["suppress_ids_begin"]
    (int8 / "config.json").write_text(json.dumps(config))
    out = convert_ctranslate2_to_transformers(int8, tmp_path / "int8-hf", progress=False)
    from safetensors.torch import load_file
    from transformers import GenerationConfig

    gen, original = GenerationConfig.from_pretrained(out), GenerationConfig.from_pretrained(hf_dir)
    assert gen.lang_to_id == original.lang_to_id
    assert gen.begin_suppress_tokens == original.begin_suppress_tokens == [220, 50257]

    weights = load_file(out / "model.safetensors")
    reference = hf_model.state_dict()
    for name in ("model.encoder.conv1.weight", "model.encoder.layers.0.fc1.weight", "model.decoder.embed_tokens.weight"):
        w, ref = weights[name], reference[name]
        # int8 keeps each output row to within half a step of 1/127 of its largest value.
        step = ref.reshape(ref.shape[0], -1).abs().amax(dim=1) / 127
        err = (w - ref).reshape(ref.shape[0], -1).abs().amax(dim=1)
        assert torch.all(err <= 0.51 * step + 1e-6), name


# --------------------------------------------------------------------------
# dtype and atomic writes
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_failed_conversion_leaves_nothing_then_float16_redo(ct2_dir, tmp_path, monkeypatch):
    import safetensors.numpy

    out = tmp_path / "models" / "whisper-base-hf"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.numpy, "save_file", disk_full)
    with pytest.raises(OSError, match="No space left"):
        convert_ctranslate2_to_transformers(ct2_dir, out, progress=False)
    assert not out.exists()
    assert list(out.parent.iterdir()) == [], "no temporary folder left behind"
    monkeypatch.undo()

    # A later call redoes it, here in float16, which is CTranslate2's own storage: bit for bit.
    convert_ctranslate2_to_transformers(ct2_dir, out, dtype="float16", progress=False)
    from safetensors.numpy import load_file
    from transformers import WhisperConfig

    weights = load_file(out / "model.safetensors")
    assert {a.dtype for a in weights.values()} == {np.dtype(np.float16)}
    _, _, variables, _ = read_ctranslate2_model(ct2_dir / "model.bin")
    np.testing.assert_array_equal(weights["model.decoder.embed_tokens.weight"], variables["decoder/embeddings/weight"])
    assert str(WhisperConfig.from_pretrained(out).dtype).endswith("float16")
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]

    # Converting again replaces the previous conversion, still with nothing left beside it.
    stale = out / "stale.txt"
    stale.write_text("from an older conversion")
    convert_ctranslate2_to_transformers(ct2_dir, out, progress=False)
    assert not stale.exists()
    assert load_file(out / "model.safetensors")["model.encoder.conv1.bias"].dtype == np.float32
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_refuses_to_replace_a_folder_that_is_not_a_model(ct2_dir, tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.txt").write_text("precious")
    with pytest.raises(ModelConversionError, match="does not look like a model folder"):
        convert_ctranslate2_to_transformers(ct2_dir, out, progress=False)
    assert (out / "thesis.txt").read_text() == "precious"


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def ct2_copy(ct2_dir: Path, dest: Path, *, skip: tuple[str, ...] = ()) -> Path:
    dest.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        if name not in skip:
            shutil.copyfile(ct2_dir / name, dest / name)
    return dest


def write_model_bin(path: Path, *, version: int = 6, spec: str = "WhisperSpec", variables=()) -> Path:
    def string(s: str) -> bytes:
        raw = s.encode("utf-8") + b"\0"
        return struct.pack("<H", len(raw)) + raw

    data = struct.pack("<I", version) + string(spec) + struct.pack("<I", 1) + struct.pack("<I", len(variables))
    for name, array in variables:
        array = np.ascontiguousarray(array, dtype="<f4")
        data += string(name) + struct.pack("<B", array.ndim) + b"".join(struct.pack("<I", d) for d in array.shape)
        data += struct.pack("<BI", 0, array.nbytes) + array.tobytes()
    data += struct.pack("<I", 0)
    path.write_bytes(data)
    return path


def test_truncated_model_bin(ct2_dir, tmp_path):
    broken = ct2_copy(ct2_dir, tmp_path / "truncated")
    with open(ct2_dir / "model.bin", "rb") as src:
        (broken / "model.bin").write_bytes(src.read(MODEL_SIZE // 3))
    with pytest.raises(ModelConversionError, match="model.bin is truncated or corrupt"):
        read_ctranslate2_model(broken / "model.bin")
    out = tmp_path / "out"
    with pytest.raises(ModelConversionError, match="model.bin is truncated or corrupt") as info:
        convert_ctranslate2_to_transformers(broken, out, progress=False)
    assert isinstance(info.value, WorkbenchError) and isinstance(info.value, ValueError)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truncated"]


def test_missing_tokenizer(ct2_dir, tmp_path):
    incomplete = ct2_copy(ct2_dir, tmp_path / "no-tokenizer", skip=("tokenizer.json",))
    (incomplete / "model.bin").write_bytes(b"")
    with pytest.raises(ModelConversionError, match="tokenizer.json"):
        convert_ctranslate2_to_transformers(incomplete, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_missing_folder(tmp_path):
    with pytest.raises(ModelConversionError, match="no such folder"):
        convert_ctranslate2_to_transformers(tmp_path / "absent", tmp_path / "out")


def test_bad_dtype(ct2_dir, tmp_path):
    with pytest.raises(ModelConversionError, match="float16"):
        convert_ctranslate2_to_transformers(ct2_dir, tmp_path / "out", dtype="int8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x07\x00", "truncated or corrupt"),
        (b"PK\x03\x04" + b"\0" * 64, "format version"),
    ],
)
def test_not_a_model_bin(tmp_path, content, message):
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with pytest.raises(ModelConversionError, match=message):
        read_ctranslate2_model(path)


def test_other_spec_is_refused(ct2_dir, tmp_path):
    folder = ct2_copy(ct2_dir, tmp_path / "transformer")
    write_model_bin(folder / "model.bin", spec="TransformerSpec", variables=[("encoder/layer_norm/gamma", np.ones(4))])
    spec, _, variables, _ = read_ctranslate2_model(folder / "model.bin")
    assert spec == "TransformerSpec" and variables["encoder/layer_norm/gamma"].tolist() == [1.0] * 4
    with pytest.raises(ModelConversionError, match="not Whisper"):
        convert_ctranslate2_to_transformers(folder, tmp_path / "out", progress=False)


def test_unknown_format_version(tmp_path):
    path = write_model_bin(tmp_path / "model.bin", version=99)
    with pytest.raises(ModelConversionError, match="format version 99"):
        read_ctranslate2_model(path)


def test_incomplete_whisper_is_refused(ct2_dir, tmp_path):
    folder = ct2_copy(ct2_dir, tmp_path / "partial")
    write_model_bin(folder / "model.bin", variables=[("encoder/conv1/weight", np.zeros((8, 4, 3)))])
    with pytest.raises(ModelConversionError, match="lacks the variable"):
        convert_ctranslate2_to_transformers(folder, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
