"""The two inference engines: the seed's transformers pipeline, and faster-whisper.

Both take 16 kHz mono float32 and :class:`~workbench.options.TranscriptionOptions`
and return an :class:`EngineOutput`. Loading is separate from transcribing,
so a loaded engine is reused (see :func:`get_engine`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .audio import SAMPLE_RATE
from .errors import WorkbenchError
from .models import ModelRef
from .options import TranscriptionOptions

#: Seconds of audio used to detect the language (one Whisper window).
DETECT_SECONDS = 30.0


class EngineError(WorkbenchError):
    """An engine cannot be loaded or cannot run with these settings."""


class LanguageNotSupportedError(EngineError, ValueError):
    """The loaded model has no token for the requested language."""


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass
class Segment:
    """A stretch of transcript with its times in seconds."""

    start: float | None
    end: float | None
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class EngineOutput:
    text: str
    segments: list[Segment]
    language: str | None
    language_probability: float | None


def _torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


class TransformersEngine:
    """The seed's path: ``AutoModelForSpeechSeq2Seq`` + ``AutoProcessor`` + ``pipeline``.

    Loaded from safetensors only, with ``low_cpu_mem_usage=True`` and never
    with ``trust_remote_code``.
    """

    name = "transformers"

    def __init__(self, model: ModelRef, device: str, dtype: str):
        import torch
        from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor, pipeline

        self.model_ref, self.device, self.dtype = model, device, dtype
        try:
            self.model = AutoModelForSpeechSeq2Seq.from_pretrained(
                str(model.path), dtype=_torch_dtype(dtype), low_cpu_mem_usage=True, use_safetensors=True, trust_remote_code=False
            )
            self.processor = AutoProcessor.from_pretrained(str(model.path), trust_remote_code=False)
        except (OSError, ValueError) as exc:
            raise EngineError(f"transformers could not load the model in {model.path}: {str(exc).splitlines()[0]}") from exc
        self.model.to(device)
        self.model.eval()
        self.pipe = pipeline(
            "automatic-speech-recognition",
            model=self.model,
            tokenizer=self.processor.tokenizer,
            feature_extractor=self.processor.feature_extractor,
            dtype=_torch_dtype(dtype),
            device=torch.device(device),
        )
        gen = self.model.generation_config
        self.lang_to_id: dict[str, int] = dict(getattr(gen, "lang_to_id", None) or {})

    # -- capabilities --------------------------------------------------------
    def languages(self) -> set[str]:
        return {tok.strip("<|>") for tok in self.lang_to_id}

    def version(self) -> str:
        import transformers

        return f"transformers {transformers.__version__}"

    # -- work ----------------------------------------------------------------
    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """Most likely language and its probability, from the first 30 s, as Whisper does it."""
        import torch

        feats = self.processor.feature_extractor(audio[: int(DETECT_SECONDS * SAMPLE_RATE)], sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        feats = feats.to(self.device, dtype=_torch_dtype(self.dtype))
        sot = self.model.generation_config.decoder_start_token_id
        ids = list(self.lang_to_id.values())
        with torch.inference_mode():
            logits = self.model(input_features=feats, decoder_input_ids=torch.tensor([[sot]], device=self.device)).logits[0, -1]
            probs = torch.softmax(logits[ids].float(), dim=-1)
        best = int(torch.argmax(probs))
        token = [t for t, i in self.lang_to_id.items() if i == ids[best]][0]
        return token.strip("<|>"), float(probs[best])

    def transcribe(self, audio: np.ndarray, opts: TranscriptionOptions) -> EngineOutput:
        language, prob = opts.language, None
        if language is None:
            language, prob = self.detect_language(audio)
        generate = {"language": language, "task": opts.task, "num_beams": opts.beam_size}
        if opts.temperature > 0:
            generate.update(do_sample=True, temperature=opts.temperature)
        if opts.max_new_tokens:
            generate["max_new_tokens"] = opts.max_new_tokens
        if opts.initial_prompt:
            import torch

            generate["prompt_ids"] = torch.tensor(self.processor.get_prompt_ids(opts.initial_prompt), device=self.device)
        long = len(audio) > opts.chunk_length_s * SAMPLE_RATE
        timestamps = {"none": False, "segment": True, "word": "word"}[opts.timestamps]
        if long and timestamps is False:
            timestamps = True  # chunked long-form decoding needs timestamps to stitch windows; they are dropped below
        kwargs = {"batch_size": opts.batch_size, "return_timestamps": timestamps, "generate_kwargs": generate}
        if long:
            kwargs["chunk_length_s"] = opts.chunk_length_s
        out = self.pipe({"raw": audio, "sampling_rate": SAMPLE_RATE}, **kwargs)
        duration = len(audio) / SAMPLE_RATE
        chunks = (out.get("chunks") or []) if opts.timestamps != "none" else []
        if opts.timestamps == "word" and chunks:
            words = [Word(c["timestamp"][0], c["timestamp"][1], c["text"]) for c in chunks]
            segments = [Segment(words[0].start, words[-1].end if words[-1].end is not None else duration, out["text"], words)]
        elif chunks:
            segments = [Segment(c["timestamp"][0], c["timestamp"][1], c["text"]) for c in chunks]
        else:
            segments = [Segment(0.0, duration, out["text"])]
        return EngineOutput(out["text"].strip(), segments, language, prob)


class FasterWhisperEngine:
    """faster-whisper (CTranslate2) with the same options, mapped one to one."""

    name = "faster-whisper"

    def __init__(self, model: ModelRef, device: str, compute_type: str):
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise EngineError("the faster-whisper engine needs the faster-whisper package: pip install faster-whisper") from exc
        self.model_ref, self.device, self.compute_type = model, device, compute_type
        dev, _, index = device.partition(":")
        try:
            self.model = WhisperModel(str(model.path), device=dev, device_index=int(index or 0), compute_type=compute_type, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as exc:
            raise EngineError(f"faster-whisper could not load the model in {model.path} ({compute_type} on {device}): {str(exc).splitlines()[0]}") from exc
        self.dtype = compute_type

    def languages(self) -> set[str]:
        tok = self.model.hf_tokenizer
        return {code for code in self.model.supported_languages if tok.token_to_id(f"<|{code}|>") is not None}

    def version(self) -> str:
        import ctranslate2
        import faster_whisper

        return f"faster-whisper {faster_whisper.__version__} (ctranslate2 {ctranslate2.__version__})"

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        language, prob, _ = self.model.detect_language(audio[: int(DETECT_SECONDS * SAMPLE_RATE)])
        return language, float(prob)

    def transcribe(self, audio: np.ndarray, opts: TranscriptionOptions, progress=None) -> EngineOutput:
        common = dict(
            language=opts.language,
            task=opts.task,
            beam_size=opts.beam_size,
            temperature=opts.temperature,
            initial_prompt=opts.initial_prompt,
            word_timestamps=opts.timestamps == "word",
            max_new_tokens=opts.max_new_tokens,
            chunk_length=int(opts.chunk_length_s),
            vad_filter=False,
        )
        if opts.batch_size > 1:
            from faster_whisper import BatchedInferencePipeline

            duration = len(audio) / SAMPLE_RATE
            windows = [{"start": s, "end": min(s + opts.chunk_length_s, duration)} for s in np.arange(0, duration, opts.chunk_length_s)]
            segs, info = BatchedInferencePipeline(self.model).transcribe(
                audio, batch_size=opts.batch_size, clip_timestamps=windows, without_timestamps=opts.timestamps == "none", **common
            )
        else:
            segs, info = self.model.transcribe(audio, without_timestamps=opts.timestamps == "none", condition_on_previous_text=True, **common)
        segments = []
        for s in segs:
            words = [Word(w.start, w.end, w.word, w.probability) for w in (s.words or [])]
            segments.append(Segment(s.start, s.end, s.text, words))
            if progress is not None:
                progress(min(s.end, len(audio) / SAMPLE_RATE))
        text = "".join(s.text for s in segments).strip()
        return EngineOutput(text, segments, info.language, float(info.language_probability) if opts.language is None else None)


# --------------------------------------------------------------------------
# Loaded-engine cache
# --------------------------------------------------------------------------

_LOADED: dict[tuple, object] = {}


def get_engine(engine: str, model: ModelRef, device: str, precision: str):
    """A loaded engine, reused for the same (model, engine, device, dtype) in this process.

    Returns ``(engine, load_seconds)``; ``load_seconds`` is 0 for a reused one.
    """
    key = (model.source, model.name, str(model.path), engine, device, precision)
    if key in _LOADED:
        return _LOADED[key], 0.0
    t0 = time.perf_counter()
    if engine == "transformers":
        loaded = TransformersEngine(model, device, precision)
    elif engine == "faster-whisper":
        loaded = FasterWhisperEngine(model, device, precision)
    else:
        raise EngineError(f"unknown engine {engine!r}; choose 'transformers' or 'faster-whisper'")
    _LOADED[key] = loaded
    return loaded, time.perf_counter() - t0


def clear_engines() -> None:
    """Forget every loaded engine (frees their memory once nothing else holds them)."""
    _LOADED.clear()
    import gc

    gc.collect()


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA out-of-memory and for the CPU allocator running out."""
    try:
        import torch

        if isinstance(exc, torch.cuda.OutOfMemoryError):
            return True
    except ImportError:  # pragma: no cover
        pass
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text or "cannot allocate memory" in text


def real_time_factor(seconds: float, audio_seconds: float) -> float:
    """Processing time divided by audio duration (below 1 is faster than real time)."""
    return seconds / audio_seconds if audio_seconds > 0 else math.inf
