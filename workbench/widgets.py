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

Examples
--------
>>> from workbench.widgets import panel
>>> p = panel()                     # doctest: +SKIP
>>> p                               # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import math
import re
import tempfile
import threading
import time
import traceback
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import plotly.colors
import plotly.graph_objects as go
import plotly.io as pio

from . import figures
from .audio import SAMPLE_RATE, Clip, backend_status, load_audio
from .datasets import ManifestEntry, bundled, read_manifest
from .errors import AudioWarning, WorkbenchError, first_line
from .models import EMBEDDED
from .options import ENGINES, TIMESTAMPS, TranscriptionOptions
from .resampling import DEFAULT_RESAMPLER, RESAMPLERS
from .scoring import CAUSE_LABELS, CAUSES, COUNTED_CAUSES, Score, score
from .signals import band_limited_noise, speech_like
from .spectra import Spectrogram, downsample_for_display, stft_spectrogram
from .transcription import Transcript, TranscriptionWarning, transcribe

#: Rate the resampler converts to: Whisper's input rate.
TARGET_RATE = SAMPLE_RATE
#: Marker in a manifest's ``source`` column for generated (not recorded) clips.
SYNTHETIC_MARK = "synthetic"

#: Languages offered in the panel (label, Whisper code); "auto" detects.
LANGUAGE_CHOICES = (
    ("auto-detect", "auto"),
    ("Cantonese (yue)", "yue"),
    ("Chinese (zh)", "zh"),
    ("English (en)", "en"),
    ("Japanese (ja)", "ja"),
    ("Korean (ko)", "ko"),
    ("French (fr)", "fr"),
    ("German (de)", "de"),
    ("Spanish (es)", "es"),
)
#: Channel handling offered (label, ``load_audio(channel=...)`` value).
CHANNEL_CHOICES = (("mean of the channels", "mean"), ("first channel", "first"), ("second channel", 1))
#: Model sources suggested in the model box; any hub id or folder may be typed.
MODEL_SUGGESTIONS = (EMBEDDED, "openai/whisper-large-v3", "openai/whisper-large-v3-turbo", "ms:AI-ModelScope/whisper-large-v3")
AUTO_DECODER = "auto"
MAX_BEAM_SIZE = 10
MAX_BATCH_SIZE = 64

#: Entries kept in each cache (least recently used ones are dropped first).
MAX_CACHED_CLIPS = 8
MAX_CACHED_VIEWS = 32
MAX_CACHED_TRANSCRIPTS = 256

#: How players encode audio, and the longest stretch they hold.
PLAYER_SUBTYPE = "PCM_16"
PLAYER_MAX_SECONDS = 300.0

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
DESCRIPTION_WIDTH = "90px"
COLUMN_WIDTH = "32%"
TABLE_MAX_HEIGHT = "320px"
PALETTE = plotly.colors.qualitative.Plotly
MESSAGE_STYLES = {
    "error": ("#fdecea", "#b3261e"),
    "warning": ("#fff4e5", "#8a5300"),
    "info": ("#e8f1fb", "#1c4f80"),
}

#: Progress bar milestones (percent) of one transcription.
PROGRESS_START = 5
PROGRESS_AUDIO_READY = 15
PROGRESS_INFERENCE_DONE = 95
PROGRESS_DONE = 100

#: The resampler-switch speed target (seconds, 30-second 48 kHz clip).
SWITCH_TARGET_SECONDS = 0.5
BENCH_SECONDS = 30.0
BENCH_RATE = 48_000
#: Level of the hiss above the new Nyquist in the benchmark clip (linear, relative to the speech).
BENCH_HISS_LEVEL = 0.1
BENCH_HISS_LOW_HZ = 9_000.0
BENCH_RESAMPLERS = ("soxr_vhq", "scipy_poly", "torchaudio_default", "naive_decimation", "linear", "mislabelled")

_TAB_SIGNAL, _TAB_TRANSCRIPT, _TAB_COMPARE = range(3)

__all__ = ["ClipSource", "Panel", "measure_resampler_switch", "panel", "time_resampler_change"]


# --------------------------------------------------------------------------
# Small data holders
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipSource:
    """A clip the panel can show: a manifest entry, a typed path or an upload.

    Attributes
    ----------
    key : str
        Identity used by the caches (the resolved file, or the upload's hash).
    path : Path
        The file decoded.
    label : str
        How the clip is named in the panel (says "synthetic" for generated clips).
    reference : str
        Reference transcript ("" when unknown).
    language : str or None
        Language of the reference (used for scoring), from the manifest.
    synthetic : bool
        The manifest marks the clip as generated rather than recorded.
    origin : {"manifest", "path", "upload"}
    """

    key: str
    path: Path
    label: str
    reference: str = ""
    language: str | None = None
    synthetic: bool = False
    origin: str = "manifest"

    @classmethod
    def from_entry(cls, entry: ManifestEntry) -> ClipSource:
        """A source for one manifest row; its ``source`` column says whether it is synthetic."""
        synthetic = SYNTHETIC_MARK in str(entry.meta.get("source", "")).lower()
        label = " · ".join(part for part in (entry.name, entry.language, SYNTHETIC_MARK if synthetic else "") if part)
        return cls(f"file:{entry.path}", entry.path, label, entry.reference, entry.language or None, synthetic, "manifest")


@dataclass
class _Base:
    """What depends only on the decoded clip: shown whatever the resampler."""

    clip: Clip
    before: Spectrogram
    waveform: go.Figure
    waveform_bundle: dict
    wav: bytes


@dataclass
class _View:
    """What one resampler adds: the resampled clip, its figure and player audio."""

    clip: Clip
    figure: go.Figure
    bundle: dict
    wav: bytes


@dataclass
class _Request:
    """Every setting of one transcription, read from the widgets when it was asked for."""

    source: ClipSource
    decoder: str
    channel: object
    resampler: str
    model: str
    engine: str
    options: TranscriptionOptions
    reference: str = ""

    @property
    def key(self) -> tuple:
        options = json.dumps(self.options.to_dict(), sort_keys=True, default=str)
        return (self.source.key, self.decoder, self.channel, self.resampler, self.model, self.engine, options)


@dataclass
class _LRU:
    """A small thread-safe least-recently-used mapping."""

    maxsize: int
    _items: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _decoder_status() -> dict[str, tuple[bool, str]]:
    """:func:`~workbench.audio.backend_status`, asked once per process (it imports torch)."""
    return backend_status()


def _available_resamplers() -> list[str]:
    return [name for name, r in RESAMPLERS.items() if r.available()[0]]


def _figure_bundle(fig: go.Figure) -> dict:
    """A JSON-ready display bundle for ``fig`` (rendered by JupyterLab, Notebook 7 and VS Code)."""
    title = fig.layout.title.text or "figure"
    return {PLOTLY_MIMETYPE: json.loads(pio.to_json(fig, validate=False, remove_uids=False)), "text/plain": f"<plotly figure: {title}>"}


def _show_bundle(output: widgets.Output, bundle: dict | None) -> None:
    """Replace what ``output`` shows (safe from any thread, unlike ``with output:``)."""
    output.outputs = () if bundle is None else ({"output_type": "display_data", "data": bundle, "metadata": {}},)


def _wav_bytes(clip: Clip, max_seconds: float = PLAYER_MAX_SECONDS) -> bytes:
    """The clip as a 16-bit WAV file in memory, at its labelled rate (so a mislabelled clip plays slow)."""
    import soundfile as sf

    frames = min(clip.num_frames, int(max_seconds * clip.sample_rate))
    samples = np.clip(clip.samples[:, :frames].T, -1.0, 1.0)
    buffer = io.BytesIO()
    sf.write(buffer, samples, clip.sample_rate, format="WAV", subtype=PLAYER_SUBTYPE)
    return buffer.getvalue()


def _descendants(widget) -> list:
    """Every widget inside a container, however deeply nested."""
    found = []
    for child in getattr(widget, "children", ()):
        found += [*_descendants(child), child]
    return found


def _khz(rate: float) -> str:
    return f"{rate / 1000:g} kHz"


def _safe_file_name(name: str) -> str:
    """An uploaded file's own name, without folders or characters no file system accepts."""
    base = re.split(r"[\\/]", str(name))[-1]
    return re.sub(r'[:*?"<>|\x00-\x1f]', "_", base).strip(" .") or "upload"


def _format_rate(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _cell(value) -> str:
    return html.escape(str(value))


# --------------------------------------------------------------------------
# The panel
# --------------------------------------------------------------------------


class Panel(widgets.VBox):
    """Choose a clip and every setting, see and hear what each does, transcribe and compare.

    Parameters
    ----------
    manifest : path, list of ManifestEntry, or None
        Clips offered in the clip list. ``None`` uses the bundled set
        (:func:`workbench.datasets.bundled`) when there is one.
    model : str
        Initial model source: ``"embedded"``, a hub id or a folder.
    engine : {"transformers", "faster-whisper"}
        Initial engine.
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
        engine: str = "faster-whisper",
        resampler: str = DEFAULT_RESAMPLER,
        background: bool = True,
    ):
        super().__init__()
        self.background = bool(background)
        self._signal_pool = ThreadPoolExecutor(1, thread_name_prefix="workbench-signal") if self.background else None
        self._transcribe_pool = ThreadPoolExecutor(1, thread_name_prefix="workbench-transcribe") if self.background else None
        self._futures: list = []
        self._futures_lock = threading.Lock()
        self._inflight: set = set()
        self._compute_lock = threading.RLock()
        self._uploads = tempfile.TemporaryDirectory(prefix="workbench-uploads-")
        self._bases = _LRU(MAX_CACHED_CLIPS)
        self._resampled = _LRU(MAX_CACHED_VIEWS)
        self._views = _LRU(MAX_CACHED_VIEWS)
        self._transcripts = _LRU(MAX_CACHED_TRANSCRIPTS)
        self._requested_at: dict = {}
        self._shown_key: tuple | None = None
        self._replacing_clip_options = False

        self.sources: list[ClipSource] = []
        self.figures: dict[str, go.Figure] = {}
        self.transcript: Transcript | None = None
        self.score: Score | None = None
        self.runs: list[dict] = []
        self.compare_figure = _compare_figure([])
        self.last_message = ""
        self.last_message_kind = ""
        self.last_render_seconds: float | None = None

        self._build(model, engine, resampler)
        entries, note = self._read_entries(manifest)
        self._connect()
        self._update_compare()
        if note:
            self._show_message(note, "info")
        if self.background:
            self._submit(self._transcribe_pool, self._warm_up, action="starting up")
        self.set_sources([ClipSource.from_entry(e) for e in entries])

    # ------------------------------------------------------------------
    # Building
    # ------------------------------------------------------------------

    def _build(self, model: str, engine: str, resampler: str) -> None:
        style = {"description_width": DESCRIPTION_WIDTH}
        wide = widgets.Layout(width="95%")
        defaults = TranscriptionOptions()

        self.clip = widgets.Dropdown(description="Clip", options=[], style=style, layout=wide)
        self.path = widgets.Text(description="Path", placeholder="a file on this machine", style=style, layout=widgets.Layout(width="72%"))
        self.load_button = widgets.Button(description="Load", icon="folder-open", tooltip="Decode the file at this path and add it to the clip list")
        self.upload = widgets.FileUpload(description="Upload", accept="audio/*,.wav,.flac,.mp3,.ogg,.opus,.m4a,.aac,.webm", multiple=False)
        self.reference = widgets.Textarea(description="Reference", placeholder="what was said, for scoring", style=style, layout=widgets.Layout(width="95%", height="64px"))

        status = _decoder_status()
        decoders = [AUTO_DECODER] + [name for name, (ok, _) in status.items() if ok]
        skipped = "; ".join(f"{name}: {why}" for name, (ok, why) in status.items() if not ok)
        self.decoder = widgets.Dropdown(
            description="Decoder",
            options=decoders,
            value=AUTO_DECODER,
            style=style,
            layout=wide,
            tooltip="auto: the first decoder that reads the file" + (f". Not available here: {skipped}" if skipped else ""),
        )
        self.channel = widgets.Dropdown(description="Channels", options=CHANNEL_CHOICES, value="mean", style=style, layout=wide)
        names = _available_resamplers()
        self.resampler = widgets.Dropdown(
            description="Resampler",
            options=[(f"{name} ({RESAMPLERS[name].kind})", name) for name in names],
            value=resampler if resampler in names else DEFAULT_RESAMPLER,
            style=style,
            layout=wide,
        )
        self.resampler_note = widgets.HTML()
        self.signal_status = widgets.Label("")

        self.model = widgets.Combobox(
            description="Model", options=MODEL_SUGGESTIONS, value=model, ensure_option=False, placeholder="embedded, a hub id or a folder", style=style, layout=wide
        )
        self.engine = widgets.ToggleButtons(description="Engine", options=ENGINES, value=engine, style={**style, "button_width": "110px"})
        self.language = widgets.Dropdown(description="Language", options=LANGUAGE_CHOICES, value="auto", style=style, layout=wide)
        self.language_fallback = widgets.Checkbox(description="use zh when the model has no Cantonese token", value=defaults.language_fallback, indent=False)
        self.beam_size = widgets.BoundedIntText(description="Beam size", min=1, max=MAX_BEAM_SIZE, value=defaults.beam_size, style=style, layout=widgets.Layout(width="170px"))
        self.batch_size = widgets.BoundedIntText(description="Batch size", min=1, max=MAX_BATCH_SIZE, value=defaults.batch_size, style=style, layout=widgets.Layout(width="170px"))
        self.timestamps = widgets.Dropdown(description="Timestamps", options=TIMESTAMPS, value=defaults.timestamps, style=style, layout=widgets.Layout(width="220px"))
        self.initial_prompt = widgets.Text(description="Prompt", placeholder="optional, e.g. 以下係廣東話。", style=style, layout=wide)

        self.transcribe_button = widgets.Button(description="Transcribe", icon="play", button_style="primary")
        self.progress = widgets.IntProgress(value=0, min=0, max=PROGRESS_DONE, layout=widgets.Layout(width="240px"))
        self.status = widgets.Label("")

        self.message = widgets.HTML()
        self._details_text = widgets.HTML()
        self.details = widgets.Accordion(children=[self._details_text], titles=("details",), selected_index=None)
        self.details.layout.display = "none"

        self.clip_info = widgets.HTML()
        self.waveform_output = widgets.Output()
        self.spectrogram_output = widgets.Output()
        self.original_audio = widgets.Audio(format="wav", autoplay=False, loop=False, controls=True)
        self.resampled_audio = widgets.Audio(format="wav", autoplay=False, loop=False, controls=True)
        self.transcript_html = widgets.HTML("<i>Choose the settings and press Transcribe.</i>")
        self.compare_table = widgets.HTML()
        self.compare_output = widgets.Output()
        self.clear_runs_button = widgets.Button(description="Clear runs", icon="trash", tooltip="Empty the table of runs (cached results are kept)")

        def column(title, *children):
            return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), *children], layout=widgets.Layout(width=COLUMN_WIDTH))

        controls = widgets.HBox(
            [
                column("Clip", self.clip, widgets.HBox([self.path, self.load_button]), self.upload, self.reference),
                column("Audio path", self.decoder, self.channel, self.resampler, self.resampler_note, self.signal_status),
                column(
                    "Model",
                    self.model,
                    self.engine,
                    self.language,
                    self.language_fallback,
                    widgets.HBox([self.beam_size, self.batch_size]),
                    self.timestamps,
                    self.initial_prompt,
                ),
            ]
        )
        players = widgets.HBox(
            [
                widgets.VBox([widgets.HTML("original (as decoded)"), self.original_audio]),
                widgets.VBox([widgets.HTML(f"resampled to {_khz(TARGET_RATE)}"), self.resampled_audio]),
            ]
        )
        self.tabs = widgets.Tab(
            children=[
                widgets.VBox([self.clip_info, players, self.waveform_output, self.spectrogram_output]),
                widgets.VBox([self.transcript_html]),
                widgets.VBox([self.clear_runs_button, self.compare_table, self.compare_output]),
            ],
            titles=("Signal", "Transcript", "Compare runs"),
        )
        self.children = [
            controls,
            widgets.HBox([self.transcribe_button, self.progress, self.status]),
            self.message,
            self.details,
            self.tabs,
        ]
        self._describe_resampler()

    def _connect(self) -> None:
        self.clip.observe(self._guard(self._on_clip_change, "switching clips"), names="value")
        for control in (self.decoder, self.channel):
            control.observe(self._guard(lambda change: self._refresh_signal(), "preparing the figures"), names="value")
        self.resampler.observe(self._guard(self._on_resampler_change, "preparing the figures"), names="value")
        self.load_button.on_click(self._guard(lambda button: self.load_path(self.path.value), "loading the file"))
        self.upload.observe(self._guard(self._on_upload, "reading the upload"), names="value")
        self.transcribe_button.on_click(self._guard(lambda button: self.run_transcription(), "starting the transcription"))
        self.clear_runs_button.on_click(self._guard(lambda button: self.clear_runs(), "clearing the runs"))

    def _read_entries(self, manifest) -> tuple[list[ManifestEntry], str]:
        if manifest is None:
            try:
                entries = bundled()
            except WorkbenchError as exc:
                return [], f"No bundled clips here ({first_line(exc)}). Load a file by its path or upload one."
            return entries, ""
        if isinstance(manifest, (list, tuple)):
            return list(manifest), ""
        try:
            return read_manifest(manifest), ""
        except WorkbenchError as exc:
            return [], f"{exc} Load a file by its path or upload one."

    def set_sources(self, sources, select: int = 0) -> None:
        """Replace the clip list with ``sources`` (ClipSource objects) and show number ``select``."""
        self.sources = list(sources)
        self._replacing_clip_options = True
        try:
            self.clip.options = [(source.label, i) for i, source in enumerate(self.sources)]
            self.clip.value = select if self.sources else None
        finally:
            self._replacing_clip_options = False
        self._on_clip_change(None)

    # ------------------------------------------------------------------
    # Running work: in the background, or inline when background=False
    # ------------------------------------------------------------------

    def _submit(self, pool, fn, *args, action: str, on_error=None) -> None:
        job = self._guard(fn, action, on_error=on_error)
        if pool is None:
            job(*args)
            return
        future = pool.submit(job, *args)
        with self._futures_lock:
            self._futures = [f for f in self._futures if not f.done()] + [future]

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every job started so far (and any job they start) has finished.

        Parameters
        ----------
        timeout : float, optional
            Give up after this many seconds.

        Returns
        -------
        bool
            True when nothing is left running.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._futures_lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            wait_for_futures(pending, timeout=left)

    @property
    def busy(self) -> bool:
        """Whether a background job is running or queued."""
        with self._futures_lock:
            return any(not f.done() for f in self._futures)

    def close(self) -> None:
        """Stop the background threads, delete uploaded copies and close the widget."""
        for pool in (self._signal_pool, self._transcribe_pool):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self._uploads.cleanup()
        for child in _descendants(self):
            child.close()
        super().close()

    def _warm_up(self) -> None:
        """Import what the first transcription request needs, off the kernel's thread."""
        TranscriptionOptions(language="en")

    # ------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------

    def _guard(self, fn, action: str, *, on_error=None):
        """``fn`` with every exception shown in the panel instead of raised."""

        def guarded(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except WorkbenchError as exc:
                self._show_message(str(exc), "error")
            except Exception as exc:  # noqa: BLE001 - shown in the panel with its traceback folded away
                self._show_message(
                    f"Something unexpected went wrong while {action}: {type(exc).__name__}: {first_line(exc)}",
                    "error",
                    details=traceback.format_exc(),
                )
            if on_error is not None:
                with contextlib.suppress(Exception):  # resetting the display must not hide the first error
                    on_error()
            return None

        return guarded

    def _show_message(self, text: str, kind: str = "error", *, details: str | None = None) -> None:
        background, colour = MESSAGE_STYLES[kind]
        body = html.escape(text).replace("\n", "<br>")
        self.last_message, self.last_message_kind = text, kind
        self.message.value = (
            f'<div class="wb-message wb-{kind}" style="background:{background};color:{colour};border-left:4px solid {colour};'
            f'padding:6px 10px;margin:4px 0;white-space:normal">{body}</div>'
        )
        if details:
            self._details_text.value = f'<pre style="font-size:85%;white-space:pre-wrap">{html.escape(details)}</pre>'
            self.details.selected_index = None
            self.details.layout.display = None
        else:
            self._details_text.value = ""
            self.details.layout.display = "none"

    def clear_message(self) -> None:
        """Remove the message (and its details) from the panel."""
        self.last_message, self.last_message_kind = "", ""
        self.message.value = ""
        self._details_text.value = ""
        self.details.layout.display = "none"

    # ------------------------------------------------------------------
    # Clips
    # ------------------------------------------------------------------

    @property
    def source(self) -> ClipSource | None:
        """The clip selected now."""
        index = self.clip.value
        return self.sources[index] if index is not None and 0 <= index < len(self.sources) else None

    def load_path(self, path) -> None:
        """Decode the file at ``path``, add it to the clip list and show it.

        Problems (missing file, not audio, unsupported codec...) are shown
        in the panel; the clip list is left as it was.
        """
        self.clear_message()
        text = str(path).strip().strip('"').strip("'")
        if not text:
            raise WorkbenchError("Type the path of an audio file first.")
        file = Path(text).expanduser()
        key = f"file:{file.resolve()}"
        self._add_source(ClipSource(key, file, f"{file.name} · path", origin="path"))

    def load_upload(self, name: str, content: bytes) -> None:
        """Add an uploaded file (its name and bytes) to the clip list and show it.

        The bytes are written, under the file's own name, to a folder that
        is deleted when the panel closes; an unreadable upload is reported in
        the panel.
        """
        self.clear_message()
        content = bytes(content)
        digest = hashlib.sha256(content).hexdigest()[:16]
        folder = Path(self._uploads.name) / digest
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / _safe_file_name(name)
        file.write_bytes(content)
        self._add_source(ClipSource(f"upload:{digest}", file, f"{file.name} · upload", origin="upload"))

    def _on_upload(self, change) -> None:
        files = change["new"]
        if files:
            item = files[-1]
            self.load_upload(item["name"], item["content"])

    def _add_source(self, source: ClipSource) -> None:
        for i, known in enumerate(self.sources):
            if known.key == source.key:
                self.clip.value = i
                return
        self.load_button.disabled = True
        self._submit(self._signal_pool, self._load_job, source, action=f"loading {source.path.name}", on_error=self._load_finished)

    def _load_job(self, source: ClipSource) -> None:
        self.signal_status.value = f"decoding {source.path.name}…"
        self._base(source, self.decoder.value, self.channel.value)
        self.set_sources([*self.sources, source], select=len(self.sources))
        self._load_finished()

    def _load_finished(self) -> None:
        self.load_button.disabled = False
        if self._shown_key is None or self._shown_key != self._signal_key():
            self.signal_status.value = ""

    def _on_clip_change(self, change) -> None:
        if self._replacing_clip_options:
            return
        source = self.source
        self.reference.value = source.reference if source else ""
        self._refresh_signal()

    # ------------------------------------------------------------------
    # Signal: decoding, resampling, figures and players
    # ------------------------------------------------------------------

    def _signal_key(self) -> tuple | None:
        source = self.source
        if source is None:
            return None
        return (source.key, self.decoder.value, self.channel.value, self.resampler.value)

    def _on_resampler_change(self, change) -> None:
        self._describe_resampler()
        self._refresh_signal()

    def _describe_resampler(self) -> None:
        r = RESAMPLERS[self.resampler.value]
        self.resampler.tooltip = r.description
        warn = r.kind in ("bad", "mislabel")
        colour = MESSAGE_STYLES["error"][1] if warn else "#555"
        self.resampler_note.value = f'<span style="font-size:85%;color:{colour}">{html.escape(r.description)}</span>'

    def _refresh_signal(self) -> None:
        """Show the figures and players for the current settings: at once when cached, else in the background."""
        key = self._signal_key()
        if key is None:
            self._clear_signal("Choose a clip, type a path or upload a file.")
            return
        self._requested_at[key] = time.perf_counter()
        if key in self._views and key[:3] in self._bases:
            self._apply_signal(key)
            return
        if key in self._inflight:
            return
        self._inflight.add(key)
        self.signal_status.value = f"preparing figures for {key[3]}…"
        self._submit(self._signal_pool, self._signal_job, key, action="preparing the figures", on_error=lambda: self._signal_failed(key))

    def _signal_job(self, key: tuple) -> None:
        try:
            if key != self._signal_key():
                return  # the user has moved on; computed if they come back
            source = self._source_by_key(key[0])
            self._view(source, *key[1:])
            if key == self._signal_key():
                self._apply_signal(key)
        finally:
            self._inflight.discard(key)

    def _signal_failed(self, key: tuple) -> None:
        if key == self._signal_key():
            self._clear_signal("No figures: the clip could not be prepared with these settings (see the message above).")

    def _source_by_key(self, key: str) -> ClipSource:
        for source in self.sources:
            if source.key == key:
                return source
        raise WorkbenchError("That clip is no longer in the clip list; choose another one.")

    def _cached(self, cache: _LRU, key, compute):
        value = cache.get(key)
        if value is not None:
            return value
        with self._compute_lock:
            value = cache.get(key)
            if value is None:
                value = compute()
                cache.put(key, value)
        return value

    def _base(self, source: ClipSource, decoder: str, channel) -> _Base:
        def compute() -> _Base:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AudioWarning)  # kept in clip.info.warnings and shown with the clip
                clip = load_audio(source.path, backend=decoder, channel=channel)
            before = downsample_for_display(stft_spectrogram(clip.samples, clip.sample_rate))
            title = f"Waveform: {source.label} ({_khz(clip.sample_rate)}, {clip.info.channel_mode}, {clip.duration:.2f} s)"
            waveform = figures.waveform_figure(clip, title=title)
            return _Base(clip, before, waveform, _figure_bundle(waveform), _wav_bytes(clip))

        return self._cached(self._bases, (source.key, decoder, channel), compute)

    def _resampled_clip(self, source: ClipSource, decoder: str, channel, resampler: str) -> Clip:
        def compute() -> Clip:
            return self._base(source, decoder, channel).clip.resample(TARGET_RATE, resampler)

        return self._cached(self._resampled, (source.key, decoder, channel, resampler), compute)

    def _view(self, source: ClipSource, decoder: str, channel, resampler: str) -> _View:
        def compute() -> _View:
            base = self._base(source, decoder, channel)
            clip = self._resampled_clip(source, decoder, channel, resampler)
            after = stft_spectrogram(clip.samples, clip.sample_rate)
            title = f"{source.label}: {_khz(base.clip.sample_rate)} to {_khz(TARGET_RATE)} with {resampler}"
            fig = figures.before_after_figure(base.before, after, labels=("original", resampler), title=title)
            return _View(clip, fig, _figure_bundle(fig), _wav_bytes(clip))

        return self._cached(self._views, (source.key, decoder, channel, resampler), compute)

    def _apply_signal(self, key: tuple) -> None:
        base, view = self._bases.get(key[:3]), self._views.get(key)
        if base is None or view is None:
            return
        source = self._source_by_key(key[0])
        _show_bundle(self.waveform_output, base.waveform_bundle)
        _show_bundle(self.spectrogram_output, view.bundle)
        self.original_audio.value = base.wav
        self.resampled_audio.value = view.wav
        self.figures = {"waveform": base.waveform, "before_after": view.figure}
        self.clip_info.value = _clip_info_html(source, base.clip, view.clip, key[3])
        self._shown_key = key
        started = self._requested_at.pop(key, None)
        self.last_render_seconds = None if started is None else time.perf_counter() - started
        took = "" if self.last_render_seconds is None else f" in {self.last_render_seconds:.3f} s"
        self.signal_status.value = f"figures for {key[3]} shown{took}"

    def _clear_signal(self, note: str) -> None:
        _show_bundle(self.waveform_output, None)
        _show_bundle(self.spectrogram_output, None)
        self.original_audio.value = b""
        self.resampled_audio.value = b""
        self.figures = {}
        self._shown_key = None
        self.clip_info.value = f"<i>{html.escape(note)}</i>"
        self.signal_status.value = ""

    @property
    def displayed_settings(self) -> dict | None:
        """The clip, decoder, channel handling and resampler whose figures are shown, or None."""
        if self._shown_key is None:
            return None
        return dict(zip(("clip", "decoder", "channel", "resampler"), self._shown_key))

    # ------------------------------------------------------------------
    # Transcription
    # ------------------------------------------------------------------

    def _request(self) -> _Request:
        source = self.source
        if source is None:
            raise WorkbenchError("Choose a clip (or load one by path or upload) before transcribing.")
        language = self.language.value
        options = TranscriptionOptions(
            language=None if language == "auto" else language,
            beam_size=int(self.beam_size.value),
            batch_size=int(self.batch_size.value),
            timestamps=self.timestamps.value,
            language_fallback=bool(self.language_fallback.value),
            initial_prompt=self.initial_prompt.value.strip() or None,
            resampler=self.resampler.value,
        )
        model = (self.model.value or "").strip() or EMBEDDED
        return _Request(source, self.decoder.value, self.channel.value, self.resampler.value, model, self.engine.value, options, self.reference.value.strip())

    def run_transcription(self) -> None:
        """Transcribe the current clip with the current settings (what the Transcribe button does).

        A result cached for exactly these settings is shown at once;
        otherwise the transcription runs in the background with progress
        shown, and its row is added to the table of runs.
        """
        self.clear_message()
        request = self._request()
        cached = self._transcripts.get(request.key)
        if cached is not None:
            sc, note = self._score(request, cached)
            self._show_transcript(request, cached, sc, note)
            self._set_progress(PROGRESS_DONE, "shown from the cache (same clip and settings as an earlier run)", "success")
            return
        self.transcribe_button.disabled = True
        self._set_progress(0, "queued", "info")
        self._submit(self._transcribe_pool, self._transcribe_job, request, action="transcribing", on_error=self._transcription_failed)

    def _set_progress(self, value: float, status: str | None = None, style: str | None = None) -> None:
        self.progress.value = int(max(0, min(PROGRESS_DONE, value)))
        if style is not None:
            self.progress.bar_style = style
        if status is not None:
            self.status.value = status

    def _transcribe_job(self, request: _Request) -> None:
        self._set_progress(PROGRESS_START, f"decoding and resampling with {request.resampler}…", "info")
        clip = self._resampled_clip(request.source, request.decoder, request.channel, request.resampler)
        audio_s = clip.duration
        self._set_progress(PROGRESS_AUDIO_READY, f"loading {request.model} and transcribing with {request.engine}…")
        span = PROGRESS_INFERENCE_DONE - PROGRESS_AUDIO_READY

        def on_progress(done_s: float) -> None:
            fraction = min(1.0, done_s / audio_s) if audio_s > 0 else 1.0
            self._set_progress(PROGRESS_AUDIO_READY + span * fraction, f"transcribed {done_s:.1f} of {audio_s:.1f} s")

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TranscriptionWarning)  # fallbacks are listed with the transcript
            warnings.simplefilter("ignore", AudioWarning)
            transcript = transcribe(clip, model=request.model, engine=request.engine, options=request.options, progress=on_progress)
        self._transcripts.put(request.key, transcript)
        self._set_progress(PROGRESS_INFERENCE_DONE, "scoring…")
        sc, note = self._score(request, transcript)
        self._record_run(request, transcript, sc)
        self._show_transcript(request, transcript, sc, note)
        inference = transcript.timings.get("inference_s")
        took = f" in {inference:.1f} s" if isinstance(inference, (int, float)) else ""
        self._set_progress(PROGRESS_DONE, f"done{took}", "success")
        self.transcribe_button.disabled = False

    def _transcription_failed(self) -> None:
        self.transcribe_button.disabled = False
        self._set_progress(PROGRESS_DONE, "failed (see the message above)", "danger")

    def _score(self, request: _Request, transcript: Transcript) -> tuple[Score | None, str]:
        if not request.reference:
            return None, "No reference for this clip: type what was said in the Reference box to score the transcript."
        language = request.source.language or transcript.language or request.options.language
        if not language:
            return None, "The reference's language is unknown; choose the language to score it."
        try:
            return score(transcript.text, request.reference, language=language), ""
        except WorkbenchError as exc:
            return None, f"Not scored: {exc}"

    def _show_transcript(self, request: _Request, transcript: Transcript, sc: Score | None, note: str) -> None:
        self.transcript, self.score = transcript, sc
        self.transcript_html.value = _transcript_html(request, transcript, sc, note)
        if self.tabs.selected_index == _TAB_SIGNAL:
            self.tabs.selected_index = _TAB_TRANSCRIPT

    # ------------------------------------------------------------------
    # Compare runs
    # ------------------------------------------------------------------

    def _record_run(self, request: _Request, transcript: Transcript, sc: Score | None) -> dict:
        opts = request.options
        timings = transcript.timings or {}
        row = {
            "run": len(self.runs) + 1,
            "clip": request.source.label,
            "decoder": request.decoder,
            "channel": request.channel,
            "resampler": request.resampler,
            "model": request.model,
            "engine": request.engine,
            "language": opts.language or "auto",
            "decoded as": transcript.language,
            "beam": opts.beam_size,
            "batch": opts.batch_size,
            "timestamps": opts.timestamps,
            "fallback": opts.language_fallback,
            "metric": sc.metric.upper() if sc else "",
            "error rate": sc.error_rate if sc else float("nan"),
            "lenient": sc.lenient_error_rate if sc else float("nan"),
            "inference s": timings.get("inference_s", float("nan")),
            "real-time factor": timings.get("real_time_factor", float("nan")),
            "fallbacks": "; ".join(transcript.fallbacks),
            "text": transcript.text,
        }
        self.runs.append(row)
        self._update_compare()
        return row

    def runs_frame(self):
        """The table of runs as a :class:`pandas.DataFrame` (one row per computed transcription)."""
        import pandas as pd

        return pd.DataFrame(self.runs)

    def clear_runs(self) -> None:
        """Empty the table and chart of runs; cached transcripts stay cached."""
        self.runs.clear()
        self._update_compare()

    def _update_compare(self) -> None:
        if self.runs:
            frame = self.runs_frame().drop(columns=["text"])
            table = frame.to_html(index=False, border=0, na_rep="–", float_format=lambda v: f"{v:.3f}", classes="wb-runs")
            self.compare_table.value = f'<div style="max-height:{TABLE_MAX_HEIGHT};overflow:auto;font-size:90%">{table}</div>'
        else:
            self.compare_table.value = "<i>No runs yet: every transcription of this session is listed here with its settings, error rate and time.</i>"
        self.compare_figure = _compare_figure(self.runs)
        _show_bundle(self.compare_output, _figure_bundle(self.compare_figure) if self.runs else None)


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


# --------------------------------------------------------------------------
# HTML and figures
# --------------------------------------------------------------------------


def _clip_info_html(source: ClipSource, clip: Clip, resampled: Clip, resampler: str) -> str:
    info = clip.info
    badge = (
        ' <span style="background:#eee;border-radius:3px;padding:0 4px;font-size:85%">synthetic: generated, not recorded</span>'
        if source.synthetic
        else ""
    )
    levels = ", ".join(f"{level:.1f}" for level in info.channel_levels_dbfs) or "–"
    rows = [
        ("decoder", f"{info.decoder} ({info.decoder_version})"),
        ("codec / container", f"{info.codec or '–'} / {info.container or '–'}"),
        ("as stored", f"{_khz(info.original_sample_rate)}, {info.original_channels} channel(s), {info.bit_depth or '–'} bit, {info.duration:.2f} s"),
        ("channels used", f"{info.channel_mode} (levels {levels} dBFS)"),
        ("resampled", f"{resampler}: {_khz(clip.sample_rate)} to {_khz(resampled.sample_rate)} ({RESAMPLERS[resampler].description})"),
    ]
    if source.language:
        rows.insert(0, ("language", source.language))
    if clip.duration > PLAYER_MAX_SECONDS:
        rows.append(("players", f"hold the first {PLAYER_MAX_SECONDS:g} s"))
    body = "".join(f'<tr><td style="padding-right:12px;color:#666">{_cell(k)}</td><td>{_cell(v)}</td></tr>' for k, v in rows)
    warns = "".join(
        f'<div style="color:{MESSAGE_STYLES["warning"][1]}">⚠ {html.escape(w)}</div>' for w in info.warnings
    )
    return f'<div class="wb-clip-info"><b>{html.escape(source.label)}</b>{badge}<table style="font-size:90%">{body}</table>{warns}</div>'


def _transcript_html(request: _Request, transcript: Transcript, sc: Score | None, note: str) -> str:
    settings = transcript.settings or {}
    opts = request.options
    where = ", ".join(str(settings[k]) for k in ("device", "precision") if settings.get(k))
    described = [
        f"clip {request.source.label}",
        f"decoder {request.decoder}",
        f"channels {request.channel}",
        f"resampler {request.resampler}",
        f"model {request.model}",
        f"engine {request.engine}" + (f" ({where})" if where else ""),
        f"language {opts.language or 'auto'} → {transcript.language or '?'}",
        f"beam {opts.beam_size}, batch {opts.batch_size}, timestamps {opts.timestamps}",
    ]
    timings = transcript.timings or {}
    times = ", ".join(
        f"{label} {timings[k]:.2f} s" for k, label in (("inference_s", "inference"), ("load_s", "model load")) if isinstance(timings.get(k), (int, float))
    )
    if isinstance(timings.get("real_time_factor"), (int, float)):
        times += f", real-time factor {timings['real_time_factor']:.3f}"
    parts = [
        '<div class="wb-transcript" style="font-family:sans-serif">',
        f'<div style="font-size:85%;color:#666">{html.escape(" · ".join(described))}</div>',
        f'<div class="wb-text" style="font-size:120%;margin:6px 0">{html.escape(transcript.text) or "<i>(empty transcript)</i>"}</div>',
    ]
    for fallback in transcript.fallbacks:
        parts.append(f'<div style="color:{MESSAGE_STYLES["warning"][1]}">fallback: {html.escape(fallback)}</div>')
    if times:
        parts.append(f'<div style="font-size:85%;color:#666">{html.escape(times)}</div>')
    if sc is not None:
        metric = sc.metric.upper()
        parts.append(
            f'<div class="wb-rates" style="margin:8px 0;font-size:110%">{metric} <b>{_format_rate(sc.error_rate)}</b> strict · '
            f"<b>{_format_rate(sc.lenient_error_rate)}</b> lenient</div>"
        )
        parts.append(sc.to_html())
        cells = "".join(
            f"<tr><td>{html.escape(CAUSE_LABELS[c])}</td><td style='text-align:right'>{sc.breakdown[c]}</td>"
            f"<td style='color:#666'>{'counted' if c in COUNTED_CAUSES else 'not counted'}</td></tr>"
            for c in CAUSES
        )
        parts.append(f'<table class="wb-breakdown" style="font-size:90%;margin-top:6px"><tr><th>cause</th><th>differences</th><th></th></tr>{cells}</table>')
    if note:
        parts.append(f'<div style="color:#666;margin-top:6px"><i>{html.escape(note)}</i></div>')
    parts.append("</div>")
    return "".join(parts)


def _compare_figure(runs: list[dict]) -> go.Figure:
    """Strict error rate of each run as a bar coloured by resampler, lenient rate as a marker."""
    order = list(RESAMPLERS)
    traces = []
    groups: dict[str, list[dict]] = {}
    for row in runs:
        groups.setdefault(row["resampler"], []).append(row)
    hover = "run %{x}<br>%{customdata}<br>strict %{y:.3f}<extra>%{fullData.name}</extra>"
    for name, rows in groups.items():
        colour = PALETTE[(order.index(name) if name in order else len(order)) % len(PALETTE)]
        traces.append(
            go.Bar(
                x=[f"#{r['run']}" for r in rows],
                y=[None if math.isnan(r["error rate"]) else r["error rate"] for r in rows],
                name=name,
                marker={"color": colour},
                customdata=[f"{r['clip']}<br>{r['model']} · {r['engine']} · {r['language']} · beam {r['beam']}" for r in rows],
                hovertemplate=hover,
            )
        )
    if runs:
        traces.append(
            go.Scatter(
                x=[f"#{r['run']}" for r in runs],
                y=[None if math.isnan(r["lenient"]) else r["lenient"] for r in runs],
                mode="markers",
                name="lenient",
                marker={"symbol": "diamond", "color": "black", "size": 9},
                hovertemplate="run %{x}<br>lenient %{y:.3f}<extra></extra>",
            )
        )
    layout = {
        "title": {"text": "Error rate of each run, coloured by resampler"},
        "xaxis": {"title": {"text": "run"}, "type": "category", "categoryorder": "array", "categoryarray": [f"#{r['run']}" for r in runs]},
        "yaxis": {"title": {"text": "error rate (CER or WER)"}, "rangemode": "tozero"},
        "barmode": "overlay",
        "height": figures.FIGURE_HEIGHT,
    }
    return go.Figure(data=traces, layout=layout)


# --------------------------------------------------------------------------
# Benchmark: how fast the figures follow a resampler change
# --------------------------------------------------------------------------


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


def measure_resampler_switch(
    seconds: float = BENCH_SECONDS,
    resamplers=BENCH_RESAMPLERS,
    *,
    sample_rate: int = BENCH_RATE,
    background: bool = False,
) -> dict:
    """Time how fast the panel's figures follow a change of resampler.

    A panel is opened on a synthetic speech-like clip with hiss above the
    new Nyquist frequency (``seconds`` long at ``sample_rate``, written to
    a temporary WAV file), showing :data:`DEFAULT_RESAMPLER`. Then, for each
    resampler: switch to it (``cold_s``: resample, spectrogram, figure and
    player audio computed), switch back to the default (``back_s``: cached)
    and to it again (``cached_s``). Each resampler is run once on a short
    signal first, so library imports and filter design are not counted.

    Parameters
    ----------
    seconds : float
        Clip length; the target is stated for 30 s.
    resamplers : iterable of str
        Resamplers to switch to; ones not available here are skipped.
    sample_rate : int
        The clip's rate.
    background : bool
        Run the panel's work in its background thread (and wait for it).

    Returns
    -------
    dict
        ``first_render_s``, per-resampler timings under ``switch``,
        ``max_cold_s``, ``max_cached_s``, ``target_s`` and ``met`` (every
        cold switch under the target), plus ``skipped`` resamplers.
    """
    import soundfile as sf

    wanted = [r for r in resamplers if r != DEFAULT_RESAMPLER]
    unknown = [r for r in wanted if r not in RESAMPLERS]
    if unknown:
        raise ValueError(f"unknown resampler(s) {', '.join(unknown)}; choose from: {', '.join(RESAMPLERS)}")
    skipped = {r: RESAMPLERS[r].available()[1] for r in wanted if not RESAMPLERS[r].available()[0]}
    names = [r for r in wanted if r not in skipped]

    x = speech_like(sr=sample_rate, duration=seconds, seed=1)
    x = x + BENCH_HISS_LEVEL * band_limited_noise(sr=sample_rate, duration=seconds, low=BENCH_HISS_LOW_HZ, seed=2)
    short = x[: sample_rate // 10]
    for name in [DEFAULT_RESAMPLER, *names]:
        Clip.from_array(short, sample_rate).resample(TARGET_RATE, name)

    result: dict = {
        "clip_seconds": float(seconds),
        "sample_rate": int(sample_rate),
        "target_rate": TARGET_RATE,
        "background": bool(background),
        "start_resampler": DEFAULT_RESAMPLER,
        "switch": {},
        "skipped": skipped,
        "target_s": SWITCH_TARGET_SECONDS,
    }
    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as tmp:
        path = Path(tmp) / f"speech_like_{seconds:g}s_{sample_rate // 1000}k.wav"
        sf.write(str(path), x, sample_rate, subtype="FLOAT")
        entry = ManifestEntry(path, "en", "", {"source": f"{SYNTHETIC_MARK}: workbench.signals.speech_like plus hiss"})
        p = Panel([], resampler=DEFAULT_RESAMPLER, background=background)
        try:
            t0 = time.perf_counter()
            p.set_sources([ClipSource.from_entry(entry)])
            p.wait()
            result["first_render_s"] = time.perf_counter() - t0
            for name in names:
                cold = time_resampler_change(p, name)
                back = time_resampler_change(p, DEFAULT_RESAMPLER)
                cached = time_resampler_change(p, name)
                result["switch"][name] = {"cold_s": cold, "back_s": back, "cached_s": cached}
        finally:
            p.close()
    colds = [t["cold_s"] for t in result["switch"].values()]
    warm = [t[k] for t in result["switch"].values() for k in ("back_s", "cached_s")]
    result["max_cold_s"] = max(colds, default=float("nan"))
    result["max_cached_s"] = max(warm, default=float("nan"))
    result["met"] = bool(colds) and result["max_cold_s"] < SWITCH_TARGET_SECONDS
    return result
