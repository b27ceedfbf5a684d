"""Transcription options, gathered in one object and recorded with every result."""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field, replace

from .errors import WorkbenchError
from .languages import normalise_language
from .resampling import DEFAULT_RESAMPLER

#: The two inference engines (see :mod:`workbench.engines`); every module names them through these.
TRANSFORMERS = "transformers"
FASTER_WHISPER = "faster-whisper"
ENGINES = (TRANSFORMERS, FASTER_WHISPER)


@functools.cache
def default_engine() -> str:
    """The engine used when none is named: faster-whisper where its backend is installed, else transformers.

    faster-whisper (CTranslate2) is the faster of the two on every device
    measured here, and it loads without torch; transformers, the pipeline
    most tutorials use, stays one argument away (``engine="transformers"``).

    >>> default_engine() in ENGINES
    True
    """
    from importlib.util import find_spec

    return FASTER_WHISPER if find_spec("faster_whisper") and find_spec("ctranslate2") else TRANSFORMERS


TASKS = ("transcribe", "translate")
TIMESTAMPS = ("none", "segment", "word")
DTYPES = ("auto", "float32", "float16", "bfloat16")
COMPUTE_TYPES = ("auto", "int8", "int8_float32", "int8_float16", "float16", "float32", "bfloat16")
#: Whisper decodes 30-second windows.
CHUNK_SECONDS = 30.0
#: Whisper's decoder context: at most this many tokens per window.
MAX_TARGET_TOKENS = 448
#: The temperature fallback goes no higher than this (openai-whisper's schedule ends at 1.0).
MAX_FALLBACK_TEMPERATURE = 1.0


class OptionsError(WorkbenchError, ValueError):
    """A transcription option has a value that cannot work."""


@dataclass(frozen=True)
class TranscriptionOptions:
    """Every setting that can change a transcript, explicit and recorded.

    Attributes
    ----------
    language : str or None
        Whisper code after normalisation (``"yue"``, ``"zh"``, ``"en"``...);
        ``None`` detects it. Names like ``"cantonese"`` or ``"粤语"`` are accepted.
    task : {"transcribe", "translate"}
    beam_size : int
        1 is greedy decoding.
    temperature : float
        0 is deterministic. The first temperature tried for every window.
    temperature_increment : float
        Temperature fallback: a window that fails the ``compression_ratio_threshold``
        or ``log_prob_threshold`` check is decoded again at ``temperature`` plus
        this, and so on up to 1.0 (with the defaults, openai-whisper's
        0.0, 0.2, ..., 1.0); 0 disables the fallback. Windows above 0 are
        sampled, so a transcript that needed the fallback may differ from run
        to run (each segment records its ``temperature``). See
        :func:`temperature_schedule`.
    best_of : int
        Candidates sampled at each fallback temperature above 0; the one with
        the best average log-probability is kept (openai-whisper and
        faster-whisper: 5). 1 samples once, as the transformers pipeline does.
    compression_ratio_threshold : float or None
        A window whose text gzip-compresses better than this (a repetition
        loop) has failed and falls back to the next temperature. None: no check.
    log_prob_threshold : float or None
        A window whose average token log-probability is below this has failed
        and falls back to the next temperature. None: no check. Also used with
        ``no_speech_threshold``.
    no_speech_threshold : float or None
        A window whose no-speech probability is above this, and whose average
        log-probability is below ``log_prob_threshold``, is judged silent and
        its text dropped (a guard against hallucinated text on silence). None:
        never dropped.
    condition_on_previous_text : bool
        Long audio: give the decoder the previous window's text as a prompt.
        Keeps style consistent but lets one bad window derail the next
        (False is the usual remedy for repetition loops). Per-window decoding
        (faster-whisper with ``batch_size`` > 1) never conditions.
    vad_filter : bool
        faster-whisper only: drop the stretches Silero VAD finds without
        speech before decoding, and map times back to the original audio.
        The transformers engine has no VAD and refuses it.
    seed : int or None
        Seed for the sampling the temperature fallback does; None leaves it
        random. transformers: set before every transcription, so the same
        audio and settings give the same transcript. faster-whisper: set once,
        before the engine first samples (CTranslate2 keeps a generator per
        worker thread), so the same transcriptions in the same order in a
        fresh process give the same transcripts.
    max_new_tokens : int or None
        Cap on generated tokens per 30-s window (the seed uses 128); None is the model's limit.
    chunk_length_s : float
        Window length for long audio.
    batch_size : int
        Windows decoded together (transformers) or batched segments (faster-whisper).
    timestamps : {"none", "segment", "word"}
    initial_prompt : str or None
        Text the decoder is conditioned on (e.g. a Cantonese phrase to nudge the register).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda:N"``.
    dtype : str
        transformers weights: ``"auto"`` is float16 on CUDA, float32 on CPU.
    compute_type : str
        faster-whisper: ``"auto"`` is int8 on CPU, float16 on CUDA.
    language_fallback : bool
        When the model cannot do ``language`` (``yue`` on a model before
        large-v3, which has no ``<|yue|>`` token), use ``zh`` instead, say so
        (a warning, and a note in the result's ``fallbacks``). The default;
        ``False`` is strict: refuse, before the model loads. The CLI's switch
        is ``--strict-language``, the panel's the "fall back to zh" checkbox.
    resampler : str
        Used when the audio is not 16 kHz.
    warmup : bool
        Run one dummy window first (the seed's GPU warm-up), excluded from timings.
    cudnn_benchmark : bool
        Set ``torch.backends.cudnn.benchmark`` (GPU only).
    """

    language: str | None = None
    task: str = "transcribe"
    beam_size: int = 5
    temperature: float = 0.0
    max_new_tokens: int | None = None
    chunk_length_s: float = CHUNK_SECONDS
    batch_size: int = 1
    timestamps: str = "segment"
    initial_prompt: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    compute_type: str = "auto"
    language_fallback: bool = True
    resampler: str = DEFAULT_RESAMPLER
    warmup: bool = False
    cudnn_benchmark: bool = False
    temperature_increment: float = 0.2
    best_of: int = 5
    compression_ratio_threshold: float | None = 2.4
    log_prob_threshold: float | None = -1.0
    no_speech_threshold: float | None = 0.6
    condition_on_previous_text: bool = True
    vad_filter: bool = False
    seed: int | None = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "language", normalise_language(self.language))
        checks = [
            (self.task in TASKS, f"task must be one of {TASKS}; got {self.task!r}"),
            (self.timestamps in TIMESTAMPS, f"timestamps must be one of {TIMESTAMPS}; got {self.timestamps!r}"),
            (self.dtype in DTYPES, f"dtype must be one of {DTYPES}; got {self.dtype!r}"),
            (self.compute_type in COMPUTE_TYPES, f"compute_type must be one of {COMPUTE_TYPES}; got {self.compute_type!r}"),
            (isinstance(self.beam_size, int) and self.beam_size >= 1, f"beam_size must be a whole number >= 1; got {self.beam_size!r}"),
            (isinstance(self.batch_size, int) and self.batch_size >= 1, f"batch_size must be a whole number >= 1; got {self.batch_size!r}"),
            (0 <= float(self.temperature) <= 2, f"temperature must be between 0 and 2; got {self.temperature!r}"),
            (
                0 < float(self.chunk_length_s) <= CHUNK_SECONDS,
                f"chunk_length_s must be in (0, {CHUNK_SECONDS:g}]; Whisper sees at most 30 s at once; got {self.chunk_length_s!r}",
            ),
            (
                self.max_new_tokens is None or 1 <= int(self.max_new_tokens) <= MAX_TARGET_TOKENS,
                f"max_new_tokens must be between 1 and {MAX_TARGET_TOKENS}; got {self.max_new_tokens!r}",
            ),
            (
                self.device == "auto" or self.device == "cpu" or self.device.startswith("cuda"),
                f"device must be 'auto', 'cpu' or 'cuda[:N]'; got {self.device!r}",
            ),
            (
                isinstance(self.best_of, int) and not isinstance(self.best_of, bool) and self.best_of >= 1,
                f"best_of must be a whole number >= 1; got {self.best_of!r}",
            ),
            (
                _is_number(self.temperature_increment) and 0 <= self.temperature_increment <= MAX_FALLBACK_TEMPERATURE,
                f"temperature_increment must be between 0 (no fallback) and {MAX_FALLBACK_TEMPERATURE:g}; "
                f"got {self.temperature_increment!r}",
            ),
            (
                self.compression_ratio_threshold is None
                or (_is_number(self.compression_ratio_threshold) and self.compression_ratio_threshold > 0),
                "compression_ratio_threshold must be a number above 0 (Whisper uses 2.4) or None for no check; "
                f"got {self.compression_ratio_threshold!r}",
            ),
            (
                self.log_prob_threshold is None or (_is_number(self.log_prob_threshold) and self.log_prob_threshold <= 0),
                "log_prob_threshold must be a number <= 0 (an average log-probability; Whisper uses -1.0) or None for no check; "
                f"got {self.log_prob_threshold!r}",
            ),
            (
                self.no_speech_threshold is None or (_is_number(self.no_speech_threshold) and 0 <= self.no_speech_threshold <= 1),
                "no_speech_threshold must be a probability between 0 and 1 (Whisper uses 0.6) or None to keep every window; "
                f"got {self.no_speech_threshold!r}",
            ),
            (
                self.seed is None or (isinstance(self.seed, int) and not isinstance(self.seed, bool) and 0 <= self.seed < 2**32),
                f"seed must be a whole number from 0 to 2**32 - 1, or None for random sampling; got {self.seed!r}",
            ),
            (
                isinstance(self.condition_on_previous_text, bool),
                f"condition_on_previous_text must be True or False; got {self.condition_on_previous_text!r}",
            ),
            (isinstance(self.vad_filter, bool), f"vad_filter must be True or False; got {self.vad_filter!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise OptionsError(message)

    @property
    def temperatures(self) -> tuple[float, ...]:
        """The temperatures each window may be decoded at, in order (see :func:`temperature_schedule`)."""
        return temperature_schedule(self.temperature, self.temperature_increment)

    def with_(self, **changes) -> "TranscriptionOptions":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def temperature_schedule(temperature: float, increment: float) -> tuple[float, ...]:
    """The temperatures a window is tried at: ``temperature``, then ``+ increment`` up to 1.0.

    openai-whisper's ``(0.0, 0.2, 0.4, 0.6, 0.8, 1.0)`` for the defaults;
    just ``(temperature,)`` when ``increment`` is 0 or ``temperature`` is
    already 1.0 or more.

    >>> temperature_schedule(0.0, 0.2)
    (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    >>> temperature_schedule(0.5, 0.0)
    (0.5,)
    """
    start, step = float(temperature), float(increment)
    if step <= 0 or start >= MAX_FALLBACK_TEMPERATURE:
        return (start,)
    steps = int((MAX_FALLBACK_TEMPERATURE - start) / step + 1e-6)
    return tuple(round(start + k * step, 6) for k in range(steps + 1))


def check_engine_options(engine: str, opts: TranscriptionOptions) -> None:
    """Raise :class:`OptionsError` for an option ``engine`` cannot honour."""
    if engine == TRANSFORMERS and opts.vad_filter:
        raise OptionsError(
            "vad_filter=True needs the faster-whisper engine (Silero VAD); the transformers engine has no voice-activity filter. "
            "Use engine='faster-whisper', or vad_filter=False"
        )


@functools.lru_cache(maxsize=2)
def _cuda_available(engine: str | None = None) -> bool:
    """Whether ``engine``'s own library sees a CUDA GPU; asked once per process.

    faster-whisper asks CTranslate2, so its path never imports torch (about
    1.5 s); transformers, or no engine named, asks torch.
    """
    if engine == FASTER_WHISPER:
        try:
            import ctranslate2
        except ImportError:
            return False
        return ctranslate2.get_cuda_device_count() > 0
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(device: str, engine: str | None = None) -> str:
    """``"auto"`` → ``"cuda:0"`` when ``engine``'s library sees a GPU, else ``"cpu"``."""
    if device != "auto":
        if device.startswith("cuda") and not _cuda_available(engine):
            raise OptionsError(f"device {device!r} was requested but no CUDA GPU is visible; use device='cpu' or 'auto'")
        return device if device != "cuda" else "cuda:0"
    return "cuda:0" if _cuda_available(engine) else "cpu"


def resolve_dtype(dtype: str, device: str) -> str:
    """The seed's rule: float16 on CUDA, float32 on CPU, unless told otherwise."""
    if dtype != "auto":
        return dtype
    return "float16" if device.startswith("cuda") else "float32"


def resolve_compute_type(compute_type: str, device: str) -> str:
    """faster-whisper: int8 on CPU (fastest there), float16 on CUDA, unless told otherwise."""
    if compute_type != "auto":
        return compute_type
    return "float16" if device.startswith("cuda") else "int8"


#: Generated tokens allowed per second of audio (and a floor): speech cannot justify more,
#: and a repetition loop stops there instead of running to the 448-token limit.
TOKENS_PER_SECOND = 10  # fast Cantonese is about 6 characters a second, about 1.5 tokens each in Whisper's vocabulary
MIN_TOKENS = 16
MAX_TOKENS = 224  # Whisper's own default sample length: half the 448-token context, leaving room for the prompt


def token_cap(seconds: float) -> int:
    """Generated tokens one 30-s window may hold for ``seconds`` of audio.

    >>> token_cap(2.0), token_cap(13.2), token_cap(120.0)
    (36, 148, 224)
    """
    return int(min(MAX_TOKENS, MIN_TOKENS + math.ceil(TOKENS_PER_SECOND * min(seconds, 30.0))))
