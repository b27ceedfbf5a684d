"""The live panel's transcription: the request read from the widgets, the job with its progress, scoring and display."""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

from ..errors import AudioWarning, WorkbenchError
from ..io import dumps
from ..models import EMBEDDED
from ..options import TranscriptionOptions
from ..scoring import Score, score
from ..transcription import Transcript, TranscriptionWarning, transcribe
from .common import LRU, rounded
from .constants import (
    MAX_CACHED_TRANSCRIPTS,
    PROGRESS_AUDIO_READY,
    PROGRESS_DONE,
    PROGRESS_INFERENCE_DONE,
    PROGRESS_START,
    TAB_SIGNAL,
    TAB_TRANSCRIPT,
)
from .fragments import status_html, transcript_html
from .sources import ClipSource


@dataclass
class Request:
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
        options = dumps(self.options.to_dict(), sort_keys=True)
        return (self.source.key, self.decoder, self.channel, self.resampler, self.model, self.engine, options)


class TranscriptionMixin:
    """Transcribe the selected clip with the selected settings, score it and show it; results are cached per settings."""

    def _init_transcription(self) -> None:
        self._transcripts = LRU(MAX_CACHED_TRANSCRIPTS)
        self.transcript: Transcript | None = None
        self.score: Score | None = None
        self._pending_transcriptions = 0

    def _warm_up(self) -> None:
        """Import what the first transcription request needs, off the kernel's thread."""
        TranscriptionOptions(language="en")

    def _request(self) -> Request:
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
        return Request(
            source,
            self.decoder.value,
            self.channel.value,
            self.resampler.value,
            model,
            self.engine.value,
            options,
            self.reference.value.strip(),
        )

    def run_transcription(self) -> None:
        """Transcribe the current clip with the current settings (what the Transcribe button does).

        A result cached for exactly these settings is shown at once;
        otherwise the transcription runs in the background with progress
        shown, and its row is added to the table of runs.
        """
        self._start_action()
        request = self._request()
        cached = self._transcripts.get(request.key)
        if cached is not None:
            sc, note = self._score(request, cached)
            self._show_transcript(request, cached, sc, note)
            self._set_progress(PROGRESS_DONE, "shown from the cache (same clip and settings as an earlier run)", "success")
            return
        self.transcribe_button.disabled = True
        self._pending_transcriptions += 1
        self._set_progress(0, "queued", "info")
        self._submit(self._transcribe_pool, self._transcribe_job, request, action="transcribing", on_error=self._transcription_failed)

    def _clear_finished_status(self) -> None:
        """Empty the progress bar and status line of a transcription that has finished (or failed); a running one keeps them."""
        if self._pending_transcriptions == 0:
            self._set_progress(0, "", "")

    def _set_progress(self, value: float, status: str | None = None, style: str | None = None) -> None:
        self.progress.value = int(max(0, min(PROGRESS_DONE, value)))
        if style is not None:
            self.progress.bar_style = style
        if status is not None:
            self.status.value = status_html(status)

    def _transcribe_job(self, request: Request) -> None:
        self._set_progress(PROGRESS_START, f"decoding and resampling with {request.resampler}…", "info")
        clip = self._resampled_clip(request.source, request.decoder, request.channel, request.resampler)
        self._set_progress(PROGRESS_AUDIO_READY, f"loading {request.model} and transcribing with {request.engine}…")
        span = PROGRESS_INFERENCE_DONE - PROGRESS_AUDIO_READY

        def on_progress(done_s: float, total_s: float) -> None:
            if done_s <= 0:  # said before the model loads: the status keeps saying it is loading
                return
            fraction = min(1.0, done_s / total_s) if total_s > 0 else 1.0
            self._set_progress(PROGRESS_AUDIO_READY + span * fraction, f"transcribed {done_s:.1f} of {total_s:.1f} s")

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
        took = f" in {rounded(inference, 1)} s" if isinstance(inference, numbers.Real) else ""
        self._set_progress(PROGRESS_DONE, f"done{took}", "success")
        self._pending_transcriptions = max(0, self._pending_transcriptions - 1)
        self.transcribe_button.disabled = False

    def _transcription_failed(self) -> None:
        self._set_progress(PROGRESS_DONE, "failed (see the message above)", "danger")
        self._pending_transcriptions = max(0, self._pending_transcriptions - 1)
        self.transcribe_button.disabled = False

    def _score(self, request: Request, transcript: Transcript) -> tuple[Score | None, str]:
        if not request.reference:
            return None, "No reference for this clip: type what was said in the Reference box to score the transcript."
        language = request.source.language or transcript.language or request.options.language
        if not language:
            return None, "The reference's language is unknown; choose the language to score it."
        try:
            return score(transcript.text, request.reference, language=language), ""
        except WorkbenchError as exc:
            return None, f"Not scored: {exc}"

    def _show_transcript(self, request: Request, transcript: Transcript, sc: Score | None, note: str) -> None:
        self.transcript, self.score = transcript, sc
        self.transcript_html.value = transcript_html(request, transcript, sc, note)
        if self.tabs.selected_index == TAB_SIGNAL:
            self.tabs.selected_index = TAB_TRANSCRIPT
