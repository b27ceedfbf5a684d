"""Manifests of clips with reference transcripts, and the project's bundled set.

A manifest is a CSV with at least ``path``, ``language`` and ``reference``
columns (more are kept: ``sample_rate``, ``channels``, ``source``,
``license``...). Paths are relative to the manifest's folder.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .errors import WorkbenchError

#: The bundled set: ``data/`` beside the package in a checkout.
BUNDLED_DIR = Path(__file__).resolve().parents[1] / "data"
REQUIRED_COLUMNS = ("path", "language", "reference")


class ManifestError(WorkbenchError, ValueError):
    """A manifest is missing, malformed or points outside its folder."""


@dataclass(frozen=True)
class ManifestEntry:
    """One clip of a manifest: its resolved file, language, reference and the other columns."""

    path: Path
    language: str
    reference: str
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.path.name


def read_manifest(path, *, allow_outside: bool = False) -> list[ManifestEntry]:
    """Read a manifest CSV; paths are resolved relative to its folder.

    Raises
    ------
    ManifestError
        Missing file, missing columns, or a path escaping the manifest's
        folder (unless ``allow_outside``).
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    root = path.parent.resolve()
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{path}: missing column(s) {', '.join(missing)}; a manifest needs {', '.join(REQUIRED_COLUMNS)}")
        rows = list(reader)
    entries = []
    for i, row in enumerate(rows, start=2):
        target = (root / row["path"]).resolve()
        if not allow_outside and root not in target.parents:
            raise ManifestError(f"{path}, line {i}: {row['path']!r} points outside the manifest's folder; pass allow_outside=True if that is intended")
        meta = {k: v for k, v in row.items() if k not in REQUIRED_COLUMNS}
        entries.append(ManifestEntry(target, row["language"].strip(), row["reference"].strip(), meta))
    return entries


def bundled(manifest: str = "manifest.csv") -> list[ManifestEntry]:
    """The clips bundled in the project's ``data/`` folder."""
    return read_manifest(BUNDLED_DIR / manifest)
