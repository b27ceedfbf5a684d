"""The resampling diagnosis: how much error comes from the audio path, and how
much from script, punctuation, numerals, colloquial-vs-written and real
recognition errors?

Every clip of a dataset goes through every resampler (good, common and bad)
with the same model and settings, and each transcript is scored. What one
resampler adds over the reference pipeline (:data:`REFERENCE_RESAMPLER`) on
the *same* clip is the resampler's share of the error; the score's
breakdown splits the rest into what a fair comparison forgives (script,
punctuation, colloquial Cantonese written as standard Chinese, numeral
style), repetition loops (hallucination) and real recognition errors.

Three more audio-path causes are measured, each with its evidence:

* **down-mixing**: every channel of a multichannel file is transcribed on its
  own as well as the mean, and the channel levels and correlation say why a
  down-mix lost the speech (a polarity-inverted channel cancels it);
* **a mislabelled rate**: samples handed over at the wrong declared rate run
  apart, in their own table, since their errors dwarf everything else;
* **decoders**: one file (an MP3 or a stereo file where choices differ)
  decoded by every decoder and down-mixed three ways.

Summaries are medians per condition (clean, each stress kind, channel
layout), never one pooled mean: a single repetition loop can turn a run's
error rate into 7 and would swamp any average.
"""

from __future__ import annotations

from .run import Diagnosis, audio_path_table, diagnose, diagnosis_workers
from .settings import (
    CHANNEL_MODES,
    CHANNEL_RESAMPLER,
    CHART_CAP,
    CLEARLY_WORSE_CER,
    DIAGNOSIS_OPTIONS,
    DIAGNOSIS_RESAMPLERS,
    KEY_COLUMNS,
    MAX_CHANNELS,
    MAX_TOKENS,
    MIN_TOKENS,
    MISLABELLED,
    REFERENCE_RESAMPLER,
    SAME_CER,
    TOKENS_PER_SECOND,
    UNSTRESSED_CONDITIONS,
    token_cap,
)
from .summaries import (
    cause_chart,
    cause_table,
    condition_chart,
    diff_column,
    mislabelled_table,
    summarise,
    verdicts,
)

__all__ = [
    "CHANNEL_MODES",
    "CHANNEL_RESAMPLER",
    "CHART_CAP",
    "CLEARLY_WORSE_CER",
    "DIAGNOSIS_OPTIONS",
    "DIAGNOSIS_RESAMPLERS",
    "KEY_COLUMNS",
    "MAX_CHANNELS",
    "MAX_TOKENS",
    "MIN_TOKENS",
    "MISLABELLED",
    "REFERENCE_RESAMPLER",
    "SAME_CER",
    "TOKENS_PER_SECOND",
    "UNSTRESSED_CONDITIONS",
    "Diagnosis",
    "audio_path_table",
    "cause_chart",
    "cause_table",
    "condition_chart",
    "diagnose",
    "diagnosis_workers",
    "diff_column",
    "mislabelled_table",
    "summarise",
    "token_cap",
    "verdicts",
]
