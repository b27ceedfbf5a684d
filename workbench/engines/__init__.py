"""The two inference engines: the seed's transformers pipeline, and faster-whisper.

Both take 16 kHz mono float32 and :class:`~workbench.options.TranscriptionOptions`
and return an :class:`EngineOutput`. Loading is separate from transcribing,
so a loaded engine is reused (see :func:`get_engine`).
"""

from __future__ import annotations

import contextlib
import threading
import time

from ..models import ModelRef, repair_after_failed_load
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
_REPLICA = threading.local()


@contextlib.contextmanager
def engine_replica(index: int, cpu_threads: int):
    """Within this block, this thread's faster-whisper CPU engine is its own copy.

    Copy ``index`` runs CTranslate2 on ``cpu_threads`` threads. Greedy
    decoding uses a CPU poorly (one token at a time, small matrices), so two
    copies decoding different clips side by side, each on half the cores,
    finish a batch of short clips sooner than one copy on all of them.
    Each copy keeps its own sampling generator (seeded once, see
    ``TranscriptionOptions.seed``): give each copy a fixed list of clips in
    a fixed order and the results repeat from run to run. Other engines and
    devices are unaffected.

    Examples
    --------
    >>> with engine_replica(1, 1):
    ...     _replica()
    (1, 1)
    >>> _replica() is None
    True
    """
    previous = getattr(_REPLICA, "value", None)
    _REPLICA.value = (int(index), int(cpu_threads))
    try:
        yield
    finally:
        _REPLICA.value = previous


def _replica() -> tuple[int, int] | None:
    return getattr(_REPLICA, "value", None)


def get_engine(engine: str, model: ModelRef, device: str, precision: str):
    """A loaded engine, reused for the same (model, engine, device, dtype) in this process.

    Returns ``(engine, load_seconds)``; ``load_seconds`` is 0 for a reused one.
    When the model fails to load, its files are checked: a damaged cache
    folder is rebuilt and loaded again, a damaged downloaded or local file
    is named (see :func:`workbench.models.repair_after_failed_load`).
    """
    key = (model.source, model.name, str(model.path), engine, device, precision)
    replica = _replica() if engine == FASTER_WHISPER and device == "cpu" else None
    if replica is not None:
        key += replica
    if key in _LOADED:
        return _LOADED[key], 0.0
    classes = {TRANSFORMERS: TransformersEngine, FASTER_WHISPER: FasterWhisperEngine}  # looked up per call, so a replaced class is used
    if engine not in classes:
        raise EngineError(f"unknown engine {engine!r}; choose {' or '.join(repr(name) for name in ENGINES)}")
    t0 = time.perf_counter()
    args = (model, device, precision, *([replica[1]] if replica is not None else []))
    try:
        loaded = classes[engine](*args)
    except EngineError:
        if not repair_after_failed_load(model):  # raises for a damaged file it cannot rebuild
            raise
        loaded = classes[engine](*args)  # a damaged cache folder, rebuilt
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
    "_judged_silent",
    "_window_needs_fallback",
    "clear_engines",
    "default_encoder_batch",
    "engine_replica",
    "get_engine",
    "is_out_of_memory",
    "real_time_factor",
    "transformers_safeguard_notes",
]
