"""faster-whisper (CTranslate2): the same options, mapped one to one, with the fallback its batched pipeline lacks."""

import math
from dataclasses import replace

import numpy as np

from ..constants import SAMPLE_RATE
from ..errors import install_hint
from ..models import ModelRef
from ..options import FASTER_WHISPER, TranscriptionOptions
from .common import (
    DETECT_SECONDS,
    MAX_PROMPT_TOKENS,
    EngineError,
    EngineOutput,
    Segment,
    Word,
    _clip_options,
    _language_groups,
    _seed_ctranslate2,
    _split_by_length,
    default_encoder_batch,
    is_out_of_memory,
    prompt_note,
    token_cap,
)


class FasterWhisperEngine:
    """faster-whisper (CTranslate2) with the same options, mapped one to one."""

    name = FASTER_WHISPER

    def __init__(self, model: ModelRef, device: str, compute_type: str, cpu_threads: int = 0):
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise EngineError(f"the faster-whisper engine needs the faster-whisper package: {install_hint('faster-whisper')}") from exc
        self.model_ref, self.device, self.compute_type = model, device, compute_type
        dev, _, index = device.partition(":")
        try:
            self.model = WhisperModel(
                str(model.path),
                device=dev,
                device_index=int(index or 0),
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
        except Exception as exc:  # noqa: BLE001 - CTranslate2 and tokenizers raise plain Exceptions for damaged files
            if is_out_of_memory(exc):  # the caller's memory recovery handles it
                raise
            raise EngineError(
                f"faster-whisper could not load the model in {model.path} ({compute_type} on {device}): {str(exc).splitlines()[0]}"
            ) from exc
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

    def _prompt_tokens(self, opts: TranscriptionOptions, notes: list[str]) -> int:
        """Tokens of ``opts.initial_prompt`` faster-whisper keeps (the last :data:`MAX_PROMPT_TOKENS`); a cut is said in ``notes``."""
        if not opts.initial_prompt:
            return 0
        tokenizer = self.model.hf_tokenizer
        ids = tokenizer.encode(" " + opts.initial_prompt.strip(), add_special_tokens=False).ids  # as faster-whisper encodes it
        if len(ids) > MAX_PROMPT_TOKENS:
            prompt_note(len(ids), tokenizer.decode(ids[-MAX_PROMPT_TOKENS:]), notes)
        return min(len(ids), MAX_PROMPT_TOKENS)

    def _decode_kwargs(self, opts: TranscriptionOptions, window_seconds: float, notes: list[str], conditioned: bool = False) -> dict:
        """Arguments ``WhisperModel.transcribe`` and ``BatchedInferencePipeline.transcribe`` share.

        ``max_new_tokens`` is :func:`~workbench.engines.common.token_cap` for
        windows of ``window_seconds`` of audio (the longest in the call), with
        room for the prompt: the initial prompt, and where a window is
        ``conditioned`` on the text before it, as much of that as Whisper keeps.
        """
        kept = self._prompt_tokens(opts, notes)
        prompt = MAX_PROMPT_TOKENS if conditioned else kept
        return dict(
            task=opts.task,
            beam_size=opts.beam_size,
            best_of=opts.best_of,
            temperature=list(opts.temperatures),
            compression_ratio_threshold=opts.compression_ratio_threshold,
            log_prob_threshold=opts.log_prob_threshold,
            no_speech_threshold=opts.no_speech_threshold,
            initial_prompt=opts.initial_prompt,
            word_timestamps=opts.timestamps == "word",
            without_timestamps=opts.timestamps == "none",
            max_new_tokens=token_cap(window_seconds, opts, prompt, notes),
        )

    def _transcribe_file(
        self, audio: np.ndarray, opts: TranscriptionOptions, language: str | None, condition: bool, vad: bool, notes: list[str]
    ):
        """``WhisperModel.transcribe``: window after window, each with the temperature fallback and the silence check.

        Returns its segments (a generator), its info and the token cap applied.
        """
        one_window = len(audio) <= opts.chunk_length_s * SAMPLE_RATE  # no text before it to condition on
        kwargs = self._decode_kwargs(
            opts, min(len(audio) / SAMPLE_RATE, opts.chunk_length_s), notes, conditioned=condition and not one_window
        )
        segs, info = self.model.transcribe(
            audio,
            language=language,
            chunk_length=int(opts.chunk_length_s),
            condition_on_previous_text=condition,
            vad_filter=vad,
            **kwargs,
        )
        return segs, info, kwargs["max_new_tokens"]

    def transcribe(self, audio: np.ndarray, opts: TranscriptionOptions, progress=None, on_segment=None) -> EngineOutput:
        """Transcribe ``audio``: window by window with ``WhisperModel``, or with ``batch_size`` > 1 its windows side by side.

        ``progress`` is called with the seconds of audio done and
        ``on_segment`` with each :class:`Segment`, as each segment is
        decoded (batched, once all windows are).

        Batched, the windows are ``chunk_length_s`` slices of the audio (with
        ``vad_filter``, its speech, merged into windows of at most
        ``chunk_length_s`` as ``BatchedInferencePipeline`` does), decoded by
        :meth:`_decode_windows`; no window is conditioned on the one before.
        """
        _seed_ctranslate2(self, opts.seed)
        duration = len(audio) / SAMPLE_RATE
        if opts.batch_size > 1:
            out = self._transcribe_windows(audio, opts)
            for s in out.segments:
                _report(s, duration, progress, on_segment)
            return out
        notes: list[str] = []
        segs, info, cap = self._transcribe_file(audio, opts, opts.language, opts.condition_on_previous_text, opts.vad_filter, notes)
        segments = []
        for s in segs:  # segments come as they are decoded
            segments.append(_segment(s))
            _report(segments[-1], duration, progress, on_segment)
        prob = float(info.language_probability) if opts.language is None else None
        return EngineOutput("".join(s.text for s in segments).strip(), segments, info.language, prob, notes, cap)

    def _transcribe_windows(self, audio: np.ndarray, opts: TranscriptionOptions) -> EngineOutput:
        from faster_whisper.transcribe import restore_speech_timestamps
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        speech = None
        if opts.vad_filter:
            # BatchedInferencePipeline's own VAD settings: speech merged into windows of at most chunk_length_s
            speech = get_speech_timestamps(audio, VadOptions(max_speech_duration_s=opts.chunk_length_s, min_silence_duration_ms=160))
            windows, meta = collect_chunks(audio, speech, max_duration=opts.chunk_length_s) if speech else ([], [])
            offsets = [float(m["offset"]) for m in meta]
        else:
            step = int(round(opts.chunk_length_s * SAMPLE_RATE))
            windows = [audio[s0 : s0 + step] for s0 in range(0, len(audio), step)]
            offsets = [s0 / SAMPLE_RATE for s0 in range(0, len(audio), step)]
        language, prob = opts.language, None
        if language is None:
            language, prob = self.detect_language(windows[0] if windows else audio)
        segments, notes = [], []
        decoded_windows, cap = self._decode_windows(windows, language, opts, opts.batch_size, notes)
        for offset, decoded in zip(offsets, decoded_windows, strict=True):
            segments += [_shifted(s, offset) for s in decoded]
        if speech:
            segments = list(restore_speech_timestamps(segments, speech, SAMPLE_RATE))
        if opts.condition_on_previous_text and len(windows) > 1:
            notes.append(
                "condition_on_previous_text: no effect with batch_size > 1: "
                "the windows are decoded side by side, none conditioned on the one before"
            )
        return EngineOutput("".join(s.text for s in segments).strip(), segments, language, prob, notes, cap)

    def _decode_windows(
        self, windows: list[np.ndarray], language: str, opts: TranscriptionOptions, encoder_batch: int, notes: list[str]
    ) -> tuple[list[list[Segment]], int]:
        """Decode each window (at most 30 s) as one Whisper window, ``opts.batch_size`` at a time.

        ``BatchedInferencePipeline`` decodes at the first temperature only and
        keeps every window, so its results are judged here as
        ``WhisperModel.transcribe`` judges its own: a window that fails the
        compression-ratio or log-prob check (and is not silence) is decoded
        again on its own by ``WhisperModel.transcribe``, with the whole
        temperature schedule; a window judged silent is dropped (see
        :func:`_window_needs_fallback` and :func:`_judged_silent`).

        The windows are laid end to end in one array, each starting on a
        fresh mel frame, and ``clip_timestamps`` marks each one as its own
        window. Generated tokens are capped by the longest window (see
        :func:`~workbench.engines.common.token_cap`); a window decoded again
        on its own, by its own length. Returns each window's segments, times
        relative to its start, and the largest cap applied (0 when no window
        holds audio).
        """
        from faster_whisper import BatchedInferencePipeline

        decoded: list[list[Segment]] = [[] for _ in windows]
        present = [k for k, w in enumerate(windows) if len(w)]
        if not present:
            return decoded, 0
        pipeline = BatchedInferencePipeline(_EncoderInPieces(self.model, encoder_batch))
        hop = self.model.feature_extractor.hop_length
        fps = self.model.frames_per_second
        # each window starts on its own mel frame, a frame of silence after the previous one
        slots = [(math.ceil(len(windows[k]) / hop) + 1) * hop for k in present]
        starts = np.concatenate([[0], np.cumsum(slots)[:-1]]).astype(int)
        audio = np.zeros(int(sum(slots)), np.float32)
        for k, s0 in zip(present, starts, strict=True):
            audio[s0 : s0 + len(windows[k])] = windows[k]
        # half a sample past each boundary: faster-whisper truncates seconds * rate to an int
        bounds = [
            {"start": (s0 + _HALF_SAMPLE) / SAMPLE_RATE, "end": (s0 + len(windows[k]) + _HALF_SAMPLE) / SAMPLE_RATE}
            for k, s0 in zip(present, starts, strict=True)
        ]
        # faster-whisper labels each segment with int(window start / rate * frames per second); computed the same way here
        by_seek = {
            int(int(b["start"] * SAMPLE_RATE) / SAMPLE_RATE * fps): (k, float(s0) / SAMPLE_RATE)
            for k, s0, b in zip(present, starts, bounds, strict=True)
        }
        kwargs = self._decode_kwargs(opts, max(len(windows[k]) for k in present) / SAMPLE_RATE, notes)
        cap = kwargs["max_new_tokens"]
        segs, _ = pipeline.transcribe(
            audio, language=language, clip_timestamps=bounds, batch_size=opts.batch_size, vad_filter=False, **kwargs
        )
        found: dict[int, list] = {k: [] for k in present}
        for s in segs:
            k, offset = by_seek[s.seek]
            found[k].append((s, offset))
        eot = self.model.hf_tokenizer.token_to_id("<|endoftext|>")
        for k in present:
            if not found[k]:
                continue
            first = found[k][0][0]
            text = self.model.hf_tokenizer.decode([t for s, _ in found[k] for t in s.tokens if t < eot]).strip()
            if len(opts.temperatures) > 1 and _window_needs_fallback(text, first.avg_logprob, first.no_speech_prob, opts):
                segs, _, _ = self._transcribe_file(windows[k], opts, language, False, False, notes)
                decoded[k] = [_segment(s) for s in segs]
            elif not _judged_silent(first, opts):
                decoded[k] = [_segment(s, offset) for s, offset in found[k]]
        return decoded, cap

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

    def transcribe_many(
        self, clips: list[np.ndarray], opts: TranscriptionOptions, languages=None, encoder_batch: int | None = None
    ) -> list[EngineOutput]:
        """Transcribe many clips with ``BatchedInferencePipeline``, ``opts.batch_size`` at a time.

        Each clip is its own window (see :meth:`_decode_windows`, which also
        says how generated tokens are capped), so each is decoded as it would
        be on its own, only together: the same
        temperature fallback and silence check, and with ``vad_filter`` the
        same Silero VAD settings as ``WhisperModel.transcribe`` (the clip's
        speech, joined, is the window; times are mapped back to the clip).
        Segment times are relative to their clip. Clips longer than
        ``opts.chunk_length_s`` (at most 30 s) are transcribed one by one
        with :meth:`transcribe`. One language per pipeline call (clips are
        grouped by language).

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
        _seed_ctranslate2(self, opts.seed)
        from faster_whisper.transcribe import restore_speech_timestamps
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        outputs: list[EngineOutput | None] = [None] * len(clips)
        short, long = _split_by_length(clips, opts.chunk_length_s)
        for i in long:
            outputs[i] = self.transcribe(clips[i], _clip_options(opts, languages, i))
        windows, speech = list(clips), {}
        if opts.vad_filter:  # WhisperModel.transcribe's VAD: the clip's speech, joined into one stretch
            for i in short:
                speech[i] = get_speech_timestamps(clips[i], VadOptions())
                windows[i] = np.concatenate(collect_chunks(clips[i], speech[i])[0]) if speech[i] else clips[i][:0]
        # languages are detected on what is decoded (a clip without speech: on the clip)
        detect_on = [w if len(w) else c for w, c in zip(windows, clips, strict=True)]
        eb = encoder_batch or default_encoder_batch(self.device, opts.batch_size)
        for language, prob_of, members in _language_groups(self, detect_on, short, opts, languages):
            notes: list[str] = []
            decoded, cap = self._decode_windows([windows[i] for i in members], language, opts, eb, notes)
            for i, segments in zip(members, decoded, strict=True):
                if speech.get(i):
                    segments = list(restore_speech_timestamps(segments, speech[i], SAMPLE_RATE))
                outputs[i] = EngineOutput("".join(s.text for s in segments).strip(), segments, language, prob_of.get(i), list(notes), cap)
        return outputs


def _report(segment: Segment, duration: float, progress, on_segment) -> None:
    """Tell the caller's callbacks about a decoded ``segment``."""
    if on_segment is not None:
        on_segment(segment)
    if progress is not None:
        progress(min(segment.end, duration))


#: Added to a clip boundary, in samples, so that seconds * rate truncates back to it.
_HALF_SAMPLE = 0.5


def _segment(s, offset: float = 0.0) -> Segment:
    """A faster-whisper segment as a :class:`Segment`, with its decoding statistics; times less ``offset``."""
    words = [Word(_float(w.start), _float(w.end), w.word, _float(w.probability)) for w in (s.words or [])]
    seg = Segment(
        _float(s.start),
        _float(s.end),
        s.text,
        words,
        _float(s.temperature),
        _float(s.avg_logprob),
        _float(s.compression_ratio),
        _float(s.no_speech_prob),
    )
    return _shifted(seg, -offset) if offset else seg


def _shifted(segment: Segment, seconds: float) -> Segment:
    """``segment`` with its times and its words' moved by ``seconds`` (none below 0)."""
    if not seconds:
        return segment

    def move(t):
        return None if t is None else max(0.0, round(t + seconds, 3))

    words = [Word(move(w.start), move(w.end), w.text, w.probability) for w in segment.words]
    return replace(segment, start=move(segment.start), end=move(segment.end), words=words)


def _float(value) -> float | None:
    return None if value is None else float(value)


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


def _window_needs_fallback(text: str, avg_logprob: float, no_speech_prob: float, opts: TranscriptionOptions) -> bool:
    """``WhisperModel.transcribe``'s rule for decoding a window again at the next temperature.

    It fails when its text compresses better than ``compression_ratio_threshold``
    (repetition) or its average log-probability is below ``log_prob_threshold``,
    unless it looks like silence (no-speech probability above
    ``no_speech_threshold`` with that low log-probability).
    """
    from faster_whisper.transcribe import get_compression_ratio

    failed = (opts.compression_ratio_threshold is not None and get_compression_ratio(text) > opts.compression_ratio_threshold) or (
        opts.log_prob_threshold is not None and avg_logprob < opts.log_prob_threshold
    )
    silence = (
        opts.no_speech_threshold is not None
        and no_speech_prob > opts.no_speech_threshold
        and opts.log_prob_threshold is not None
        and avg_logprob < opts.log_prob_threshold
    )
    return failed and not silence


def _judged_silent(segment, opts: TranscriptionOptions) -> bool:
    """The per-file decoder's rule for a window with no speech, which ``BatchedInferencePipeline`` does not apply.

    ``WhisperModel.transcribe`` drops a window whose no-speech probability
    is above ``opts.no_speech_threshold`` unless its average log-probability
    is above ``opts.log_prob_threshold``; the same rule, with the same
    options, keeps batched and per-file transcripts alike.
    """
    if opts.no_speech_threshold is None or segment.no_speech_prob <= opts.no_speech_threshold:
        return False
    return opts.log_prob_threshold is None or segment.avg_logprob <= opts.log_prob_threshold
