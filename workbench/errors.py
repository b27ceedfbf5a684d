"""Errors and warnings the workbench raises.

Every error names the input it is about and says what to do next; the CLI
prints the message alone, never a traceback from inside a decoder.
"""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class WorkbenchError(Exception):
    """Base class for every error the workbench raises on purpose."""


class AudioLoadError(WorkbenchError, ValueError):
    """An audio file could not be turned into samples.

    ``path`` is the file; ``attempts`` maps each backend tried to the reason it
    failed or was skipped.
    """

    def __init__(self, message: str, path=None, attempts: dict[str, str] | None = None):
        super().__init__(message)
        self.path = path
        self.attempts = dict(attempts or {})


class AudioFileNotFoundError(AudioLoadError, FileNotFoundError):
    """The path does not exist (or is a folder)."""


class EmptyAudioError(AudioLoadError):
    """The file has zero bytes, or decodes to zero frames."""


class NotAudioError(AudioLoadError):
    """No decoder recognises the file as audio."""


class CorruptAudioError(AudioLoadError):
    """The file is recognised but its data is truncated or damaged."""


class UnsupportedCodecError(AudioLoadError):
    """No available backend can decode this codec or container."""


class SampleRateError(AudioLoadError):
    """The file declares a sample rate no real recording has."""


class ResampleError(WorkbenchError, ValueError):
    """A resampling request cannot be carried out (bad rate, unknown or unavailable method)."""


class AudioWarning(UserWarning):
    """Something about the audio is suspicious but usable (silence, cancelling channels...)."""
