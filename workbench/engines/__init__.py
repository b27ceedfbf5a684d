"""The two inference engines: the seed's transformers pipeline, and faster-whisper.

Both take 16 kHz mono float32 and :class:`~workbench.options.TranscriptionOptions`
and return an :class:`EngineOutput`. Loading is separate from transcribing,
so a loaded engine is reused (see :func:`get_engine`).
"""

from __future__ import annotations

import time

from ..models import ModelRef
from ..options import ENGINES, FASTER_WHISPER, TRANSFORMERS
from .common import (
    CPU_ENCODER_BATCH,
    DETECT_SECONDS,
    EngineError,
    EngineOutput,
    LanguageNotSupportedError,
    Segment,
    Word,
    default_encoder_batch,
    is_out_of_memory,
    real_time_factor,
)
from .faster_whisper_engine import FasterWhisperEngine, _judged_silent, _window_needs_fallback
from .transformers_engine import TransformersEngine, transformers_safeguard_notes

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
    classes = {TRANSFORMERS: TransformersEngine, FASTER_WHISPER: FasterWhisperEngine}  # looked up per call, so a replaced class is used
    if engine not in classes:
        raise EngineError(f"unknown engine {engine!r}; choose {' or '.join(repr(name) for name in ENGINES)}")
    t0 = time.perf_counter()
    loaded = classes[engine](model, device, precision)
    _LOADED[key] = loaded
    return loaded, time.perf_counter() - t0


def clear_engines() -> None:
    """Forget every loaded engine (frees their memory once nothing else holds them)."""
    _LOADED.clear()
    import gc

    gc.collect()


__all__ = [
    "CPU_ENCODER_BATCH",
    "DETECT_SECONDS",
    "EngineError",
    "EngineOutput",
    "FasterWhisperEngine",
    "LanguageNotSupportedError",
    "Segment",
    "TransformersEngine",
    "Word",
    "clear_engines",
    "default_encoder_batch",
    "get_engine",
    "is_out_of_memory",
    "real_time_factor",
    "transformers_safeguard_notes",
]
