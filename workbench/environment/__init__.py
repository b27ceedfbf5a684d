"""The environment doctor: what decides whether this machine will behave.

:func:`run_doctor` inspects the operating system, Python, PyTorch and its
CUDA build, the GPU, every audio decoder the workbench can use (TorchCodec
and the FFmpeg it loaded, soundfile/libsndfile, PyAV, the ``ffmpeg``
binary), the model libraries, the resamplers, free memory and disk,
whether files in a non-ASCII folder can be written and read back, and
whether a CJK font is installed to show Chinese text. Each
answer is a :class:`Finding` with a status (``"ok"``, ``"warning"`` or
``"problem"``) and, when it is not ok, a one-line remedy.

Heavy libraries are imported inside the checks, so importing this package is
cheap; a check that crashes becomes a finding instead of an exception.

The package: :mod:`~workbench.environment.report` (the findings),
:mod:`~workbench.environment.machine` and
:mod:`~workbench.environment.libraries` (the checks),
:mod:`~workbench.environment.probes` (what the checks share) and
:mod:`~workbench.environment.doctor` (running them).

Examples
--------
>>> report = run_doctor()                        # doctest: +SKIP
>>> print(report.format_text())                  # doctest: +SKIP
>>> report.to_dict()["summary"]                  # doctest: +SKIP
{'ok': 15, 'warning': 2, 'problem': 0, 'status': 'warning'}
"""

from .doctor import CHECK_IDS, run_doctor
from .probes import GIB, _pin  # noqa: F401  (_pin: read by the tests)
from .report import SCHEMA, STATUSES, DoctorReport, Finding

__all__ = ["CHECK_IDS", "GIB", "SCHEMA", "STATUSES", "DoctorReport", "Finding", "run_doctor"]
