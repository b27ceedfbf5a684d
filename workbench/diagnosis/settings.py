"""The diagnosis's settings: resamplers compared, decoding options, thresholds and token caps."""

from __future__ import annotations

from ..options import MAX_TOKENS, MIN_TOKENS, TOKENS_PER_SECOND, token_cap  # noqa: F401 - re-exported: the diagnosis caps by them

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

#: Run columns that identify a run.
KEY_COLUMNS = ("clip", "recording", "condition", "resampler")
