"""The seed's path: the transformers ``pipeline`` over ``AutoModelForSpeechSeq2Seq``."""

import contextlib
import logging

import numpy as np

from ..constants import SAMPLE_RATE
from ..errors import first_line
from ..models import ModelRef
from ..options import TRANSFORMERS, TranscriptionOptions, check_engine_options
from .common import (
    DETECT_SECONDS,
    MAX_PROMPT_TOKENS,
    EngineError,
    EngineOutput,
    Segment,
    Word,
    _clip_options,
    _language_groups,
    _seed_torch,
    _split_by_length,
    _torch_dtype,
    default_encoder_batch,
    is_out_of_memory,
    prompt_note,
    token_cap,
)


class TransformersEngine:
    """The seed's path: ``AutoModelForSpeechSeq2Seq`` + ``AutoProcessor`` + ``pipeline``.

    Loaded from safetensors only, with ``low_cpu_mem_usage=True`` and never
    with ``trust_remote_code``.
    """

    name = TRANSFORMERS

    def __init__(self, model: ModelRef, device: str, dtype: str):
        import torch
        from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor, pipeline

        self.model_ref, self.device, self.dtype = model, device, dtype
        try:
            with _no_loading_bars():
                self.model = AutoModelForSpeechSeq2Seq.from_pretrained(
                    str(model.path), dtype=_torch_dtype(dtype), low_cpu_mem_usage=True, use_safetensors=True, trust_remote_code=False
                )
                self.processor = AutoProcessor.from_pretrained(str(model.path), trust_remote_code=False)
        except Exception as exc:  # noqa: BLE001 - safetensors and tokenizers raise their own errors for damaged files
            if is_out_of_memory(exc):  # the caller's memory recovery handles it
                raise
            raise EngineError(f"transformers could not load the model in {model.path}: {first_line(exc, with_type=True)}") from exc
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
        _quiet_library_notices()

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

        feats = self.processor.feature_extractor(
            audio[: int(DETECT_SECONDS * SAMPLE_RATE)], sampling_rate=SAMPLE_RATE, return_tensors="pt"
        ).input_features
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
            found += [(tokens[ids[int(b)]], float(p)) for b, p in zip(best, best_p, strict=True)]
        return found

    def _prompt_ids(self, opts: TranscriptionOptions, notes: list[str]):
        """``opts.initial_prompt`` as ``generate()``'s ``prompt_ids``, cut to its last tokens as faster-whisper cuts it; and its length.

        Whisper's decoder keeps at most :data:`MAX_PROMPT_TOKENS` prompt
        tokens; transformers refuses a longer prompt outright, faster-whisper
        keeps the last ones. Here the last ones are kept too, and that is
        said in ``notes`` (and as a warning).
        """
        if not opts.initial_prompt:
            return None, 0
        import torch

        ids = np.asarray(self.processor.get_prompt_ids(opts.initial_prompt))  # <|startofprev|> and the prompt's tokens
        if len(ids) - 1 > MAX_PROMPT_TOKENS:
            kept = ids[-MAX_PROMPT_TOKENS:]
            prompt_note(len(ids) - 1, self.processor.tokenizer.decode(kept.tolist()), notes)
            ids = np.concatenate([ids[:1], kept])
        return torch.tensor(ids, device=self.device), len(ids) - 1

    def _generate_kwargs(self, opts: TranscriptionOptions, language: str, window_seconds: float, notes: list[str]) -> dict:
        """``generate()`` arguments; Whisper's own generate applies the safeguards to every window, short clips included.

        Each temperature above 0 samples (one sample, with ``num_beams=1``);
        ``no_speech_threshold`` only works together with ``logprob_threshold``
        there, so without a log-prob threshold it is left out (see
        :func:`transformers_safeguard_notes`). ``max_new_tokens`` is
        :func:`~workbench.engines.common.token_cap` for windows of
        ``window_seconds`` of audio (the longest in the call).
        """
        check_engine_options(self.name, opts)
        generate = {
            "language": language,
            "task": opts.task,
            "num_beams": opts.beam_size,
            "temperature": opts.temperatures,
            "condition_on_prev_tokens": opts.condition_on_previous_text,
        }
        if opts.compression_ratio_threshold is not None:
            generate["compression_ratio_threshold"] = opts.compression_ratio_threshold
        if opts.log_prob_threshold is not None:
            generate["logprob_threshold"] = opts.log_prob_threshold
            if opts.no_speech_threshold is not None:
                generate["no_speech_threshold"] = opts.no_speech_threshold
        prompt_ids, prompt_tokens = self._prompt_ids(opts, notes)
        if prompt_ids is not None:
            generate["prompt_ids"] = prompt_ids
        generate["max_new_tokens"] = token_cap(window_seconds, opts, prompt_tokens, notes)
        return generate

    @staticmethod
    def _output(
        out: dict, duration: float, opts: TranscriptionOptions, language: str, prob: float | None, generate: dict, notes
    ) -> EngineOutput:
        chunks = (out.get("chunks") or []) if opts.timestamps != "none" else []
        if opts.timestamps == "word" and chunks:
            words = [Word(c["timestamp"][0], c["timestamp"][1], c["text"]) for c in chunks]
            segments = [Segment(words[0].start, words[-1].end if words[-1].end is not None else duration, out["text"], words)]
        elif chunks:
            segments = [Segment(c["timestamp"][0], c["timestamp"][1], c["text"]) for c in chunks]
        else:
            segments = [Segment(0.0, duration, out["text"])]
        notes = [*notes, *transformers_safeguard_notes(opts)]
        return EngineOutput(out["text"].strip(), segments, language, prob, notes, generate["max_new_tokens"])

    def transcribe(self, audio: np.ndarray, opts: TranscriptionOptions, progress=None, on_segment=None) -> EngineOutput:
        """Transcribe ``audio`` with the pipeline: one window, or overlapping ``chunk_length_s`` chunks stitched together.

        ``progress`` is called with the seconds of audio done after each
        generate() call over chunks; ``on_segment`` with each
        :class:`Segment` once the pipeline has stitched them (it joins the
        chunks only at the end).
        """
        with _encoder_once_per_window(self.model):  # detection, generation and the no-speech check share one encoding
            return self._transcribe(audio, opts, progress, on_segment)

    def _transcribe(self, audio: np.ndarray, opts: TranscriptionOptions, progress, on_segment) -> EngineOutput:
        _seed_torch(opts.seed)
        check_engine_options(self.name, opts)
        language, prob = opts.language, None
        if language is None:
            language, prob = self.detect_language(audio)
        duration = len(audio) / SAMPLE_RATE
        long = len(audio) > opts.chunk_length_s * SAMPLE_RATE
        timestamps = _PIPELINE_TIMESTAMPS[opts.timestamps]
        if long and timestamps is False:
            timestamps = True  # chunked long-form decoding needs timestamps to stitch windows; they are dropped below
        notes: list[str] = []
        generate = self._generate_kwargs(opts, language, min(duration, opts.chunk_length_s), notes)
        kwargs = {"batch_size": opts.batch_size, "return_timestamps": timestamps, "generate_kwargs": generate}
        if long:  # the library's caveat about chunking, said once in the result's notes rather than on every call
            kwargs.update(chunk_length_s=opts.chunk_length_s, ignore_warning=True)
            notes.append(
                f"long audio: the transformers pipeline decodes overlapping {opts.chunk_length_s:g}-s chunks independently and joins them "
                "where they overlap (transformers calls this experimental); faster-whisper decodes window after window"
            )
        done = [0]

        def windows_done(count: int) -> None:  # the pipeline's chunks start every 2/3 chunk (a 1/6 stride on each side)
            done[0] += count
            progress(min(duration, done[0] * opts.chunk_length_s * 2 / 3))

        with _windows_reported(self.model, windows_done) if progress is not None and long else contextlib.nullcontext():
            out = self.pipe({"raw": audio, "sampling_rate": SAMPLE_RATE}, **kwargs)
        result = self._output(out, duration, opts, language, prob, generate, notes)
        for segment in result.segments if on_segment is not None else ():
            on_segment(segment)
        if progress is not None:
            progress(duration)
        return result

    def transcribe_many(
        self, clips: list[np.ndarray], opts: TranscriptionOptions, languages=None, encoder_batch: int | None = None
    ) -> list[EngineOutput]:
        """Transcribe many clips, ``opts.batch_size`` at a time through the pipeline.

        Clips up to ``opts.chunk_length_s`` long are decoded together, one
        language per pipeline call (clips are grouped by language), their
        generated tokens capped by the longest clip of the call (see
        :func:`~workbench.engines.common.token_cap`). Longer clips are
        transcribed one by one with :meth:`transcribe`.

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
        In a batch, transformers 5.x sets up its no-speech detection once,
        for the whole batch: a clip decoded again at a fallback temperature
        may be judged silent by another clip's no-speech probability.
        Per-file transcription (``batch_size=1``) is not affected.
        """
        _seed_torch(opts.seed)
        check_engine_options(self.name, opts)
        outputs: list[EngineOutput | None] = [None] * len(clips)
        short, long = _split_by_length(clips, opts.chunk_length_s)
        for i in long:
            outputs[i] = self.transcribe(clips[i], _clip_options(opts, languages, i))
        encoder_batch = encoder_batch or default_encoder_batch(self.device, opts.batch_size)
        with _torch_encoder_in_pieces(self.model, encoder_batch):
            for language, prob_of, members in _language_groups(self, clips, short, opts, languages):
                batch = [{"raw": clips[i], "sampling_rate": SAMPLE_RATE} for i in members]
                notes: list[str] = []
                generate = self._generate_kwargs(opts, language, max(len(clips[i]) for i in members) / SAMPLE_RATE, notes)
                with _encoder_once_per_window(self.model):
                    outs = self.pipe(
                        batch,
                        batch_size=opts.batch_size,
                        return_timestamps=_PIPELINE_TIMESTAMPS[opts.timestamps],
                        generate_kwargs=generate,
                    )
                for i, out in zip(members, outs, strict=True):
                    outputs[i] = self._output(out, len(clips[i]) / SAMPLE_RATE, opts, language, prob_of.get(i), generate, notes)
        return outputs


@contextlib.contextmanager
def _windows_reported(model, on_windows):
    """``model.generate`` while in the block, calling ``on_windows`` with the number of windows each call decoded."""
    generate = model.generate

    def counted(*args, **kwargs):
        tokens = generate(*args, **kwargs)
        features = kwargs.get(getattr(model, "main_input_name", "input_features"), args[0] if args else None)
        on_windows(len(features) if features is not None else 1)
        return tokens

    model.generate = counted
    try:
        yield
    finally:
        del model.generate  # the class's own method again


class _LibraryNoise(logging.Filter):
    """Drops two notices transformers gives about its own calls, not about anything the caller did.

    generate() says that ``max_new_tokens`` overrides the checkpoint's
    ``max_length`` (every call here sets it on purpose), and Whisper's
    generate() passes its suppress tokens to the generic generate() along
    with a generation config, which the latter calls deprecated.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "seem to have been set" in message:
            return False
        return not ("`generation_config` together with generation-related" in message and "suppress_tokens" in message)


def _quiet_library_notices() -> None:
    logger = logging.getLogger("transformers.generation.utils")
    if not any(isinstance(f, _LibraryNoise) for f in logger.filters):
        logger.addFilter(_LibraryNoise())


@contextlib.contextmanager
def _no_loading_bars():
    """transformers' "Loading weights" bars off while in the block, as they were after it."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


#: ``TranscriptionOptions.timestamps`` as the transformers pipeline's ``return_timestamps``.
_PIPELINE_TIMESTAMPS = {"none": False, "segment": True, "word": "word"}


def transformers_safeguard_notes(opts: TranscriptionOptions) -> list[str]:
    """How the transformers engine's safeguards differ from what ``opts`` asks, one line each.

    Whisper's ``generate()`` applies the temperature fallback and the
    compression-ratio, log-prob and no-speech checks to every window,
    short clips included; these are the differences from openai-whisper
    and faster-whisper that remain.
    """
    notes = []
    if opts.condition_on_previous_text:
        notes.append(
            "condition_on_previous_text: no effect with transformers: the pipeline decodes every window on its own "
            "(a clip up to 30 s is one window; longer audio is cut into overlapping chunk_length_s chunks)"
        )
    if opts.no_speech_threshold is not None and opts.log_prob_threshold is None:
        notes.append(
            "no_speech_threshold: not applied with transformers without a log_prob_threshold (its generate() judges silence by both)"
        )
    if len(opts.temperatures) > 1:
        notes.append(
            "temperature fallback: transformers draws one sample per fallback temperature "
            f"(best_of={opts.best_of} applies to faster-whisper only)"
        )
    if opts.compression_ratio_threshold is not None and len(opts.temperatures) > 1:
        notes.append(
            "compression_ratio_threshold: transformers measures the compression of the window's token ids, "
            "not of its text, so ratios differ from faster-whisper's"
        )
    notes.append(
        "segment statistics (temperature, avg_logprob, compression_ratio, no_speech_prob): not reported by the transformers pipeline"
    )
    return notes


@contextlib.contextmanager
def _encoder_once_per_window(model):
    """While inside, the encoder's output for the input it has just encoded is reused when asked for again.

    transformers' no-speech check (``WhisperNoSpeechDetection``, on whenever
    ``no_speech_threshold`` is set, as Whisper's defaults have it) runs the
    whole model a second time on the window being decoded, encoder included,
    and language detection encodes the first window before generate()
    encodes it again: a window was encoded two or three times. The output
    is reused only for input features equal to the last ones encoded
    (compared element by element with a copy), and only when the caller
    wants no attentions or hidden states; it is dropped when the block ends.
    """
    import torch

    encoder = model.get_encoder()
    current = encoder.forward  # the class's method, or a wrapper set by another context (e.g. _torch_encoder_in_pieces)
    own = vars(encoder).get("forward")
    last: dict = {}

    def same_input(features) -> bool:
        seen = last.get("input")
        return seen is not None and seen.shape == features.shape and seen.dtype == features.dtype and torch.equal(seen, features)

    def forward(input_features=None, *args, **kwargs):
        plain = (
            not args
            and input_features is not None
            and not any(kwargs.get(k) for k in ("output_attentions", "output_hidden_states"))
            and kwargs.get("return_dict") is not False
        )
        if plain and same_input(input_features):
            return last["output"]
        output = current(input_features, *args, **kwargs)
        if plain:
            last.update(input=input_features.detach().clone(), output=output)  # a copy: the caller may change its tensor later
        return output

    encoder.forward = forward
    try:
        yield
    finally:
        last.clear()
        if own is None:
            del encoder.forward  # back to the class's method
        else:
            encoder.forward = own


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
