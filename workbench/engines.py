"""The two inference engines: the seed's transformers pipeline, and faster-whisper.

Both take 16 kHz mono float32 and :class:`~workbench.options.TranscriptionOptions`
and return an :class:`EngineOutput`. Loading is separate from transcribing,
so a loaded engine is reused (see :func:`get_engine`).
"""

from __future__ import annotations

import contextlib
import functools
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
#: Windows encoded together in a batch on a CPU: there a bigger encoder batch costs more per window,
#: so clips are encoded one by one and only decoded together (on a GPU the whole batch is encoded at once).
CPU_ENCODER_BATCH = 1


def default_encoder_batch(device: str, batch_size: int) -> int:
    """Windows to encode at once when ``batch_size`` clips are decoded together on ``device``."""
    return batch_size if device.startswith("cuda") else min(batch_size, CPU_ENCODER_BATCH)


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

    def detect_languages(self, clips: list[np.ndarray], batch_size: int = 1) -> list[tuple[str, float]]:
        """:meth:`detect_language` for many clips, ``batch_size`` at a time."""
        import torch

        sot = self.model.generation_config.decoder_start_token_id
        ids = list(self.lang_to_id.values())
        tokens = {i: t.strip("<|>") for t, i in self.lang_to_id.items()}
        found: list[tuple[str, float]] = []
        for start in range(0, len(clips), batch_size):
            part = [c[: int(DETECT_SECONDS * SAMPLE_RATE)] for c in clips[start : start + batch_size]]
            feats = self.processor.feature_extractor(part, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
            feats = feats.to(self.device, dtype=_torch_dtype(self.dtype))
            with torch.inference_mode():
                start_ids = torch.full((len(part), 1), sot, device=self.device)
                logits = self.model(input_features=feats, decoder_input_ids=start_ids).logits[:, -1]
                probs = torch.softmax(logits[:, ids].float(), dim=-1)
            best_p, best = probs.max(dim=-1)
            found += [(tokens[ids[int(b)]], float(p)) for b, p in zip(best, best_p)]
        return found

    def _generate_kwargs(self, opts: TranscriptionOptions, language: str) -> dict:
        generate = {"language": language, "task": opts.task, "num_beams": opts.beam_size}
        if opts.temperature > 0:
            generate.update(do_sample=True, temperature=opts.temperature)
        if opts.max_new_tokens:
            generate["max_new_tokens"] = opts.max_new_tokens
        if opts.initial_prompt:
            import torch

            generate["prompt_ids"] = torch.tensor(self.processor.get_prompt_ids(opts.initial_prompt), device=self.device)
        return generate

    @staticmethod
    def _output(out: dict, duration: float, opts: TranscriptionOptions, language: str, prob: float | None) -> EngineOutput:
        chunks = (out.get("chunks") or []) if opts.timestamps != "none" else []
        if opts.timestamps == "word" and chunks:
            words = [Word(c["timestamp"][0], c["timestamp"][1], c["text"]) for c in chunks]
            segments = [Segment(words[0].start, words[-1].end if words[-1].end is not None else duration, out["text"], words)]
        elif chunks:
            segments = [Segment(c["timestamp"][0], c["timestamp"][1], c["text"]) for c in chunks]
        else:
            segments = [Segment(0.0, duration, out["text"])]
        return EngineOutput(out["text"].strip(), segments, language, prob)

    def transcribe(self, audio: np.ndarray, opts: TranscriptionOptions) -> EngineOutput:
        language, prob = opts.language, None
        if language is None:
            language, prob = self.detect_language(audio)
        long = len(audio) > opts.chunk_length_s * SAMPLE_RATE
        timestamps = _PIPELINE_TIMESTAMPS[opts.timestamps]
        if long and timestamps is False:
            timestamps = True  # chunked long-form decoding needs timestamps to stitch windows; they are dropped below
        kwargs = {"batch_size": opts.batch_size, "return_timestamps": timestamps, "generate_kwargs": self._generate_kwargs(opts, language)}
        if long:
            kwargs["chunk_length_s"] = opts.chunk_length_s
        out = self.pipe({"raw": audio, "sampling_rate": SAMPLE_RATE}, **kwargs)
        return self._output(out, len(audio) / SAMPLE_RATE, opts, language, prob)

    def transcribe_many(self, clips: list[np.ndarray], opts: TranscriptionOptions, languages=None, encoder_batch: int | None = None) -> list[EngineOutput]:
        """Transcribe many clips, ``opts.batch_size`` at a time through the pipeline.

        Clips up to ``opts.chunk_length_s`` long are decoded together, one
        language per pipeline call (clips are grouped by language). Longer
        clips are transcribed one by one with :meth:`transcribe`.

        Parameters
        ----------
        clips : list of numpy.ndarray
            16 kHz mono float32.
        opts : TranscriptionOptions
        languages : list of (str or None), optional
            One per clip; None (or no list) means ``opts.language``, and
            where that is None too the clip's language is detected (batched).
        encoder_batch : int, optional
            Windows the encoder runs at once within a batch (default
            :func:`default_encoder_batch`); the decoder always runs the
            whole batch.

        Returns
        -------
        list of EngineOutput
            In the order of ``clips``.
        """
        outputs: list[EngineOutput | None] = [None] * len(clips)
        short, long = _split_by_length(clips, opts.chunk_length_s)
        for i in long:
            outputs[i] = self.transcribe(clips[i], _clip_options(opts, languages, i))
        encoder_batch = encoder_batch or default_encoder_batch(self.device, opts.batch_size)
        with _torch_encoder_in_pieces(self.model, encoder_batch):
            for language, prob_of, members in _language_groups(self, clips, short, opts, languages):
                batch = [{"raw": clips[i], "sampling_rate": SAMPLE_RATE} for i in members]
                outs = self.pipe(batch, batch_size=opts.batch_size, return_timestamps=_PIPELINE_TIMESTAMPS[opts.timestamps], generate_kwargs=self._generate_kwargs(opts, language))
                for i, out in zip(members, outs):
                    outputs[i] = self._output(out, len(clips[i]) / SAMPLE_RATE, opts, language, prob_of.get(i))
        return outputs


#: ``TranscriptionOptions.timestamps`` as the transformers pipeline's ``return_timestamps``.
_PIPELINE_TIMESTAMPS = {"none": False, "segment": True, "word": "word"}


@contextlib.contextmanager
def _torch_encoder_in_pieces(model, size: int):
    """While inside, ``model``'s encoder runs at most ``size`` windows at a time and concatenates the results."""
    from transformers.modeling_outputs import BaseModelOutput

    encoder = model.get_encoder()
    original = encoder.forward

    def forward(input_features, *args, **kwargs):
        if input_features.shape[0] <= size:
            return original(input_features, *args, **kwargs)
        import torch

        parts = [original(input_features[i : i + size], *args, **kwargs) for i in range(0, input_features.shape[0], size)]
        return BaseModelOutput(last_hidden_state=torch.cat([p.last_hidden_state for p in parts]))

    own = vars(encoder).get("forward")  # set on the instance by someone else (e.g. a hook), or None
    encoder.forward = forward
    try:
        yield
    finally:
        if own is None:
            del encoder.forward  # back to the class's method
        else:
            encoder.forward = own


def _split_by_length(clips: list[np.ndarray], chunk_length_s: float) -> tuple[list[int], list[int]]:
    """Indices of the clips that fit one decoding window, and of the longer ones."""
    limit = chunk_length_s * SAMPLE_RATE
    short = [i for i, c in enumerate(clips) if len(c) <= limit]
    return short, [i for i, c in enumerate(clips) if len(c) > limit]


def _clip_options(opts: TranscriptionOptions, languages, i: int) -> TranscriptionOptions:
    """``opts`` with clip ``i``'s own language, when ``languages`` gives one."""
    if languages is not None and languages[i] is not None:
        return opts.with_(language=languages[i])
    return opts


def _language_groups(engine, clips: list[np.ndarray], members: list[int], opts: TranscriptionOptions, languages=None):
    """``(language, {index: probability}, indices)`` per language to decode ``members`` in.

    A clip's language is ``languages[i]``, else ``opts.language``, else
    detected (``opts.batch_size`` clips per encoder pass; only detected
    clips get a probability). Groups come in first-seen order.
    """
    wanted = {i: (languages[i] if languages is not None and languages[i] is not None else opts.language) for i in members}
    unknown = [i for i in members if wanted[i] is None]
    probs: dict[int, float] = {}
    if unknown:
        for i, (language, prob) in zip(unknown, engine.detect_languages([clips[i] for i in unknown], opts.batch_size)):
            wanted[i], probs[i] = language, prob
    groups: dict[str, list[int]] = {}
    for i in members:
        groups.setdefault(wanted[i], []).append(i)
    return [(language, {i: probs[i] for i in idx if i in probs}, idx) for language, idx in groups.items()]


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

    def detect_languages(self, clips: list[np.ndarray], batch_size: int = 1) -> list[tuple[str, float]]:
        """:meth:`detect_language` for many clips, ``batch_size`` at a time."""
        from faster_whisper.audio import pad_or_trim

        extract = self.model.feature_extractor
        model = _EncoderInPieces(self.model, default_encoder_batch(self.device, batch_size))
        found: list[tuple[str, float]] = []
        for start in range(0, len(clips), batch_size):
            feats = np.stack([pad_or_trim(extract(c[: int(DETECT_SECONDS * SAMPLE_RATE)])) for c in clips[start : start + batch_size]])
            for ranked in self.model.model.detect_language(model.encode(feats)):
                token, prob = ranked[0]
                found.append((token.strip("<|>"), float(prob)))
        return found

    def transcribe_many(self, clips: list[np.ndarray], opts: TranscriptionOptions, languages=None, encoder_batch: int | None = None) -> list[EngineOutput]:
        """Transcribe many clips with ``BatchedInferencePipeline``, ``opts.batch_size`` at a time.

        The clips are laid end to end in one array, each starting on a fresh
        mel frame, and ``clip_timestamps`` marks each one as its own window,
        so each is decoded as it would be on its own, only together.
        Segments are mapped back to their clip and their times made relative
        to it; windows the per-file decoder would judge silent are dropped
        here too. Clips longer than ``opts.chunk_length_s`` (at most 30 s)
        are transcribed one by one with :meth:`transcribe`. One language per
        pipeline call (clips are grouped by language).

        Parameters
        ----------
        clips : list of numpy.ndarray
            16 kHz mono float32.
        opts : TranscriptionOptions
        languages : list of (str or None), optional
            One per clip; None (or no list) means ``opts.language``, and
            where that is None too the clip's language is detected (batched).
        encoder_batch : int, optional
            Windows the encoder runs at once within a batch (default
            :func:`default_encoder_batch`); the decoder always runs the
            whole batch.

        Returns
        -------
        list of EngineOutput
            In the order of ``clips``.

        Notes
        -----
        ``BatchedInferencePipeline`` lets the first timestamp of a window be
        0 s only (the per-file decoder allows up to 1 s), so segment times
        may differ slightly; with ``timestamps="none"`` there is no such
        difference.
        """
        from faster_whisper import BatchedInferencePipeline

        outputs: list[EngineOutput | None] = [None] * len(clips)
        short, long = _split_by_length(clips, opts.chunk_length_s)
        for i in long:
            outputs[i] = self.transcribe(clips[i], _clip_options(opts, languages, i))
        pipeline = BatchedInferencePipeline(_EncoderInPieces(self.model, encoder_batch or default_encoder_batch(self.device, opts.batch_size)))
        hop = self.model.feature_extractor.hop_length
        fps = self.model.frames_per_second
        for language, prob_of, members in _language_groups(self, clips, short, opts, languages):
            # each clip starts on its own mel frame, a frame of silence after the previous one
            slots = [(math.ceil(len(clips[i]) / hop) + 1) * hop for i in members]
            starts = np.concatenate([[0], np.cumsum(slots)[:-1]]).astype(int)
            audio = np.zeros(int(sum(slots)), np.float32)
            for i, s0 in zip(members, starts):
                audio[s0 : s0 + len(clips[i])] = clips[i]
            # half a sample past each boundary: faster-whisper truncates seconds * rate to an int
            windows = [{"start": (s0 + _HALF_SAMPLE) / SAMPLE_RATE, "end": (s0 + len(clips[i]) + _HALF_SAMPLE) / SAMPLE_RATE} for i, s0 in zip(members, starts)]
            # faster-whisper labels each segment with int(window start / rate * frames per second); computed the same way here
            by_seek = {int(int(w["start"] * SAMPLE_RATE) / SAMPLE_RATE * fps): (i, float(s0) / SAMPLE_RATE) for i, s0, w in zip(members, starts, windows)}
            segs, _ = pipeline.transcribe(
                audio,
                language=language,
                task=opts.task,
                beam_size=opts.beam_size,
                temperature=opts.temperature,
                initial_prompt=opts.initial_prompt,
                word_timestamps=opts.timestamps == "word",
                max_new_tokens=opts.max_new_tokens,
                clip_timestamps=windows,
                batch_size=opts.batch_size,
                without_timestamps=opts.timestamps == "none",
                vad_filter=False,
            )
            per_clip: dict[int, list[Segment]] = {i: [] for i in members}
            for s in segs:
                if _judged_silent(s):
                    continue
                i, offset = by_seek[s.seek]
                words = [Word(max(0.0, w.start - offset), max(0.0, w.end - offset), w.word, w.probability) for w in (s.words or [])]
                per_clip[i].append(Segment(max(0.0, round(s.start - offset, 3)), max(0.0, round(s.end - offset, 3)), s.text, words))
            for i in members:
                text = "".join(s.text for s in per_clip[i]).strip()
                outputs[i] = EngineOutput(text, per_clip[i], language, prob_of.get(i))
        return outputs


#: Added to a clip boundary, in samples, so that seconds * rate truncates back to it.
_HALF_SAMPLE = 0.5


class _EncoderInPieces:
    """A faster-whisper ``WhisperModel`` whose ``encode`` runs at most ``size`` windows at a time.

    Everything else is the model's own. The pieces are joined on the host,
    so ``size`` below the batch is for CPU models.
    """

    def __init__(self, model, size: int):
        self._model, self._size = model, max(1, int(size))

    def __getattr__(self, name):
        return getattr(self._model, name)

    def encode(self, features: np.ndarray):
        if features.ndim == 2 or len(features) <= self._size:
            return self._model.encode(features)
        import ctranslate2

        parts = [np.asarray(self._model.encode(features[i : i + self._size])) for i in range(0, len(features), self._size)]
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(np.concatenate(parts)))


def _judged_silent(segment) -> bool:
    """The per-file decoder's rule for a window with no speech, which ``BatchedInferencePipeline`` does not apply.

    ``WhisperModel.transcribe`` drops a window whose no-speech probability
    is above ``no_speech_threshold`` unless its average log-probability is
    above ``log_prob_threshold``; the same rule, with the same defaults,
    keeps batched and per-file transcripts alike.
    """
    no_speech, log_prob = _no_speech_thresholds()
    if no_speech is None or segment.no_speech_prob <= no_speech:
        return False
    return log_prob is None or segment.avg_logprob <= log_prob


@functools.cache
def _no_speech_thresholds() -> tuple[float | None, float | None]:
    """``WhisperModel.transcribe``'s defaults for ``no_speech_threshold`` and ``log_prob_threshold``."""
    import inspect

    from faster_whisper import WhisperModel

    defaults = inspect.signature(WhisperModel.transcribe).parameters
    return defaults["no_speech_threshold"].default, defaults["log_prob_threshold"].default


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
