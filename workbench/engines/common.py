"""What both engines share: their output types, errors, seeding, batching helpers and the decoder's token budget."""

import math
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..constants import SAMPLE_RATE
from ..errors import TranscriptionWarning, WorkbenchError
from ..options import MAX_TARGET_TOKENS, TranscriptionOptions

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
    """The model has no token for the requested language.

    The message names the switch that changes this in the caller's own
    terms: ``str(exc)`` in Python's (``language_fallback=...``);
    :meth:`in_terms` renders it for the command line or the panel.
    """

    #: How each front door names the strict switch, and how to turn it off.
    TERMS = {
        "python": ("language_fallback=False", "leave language_fallback at its default (True)", "language='zh'"),
        "cli": ("--strict-language", "drop --strict-language", "--language zh"),
        "panel": ("the unticked 'fall back to zh' box", "tick 'fall back to zh'", "language zh"),
    }

    def __init__(self, template: str, **values):
        self.template, self.values = template, values
        super().__init__(self.in_terms("python"))

    def in_terms(self, caller: str) -> str:
        """The message with the switch named as ``caller`` (``"python"``, ``"cli"`` or ``"panel"``) names it."""
        strict, relax, use_zh = self.TERMS[caller]
        return self.template.format(strict=strict, relax=relax, use_zh=use_zh, **self.values)


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass
class Segment:
    """A stretch of transcript with its times in seconds.

    The decoding statistics are those of the 30-s window the segment was
    decoded in (None where the engine does not report them: the
    transformers pipeline never does).

    Attributes
    ----------
    temperature : float or None
        The temperature the window's text was decoded at; above the
        requested ``temperature`` when the window needed the fallback.
    avg_logprob : float or None
        Average log-probability of the window's tokens.
    compression_ratio : float or None
        gzip compression ratio of the text (high: repetitive): the whole
        window's, or in a batch decoded side by side, the segment's own.
    no_speech_prob : float or None
        Probability of the window's no-speech token.
    """

    start: float | None
    end: float | None
    text: str
    words: list[Word] = field(default_factory=list)
    temperature: float | None = None
    avg_logprob: float | None = None
    compression_ratio: float | None = None
    no_speech_prob: float | None = None


@dataclass
class EngineOutput:
    text: str
    segments: list[Segment]
    language: str | None
    language_probability: float | None
    #: Safeguard options that did not apply as asked on this path, each with why.
    notes: list[str] = field(default_factory=list)
    #: The most tokens a window was allowed to generate (0: nothing was decoded).
    token_cap: int | None = None


# --------------------------------------------------------------------------
# The decoder's token budget: prompt, start tokens and generated text share 448 positions
# --------------------------------------------------------------------------

#: Prompt tokens Whisper keeps, the last ones: half the decoder's positions less one (openai-whisper and faster-whisper alike).
MAX_PROMPT_TOKENS = MAX_TARGET_TOKENS // 2 - 1
#: Tokens before the text: <|startoftranscript|>, the language, the task and <|notimestamps|>.
START_TOKENS = 4


def decoder_room(prompt_tokens: int) -> int:
    """Tokens left to generate after a prompt of ``prompt_tokens`` (plus its ``<|startofprev|>``) and the start tokens.

    Examples
    --------
    >>> decoder_room(0), decoder_room(MAX_PROMPT_TOKENS)
    (444, 220)
    """
    return MAX_TARGET_TOKENS - START_TOKENS - (prompt_tokens + 1 if prompt_tokens else 0)


def token_cap(window_seconds: float, opts: TranscriptionOptions, prompt_tokens: int, notes: list[str]) -> int:
    """Generated tokens a window of ``window_seconds`` of audio may hold.

    ``opts.max_new_tokens`` when given; otherwise the diagnosis's rule
    (:func:`workbench.diagnosis.settings.token_cap`: a floor plus so many
    tokens per second of audio), as no speech justifies more and a
    repetition loop stops there instead of running to the decoder's limit.
    Either is lowered to what the prompt leaves (see :func:`decoder_room`),
    where the engine would otherwise refuse to decode; a lowered
    ``max_new_tokens`` is said in ``notes`` and as a warning.

    Examples
    --------
    >>> token_cap(2.0, TranscriptionOptions(), 0, []), token_cap(120.0, TranscriptionOptions(), MAX_PROMPT_TOKENS, [])
    (36, 220)
    >>> notes = []
    >>> token_cap(2.0, TranscriptionOptions(max_new_tokens=448), 0, notes), notes
    (444, ["max_new_tokens: 448 does not fit Whisper's 448 decoder positions (with the 4 start tokens); used 444"])
    """
    from ..options import token_cap as duration_cap

    room = decoder_room(prompt_tokens)
    if not opts.max_new_tokens:
        return min(duration_cap(min(window_seconds, opts.chunk_length_s)), room)
    if opts.max_new_tokens <= room:
        return int(opts.max_new_tokens)
    prompt = f" with a prompt of up to {prompt_tokens} tokens" if prompt_tokens else ""
    note = (
        f"max_new_tokens: {opts.max_new_tokens}{prompt} does not fit Whisper's {MAX_TARGET_TOKENS} decoder positions "
        f"(with the {START_TOKENS} start tokens{' and <|startofprev|>' if prompt_tokens else ''}); used {room}"
    )
    _say_once(note, notes)
    return room


def prompt_note(tokens: int, kept_text: str, notes: list[str]) -> None:
    """Say, in ``notes`` and as a warning, that a prompt of ``tokens`` tokens was cut to its last :data:`MAX_PROMPT_TOKENS`."""
    note = (
        f"initial_prompt: {tokens} tokens, more than the {MAX_PROMPT_TOKENS} Whisper's decoder keeps; "
        f"only its last {MAX_PROMPT_TOKENS} were used (from {kept_text.strip()[:40]!r}...)"
    )
    _say_once(note, notes)


def _say_once(note: str, notes: list[str]) -> None:
    """Add ``note`` to ``notes`` and warn with it, unless ``notes`` already holds it."""
    if note not in notes:
        notes.append(note)
        warnings.warn(note, TranscriptionWarning, stacklevel=5)  # the caller of transcribe / transcribe_batch, as before


def _seed_torch(seed: int | None) -> None:
    """Seed torch's generator (the transformers engine's fallback sampling); None leaves it as it is."""
    if seed is not None:
        import torch

        torch.manual_seed(seed)


def _seed_ctranslate2(engine, seed: int | None) -> None:
    """Seed CTranslate2's generator before ``engine`` first samples; None leaves it random.

    CTranslate2 keeps one generator per worker thread, seeded from the global
    seed when that thread first samples; seeding again later changes nothing.
    So the seed takes effect once per loaded engine: the same transcriptions,
    in the same order, in a fresh process give the same transcripts.
    """
    if seed is not None and not getattr(engine, "_seeded", False):
        import ctranslate2

        ctranslate2.set_random_seed(seed)
        engine._seeded = True


def _torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


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
        for i, (language, prob) in zip(unknown, engine.detect_languages([clips[i] for i in unknown], opts.batch_size), strict=True):
            wanted[i], probs[i] = language, prob
    groups: dict[str, list[int]] = {}
    for i in members:
        groups.setdefault(wanted[i], []).append(i)
    return [(language, {i: probs[i] for i in idx if i in probs}, idx) for language, idx in groups.items()]


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA out-of-memory and for the CPU allocator running out."""
    torch = sys.modules.get("torch")  # a torch error needs torch loaded; never import it just to ask
    if torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text or "cannot allocate memory" in text


def real_time_factor(seconds: float, audio_seconds: float) -> float:
    """Processing time divided by audio duration (below 1 is faster than real time)."""
    return seconds / audio_seconds if audio_seconds > 0 else math.inf
