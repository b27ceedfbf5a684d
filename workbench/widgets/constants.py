"""Choices, limits and styles of the live panel: the numbers its parts share."""

from __future__ import annotations

from ..audio import SAMPLE_RATE
from ..models import EMBEDDED

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
#: Widths of a row's halves, and of the audio-path controls and the figure beside them.
HALF_WIDTH = "49%"
CONTROLS_WIDTH = "36%"
FIGURE_WIDTH = "63%"
TABLE_MAX_HEIGHT = "320px"
#: Decimals shown for error rates (and real-time factors), and for seconds.
RATE_DECIMALS = 3
SECONDS_DECIMALS = 2
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

#: Positions of the panel's tabs.
TAB_SIGNAL, TAB_TRANSCRIPT, TAB_COMPARE = range(3)
