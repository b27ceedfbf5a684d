"""The diagnosis's settings: resamplers compared, decoding options, thresholds and token caps."""

from __future__ import annotations

import math

#: The reference pipeline every resampler is compared with, clip by clip.
REFERENCE_RESAMPLER = "soxr_vhq"
#: Resamplers compared by default, cleanest first: the reference, the workbench's default, the one
#: most tutorials use, and two with no filter at all (the mislabelled-rate bug runs apart, see
#: :data:`MISLABELLED`). Every run costs one 30-s encoder pass, so the default stays small; pass
#: ``resamplers=`` (``--resamplers`` on the command line) to add others, e.g. ``scipy_poly``.
DIAGNOSIS_RESAMPLERS = (
    "soxr_vhq",
    "soxr_hq",
    "torchaudio_default",
    "linear",
    "naive_decimation",
)
#: The mislabelled-rate bug: samples declared at 16 kHz whatever their real rate.
MISLABELLED = "mislabelled"
#: Resampler used for the per-channel and decoder comparisons.
CHANNEL_RESAMPLER = REFERENCE_RESAMPLER
#: Conditions on which the mislabelled-rate bug is run (mono clips only): its effect needs no stress to show.
UNSTRESSED_CONDITIONS = ("clean", "as recorded")
#: Channel handlings compared in the decoder table.
CHANNEL_MODES = ("mean", 0, 1)
#: Most channels transcribed one by one for a multichannel file.
MAX_CHANNELS = 8
#: A median paired CER difference at most this large is "no difference".
SAME_CER = 0.05
#: A median paired CER difference at least this large is "clearly worse".
CLEARLY_WORSE_CER = 0.15
#: Error rates above this are drawn at this height in charts (the table and the hover keep the raw value).
CHART_CAP = 1.0
#: Fast decoding for a diagnosis: greedy, one sample per fallback temperature
#: (as the transformers pipeline draws), no timestamps, and a visible fallback
#: to ``zh`` for models without a Cantonese token. Whisper's safeguards
#: (temperature fallback, compression-ratio, log-prob and no-speech checks)
#: keep their usual values.
DIAGNOSIS_OPTIONS = {
    "beam_size": 1,
    "best_of": 1,
    "timestamps": "none",
    "language_fallback": True,
}
#: Generated tokens allowed per second of audio (and a floor): speech cannot justify more,
#: and a repetition loop stops there instead of running to the 448-token limit.
TOKENS_PER_SECOND = 10  # fast Cantonese is about 6 characters a second, about 1.5 tokens each in Whisper's vocabulary
MIN_TOKENS = 16
MAX_TOKENS = 224  # Whisper's own default sample length: half the 448-token context, leaving room for the prompt
#: Run columns that identify a run.
KEY_COLUMNS = ("clip", "recording", "condition", "resampler")


def token_cap(seconds: float) -> int:
    """Generated tokens one 30-s window may hold for ``seconds`` of audio.

    >>> token_cap(2.0), token_cap(13.2), token_cap(120.0)
    (36, 148, 224)
    """
    return int(min(MAX_TOKENS, MIN_TOKENS + math.ceil(TOKENS_PER_SECOND * min(seconds, 30.0))))
