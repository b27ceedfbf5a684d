"""Whisper Workbench: see why Whisper transcribes the way it does.

The public surface, one concept per module:

- :mod:`workbench.audio` -- :func:`load_audio` a file into a :class:`Clip`
- :mod:`workbench.resampling` -- :func:`resample` with any of :data:`RESAMPLERS`
- :mod:`workbench.spectra` / :mod:`workbench.figures` -- spectrograms and plotly figures
- :mod:`workbench.models` / :mod:`workbench.engines` -- model sources and the two inference engines
- :mod:`workbench.transcription` -- :func:`transcribe` anything into a :class:`Transcript`
- :mod:`workbench.scoring` -- :func:`score` against a reference, fair to Chinese and Cantonese
- :mod:`workbench.environment` -- the environment doctor
"""

from . import datasets
from .audio import BACKENDS, SAMPLE_RATE, AudioInfo, Clip, compare_decoders, load_audio
from .errors import AudioLoadError, AudioWarning, ResampleError, WorkbenchError
from .languages import normalise_language
from .notebook import setup as notebook_setup
from .options import TranscriptionOptions
from .resampling import DEFAULT_RESAMPLER, RESAMPLERS, available_resamplers, resample
from .scoring import Score, score, score_manifest
from .transcription import Transcript, transcribe

__version__ = "0.1.0"

__all__ = [
    "AudioInfo",
    "AudioLoadError",
    "AudioWarning",
    "BACKENDS",
    "Clip",
    "DEFAULT_RESAMPLER",
    "RESAMPLERS",
    "ResampleError",
    "SAMPLE_RATE",
    "Score",
    "Transcript",
    "TranscriptionOptions",
    "WorkbenchError",
    "available_resamplers",
    "compare_decoders",
    "datasets",
    "load_audio",
    "normalise_language",
    "notebook_setup",
    "resample",
    "score",
    "score_manifest",
    "transcribe",
]
