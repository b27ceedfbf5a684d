"""The live panel: one widget to drive the whole audio path and see what it does.

:class:`Panel` puts every setting that can change a transcript in front of
the user: the clip (bundled set, a path or an upload), decoder, channel
handling, resampler, model, engine, language and decoding options. It shows
the waveform, the spectrograms before and after resampling, players for the
original and the resampled audio, the transcript aligned against the
reference with its strict and lenient error rates and their breakdown, and
a table and chart of every run of the session.

Signal work and transcription run in background threads so the panel keeps
answering while they work. Results are cached per clip and settings: going
back to a setting seen before shows its figures or transcript at once.
Errors appear as messages in the panel, never as tracebacks.

The parts:

- :mod:`~workbench.widgets.app` -- :class:`Panel` and :func:`panel`
- :mod:`~workbench.widgets.layout` -- the widgets and which callback each calls
- :mod:`~workbench.widgets.jobs` -- background jobs and the messages they leave
- :mod:`~workbench.widgets.sources` -- the clip list (:class:`ClipSource`)
- :mod:`~workbench.widgets.signal` -- figures and players, cached per setting
- :mod:`~workbench.widgets.transcribing` -- transcription, scoring and progress
- :mod:`~workbench.widgets.runs` -- the table and chart of runs
- :mod:`~workbench.widgets.fragments` -- the HTML shown
- :mod:`~workbench.widgets.constants` -- choices, limits and styles

The resampler-switch benchmark (:func:`measure_resampler_switch`) lives in
:mod:`workbench.benchmarks.switch`; it is still reachable here, imported
only when asked for.

Examples
--------
>>> from workbench.widgets import panel
>>> p = panel()                     # doctest: +SKIP
>>> p                               # doctest: +SKIP
"""

from __future__ import annotations

from ..resampling import DEFAULT_RESAMPLER
from .app import Panel, panel, time_resampler_change
from .constants import (
    AUTO_DECODER,
    CHANNEL_CHOICES,
    CONTROLS_WIDTH,
    DESCRIPTION_WIDTH,
    FIGURE_WIDTH,
    LANGUAGE_CHOICES,
    MAX_BATCH_SIZE,
    MAX_BEAM_SIZE,
    MAX_CACHED_CLIPS,
    MAX_CACHED_TRANSCRIPTS,
    MAX_CACHED_VIEWS,
    MESSAGE_STYLES,
    MODEL_SUGGESTIONS,
    PLAYER_MAX_SECONDS,
    PLAYER_SUBTYPE,
    PLOTLY_MIMETYPE,
    PROGRESS_AUDIO_READY,
    PROGRESS_DONE,
    PROGRESS_INFERENCE_DONE,
    PROGRESS_START,
    SYNTHETIC_MARK,
    TABLE_MAX_HEIGHT,
    TARGET_RATE,
)
from .sources import ClipSource

#: Names that moved to :mod:`workbench.benchmarks.switch`, served from there on first use.
_BENCHMARK_NAMES = frozenset(
    {
        "measure_resampler_switch",
        "SWITCH_TARGET_SECONDS",
        "BENCH_SECONDS",
        "BENCH_RATE",
        "BENCH_HISS_LEVEL",
        "BENCH_HISS_LOW_HZ",
        "BENCH_RESAMPLERS",
    }
)

__all__ = [
    "AUTO_DECODER",
    "CHANNEL_CHOICES",
    "CONTROLS_WIDTH",
    "ClipSource",
    "DEFAULT_RESAMPLER",
    "DESCRIPTION_WIDTH",
    "FIGURE_WIDTH",
    "LANGUAGE_CHOICES",
    "MAX_BATCH_SIZE",
    "MAX_BEAM_SIZE",
    "MAX_CACHED_CLIPS",
    "MAX_CACHED_TRANSCRIPTS",
    "MAX_CACHED_VIEWS",
    "MESSAGE_STYLES",
    "MODEL_SUGGESTIONS",
    "PLAYER_MAX_SECONDS",
    "PLAYER_SUBTYPE",
    "PLOTLY_MIMETYPE",
    "PROGRESS_AUDIO_READY",
    "PROGRESS_DONE",
    "PROGRESS_INFERENCE_DONE",
    "PROGRESS_START",
    "Panel",
    "SYNTHETIC_MARK",
    "TABLE_MAX_HEIGHT",
    "TARGET_RATE",
    "measure_resampler_switch",
    "panel",
    "time_resampler_change",
]


def __getattr__(name: str):
    """Serve the benchmark names from :mod:`workbench.benchmarks.switch`, importing it only now."""
    if name in _BENCHMARK_NAMES:
        from ..benchmarks import switch

        return getattr(switch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_BENCHMARK_NAMES})
