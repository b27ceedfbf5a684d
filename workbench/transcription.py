"""``transcribe``: any audio, any model, either engine, every setting recorded.

Examples
--------
>>> t = transcribe("speech.flac", language="en")            # doctest: +SKIP
>>> t.text, t.timings["real_time_factor"], t.settings["resampler"]   # doctest: +SKIP
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from .audio import Clip, load_audio
from .constants import SAMPLE_RATE
from .engines import (
    EngineError,
    EngineOutput,
    LanguageNotSupportedError,
    Segment,
    default_encoder_batch,
    get_engine,
    is_out_of_memory,
    real_time_factor,
)
from .errors import AudioWarning, TranscriptionWarning, WorkbenchError
from .io import dumps
from .languages import language_name, model_languages, normalise_language
from .models import EMBEDDED, ModelRef, resolve_model
from .options import (
    ENGINES,
    TRANSFORMERS,
    OptionsError,
    TranscriptionOptions,
    check_engine_options,
    default_engine,
    resolve_compute_type,
    resolve_device,
    resolve_dtype,
)

#: Language used when a model cannot do Cantonese and the user allowed a fallback.
CANTONESE_FALLBACK = "zh"
#: The seed's batch size after a non-GPU out-of-memory error.
MIN_BATCH = 1
#: Clips decoded together by :func:`transcribe_batch` unless told otherwise.
DEFAULT_BATCH_CLIPS = 16


@dataclass
class Transcript:
    """The result of one transcription, with everything needed to reproduce it.

    Attributes
    ----------
    text : str
    segments : list of Segment
    language : str or None
        The language decoded in (requested, fallen back to, or detected).
    language_probability : float or None
        When detected.
    settings : dict
        The options used (after fallbacks), model, engine, device, precision,
        resampler and audio provenance; ``temperatures``, the temperatures
        each window could be decoded at (the fallback schedule), and
        ``safeguard_notes``, where an engine applies a safeguard option
        differently or not at all (each segment's ``temperature`` shows
        which windows needed the fallback, where the engine reports it);
        ``token_cap``, the most tokens a window was allowed to generate
        (``max_new_tokens`` when given, else a cap by the window's duration,
        see :func:`workbench.engines.common.token_cap`; 0 when nothing was
        decoded).
    versions : dict
    timings : dict
        ``load_s``, ``preprocess_s``, ``inference_s``, ``audio_s``,
        ``real_time_factor`` (inference / audio duration).
    fallbacks : list of str
        What was changed to make it work (language, batch size, device).
    """

    text: str
    segments: list[Segment]
    language: str | None
    language_probability: float | None
    settings: dict
    versions: dict
    timings: dict
    fallbacks: list[str] = field(default_factory=list)
    source: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return dumps(self.to_dict())


def _option_names() -> set[str]:
    return {f.name for f in fields(TranscriptionOptions)}


def _prepare_audio(audio, resampler: str) -> tuple[np.ndarray, dict, str | None]:
    """16 kHz mono float32 from a path, a Clip or an (array, rate) pair, plus its provenance."""
    if isinstance(audio, (str, Path)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AudioWarning)
            clip = load_audio(audio, target_rate=SAMPLE_RATE, resampler=resampler)  # long files: decoded and resampled in a stream
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=3)
        source = str(audio)
    elif isinstance(audio, Clip):
        clip, source = audio, audio.info.path
    elif isinstance(audio, tuple) and len(audio) == 2:
        clip, source = Clip.from_array(audio[0], int(audio[1])), None
    else:
        raise WorkbenchError(f"audio must be a file path, a Clip or an (array, sample_rate) pair; got {type(audio).__name__}")
    if clip.num_frames == 0:
        raise WorkbenchError(f"{source or 'audio'}: no samples to transcribe")
    if clip.num_channels > 1:  # a new Clip and info: the caller's clip is left as it was
        info = replace(clip.info, history=[*clip.info.history, {"step": "mix", "mode": "mean"}])
        clip = Clip(clip.mono[None, :], clip.sample_rate, info)
    if clip.sample_rate != SAMPLE_RATE:
        clip = clip.resample(SAMPLE_RATE, resampler)
    info = clip.info.to_dict()
    return np.ascontiguousarray(clip.samples[0], dtype=np.float32), info, source


@dataclass
class _Run:
    """What :func:`transcribe` and :func:`transcribe_batch` share: checked options, the loaded engine, the record.

    Made by :meth:`start` before any audio is touched; :meth:`load` then
    resolves the device and precision, loads the model, applies the language
    fallback and warms up; :meth:`settings` and :meth:`versions` record it
    all with each result. ``opts``, ``device`` and ``precision`` are what was
    finally used, after any fallback.
    """

    engine: str
    opts: TranscriptionOptions
    ref: ModelRef | None = None
    loaded: object = None
    load_s: float = 0.0
    device: str = ""
    precision: str = ""
    fallbacks: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, engine: str, options: TranscriptionOptions | None, kwargs: dict, **fixed) -> "_Run":
        """Check the engine and the options (``kwargs`` as given by the caller, ``fixed`` by the function)."""
        engine = engine or default_engine()
        if engine not in ENGINES:
            raise EngineError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
        unknown = set(kwargs) - _option_names()
        if unknown:
            raise OptionsError(f"unknown option(s) {', '.join(sorted(unknown))}; valid options: {', '.join(sorted(_option_names()))}")
        base = options or TranscriptionOptions()
        changes = {**kwargs, **fixed}
        opts = base.with_(**changes) if changes else base
        check_engine_options(engine, opts)
        return cls(engine, opts)

    def load(self, model: str, languages: list | None = None, *, warmup_batch: int | None = None) -> list | None:
        """Load the model on the resolved device, fall back from unsupported languages, warm up.

        ``languages`` (one per clip, None entries allowed) are checked against
        the model like ``opts.language``; the usable ones are returned.
        ``warmup_batch`` sets the warm-up's batch size (default: the options').
        """
        opts = self.opts
        self.device = resolve_device(opts.device, self.engine)
        if self.engine == TRANSFORMERS:
            self.precision = resolve_dtype(opts.dtype, self.device)
        else:
            self.precision = resolve_compute_type(opts.compute_type, self.device)
        self.ref = resolve_model(model, engine=self.engine)
        known = model_languages(self.ref.path)  # from the model's files: a refusal comes before the model loads
        if known and opts.language is not None and opts.language not in known:
            opts = self.opts = _language_fallback(opts, self.ref.name, set(known), self.fallbacks)
        self.loaded, self.load_s = get_engine(self.engine, self.ref, self.device, self.precision)
        supported = self.loaded.languages()
        if opts.language is not None and opts.language not in supported:
            opts = self.opts = _language_fallback(opts, self.ref.name, supported, self.fallbacks)
        if languages is not None:
            usable = {}
            for code in dict.fromkeys(c for c in languages if c is not None):
                if code in supported:
                    usable[code] = code
                else:
                    usable[code] = _language_fallback(opts.with_(language=code), self.ref.name, supported, self.fallbacks).language
            languages = [usable.get(code) for code in languages]
        if opts.cudnn_benchmark and self.device.startswith("cuda"):
            import torch

            torch.backends.cudnn.benchmark = True
        if opts.warmup:
            warm = {"timestamps": "none", "language": opts.language or "en"}
            if warmup_batch is not None:
                warm["batch_size"] = warmup_batch
            self.loaded.transcribe(np.zeros(SAMPLE_RATE, np.float32), opts.with_(**warm))
        return languages

    def recover(self, exc: BaseException) -> None:
        """Retry settings after ``exc`` (see :func:`_recover_from`); anything but running out of memory re-raises."""
        self.loaded, self.opts, self.device, self.precision = _recover_from(
            exc, self.loaded, self.ref, self.engine, self.opts, self.device, self.precision, self.fallbacks
        )

    def settings(self, out, audio_info: dict, **extra) -> dict:
        """The record of one result: options after fallbacks, language, safeguards, model, engine, device, precision, audio."""
        return {
            **self.opts.to_dict(),
            "language": out.language,
            **_safeguards(self.opts, out),
            "token_cap": out.token_cap,
            "model": self.ref.to_dict(),
            "engine": self.engine,
            "device": self.device,
            "precision": self.precision,
            "audio": audio_info,
            **extra,
        }

    def versions(self) -> dict:
        return {
            "workbench": _workbench_version(),
            "engine": self.loaded.version(),
            "python": platform.python_version(),
            **_torch_versions(),
        }


#: Shorter audio is not decoded: no word fits (Whisper's shortest token spans 20 ms; a syllable, 100 ms or more).
MIN_DECODE_SECONDS = 0.1
#: Audio whose peak stays below this is not decoded: -90 dBFS, one step of 16-bit audio.
SILENCE_PEAK_DBFS = -90.0


def nothing_to_hear(samples: np.ndarray, rate: int = SAMPLE_RATE) -> str | None:
    """Why ``samples`` hold nothing to transcribe (too short, or silent), or None.

    Examples
    --------
    >>> nothing_to_hear(np.zeros(16000, np.float32))
    'silent: peak level below -90 dBFS'
    >>> nothing_to_hear(np.ones(10, np.float32))
    'too short: 0.62 ms (under 100 ms)'
    >>> nothing_to_hear(np.full(16000, 0.1, np.float32)) is None
    True
    """
    seconds = len(samples) / rate
    if seconds < MIN_DECODE_SECONDS:
        return f"too short: {seconds * 1000:.2g} ms (under {MIN_DECODE_SECONDS * 1000:.0f} ms)"
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if not peak >= 10 ** (SILENCE_PEAK_DBFS / 20):
        return f"silent: peak level below {SILENCE_PEAK_DBFS:.0f} dBFS"
    return None


def _not_decoded(samples: np.ndarray, name: str, language: str | None) -> EngineOutput | None:
    """The empty result for audio with nothing to hear (see :func:`nothing_to_hear`), said in a warning; None for audio to decode.

    A decoding the audio cannot justify only invents text (and can take minutes).
    """
    nothing = nothing_to_hear(samples)
    if not nothing:
        return None
    warnings.warn(f"{name}: {nothing}; the transcript is empty, nothing was decoded", TranscriptionWarning, stacklevel=3)
    return EngineOutput("", [], language, None, [f"not decoded: {nothing}"], 0)


def transcribe(
    audio,
    model: str = EMBEDDED,
    engine: str | None = None,
    *,
    options: TranscriptionOptions | None = None,
    progress=None,
    on_segment=None,
    **kwargs,
) -> Transcript:
    """Transcribe ``audio`` with Whisper.

    Parameters
    ----------
    audio : path, Clip or (array, rate)
        Anything not 16 kHz mono is down-mixed (mean) and resampled with
        ``resampler`` (recorded in ``settings``).
    model : str
        ``"embedded"`` (Whisper base, offline), a Hugging Face id, a
        ``"ms:"`` ModelScope id, or a folder. See :mod:`workbench.models`.
    engine : {"transformers", "faster-whisper"}, optional
        Default: faster-whisper where it is installed, else transformers
        (:func:`workbench.options.default_engine`).
    options : TranscriptionOptions, optional
        Or pass its fields as keyword arguments (``language="yue"``, ``beam_size=1``...).
    progress : callable, optional
        Called as ``progress(done_s, total_s)``, in seconds of audio: once
        with 0 when the audio is ready (before the model loads), then as
        the engine gets on (faster-whisper: at the end of each segment, so
        trailing silence is never reported; transformers: per 30-s chunk of
        a long file, then ``total_s``; audio not decoded: ``total_s``).
    on_segment : callable, optional
        Called with each :class:`Segment` as it is decoded (faster-whisper),
        or as soon as the pipeline has joined its chunks (transformers).

    Returns
    -------
    Transcript

    Raises
    ------
    LanguageNotSupportedError
        E.g. Cantonese on a model without ``<|yue|>``, unless
        ``language_fallback=True``.
    OptionsError
        An option the engine cannot honour (``vad_filter=True`` with
        transformers), before any work.
    """
    run = _Run.start(engine, options, kwargs)

    t0 = time.perf_counter()
    samples, audio_info, source = _prepare_audio(audio, run.opts.resampler)
    preprocess_s = time.perf_counter() - t0
    audio_s = len(samples) / SAMPLE_RATE
    report = None
    if progress is not None:
        progress(0.0, audio_s)

        def report(done_s: float) -> None:
            progress(done_s, audio_s)

    run.load(model)

    t1 = time.perf_counter()
    out = _not_decoded(samples, source or "audio", run.opts.language)
    if out is None:
        out, run.loaded, run.opts, run.device, run.precision = _run_with_memory_recovery(
            run.loaded, run.ref, run.engine, samples, run.opts, run.device, run.precision, run.fallbacks, report, on_segment
        )
    elif progress is not None:
        progress(audio_s, audio_s)
    inference_s = time.perf_counter() - t1

    timings = {
        "load_s": run.load_s,
        "preprocess_s": preprocess_s,
        "inference_s": inference_s,
        "audio_s": audio_s,
        "real_time_factor": real_time_factor(inference_s, audio_s),
    }
    settings, versions = run.settings(out, audio_info), run.versions()
    return Transcript(out.text, out.segments, out.language, out.language_probability, settings, versions, timings, run.fallbacks, source)


def transcribe_batch(
    clips,
    model: str = EMBEDDED,
    engine: str | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_CLIPS,
    languages=None,
    encoder_batch: int | None = None,
    options: TranscriptionOptions | None = None,
    progress=None,
    **kwargs,
) -> list[Transcript]:
    """Transcribe many short clips, ``batch_size`` of them decoded together.

    The batched counterpart of calling :func:`transcribe` once per clip:
    the same audio preparation, options, language fallback and recording,
    with one model load. transformers passes the clips to its pipeline as a
    list with ``batch_size``; faster-whisper lays them end to end and runs
    ``BatchedInferencePipeline`` with one window per clip. Clips longer than
    ``chunk_length_s`` (30 s) are transcribed one by one. A clip that is
    silent or too short (see :func:`nothing_to_hear`) is not decoded: its
    transcript is empty, with a warning, as with :func:`transcribe`.

    Parameters
    ----------
    clips : iterable of path, Clip or (array, rate)
        As for :func:`transcribe`.
    model : str
    engine : {"transformers", "faster-whisper"}, optional
        Default: faster-whisper where it is installed, else transformers
        (:func:`workbench.options.default_engine`).
    batch_size : int
        Clips decoded together (recorded as ``settings["batch_size"]``).
    languages : sequence of (str or None), optional
        One language per clip (codes or names, as ``language``), for a
        batch of mixed languages; a None entry falls back to ``language``.
    encoder_batch : int, optional
        Windows the encoder runs at once within a batch. Default: the whole
        batch on a GPU, one on a CPU (where encoding more at once costs more
        per window; the decoder still runs the whole batch).
    options : TranscriptionOptions, optional
        Or its fields as keyword arguments. ``language`` applies to every
        clip without its own; where neither is given the clip's language is
        detected. Clips are decoded in groups of one language.
    progress : callable, optional
        Called as ``progress(done_s, total_s)``, in seconds of audio of
        all the clips, after each batch.

    Returns
    -------
    list of Transcript
        One per clip, in order. Each ``timings["inference_s"]`` is its
        equal share of its batch's wall time; ``batch_inference_s``,
        ``batch_audio_s``, ``batch_clips`` and ``batch_size`` describe the
        whole call, ``load_s`` is the call's one model load.

    Raises
    ------
    LanguageNotSupportedError
        As for :func:`transcribe`.
    """
    run = _Run.start(engine, options, kwargs, batch_size=batch_size)

    prepared, preprocess = [], []
    for audio in clips:
        t0 = time.perf_counter()
        prepared.append(_prepare_audio(audio, run.opts.resampler))
        preprocess.append(time.perf_counter() - t0)
    if not prepared:
        return []
    samples = [p[0] for p in prepared]
    if languages is not None:
        languages = [normalise_language(code) for code in languages]
        if len(languages) != len(samples):
            raise OptionsError(f"languages has {len(languages)} entries for {len(samples)} clips; give one per clip (None to detect)")

    languages = run.load(model, languages, warmup_batch=MIN_BATCH)

    outputs: list[EngineOutput | None] = [None] * len(samples)
    shares = [0.0] * len(samples)
    done_s = 0.0
    for i, (x, _, source) in enumerate(prepared):
        language = languages[i] if languages is not None and languages[i] is not None else run.opts.language
        outputs[i] = _not_decoded(x, source or f"clip {i}", language)
        if outputs[i] is not None:
            done_s += len(x) / SAMPLE_RATE
    todo = [i for i, out in enumerate(outputs) if out is None]
    total_s = sum(len(x) for x in samples) / SAMPLE_RATE
    if progress is not None and done_s and not todo:
        progress(done_s, total_s)
    start = 0
    t_all = time.perf_counter()
    while start < len(todo):
        part = todo[start : start + run.opts.batch_size]
        part_languages = None if languages is None else [languages[i] for i in part]
        t1 = time.perf_counter()
        try:
            outs = run.loaded.transcribe_many([samples[i] for i in part], run.opts, part_languages, encoder_batch=encoder_batch)
        except Exception as exc:  # noqa: BLE001 - only memory errors are handled; the rest re-raise
            run.recover(exc)
            continue
        wall = time.perf_counter() - t1
        for i, out in zip(part, outs, strict=True):
            outputs[i], shares[i] = out, wall / len(part)
        start += len(part)
        done_s += sum(len(samples[i]) for i in part) / SAMPLE_RATE
        if progress is not None:
            progress(done_s, total_s)
    batch_s = time.perf_counter() - t_all

    batch_audio_s = total_s
    versions = run.versions()
    results = []
    for (x, audio_info, source), out, share, pre in zip(prepared, outputs, shares, preprocess, strict=True):
        audio_s = len(x) / SAMPLE_RATE
        encoder = encoder_batch or default_encoder_batch(run.device, run.opts.batch_size)
        settings = run.settings(out, audio_info, batched=True, encoder_batch=encoder)
        timings = {
            "load_s": run.load_s,
            "preprocess_s": pre,
            "inference_s": share,
            "audio_s": audio_s,
            "real_time_factor": real_time_factor(share, audio_s),
            "batch_size": run.opts.batch_size,
            "batch_clips": len(samples),
            "batch_inference_s": batch_s,
            "batch_audio_s": batch_audio_s,
            "batch_real_time_factor": real_time_factor(batch_s, batch_audio_s),
        }
        transcript = Transcript(
            out.text, out.segments, out.language, out.language_probability, settings, dict(versions), timings, list(run.fallbacks), source
        )
        results.append(transcript)
    return results


def _safeguards(opts: TranscriptionOptions, out) -> dict:
    """What the settings record of the safeguards beyond the options themselves."""
    return {"temperatures": list(opts.temperatures), "safeguard_notes": list(getattr(out, "notes", None) or [])}


def _language_fallback(opts: TranscriptionOptions, model_name: str, supported: set[str], fallbacks: list[str]) -> TranscriptionOptions:
    wanted = opts.language
    if wanted == "yue":
        if not opts.language_fallback:
            raise LanguageNotSupportedError(
                "model {model!r} has no Cantonese token <|yue|> (only Whisper large-v3-family checkpoints can be asked for Cantonese), "
                "and {strict} asks for no fallback. Use {use_zh} (optionally with a Cantonese initial prompt, "
                "e.g. '以下係廣東話。'), or {relax} to fall back to 'zh' automatically, recorded in the result.",
                model=model_name,
            )
        note = f"language: {model_name!r} cannot do 'yue' (no <|yue|> token); used '{CANTONESE_FALLBACK}' instead"
        warnings.warn(note, TranscriptionWarning, stacklevel=4)  # the caller of transcribe / transcribe_batch
        fallbacks.append(note)
        return opts.with_(language=CANTONESE_FALLBACK)
    raise LanguageNotSupportedError(
        "model {model!r} has no token for language {wanted!r} ({name}); it supports: {supported}",
        model=model_name,
        wanted=wanted,
        name=language_name(wanted),
        supported=", ".join(sorted(supported)),
    )


def _run_with_memory_recovery(loaded, ref, engine, samples, opts, device, precision, fallbacks, progress, on_segment=None):
    """The seed's recovery advice, made automatic: halve the batch on OOM, then move to the CPU."""
    while True:
        try:
            out = loaded.transcribe(samples, opts, progress=progress, on_segment=on_segment)
            return out, loaded, opts, device, precision
        except Exception as exc:  # noqa: BLE001 - only memory errors are handled; the rest re-raise
            loaded, opts, device, precision = _recover_from(exc, loaded, ref, engine, opts, device, precision, fallbacks)


def _recover_from(exc, loaded, ref, engine, opts, device, precision, fallbacks):
    """Settings to retry with after ``exc``: a halved batch, then the CPU; anything but running out of memory re-raises."""
    if not is_out_of_memory(exc):
        raise exc
    _free_gpu_memory()
    if opts.batch_size > MIN_BATCH:
        new = max(MIN_BATCH, opts.batch_size // 2)
        note = f"out of memory at batch size {opts.batch_size} on {device}; retried with batch size {new}"
        opts = opts.with_(batch_size=new)
    elif device != "cpu":
        cpu_precision = "float32" if engine == TRANSFORMERS else "int8"
        note = f"out of memory at batch size 1 on {device}; fell back to the CPU in {cpu_precision}"
        device, precision = "cpu", cpu_precision
        loaded, _ = get_engine(engine, ref, device, precision)
    else:
        raise EngineError(f"out of memory on the CPU even at batch size 1 ({exc}); use a smaller model, or free memory") from exc
    warnings.warn(note, TranscriptionWarning, stacklevel=5)
    fallbacks.append(note)
    return loaded, opts, device, precision


def _free_gpu_memory() -> None:
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover
        pass


def _workbench_version() -> str:
    from . import __version__

    return __version__


def _torch_versions() -> dict:
    """torch's version (and its CUDA build once torch is loaded); never imports torch to ask."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return {"torch": torch.__version__, "cuda": torch.version.cuda}
    try:
        return {"torch": importlib.metadata.version("torch")}
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return {}
