"""Errors and warnings the workbench raises.

Every error names the input it is about and says what to do next; the CLI
prints the message alone, never a traceback from inside a decoder.
"""

from __future__ import annotations


def first_line(exc: BaseException, *, with_type: bool = False) -> str:
    """The first line of an exception's message (its type name when it has none).

    Examples
    --------
    >>> first_line(ValueError("bad rate\\nmore detail"))
    'bad rate'
    >>> first_line(ValueError("bad rate"), with_type=True)
    'ValueError: bad rate'
    >>> first_line(KeyError())
    'KeyError'
    """
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    return f"{type(exc).__name__}: {line}" if with_type else line


def one_line(text) -> str:
    """``text`` with every run of whitespace, newlines included, made one space.

    Examples
    --------
    >>> one_line("a\\n  b\\tc ")
    'a b c'
    """
    return " ".join(str(text).split())


def install_hint(*packages: str, extra: str | None = None, options: str = "") -> str:
    """The ``pip install`` command that provides ``packages`` (or the workbench's ``extra``).

    Every "how to install it" message in the workbench is built here, so they
    read alike. A requirement is quoted when a shell would otherwise act on
    one of its characters (``<``, ``>``, ``*``, the brackets of an extra...)
    and left as it is otherwise (``==`` needs no quotes in any shell).

    Examples
    --------
    >>> install_hint("faster-whisper")
    'pip install faster-whisper'
    >>> install_hint(extra="ray")
    'pip install "whisper-workbench[ray]"'
    >>> install_hint("torchaudio==2.9.1", options="--force-reinstall")
    'pip install --force-reinstall torchaudio==2.9.1'
    >>> install_hint("nvidia-cublas-cu12", "nvidia-cudnn-cu12==9.*")
    'pip install nvidia-cublas-cu12 "nvidia-cudnn-cu12==9.*"'
    """
    names = list(packages) + ([f"whisper-workbench[{extra}]"] if extra else [])
    if not names:
        raise ValueError("install_hint needs a package or an extra")
    quoted = [n if n and all(c.isalnum() or c in _SHELL_SAFE for c in n) else f'"{n}"' for n in names]
    return " ".join(["pip install", *([options] if options else []), *quoted])


#: Characters besides letters and digits that no shell acts on inside a word.
_SHELL_SAFE = frozenset("-_.=,:/+@%")


class WorkbenchError(Exception):
    """Base class for every error the workbench raises on purpose."""


class OutputError(WorkbenchError, OSError):
    """An output path that cannot or must not be written (an input, a folder, a file of another kind, no permission)."""


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


class SpectrogramError(WorkbenchError, ValueError):
    """A spectrogram cannot be computed from these samples or settings (no rate, wrong rate, too short...)."""


class FigureError(WorkbenchError, ValueError):
    """A figure cannot be drawn from these inputs (no sample rate, two different ones, the wrong kind of spectrogram, nothing to show)."""


class SignalError(WorkbenchError, ValueError):
    """A test signal cannot be generated with these parameters (a sweep's frequencies outside 0 to Nyquist...)."""


class AudioCheckError(WorkbenchError, ValueError):
    """An audio check was given samples or settings it cannot measure (wrong shape or type, a rate or duration not above 0)."""


class WorkbenchWarning(UserWarning):
    """Base class for every warning the workbench issues on purpose.

    ``warnings.simplefilter("ignore", WorkbenchWarning)`` silences them all;
    ``"error"`` turns them into exceptions, e.g. in a strict service.
    """


class AudioWarning(WorkbenchWarning):
    """Something about the audio is suspicious but usable (silence, cancelling channels...)."""


class TranscriptionWarning(WorkbenchWarning):
    """A transcription ran, but something about it deserves attention (language fallback, a long clip...)."""


class ExperimentWarning(WorkbenchWarning):
    """A grid ran, but something about a row or the results store deserves attention."""
