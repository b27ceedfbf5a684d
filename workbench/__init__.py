"""Whisper Workbench: see why Whisper transcribes the way it does.

The public surface, one concept per module:

- :mod:`workbench.audio` -- :func:`load_audio` a file into a :class:`Clip`
- :mod:`workbench.resampling` -- :func:`resample` with any of :data:`RESAMPLERS`
- :mod:`workbench.spectra` / :mod:`workbench.figures` -- spectrograms and plotly figures
- :mod:`workbench.environment` -- the environment doctor
"""

from .audio import BACKENDS, SAMPLE_RATE, AudioInfo, Clip, compare_decoders, load_audio
from .errors import AudioLoadError, AudioWarning, ResampleError, WorkbenchError
from .resampling import DEFAULT_RESAMPLER, RESAMPLERS, available_resamplers, resample

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
    "WorkbenchError",
    "available_resamplers",
    "compare_decoders",
    "load_audio",
    "resample",
]
