"""Running the doctor: every check in a stable order, a crashing check turned into a finding."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Iterable

from ..errors import first_line
from .libraries import (
    _check_ctranslate2,
    _check_faster_whisper,
    _check_ffmpeg_binary,
    _check_modelscope,
    _check_pyav,
    _check_resamplers,
    _check_soundfile,
    _check_torchaudio,
    _check_torchcodec,
    _check_transformers,
)
from .machine import _check_cjk_font, _check_disk, _check_gpu, _check_memory, _check_non_ascii_paths, _check_os, _check_python, _check_torch
from .report import DoctorReport, Finding, _Outcome


@dataclass(frozen=True)
class _Check:
    id: str
    title: str
    run: Callable[[], _Outcome]
    #: Status given when the check itself crashes: "problem" where the workbench cannot work without it.
    on_error: str


_CHECKS: tuple[_Check, ...] = (
    _Check("os", "Operating system", _check_os, "warning"),
    _Check("python", "Python", _check_python, "warning"),
    _Check("torch", "PyTorch", _check_torch, "problem"),
    _Check("gpu", "GPU", _check_gpu, "warning"),
    _Check("torchaudio", "torchaudio", _check_torchaudio, "problem"),
    _Check("torchcodec", "TorchCodec", _check_torchcodec, "warning"),
    _Check("soundfile", "soundfile / libsndfile", _check_soundfile, "warning"),
    _Check("pyav", "PyAV", _check_pyav, "warning"),
    _Check("ffmpeg_binary", "ffmpeg binary", _check_ffmpeg_binary, "warning"),
    _Check("transformers", "transformers", _check_transformers, "problem"),
    _Check("modelscope", "ModelScope", _check_modelscope, "warning"),
    _Check("faster_whisper", "faster-whisper", _check_faster_whisper, "warning"),
    _Check("ctranslate2", "CTranslate2", _check_ctranslate2, "warning"),
    _Check("resamplers", "Resamplers", _check_resamplers, "warning"),
    _Check("memory", "Memory", _check_memory, "warning"),
    _Check("disk", "Disk (model cache)", _check_disk, "warning"),
    _Check("non_ascii_paths", "Non-ASCII paths", _check_non_ascii_paths, "problem"),
    _Check("cjk_font", "CJK font", _check_cjk_font, "warning"),
)

CHECK_IDS: tuple[str, ...] = tuple(check.id for check in _CHECKS)
"""Ids of every finding :func:`run_doctor` produces, in report order."""


def _run_check(check: _Check) -> Finding:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = check.run()
        return Finding(check.id, check.title, outcome.status, outcome.summary, outcome.details, outcome.remedy)
    except Exception as exc:
        return Finding(
            check.id,
            check.title,
            check.on_error,
            f"the check itself failed: {first_line(exc, with_type=True)}",
            {"error": first_line(exc, with_type=True)},
            "run 'python -m workbench doctor --json' and report this finding's error with it",
        )


def run_doctor(checks: Iterable[str] | None = None) -> DoctorReport:
    """Inspect this machine and report what decides whether the workbench behaves.

    Parameters
    ----------
    checks : iterable of str, optional
        Ids from :data:`CHECK_IDS` to run; default all. Findings always come
        in :data:`CHECK_IDS` order.

    Returns
    -------
    DoctorReport
        One :class:`Finding` per check. A check that crashes yields a
        ``"warning"`` or ``"problem"`` finding carrying the exception message
        rather than raising.

    Raises
    ------
    ValueError
        If ``checks`` names an id that is not in :data:`CHECK_IDS`.
    """
    wanted = set(CHECK_IDS if checks is None else checks)
    unknown = wanted.difference(CHECK_IDS)
    if unknown:
        raise ValueError(f"unknown check id(s) {sorted(unknown)}; choose from {', '.join(CHECK_IDS)}")
    return DoctorReport([_run_check(check) for check in _CHECKS if check.id in wanted])
