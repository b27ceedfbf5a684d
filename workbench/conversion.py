"""Convert a CTranslate2 (faster-whisper) Whisper model into the Hugging Face transformers layout.

The embedded model ships in CTranslate2 format, which faster-whisper loads
as is. The transformers engine needs the Hugging Face layout instead:
``config.json``, ``generation_config.json``, ``model.safetensors``, the
tokenizer files and ``preprocessor_config.json``. This module reads
CTranslate2's ``model.bin`` directly (no ctranslate2 import needed), maps
every tensor onto ``WhisperForConditionalGeneration``'s state dict, and
writes the result atomically.

The mapping (``N`` is a layer index)::

    encoder/conv1/{weight,bias}                     model.encoder.conv1.{weight,bias}
    encoder/conv2/{weight,bias}                     model.encoder.conv2.{weight,bias}
    encoder/position_encodings/encodings            model.encoder.embed_positions.weight
    encoder/layer_norm/{gamma,beta}                 model.encoder.layer_norm.{weight,bias}
    decoder/embeddings/weight                       model.decoder.embed_tokens.weight
                                                    (proj_out.weight is tied to it)
    decoder/position_encodings/encodings            model.decoder.embed_positions.weight
    decoder/layer_norm/{gamma,beta}                 model.decoder.layer_norm.{weight,bias}

    {enc,dec}oder/layer_N/self_attention/
        layer_norm/{gamma,beta}                     layers.N.self_attn_layer_norm.{weight,bias}
        linear_0 (q, k, v stacked on rows)          layers.N.self_attn.{q,k,v}_proj
        linear_1                                    layers.N.self_attn.out_proj
    decoder/layer_N/attention/
        layer_norm/{gamma,beta}                     layers.N.encoder_attn_layer_norm.{weight,bias}
        linear_0                                    layers.N.encoder_attn.q_proj
        linear_1 (k, v stacked on rows)             layers.N.encoder_attn.{k,v}_proj
        linear_2                                    layers.N.encoder_attn.out_proj
    {enc,dec}oder/layer_N/ffn/
        layer_norm/{gamma,beta}                     layers.N.final_layer_norm.{weight,bias}
        linear_0, linear_1                          layers.N.fc1, layers.N.fc2

Whisper's key projections have no bias. CTranslate2 stores a zero bias for
them; it is dropped (a key bias adds the same amount to every attention
score of a query, so softmax ignores it even when it is not zero).

Examples
--------
>>> from workbench.conversion import convert_ctranslate2_to_transformers
>>> out = convert_ctranslate2_to_transformers("whisper-base-ct2", "whisper-base-hf")  # doctest: +SKIP
>>> from transformers import AutoProcessor, WhisperForConditionalGeneration
>>> model = WhisperForConditionalGeneration.from_pretrained(out)  # doctest: +SKIP
>>> processor = AutoProcessor.from_pretrained(out)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import math
import mmap
import re
import struct
import traceback
from pathlib import Path

import numpy as np

from .constants import HOP_LENGTH, N_FFT, SAMPLE_RATE
from .errors import WorkbenchError
from .io import atomic_folder

#: The spec name CTranslate2 writes for Whisper models.
WHISPER_SPEC = "WhisperSpec"
#: ``model.bin`` format versions with the layout read here (type id and byte count per variable).
SUPPORTED_BINARY_VERSIONS = (4, 5, 6)
#: Files a CTranslate2 Whisper folder must hold for the conversion.
CT2_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
#: CTranslate2's ``DataType`` ids and the NumPy types they are read as
#: (bfloat16 is read as raw uint16 and widened to float32).
CT2_DTYPES = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
    5: np.dtype("<u2"),
}
CT2_BFLOAT16 = 5
#: CTranslate2's ``ActivationType`` id for exact GELU, the activation Whisper uses.
CT2_GELU = 3
#: Output dtypes :func:`convert_ctranslate2_to_transformers` writes.
OUTPUT_DTYPES = {"float32": np.float32, "float16": np.float16}

#: Whisper's audio front end (what WhisperFeatureExtractor needs besides the mel count):
#: SAMPLE_RATE, N_FFT and HOP_LENGTH from :mod:`workbench.constants`, and the window length in seconds.
CHUNK_LENGTH = 30
#: Seconds per timestamp token.
TIME_PRECISION = 0.02
#: Latest first timestamp allowed, in timestamp tokens (1 s, as in openai/whisper).
MAX_INITIAL_TIMESTAMP_INDEX = 50
#: openai/whisper's rule: multilingual checkpoints have at least this many tokens.
MULTILINGUAL_VOCAB_SIZE = 51_865
#: Whisper's special tokens, by role.
END_OF_TEXT = "<|endoftext|>"
START_OF_TRANSCRIPT = "<|startoftranscript|>"
START_OF_PREV = "<|startofprev|>"
NO_TIMESTAMPS = "<|notimestamps|>"
#: A lone space as the byte-level BPE writes it (id 220), suppressed at the start of a transcript.
BLANK = "\u0120"
TASK_TOKENS = {"transcribe": "<|transcribe|>", "translate": "<|translate|>"}
#: The task generate() uses when none is given (openai/whisper's default).
DEFAULT_TASK = "transcribe"
#: A language token: ``<|en|>``, ``<|haw|>``, ``<|yue|>``.
LANGUAGE_TOKEN = re.compile(r"^<\|[a-z]{2,3}\|>$")

SAFETENSORS_NAME = "model.safetensors"
#: What the progress bar shows, one step at a time.
_STEPS = ("read model.bin", "map weights", "tokenizer and configs", "write")
_STRUCT_U8 = struct.Struct("<B")
_STRUCT_U16 = struct.Struct("<H")
_STRUCT_U32 = struct.Struct("<I")


class ModelConversionError(WorkbenchError, ValueError):
    """A CTranslate2 model folder cannot be read or converted.

    ``path`` is the file or folder the problem is about.
    """

    def __init__(self, message: str, path=None):
        super().__init__(message)
        self.path = path


# --------------------------------------------------------------------------
# Reading model.bin
# --------------------------------------------------------------------------


class _Reader:
    """Sequential little-endian reads over a buffer, with EOF turned into a clear error."""

    def __init__(self, buf, path: Path):
        self.buf = buf
        self.size = len(buf)
        self.pos = 0
        self.path = path

    def _need(self, n: int) -> None:
        if self.pos + n > self.size:
            raise ModelConversionError(
                f"{self.path}: model.bin is truncated or corrupt (needs {self.pos + n:,} bytes, "
                f"the file has {self.size:,}); copy or assemble the model again",
                self.path,
            )

    def unpack(self, st: struct.Struct) -> int:
        self._need(st.size)
        (value,) = st.unpack_from(self.buf, self.pos)
        self.pos += st.size
        return value

    def u8(self) -> int:
        return self.unpack(_STRUCT_U8)

    def u32(self) -> int:
        return self.unpack(_STRUCT_U32)

    def string(self) -> str:
        n = self.unpack(_STRUCT_U16)
        self._need(n)
        raw = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        try:
            return raw.rstrip(b"\0").decode("utf-8")
        except UnicodeDecodeError:
            raise ModelConversionError(f"{self.path}: model.bin is truncated or corrupt (a name is not UTF-8)", self.path) from None

    def array(self, dtype: np.dtype, nbytes: int) -> np.ndarray:
        self._need(nbytes)
        arr = np.frombuffer(self.buf, dtype=dtype, count=nbytes // dtype.itemsize, offset=self.pos)
        self.pos += nbytes
        return arr


def read_ctranslate2_model(path) -> tuple[str, int, dict[str, np.ndarray], dict[str, str]]:
    """Read a CTranslate2 ``model.bin`` into NumPy arrays.

    The file is memory-mapped; the arrays are read-only views into it, so
    reading costs no extra memory until a tensor is converted.

    Parameters
    ----------
    path : str or Path
        The ``model.bin`` file.

    Returns
    -------
    spec_name : str
        E.g. ``"WhisperSpec"``.
    revision : int
        The spec revision.
    variables : dict of str to numpy.ndarray
        Every variable by its CTranslate2 name, in its stored type (bfloat16
        is widened to float32). Scalars are 0-d arrays.
    aliases : dict of str to str
        Alias name to the variable it shares, e.g.
        ``{"decoder/projection/weight": "decoder/embeddings/weight"}``.

    Raises
    ------
    ModelConversionError
        The file is missing, empty, of an unknown format version, or
        truncated/corrupt.

    Examples
    --------
    >>> spec, rev, variables, aliases = read_ctranslate2_model("whisper-base-ct2/model.bin")  # doctest: +SKIP
    >>> variables["encoder/conv1/weight"].shape  # doctest: +SKIP
    (512, 80, 3)
    """
    p = Path(path)
    if not p.is_file():
        raise ModelConversionError(f"{p}: no such model file (a CTranslate2 folder holds model.bin)", p)
    size = p.stat().st_size
    if size == 0:
        raise ModelConversionError(f"{p}: model.bin is empty; copy or assemble the model again", p)
    with open(p, "rb") as f:
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _parse(_Reader(buf, p))
    except BaseException as exc:
        # Drop the parser's views so the map (and on Windows the file) can be closed at once.
        traceback.clear_frames(exc.__traceback__)
        with contextlib.suppress(BufferError):
            buf.close()
        raise


def _parse(r: _Reader) -> tuple[str, int, dict[str, np.ndarray], dict[str, str]]:
    p = r.path
    version = r.u32()
    if version not in SUPPORTED_BINARY_VERSIONS:
        raise ModelConversionError(
            f"{p}: not a CTranslate2 model.bin this reader understands (format version {version}, "
            f"supported {', '.join(map(str, SUPPORTED_BINARY_VERSIONS))}); re-convert it with a current ctranslate2",
            p,
        )
    spec_name = r.string()
    revision = r.u32()
    variables: dict[str, np.ndarray] = {}
    for _ in range(r.u32()):
        name = r.string()
        dims = tuple(r.u32() for _ in range(r.u8()))
        type_id = r.u8()
        nbytes = r.u32()
        if type_id not in CT2_DTYPES:
            raise ModelConversionError(f"{p}: model.bin is truncated or corrupt (variable {name!r} has unknown type id {type_id})", p)
        dtype = CT2_DTYPES[type_id]
        if nbytes != math.prod(dims) * dtype.itemsize:
            raise ModelConversionError(
                f"{p}: model.bin is truncated or corrupt (variable {name!r} declares {nbytes} bytes for shape {dims})", p
            )
        arr = r.array(dtype, nbytes).reshape(dims)
        if type_id == CT2_BFLOAT16:
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        variables[name] = arr
    aliases: dict[str, str] = {}
    for _ in range(r.u32()):
        alias = r.string()
        aliases[alias] = r.string()
    if r.pos != r.size:
        raise ModelConversionError(f"{p}: model.bin is corrupt ({r.size - r.pos:,} unexpected bytes after the last entry)", p)
    return spec_name, revision, variables, aliases


# --------------------------------------------------------------------------
# Mapping tensors
# --------------------------------------------------------------------------


def _dequantized(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A weight as floats: int8/int16 weights are divided by their ``*_scale``."""
    arr = variables[name]
    if arr.dtype.kind == "f":
        return arr
    scale = variables.get(f"{name}_scale")
    if scale is None:
        raise ModelConversionError(f"variable {name!r} is stored as {arr.dtype} without a scale; cannot convert it to floats")
    scale = np.asarray(scale, dtype=np.float32)
    if scale.ndim == 1:
        scale = scale.reshape((-1,) + (1,) * (arr.ndim - 1))
    return arr.astype(np.float32) / scale


def _count_layers(variables, prefix: str) -> int:
    found = {int(m.group(1)) for n in variables if (m := re.match(rf"^{prefix}/layer_(\d+)/", n))}
    if not found:
        raise ModelConversionError(f"model.bin has no {prefix} layers; is this a complete Whisper model?")
    if found != set(range(len(found))):
        raise ModelConversionError(f"the model's {prefix} layers are not numbered 0..N-1: {sorted(found)}")
    return len(found)


def _scalar(variables, name: str) -> int:
    if name not in variables:
        raise ModelConversionError(f"model.bin lacks {name!r}; is this a Whisper model?")
    return int(np.asarray(variables[name]).reshape(-1)[0])


def _check_whisper(spec_name: str, variables: dict) -> None:
    if spec_name != WHISPER_SPEC:
        raise ModelConversionError(f"model.bin holds a {spec_name!r} model, not Whisper ({WHISPER_SPEC!r}); only Whisper can be converted")
    expected = {
        "decoder/activation": (CT2_GELU, "GELU activation"),
        "decoder/pre_norm": (1, "pre-norm layers"),
        "decoder/scale_embeddings": (0, "unscaled embeddings"),
        "decoder/alibi": (0, "no ALiBi"),
    }
    for name, (value, meaning) in expected.items():
        if name in variables and _scalar(variables, name) != value:
            raise ModelConversionError(
                f"model.bin's {name} is {_scalar(variables, name)}, Whisper has {meaning}; not a standard Whisper model"
            )


class _WeightMapper:
    """Copies CTranslate2 variables into a transformers state dict, noting which variables it used."""

    def __init__(self, variables: dict[str, np.ndarray], dtype) -> None:
        self.variables = variables
        self.dtype = dtype
        self.used: set[str] = set()
        self.out: dict[str, np.ndarray] = {}

    def get(self, name: str) -> np.ndarray:
        if name not in self.variables:
            raise ModelConversionError(f"model.bin lacks the variable {name!r}; is this a complete Whisper model?")
        self.used.add(name)
        if f"{name}_scale" in self.variables:
            self.used.add(f"{name}_scale")
        return _dequantized(self.variables, name)

    def put(self, hf: str, arr: np.ndarray) -> None:
        # astype copies, so every output tensor owns its memory (safetensors refuses shared storage).
        self.out[hf] = np.ascontiguousarray(arr.astype(self.dtype, copy=True))

    def layer_norm(self, ct2: str, hf: str) -> None:
        self.put(f"{hf}.weight", self.get(f"{ct2}/gamma"))
        self.put(f"{hf}.bias", self.get(f"{ct2}/beta"))

    def linear(self, ct2: str, hf: str, bias: bool = True) -> None:
        self.put(f"{hf}.weight", self.get(f"{ct2}/weight"))
        if bias:
            self.put(f"{hf}.bias", self.get(f"{ct2}/bias"))

    def fused(self, ct2: str, hfs: list[str], biased: list[bool]) -> None:
        """Split a linear layer stacked on its output rows into equal parts."""
        weight, bias = self.get(f"{ct2}/weight"), self.get(f"{ct2}/bias")
        parts = len(hfs)
        if weight.shape[0] % parts or bias.shape[0] != weight.shape[0]:
            raise ModelConversionError(f"{ct2} has shape {weight.shape}, which does not split into {parts} projections")
        for hf, w, b, has_bias in zip(hfs, np.split(weight, parts), np.split(bias, parts), biased, strict=True):
            self.put(f"{hf}.weight", w)
            if has_bias:
                self.put(f"{hf}.bias", b)

    def self_attention(self, ct2: str, hf: str) -> None:
        self.layer_norm(f"{ct2}/self_attention/layer_norm", f"{hf}.self_attn_layer_norm")
        self.fused(
            f"{ct2}/self_attention/linear_0",
            [f"{hf}.self_attn.q_proj", f"{hf}.self_attn.k_proj", f"{hf}.self_attn.v_proj"],
            [True, False, True],
        )
        self.linear(f"{ct2}/self_attention/linear_1", f"{hf}.self_attn.out_proj")

    def cross_attention(self, ct2: str, hf: str) -> None:
        self.layer_norm(f"{ct2}/attention/layer_norm", f"{hf}.encoder_attn_layer_norm")
        self.linear(f"{ct2}/attention/linear_0", f"{hf}.encoder_attn.q_proj")
        self.fused(f"{ct2}/attention/linear_1", [f"{hf}.encoder_attn.k_proj", f"{hf}.encoder_attn.v_proj"], [False, True])
        self.linear(f"{ct2}/attention/linear_2", f"{hf}.encoder_attn.out_proj")

    def ffn(self, ct2: str, hf: str) -> None:
        self.layer_norm(f"{ct2}/ffn/layer_norm", f"{hf}.final_layer_norm")
        self.linear(f"{ct2}/ffn/linear_0", f"{hf}.fc1")
        self.linear(f"{ct2}/ffn/linear_1", f"{hf}.fc2")


def _check_tied_projection(variables: dict[str, np.ndarray], aliases: dict[str, str], used: set[str]) -> None:
    """The output projection must be the token embeddings (Whisper ties them) and have no bias."""
    projection = "decoder/projection/weight"
    if projection in variables:
        if not np.array_equal(variables[projection], variables["decoder/embeddings/weight"]):
            raise ModelConversionError("the model's output projection differs from its token embeddings; Whisper ties them")
        used.add(projection)
    elif aliases.get(projection, "decoder/embeddings/weight") != "decoder/embeddings/weight":
        raise ModelConversionError(f"the model's output projection is an alias of {aliases[projection]!r}, not the token embeddings")
    if "decoder/projection/bias" in variables:
        if np.any(variables["decoder/projection/bias"]):
            raise ModelConversionError("the model's output projection has a bias, which Whisper does not")
        used.add("decoder/projection/bias")


def _whisper_state_dict(variables: dict[str, np.ndarray], aliases: dict[str, str], dtype) -> dict[str, np.ndarray]:
    """CTranslate2 variables mapped to ``WhisperForConditionalGeneration``'s state dict (without ``proj_out``)."""
    m = _WeightMapper(variables, dtype)
    for side in ("encoder", "decoder"):
        m.put(f"model.{side}.embed_positions.weight", m.get(f"{side}/position_encodings/encodings"))
        m.layer_norm(f"{side}/layer_norm", f"model.{side}.layer_norm")
    for conv in ("conv1", "conv2"):
        m.linear(f"encoder/{conv}", f"model.encoder.{conv}")
    m.put("model.decoder.embed_tokens.weight", m.get("decoder/embeddings/weight"))

    for i in range(_count_layers(variables, "encoder")):
        m.self_attention(f"encoder/layer_{i}", f"model.encoder.layers.{i}")
        m.ffn(f"encoder/layer_{i}", f"model.encoder.layers.{i}")
    for i in range(_count_layers(variables, "decoder")):
        ct2, hf = f"decoder/layer_{i}", f"model.decoder.layers.{i}"
        m.self_attention(ct2, hf)
        m.cross_attention(ct2, hf)
        m.ffn(ct2, hf)

    _check_tied_projection(variables, aliases, m.used)
    left = sorted(n for n, a in variables.items() if n not in m.used and a.ndim > 0)
    if left:
        raise ModelConversionError(f"model.bin holds variables the Whisper mapping does not know: {', '.join(left[:8])}")
    return m.out


def _check_state_dict(config, state: dict[str, np.ndarray]) -> None:
    """The mapped tensors must be exactly what ``WhisperForConditionalGeneration(config)`` holds."""
    import torch
    from transformers import WhisperForConditionalGeneration

    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in WhisperForConditionalGeneration(config).state_dict().items()}
    expected.pop("proj_out.weight", None)  # tied to model.decoder.embed_tokens.weight
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k] != state[k].shape)
    if missing or unexpected or wrong:
        details = [f"missing {missing[:5]}" if missing else "", f"unexpected {unexpected[:5]}" if unexpected else ""]
        details += [f"{k}: {state[k].shape} != {expected[k]}" for k in wrong[:5]]
        raise ModelConversionError(
            "the converted weights do not fit WhisperForConditionalGeneration: " + "; ".join(d for d in details if d)
        )


# --------------------------------------------------------------------------
# Configs and tokenizer
# --------------------------------------------------------------------------


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelConversionError(f"{path}: cannot read it as JSON ({exc})", path) from exc


def _added_tokens(tokenizer_json: Path) -> dict[str, tuple[int, bool]]:
    """The tokenizer file's added tokens: content to (id, special)."""
    data = _read_json(tokenizer_json)
    added = data.get("added_tokens")
    if not isinstance(added, list) or "model" not in data:
        raise ModelConversionError(f"{tokenizer_json}: not a Hugging Face tokenizers file (no model or added_tokens)", tokenizer_json)
    return {t["content"]: (int(t["id"]), bool(t.get("special", False))) for t in added}


def _timestamp_tokens(ct2_dir: Path, first_id: int, vocab_size: int) -> list[str]:
    """The timestamp tokens ``<|0.00|>``, ``<|0.02|>``... filling the vocabulary after ``<|notimestamps|>``.

    They follow Whisper's 20 ms rule, checked against ``vocabulary.txt``
    (one token a line, line number = id) when the folder has one.
    """
    count = vocab_size - first_id
    rule = [f"<|{i * TIME_PRECISION:.2f}|>" for i in range(count)]
    vocabulary = ct2_dir / "vocabulary.txt"
    if vocabulary.is_file():
        lines = vocabulary.read_text(encoding="utf-8").splitlines()
        if len(lines) == vocab_size and lines[first_id:] != rule:
            raise ModelConversionError(f"{vocabulary}: tokens after <|notimestamps|> are not Whisper's timestamp tokens", vocabulary)
    return rule


def _build_processor(ct2_dir: Path, max_target_positions: int, num_mel_bins: int, vocab_size: int):
    """A WhisperProcessor built offline from the CTranslate2 folder's tokenizer.json."""
    from tokenizers import AddedToken
    from transformers import (
        WhisperFeatureExtractor,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    tokenizer_json = ct2_dir / "tokenizer.json"
    added = _added_tokens(tokenizer_json)
    for token in (END_OF_TEXT, START_OF_TRANSCRIPT, NO_TIMESTAMPS, *TASK_TOKENS.values()):
        if token not in added:
            raise ModelConversionError(
                f"{tokenizer_json}: lacks Whisper's special token {token}; is it a Whisper tokenizer?", tokenizer_json
            )
    specials = [t for t, (_, special) in sorted(added.items(), key=lambda kv: kv[1][0]) if special and t != END_OF_TEXT]
    tokenizer = WhisperTokenizerFast(
        tokenizer_file=str(tokenizer_json),
        unk_token=END_OF_TEXT,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT,
        pad_token=END_OF_TEXT,
        extra_special_tokens=specials,
        model_max_length=max_target_positions,
    )
    if len(tokenizer) < vocab_size:
        first = added[NO_TIMESTAMPS][0] + 1
        if len(tokenizer) != first:
            raise ModelConversionError(
                f"{tokenizer_json}: has {len(tokenizer)} tokens, the model {vocab_size}; they do not belong together", tokenizer_json
            )
        timestamps = _timestamp_tokens(ct2_dir, first, vocab_size)
        tokenizer.add_tokens([AddedToken(t, lstrip=False, rstrip=False, normalized=False, special=False) for t in timestamps])
    if len(tokenizer) != vocab_size:
        raise ModelConversionError(
            f"{tokenizer_json}: has {len(tokenizer)} tokens, the model {vocab_size}; they do not belong together", tokenizer_json
        )
    features = WhisperFeatureExtractor(
        feature_size=num_mel_bins, sampling_rate=SAMPLE_RATE, hop_length=HOP_LENGTH, chunk_length=CHUNK_LENGTH, n_fft=N_FFT
    )
    return WhisperProcessor(feature_extractor=features, tokenizer=tokenizer), added


def _model_config(variables: dict, ct2_config: dict, added: dict, blank_id: int, dtype: str):
    from transformers import WhisperConfig

    embeddings = variables["decoder/embeddings/weight"]
    conv1 = variables["encoder/conv1/weight"]
    eot = added[END_OF_TEXT][0]
    return WhisperConfig(
        architectures=["WhisperForConditionalGeneration"],
        vocab_size=int(embeddings.shape[0]),
        num_mel_bins=int(conv1.shape[1]),
        d_model=int(conv1.shape[0]),
        encoder_layers=_count_layers(variables, "encoder"),
        decoder_layers=_count_layers(variables, "decoder"),
        encoder_attention_heads=_scalar(variables, "encoder/num_heads"),
        decoder_attention_heads=_scalar(variables, "decoder/num_heads"),
        encoder_ffn_dim=int(variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
        decoder_ffn_dim=int(variables["decoder/layer_0/ffn/linear_0/weight"].shape[0]),
        max_source_positions=int(variables["encoder/position_encodings/encodings"].shape[0]),
        max_target_positions=int(variables["decoder/position_encodings/encodings"].shape[0]),
        activation_function="gelu",
        decoder_start_token_id=added[START_OF_TRANSCRIPT][0],
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        suppress_tokens=[int(i) for i in ct2_config.get("suppress_ids", [])],
        # openai/whisper's default when the folder does not say: no blank and no end of text at the start.
        begin_suppress_tokens=[int(i) for i in ct2_config.get("suppress_ids_begin", [blank_id, eot])],
        scale_embedding=False,
        tie_word_embeddings=True,
        use_cache=True,
        dtype=dtype,
    )


def _language_tokens(ct2_config: dict, added: dict) -> dict[str, int]:
    """``{"<|en|>": 50259, ...}``: CTranslate2's ``lang_ids`` if given, else the tokenizer's language tokens."""
    by_id = {i: t for t, (i, _) in added.items()}
    ids = ct2_config.get("lang_ids")
    if ids:
        unknown = [i for i in ids if not LANGUAGE_TOKEN.match(by_id.get(i, ""))]
        if unknown:
            raise ModelConversionError(f"config.json's lang_ids {unknown[:5]} are not language tokens in tokenizer.json")
        return {by_id[i]: int(i) for i in ids}
    low, high = added[START_OF_TRANSCRIPT][0], added[TASK_TOKENS["translate"]][0]
    return {t: i for t, (i, _) in sorted(added.items(), key=lambda kv: kv[1][0]) if low < i < high and LANGUAGE_TOKEN.match(t)}


def _generation_config(config, ct2_config: dict, added: dict):
    from transformers import GenerationConfig

    multilingual = config.vocab_size >= MULTILINGUAL_VOCAB_SIZE
    fields = {
        "decoder_start_token_id": config.decoder_start_token_id,
        "bos_token_id": config.bos_token_id,
        "eos_token_id": config.eos_token_id,
        "pad_token_id": config.pad_token_id,
        "max_length": config.max_target_positions,
        "suppress_tokens": list(config.suppress_tokens),
        "begin_suppress_tokens": list(config.begin_suppress_tokens),
        "no_timestamps_token_id": added[NO_TIMESTAMPS][0],
        "max_initial_timestamp_index": MAX_INITIAL_TIMESTAMP_INDEX,
        "return_timestamps": False,
        "is_multilingual": multilingual,
    }
    if START_OF_PREV in added:
        fields["prev_sot_token_id"] = added[START_OF_PREV][0]
    if multilingual:
        fields["lang_to_id"] = _language_tokens(ct2_config, added)
        fields["task_to_id"] = {task: added[token][0] for task, token in TASK_TOKENS.items()}
        # Without a task, generate() with language detection would prompt <|sot|><|xx|><|notimestamps|>
        # and leave out <|transcribe|>, which makes Whisper repeat itself.
        fields["task"] = DEFAULT_TASK
    heads = ct2_config.get("alignment_heads")
    if heads:
        fields["alignment_heads"] = [[int(layer), int(head)] for layer, head in heads]
    return GenerationConfig(**fields)


# --------------------------------------------------------------------------
# The conversion
# --------------------------------------------------------------------------


def _check_ct2_dir(ct2_dir: Path) -> None:
    if not ct2_dir.is_dir():
        raise ModelConversionError(f"{ct2_dir}: no such folder (expected a CTranslate2 Whisper model folder)", ct2_dir)
    missing = [name for name in CT2_REQUIRED_FILES if not (ct2_dir / name).is_file()]
    if missing:
        raise ModelConversionError(
            f"{ct2_dir}: missing {', '.join(missing)}; a CTranslate2 Whisper folder holds {', '.join(CT2_REQUIRED_FILES)} "
            "(faster-whisper's model folders have all three; copy the missing file from the model's source)",
            ct2_dir / missing[0],
        )


def _check_out_dir(out_dir: Path, ct2_dir: Path) -> None:
    if out_dir.resolve() == ct2_dir.resolve():
        raise ModelConversionError(f"{out_dir}: the output folder must differ from the CTranslate2 folder", out_dir)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ModelConversionError(f"{out_dir}: exists and is not a folder; choose another output path", out_dir)
        if any(out_dir.iterdir()) and not (out_dir / "config.json").is_file():
            raise ModelConversionError(f"{out_dir}: exists and does not look like a model folder; refusing to replace it", out_dir)


def _save_weights(state: dict[str, np.ndarray], path: Path) -> None:
    from safetensors.numpy import save_file

    save_file(state, str(path), metadata={"format": "pt"})


def convert_ctranslate2_to_transformers(ct2_dir, out_dir, *, dtype: str = "float32", progress: bool | None = None) -> Path:
    """Convert a CTranslate2 Whisper model folder into a Hugging Face transformers folder.

    Everything is built in a temporary folder beside ``out_dir`` and renamed
    into place only when complete, so an interrupted conversion leaves no
    ``out_dir`` behind and the next call starts over. A previous conversion
    at ``out_dir`` is replaced.

    Parameters
    ----------
    ct2_dir : str or Path
        Folder holding ``model.bin``, ``config.json`` and ``tokenizer.json``
        (``vocabulary.txt`` is used to check the timestamp tokens if present).
    out_dir : str or Path
        Where to write ``config.json``, ``generation_config.json``,
        ``model.safetensors``, the tokenizer files and
        ``preprocessor_config.json``.
    dtype : {"float32", "float16"}
        Type of the written weights. CTranslate2's float16 weights convert
        exactly to either.
    progress : bool or None
        Show a tqdm progress bar; ``None`` shows it only on a terminal.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ModelConversionError
        A required file is missing, ``model.bin`` is not a readable Whisper
        model, or the tokenizer does not belong to the model.

    Examples
    --------
    >>> out = convert_ctranslate2_to_transformers("whisper-base-ct2", "whisper-base-hf")  # doctest: +SKIP
    >>> sorted(p.name for p in out.iterdir())  # doctest: +SKIP
    ['config.json', 'generation_config.json', 'model.safetensors', 'preprocessor_config.json', ...]
    """
    from tqdm.auto import tqdm

    if dtype not in OUTPUT_DTYPES:
        raise ModelConversionError(f"dtype must be one of {', '.join(OUTPUT_DTYPES)}, not {dtype!r}")
    ct2_dir, out_dir = Path(ct2_dir), Path(out_dir)
    _check_ct2_dir(ct2_dir)
    _check_out_dir(out_dir, ct2_dir)
    ct2_config = _read_json(ct2_dir / "config.json")

    bar = tqdm(total=len(_STEPS), desc=f"convert {ct2_dir.name}", unit="step", disable=None if progress is None else not progress)
    bar.set_postfix_str(_STEPS[0])

    def done() -> None:
        bar.update()
        if bar.n < len(_STEPS):
            bar.set_postfix_str(_STEPS[bar.n])

    try:
        spec_name, _, variables, aliases = read_ctranslate2_model(ct2_dir / "model.bin")
        _check_whisper(spec_name, variables)
        done()
        state = _whisper_state_dict(variables, aliases, OUTPUT_DTYPES[dtype])
        done()
        processor, added = _build_processor(
            ct2_dir,
            max_target_positions=int(variables["decoder/position_encodings/encodings"].shape[0]),
            num_mel_bins=int(variables["encoder/conv1/weight"].shape[1]),
            vocab_size=int(variables["decoder/embeddings/weight"].shape[0]),
        )
        blank_id = processor.tokenizer.convert_tokens_to_ids(BLANK)
        config = _model_config(variables, ct2_config, added, blank_id, dtype)
        generation = _generation_config(config, ct2_config, added)
        _check_state_dict(config, state)
        del variables, aliases
        done()

        with atomic_folder(out_dir) as tmp:
            config.save_pretrained(tmp)
            generation.save_pretrained(tmp)
            processor.save_pretrained(tmp)
            processor.feature_extractor.save_pretrained(tmp)  # preprocessor_config.json, for loaders that look for it
            _save_weights(state, tmp / SAFETENSORS_NAME)
        done()
    finally:
        bar.close()
    return out_dir
