"""The live panel's layout: its controls, outputs and tabs, and which callback each control calls."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets

from ..audio import backend_status
from ..options import ENGINES, TIMESTAMPS, TranscriptionOptions
from ..resampling import DEFAULT_RESAMPLER, RESAMPLERS
from .common import khz
from .constants import (
    AUTO_DECODER,
    CHANNEL_CHOICES,
    CONTROLS_WIDTH,
    DESCRIPTION_WIDTH,
    FIGURE_WIDTH,
    HALF_WIDTH,
    LANGUAGE_CHOICES,
    MAX_BATCH_SIZE,
    MAX_BEAM_SIZE,
    MODEL_SUGGESTIONS,
    PROGRESS_DONE,
    TARGET_RATE,
)


@lru_cache(maxsize=1)
def _decoder_status() -> dict[str, tuple[bool, str]]:
    """:func:`~workbench.audio.backend_status`, asked once per process (it imports torch)."""
    return backend_status()


def _available_resamplers() -> list[str]:
    return [name for name, r in RESAMPLERS.items() if r.available()[0]]


class LayoutMixin:
    """Build the panel's widgets (as attributes of the panel) and connect them to its actions."""

    def _build(self, model: str, engine: str, resampler: str) -> None:
        style = {"description_width": DESCRIPTION_WIDTH}
        wide = widgets.Layout(width="95%")
        defaults = TranscriptionOptions()

        self.clip = widgets.Dropdown(description="Clip", options=[], style=style, layout=wide)
        self.path = widgets.Text(description="Path", placeholder="a file on this machine", style=style, layout=widgets.Layout(width="72%"))
        self.load_button = widgets.Button(
            description="Load", icon="folder-open", tooltip="Decode the file at this path and add it to the clip list"
        )
        self.upload = widgets.FileUpload(description="Upload", accept="audio/*,.wav,.flac,.mp3,.ogg,.opus,.m4a,.aac,.webm", multiple=False)
        self.reference = widgets.Textarea(
            description="Reference",
            placeholder="what was said, for scoring",
            style=style,
            layout=widgets.Layout(width="95%", height="96px"),
        )

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
        self.signal_status = widgets.HTML("")

        self.model = widgets.Combobox(
            description="Model",
            options=MODEL_SUGGESTIONS,
            value=model,
            ensure_option=False,
            placeholder="embedded, a hub id or a folder",
            style=style,
            layout=wide,
        )
        self.engine = widgets.ToggleButtons(description="Engine", options=ENGINES, value=engine, style={**style, "button_width": "auto"})
        self.language = widgets.Dropdown(description="Language", options=LANGUAGE_CHOICES, value="auto", style=style, layout=wide)
        self.language_fallback = widgets.Checkbox(
            description="use zh when the model has no Cantonese token",
            value=defaults.language_fallback,
            indent=False,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="auto"),
        )
        self.beam_size = widgets.BoundedIntText(
            description="Beam size", min=1, max=MAX_BEAM_SIZE, value=defaults.beam_size, style=style, layout=widgets.Layout(width="170px")
        )
        self.batch_size = widgets.BoundedIntText(
            description="Batch size",
            min=1,
            max=MAX_BATCH_SIZE,
            value=defaults.batch_size,
            style=style,
            layout=widgets.Layout(width="170px"),
        )
        self.timestamps = widgets.Dropdown(
            description="Timestamps", options=TIMESTAMPS, value=defaults.timestamps, style=style, layout=widgets.Layout(width="220px")
        )
        self.initial_prompt = widgets.Text(description="Prompt", placeholder="optional, e.g. 以下係廣東話。", style=style, layout=wide)

        self.transcribe_button = widgets.Button(description="Transcribe", icon="play", button_style="primary")
        self.progress = widgets.IntProgress(value=0, min=0, max=PROGRESS_DONE, layout=widgets.Layout(width="240px"))
        self.status = widgets.HTML("")

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
        self.clear_runs_button = widgets.Button(
            description="Clear runs", icon="trash", tooltip="Empty the table of runs (cached results are kept)"
        )

        def section(title, *children, width="100%"):
            return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), *children], layout=widgets.Layout(width=width))

        def row(*children):
            return widgets.HBox(list(children), layout=widgets.Layout(width="100%", justify_content="space-between"))

        players = widgets.VBox(
            [
                widgets.HTML("original (as decoded)"),
                self.original_audio,
                widgets.HTML(f"resampled to {khz(TARGET_RATE)}"),
                self.resampled_audio,
            ]
        )
        # The figure that changes with the resampler sits beside the controls that change it, outside the tabs,
        # so it is in view whichever tab is open.
        self.spectrogram_output.layout = widgets.Layout(width=FIGURE_WIDTH)
        self.tabs = widgets.Tab(
            children=[
                widgets.VBox([self.clip_info, self.waveform_output]),
                widgets.VBox([self.transcript_html]),
                widgets.VBox([self.clear_runs_button, self.compare_table, self.compare_output]),
            ],
            titles=("Signal", "Transcript", "Compare runs"),
        )
        self.children = [
            row(
                section("Clip", self.clip, widgets.HBox([self.path, self.load_button]), self.upload, width=HALF_WIDTH),
                section("&nbsp;", self.reference, width=HALF_WIDTH),
            ),
            row(
                section(
                    "Audio path",
                    self.decoder,
                    self.channel,
                    self.resampler,
                    self.resampler_note,
                    self.signal_status,
                    players,
                    width=CONTROLS_WIDTH,
                ),
                self.spectrogram_output,
            ),
            row(
                section("Model", self.model, self.engine, self.language, self.language_fallback, width=HALF_WIDTH),
                section(
                    "Decoding", widgets.HBox([self.beam_size, self.batch_size]), self.timestamps, self.initial_prompt, width=HALF_WIDTH
                ),
            ),
            widgets.HBox([self.transcribe_button, self.progress, self.status]),
            self.message,
            self.details,
            self.tabs,
        ]
        self._describe_resampler()

    def _connect(self) -> None:
        self.clip.observe(self._guard(self._on_clip_change, "switching clips"), names="value")
        for control in (self.decoder, self.channel):
            control.observe(self._guard(self._on_signal_setting_change, "preparing the figures"), names="value")
        self.resampler.observe(self._guard(self._on_resampler_change, "preparing the figures"), names="value")
        self.load_button.on_click(self._guard(lambda button: self.load_path(self.path.value), "loading the file"))
        self.upload.observe(self._guard(self._on_upload, "reading the upload"), names="value")
        self.transcribe_button.on_click(self._guard(lambda button: self.run_transcription(), "starting the transcription"))
        self.clear_runs_button.on_click(self._guard(lambda button: self.clear_runs(), "clearing the runs"))
