"""Whisper large-v3's architecture with random weights: throughput and memory only, never a transcription.

The published architecture (32 + 32 layers, d_model 1280, 128 mel bins) is
built without downloading its weights, fed real log-mels of the bundled
clips, and made to decode a fixed number of tokens per 30-second window,
so every run does the same work. Meant for GPUs.
"""

from __future__ import annotations

import time

import numpy as np

from ..audio import SAMPLE_RATE, load_audio
from .measure import BATCH_CLIPS, harness_clips
from .monitor import ResourceMonitor, _cuda_available

RANDOM_LARGE_V3_LABEL = "large-v3 architecture, random weights (not a transcription)"
#: openai/whisper-large-v3's published config.json (the architecture; the weights are not used).
LARGE_V3_CONFIG = {
    "d_model": 1280,
    "encoder_layers": 32,
    "decoder_layers": 32,
    "encoder_attention_heads": 20,
    "decoder_attention_heads": 20,
    "encoder_ffn_dim": 5120,
    "decoder_ffn_dim": 5120,
    "num_mel_bins": 128,
    "vocab_size": 51866,
    "max_source_positions": 1500,
    "max_target_positions": 448,
    "activation_function": "gelu",
    "scale_embedding": False,
    "bos_token_id": 50257,
    "eos_token_id": 50257,
    "pad_token_id": 50256,
    "decoder_start_token_id": 50258,
    "dropout": 0.0,
    "attention_dropout": 0.0,
    "activation_dropout": 0.0,
    "init_std": 0.02,
    "use_cache": True,
}
#: <|startoftranscript|><|en|><|transcribe|><|notimestamps|> in large-v3's vocabulary.
LARGE_V3_PROMPT = (50258, 50259, 50360, 50364)
LARGE_V3_NEW_TOKENS = 64
LARGE_V3_BATCH_SIZES = (1, BATCH_CLIPS)
LARGE_V3_REPEATS = 3
QUICK_LARGE_V3_NEW_TOKENS = 8
#: Seconds of audio in one encoder window.
WINDOW_SECONDS = 30


def random_large_v3(layers: int | None = None, *, device: str = "cpu", dtype: str = "float32", seed: int = 0):
    """``WhisperForConditionalGeneration`` with large-v3's architecture and random weights.

    Parameters
    ----------
    layers : int, optional
        Encoder and decoder layers (default 32, as published); fewer make a
        small stand-in for tests.
    device, dtype : str
    seed : int
        For the random initialisation.

    Returns
    -------
    transformers.WhisperForConditionalGeneration
        In eval mode. Its output is meaningless: use it for throughput and
        memory only (:data:`RANDOM_LARGE_V3_LABEL`).
    """
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    config = dict(LARGE_V3_CONFIG)
    if layers is not None:
        config.update(encoder_layers=layers, decoder_layers=layers)
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(WhisperConfig(**config))
    return model.to(device=device, dtype=_torch_dtype(dtype)).eval()


def _torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def large_v3_log_mels(n: int):
    """``(n, 128, 3000)`` log-mel windows of the bundled clips (cycled), with large-v3's feature extractor settings."""
    from transformers import WhisperFeatureExtractor

    extractor = WhisperFeatureExtractor(feature_size=LARGE_V3_CONFIG["num_mel_bins"])
    audio = [load_audio(p).resample(SAMPLE_RATE).mono.astype(np.float32) for p, _ in harness_clips(n)]
    return extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features


def decode_fixed_tokens(model, features, new_tokens: int):
    """Encode ``features`` and decode exactly ``new_tokens`` tokens greedily, with the key/value cache.

    Returns
    -------
    torch.Tensor
        ``(batch, len(LARGE_V3_PROMPT) + new_tokens)`` token ids (meaningless with random weights).
    """
    import torch
    from transformers.modeling_outputs import BaseModelOutput

    with torch.inference_mode():
        encoded = BaseModelOutput(last_hidden_state=model.get_encoder()(features).last_hidden_state)
        ids = torch.tensor([LARGE_V3_PROMPT] * features.shape[0], device=features.device)
        out = model(encoder_outputs=encoded, decoder_input_ids=ids, use_cache=True)
        tokens = [ids]
        for step in range(new_tokens):
            nxt = out.logits[:, -1:].argmax(-1)
            tokens.append(nxt)
            if step + 1 < new_tokens:
                out = model(encoder_outputs=encoded, decoder_input_ids=nxt, past_key_values=out.past_key_values, use_cache=True)
        return torch.cat(tokens, dim=1)


def bench_random_large_v3(
    *,
    layers: int | None = None,
    device: str | None = None,
    dtype: str | None = None,
    batch_sizes=LARGE_V3_BATCH_SIZES,
    new_tokens: int | None = None,
    quick: bool = False,
    progress: bool = True,
) -> dict:
    """Throughput and memory of large-v3's architecture with random weights (:data:`RANDOM_LARGE_V3_LABEL`).

    Real log-mels of the bundled clips go through the encoder, then exactly
    ``new_tokens`` tokens are decoded greedily per window, so every run does
    the same work whatever the (random) weights say. Meant for GPUs: the
    full model is 1.5 billion parameters.

    Parameters
    ----------
    layers : int, optional
        Encoder and decoder layers (default 32).
    device : str, optional
        Default ``cuda:0`` when available, else ``cpu``.
    dtype : str, optional
        Default float16 on CUDA, float32 on the CPU.
    batch_sizes : iterable of int
        30-second windows decoded together.
    new_tokens : int, optional
        Default :data:`LARGE_V3_NEW_TOKENS` (:data:`QUICK_LARGE_V3_NEW_TOKENS` with ``quick``).
    quick : bool
        One timed run per batch size instead of :data:`LARGE_V3_REPEATS`.

    Returns
    -------
    dict
        ``label``, ``parameters``, ``build_s`` and per batch size
        ``seconds`` (best run: encoder plus ``new_tokens`` decoding steps),
        ``encode_s`` (the encoder alone, timed in its own pass),
        ``decode_s`` (the difference, not below 0),
        ``throughput`` (audio seconds per wall second), ``tokens_per_s``,
        ``peak_gpu_bytes`` / ``peak_rss_bytes``.
    """
    import torch
    from tqdm.auto import tqdm

    device = device or ("cuda:0" if _cuda_available() else "cpu")
    dtype = dtype or ("float16" if device.startswith("cuda") else "float32")
    new_tokens = new_tokens or (QUICK_LARGE_V3_NEW_TOKENS if quick else LARGE_V3_NEW_TOKENS)
    cuda = device.startswith("cuda")

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    t0 = time.perf_counter()
    model = random_large_v3(layers, device=device, dtype=dtype)
    sync()
    build_s = time.perf_counter() - t0
    runs = []
    sizes = list(batch_sizes)
    features = large_v3_log_mels(max(sizes))
    for b in tqdm(sizes, desc="large-v3 architecture (random weights)", disable=not progress):
        x = features[:b].to(device=device, dtype=_torch_dtype(dtype))
        decode_fixed_tokens(model, x, new_tokens)  # warm-up
        encode_s, seconds = [], []
        with ResourceMonitor(gpu="torch" if cuda else None, device_index=torch.device(device).index or 0) as mon:
            for _ in range(1 if quick else LARGE_V3_REPEATS):
                sync()
                t1 = time.perf_counter()
                with torch.inference_mode():
                    model.get_encoder()(x)
                sync()
                t2 = time.perf_counter()
                tokens = decode_fixed_tokens(model, x, new_tokens)
                sync()
                encode_s.append(t2 - t1)
                seconds.append(time.perf_counter() - t2)
        measured = mon.result()
        best = min(seconds)
        runs.append(
            {
                "label": RANDOM_LARGE_V3_LABEL,
                "batch_size": b,
                "new_tokens": new_tokens,
                "output_shape": list(tokens.shape),
                "encode_s": min(encode_s),
                "decode_s": max(0.0, best - min(encode_s)),  # timed apart, the two can cross by noise on a busy machine
                "seconds": best,
                "throughput": b * WINDOW_SECONDS / best,
                "tokens_per_s": b * new_tokens / best,
                "peak_gpu_bytes": measured["peak_gpu_bytes"],
                "peak_rss_bytes": measured["peak_rss_bytes"],
            }
        )
    return {
        "label": RANDOM_LARGE_V3_LABEL,
        "architecture": {**LARGE_V3_CONFIG, **({"encoder_layers": layers, "decoder_layers": layers} if layers is not None else {})},
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": device,
        "dtype": dtype,
        "build_s": build_s,
        "new_tokens": new_tokens,
        "window_seconds": WINDOW_SECONDS,
        "runs": runs,
    }


def format_random_large_v3(r: dict) -> str:
    """One line per batch size, each saying that this is not a transcription."""
    arch = r["architecture"]
    lines = [
        f"{r['label']}: {arch['encoder_layers']}+{arch['decoder_layers']} layers, {r['parameters'] / 1e9:.2f} B parameters, "
        f"{r['dtype']} on {r['device']}, built in {r['build_s']:.1f} s"
    ]
    for b in r["runs"]:
        mem = f"peak GPU {b['peak_gpu_bytes'] / 1e9:.2f} GB" if b["peak_gpu_bytes"] else f"peak RSS {b['peak_rss_bytes'] / 1e9:.2f} GB"
        lines.append(
            f"  [{r['label']}] batch {b['batch_size']} x {r['window_seconds']} s, {b['new_tokens']} tokens each: {b['seconds']:.2f} s "
            f"({b['throughput']:.1f} audio s per s, {b['tokens_per_s']:.0f} tokens/s), {mem}"
        )
    return "\n".join(lines)
