"""The :class:`Panel` widget, assembled from its parts; :func:`panel` opens one, :func:`time_resampler_change` times it."""

from __future__ import annotations

import time

import ipywidgets as widgets

from ..models import EMBEDDED
from ..resampling import DEFAULT_RESAMPLER
from .jobs import JobsMixin
from .layout import LayoutMixin
from .runs import RunsMixin
from .signal import SignalMixin
from .sources import ClipSource, SourcesMixin, read_entries
from .transcribing import TranscriptionMixin


def _descendants(widget) -> list:
    """Every widget inside a container, however deeply nested."""
    found = []
    for child in getattr(widget, "children", ()):
        found += [*_descendants(child), child]
    return found


class Panel(LayoutMixin, JobsMixin, SourcesMixin, SignalMixin, TranscriptionMixin, RunsMixin, widgets.VBox):
    """Choose a clip and every setting, see and hear what each does, transcribe and compare.

    Parameters
    ----------
    manifest : path, list of ManifestEntry, or None
        Clips offered in the clip list. ``None`` uses the bundled set
        (:func:`workbench.datasets.bundled`) when there is one.
    model : str
        Initial model source: ``"embedded"``, a hub id or a folder.
    engine : {"transformers", "faster-whisper"}, optional
        Initial engine; default faster-whisper where it is installed, else transformers.
    resampler : str
        Initial resampler (a key of :data:`~workbench.resampling.RESAMPLERS`).
    background : bool
        Run signal work and transcription in background threads (the
        default, for live use). ``False`` runs them inside each callback, so
        scripts and tests see their results as soon as the callback returns.

    Attributes
    ----------
    sources : list of ClipSource
        The clips in the clip list, in order.
    figures : dict of str to plotly.graph_objects.Figure
        What is shown now: ``"waveform"`` and ``"before_after"``.
    transcript : Transcript or None
        The transcript shown now; ``score`` is its score (None without a reference).
    runs : list of dict
        One row per transcription computed in this session (see :meth:`runs_frame`).
    compare_figure : plotly.graph_objects.Figure
        The chart of the runs' error rates, coloured by resampler.
    last_message, last_message_kind : str
        The message shown in the panel (plain text) and its kind
        (``"error"``, ``"warning"``, ``"info"`` or ``""``).
    last_render_seconds : float or None
        Time from a signal setting changing to its figures being shown.

    Notes
    -----
    Each part lives in its own mixin: :class:`~workbench.widgets.layout.LayoutMixin`
    (widgets and callbacks), :class:`~workbench.widgets.jobs.JobsMixin`
    (background jobs and messages), :class:`~workbench.widgets.sources.SourcesMixin`
    (the clip list), :class:`~workbench.widgets.signal.SignalMixin` (figures
    and players), :class:`~workbench.widgets.transcribing.TranscriptionMixin`
    and :class:`~workbench.widgets.runs.RunsMixin` (the table of runs).

    Examples
    --------
    >>> p = Panel("data/manifest.csv")                # doctest: +SKIP
    >>> p.resampler.value = "naive_decimation"        # doctest: +SKIP
    >>> p.transcribe_button.click()                   # doctest: +SKIP
    """

    def __init__(
        self,
        manifest=None,
        *,
        model: str = EMBEDDED,
        engine: str | None = None,
        resampler: str = DEFAULT_RESAMPLER,
        background: bool = True,
    ):
        super().__init__()
        self._init_jobs(background)
        self._init_sources()
        self._init_signal()
        self._init_transcription()
        self._init_runs()

        from ..options import default_engine

        self._build(model, engine or default_engine(), resampler)
        entries, note = read_entries(manifest)
        self._connect()
        self._update_compare()
        if self.background:
            self._submit(self._transcribe_pool, self._warm_up, action="starting up")
        self.set_sources([ClipSource.from_entry(e) for e in entries])
        if note:
            self._show_message(note, "info")

    def close(self) -> None:
        """Stop the background threads, delete uploaded copies and close the widget."""
        self._stop_jobs()
        self._uploads.cleanup()
        for child in _descendants(self):
            child.close()
        super().close()


def panel(manifest=None, **kwargs) -> Panel:
    """A :class:`Panel` on ``manifest`` (the bundled set by default); display it to use it.

    Parameters
    ----------
    manifest : path, list of ManifestEntry, or None
    **kwargs
        ``model``, ``engine``, ``resampler``, ``background``: see :class:`Panel`.

    Examples
    --------
    >>> from workbench.widgets import panel
    >>> panel()          # doctest: +SKIP
    """
    return Panel(manifest, **kwargs)


def time_resampler_change(panel: Panel, resampler: str) -> float:
    """Seconds from choosing ``resampler`` in ``panel`` until its figures and players are shown.

    Raises
    ------
    RuntimeError
        When the panel could not show them (its message says why).
    """
    t0 = time.perf_counter()
    if panel.resampler.value == resampler:
        panel._refresh_signal()
    else:
        panel.resampler.value = resampler
    panel.wait()
    elapsed = time.perf_counter() - t0
    shown = panel.displayed_settings
    if shown is None or shown["resampler"] != resampler:
        raise RuntimeError(f"the panel did not show the figures for {resampler!r}: {panel.last_message or 'no message'}")
    return elapsed
