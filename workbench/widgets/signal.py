"""The live panel's signal view: decoding, resampling, figures and players, cached per clip and settings."""

from __future__ import annotations

import html
import io
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from .. import figures
from ..audio import Clip, load_audio
from ..errors import AudioWarning
from ..resampling import RESAMPLERS
from ..spectra import Spectrogram, downsample_for_display, stft_spectrogram
from .common import LRU, figure_bundle, khz, show_bundle
from .constants import MAX_CACHED_CLIPS, MAX_CACHED_VIEWS, PLAYER_MAX_SECONDS, PLAYER_SUBTYPE, TARGET_RATE
from .fragments import clip_info_html, note_html, resampler_note_html, status_html
from .sources import ClipSource

#: Hover text of the waveform: time and amplitude rounded, like every number the panel shows.
WAVEFORM_HOVER = "%{x:.3f} s<br>%{y:.3f}<extra>%{fullData.name}</extra>"


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


def _wav_bytes(clip: Clip, max_seconds: float = PLAYER_MAX_SECONDS) -> bytes:
    """The clip as a 16-bit WAV file in memory, at its labelled rate (so a mislabelled clip plays slow)."""
    import soundfile as sf

    frames = min(clip.num_frames, int(max_seconds * clip.sample_rate))
    samples = np.clip(clip.samples[:, :frames].T, -1.0, 1.0)
    buffer = io.BytesIO()
    sf.write(buffer, samples, clip.sample_rate, format="WAV", subtype=PLAYER_SUBTYPE)
    return buffer.getvalue()


class SignalMixin:
    """Show the waveform, the spectrograms before and after resampling and both players for the selected settings.

    Each clip and setting is computed once (in the signal thread) and
    cached, so going back to it shows it at once.
    """

    def _init_signal(self) -> None:
        self._inflight: set = set()
        self._compute_lock = threading.RLock()
        self._bases = LRU(MAX_CACHED_CLIPS)
        self._resampled = LRU(MAX_CACHED_VIEWS)
        self._views = LRU(MAX_CACHED_VIEWS)
        self._requested_at: dict = {}
        self._shown_key: tuple | None = None
        self.figures: dict[str, go.Figure] = {}
        self.last_render_seconds: float | None = None

    def _signal_key(self) -> tuple | None:
        source = self.source
        if source is None:
            return None
        return (source.key, self.decoder.value, self.channel.value, self.resampler.value)

    def _on_signal_setting_change(self, change) -> None:
        self._start_action()
        self._refresh_signal()

    def _on_resampler_change(self, change) -> None:
        self._describe_resampler()
        self._on_signal_setting_change(change)

    def _describe_resampler(self) -> None:
        r = RESAMPLERS[self.resampler.value]
        self.resampler.tooltip = r.description
        self.resampler_note.value = resampler_note_html(r.description, warn=r.kind in ("bad", "mislabel"))

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
        self.signal_status.value = status_html(f"preparing figures for {key[3]}…")
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

    def _cached(self, cache: LRU, key, compute):
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
            title = f"Waveform: {source.label} ({khz(clip.sample_rate)}, {clip.info.channel_mode}, {clip.duration:.2f} s)"
            waveform = figures.waveform_figure(clip, title=title)
            waveform.update_traces(hovertemplate=WAVEFORM_HOVER)
            return _Base(clip, before, waveform, figure_bundle(waveform), _wav_bytes(clip))

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
            # Two short lines, so the title fits the figure beside the controls.
            title = f"{khz(base.clip.sample_rate)} to {khz(TARGET_RATE)} with {resampler}<br><sup>{html.escape(source.label)}</sup>"
            fig = figures.before_after_figure(base.before, after, labels=("original", resampler), title=title)
            return _View(clip, fig, figure_bundle(fig), _wav_bytes(clip))

        return self._cached(self._views, (source.key, decoder, channel, resampler), compute)

    def _apply_signal(self, key: tuple) -> None:
        base, view = self._bases.get(key[:3]), self._views.get(key)
        if base is None or view is None:
            return
        source = self._source_by_key(key[0])
        show_bundle(self.waveform_output, base.waveform_bundle)
        show_bundle(self.spectrogram_output, view.bundle)
        self.original_audio.value = base.wav
        self.resampled_audio.value = view.wav
        self.figures = {"waveform": base.waveform, "before_after": view.figure}
        self.clip_info.value = clip_info_html(source, base.clip, view.clip, key[3])
        self._shown_key = key
        started = self._requested_at.pop(key, None)
        self.last_render_seconds = None if started is None else time.perf_counter() - started
        took = "" if self.last_render_seconds is None else f" in {self.last_render_seconds:.3f} s"
        self.signal_status.value = status_html(f"figures for {key[3]} shown{took}")

    def _clear_signal(self, note: str) -> None:
        show_bundle(self.waveform_output, None)
        show_bundle(self.spectrogram_output, None)
        self.original_audio.value = b""
        self.resampled_audio.value = b""
        self.figures = {}
        self._shown_key = None
        self.clip_info.value = note_html(note)
        self.signal_status.value = ""

    @property
    def displayed_settings(self) -> dict | None:
        """The clip, decoder, channel handling and resampler whose figures are shown, or None."""
        if self._shown_key is None:
            return None
        return dict(zip(("clip", "decoder", "channel", "resampler"), self._shown_key, strict=True))
