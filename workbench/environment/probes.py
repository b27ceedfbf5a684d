"""Helpers every doctor check shares: installed versions and the workbench's pins, external programs, torch."""

from __future__ import annotations

import functools
import importlib.util
import re
import subprocess
from importlib import metadata

from ..errors import first_line, install_hint
from .report import _ok, _Outcome, _warning

GIB = 1024**3
#: Seconds any external program (ffmpeg, nvidia-smi) may take.
SUBPROCESS_TIMEOUT_S = 20
#: The distribution whose pins say which versions the workbench is tested with.
PROJECT_DISTRIBUTION = "whisper-workbench"


def _gib(n_bytes: float) -> float:
    return round(n_bytes / GIB, 2)


def _installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _is_importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def _project_pins() -> dict[str, str]:
    """``{distribution: "==x.y.z"}`` from the installed workbench's requirements."""
    try:
        requirements = metadata.requires(PROJECT_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return {}
    pins = {}
    for line in requirements:
        spec = line.split(";", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$", spec)
        if match and match.group(2):
            pins[_normalise(match.group(1))] = match.group(2).replace(" ", "")
    return pins


def _pin(distribution: str) -> str | None:
    """The version specifier the workbench pins for ``distribution`` (``"==2.9.1"``), if any."""
    return _project_pins().get(_normalise(distribution))


def _satisfies(version: str, specifier: str) -> bool:
    """Whether ``version`` meets ``specifier``; local labels such as ``+cu128`` are ignored."""
    try:
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(specifier).contains(version, prereleases=True)
    except Exception:  # packaging missing or an odd version string
        public = version.split("+", 1)[0]
        return not specifier.startswith("==") or public == specifier[2:]


def _pin_outcome(distribution: str, version: str, summary: str, details: dict) -> _Outcome:
    """ok, or a warning when the installed version differs from the workbench's pin."""
    pin = _pin(distribution)
    details["pinned"] = pin
    if pin and not _satisfies(version, pin):
        return _warning(
            f"{summary}; the workbench is tested with {distribution}{pin}",
            details,
            install_hint(f"{distribution}{pin}"),
        )
    return _ok(summary, details)


def _pip_install(distribution: str) -> str:
    """The install command for ``distribution`` at the version the workbench pins."""
    return install_hint(f"{distribution}{_pin(distribution) or ''}")


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, timeout=SUBPROCESS_TIMEOUT_S, **kwargs)


def _import_torch():
    """``(torch, None)``, or ``(None, reason)`` when it cannot be imported."""
    try:
        import torch
    except Exception as exc:  # ImportError, or OSError for a broken CUDA install
        return None, first_line(exc, with_type=True)
    return torch, None
