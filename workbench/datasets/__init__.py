"""Manifests of clips with reference transcripts, and the project's bundled set.

The manifest format, including the optional ``recording`` column, is
described in :mod:`workbench.datasets.manifest`.

Importers turn common dataset layouts into manifest entries:
:func:`import_common_voice`, :func:`import_folder` and :func:`import_mdcc`,
and :func:`import_hf` for Hugging Face ``datasets`` (a hub id or a local
folder), whose clips it writes out as files. They return a :class:`Dataset`:
the usable entries plus a list of *all* the problems found (missing or
unreadable files), so one bad clip never hides the rest.
:func:`write_manifest` writes entries back out as a manifest CSV, and
``python -m workbench import`` runs any importer from the command line
(:mod:`workbench.cli.datasets`).

The package is split along those lines:

- :mod:`workbench.datasets.manifest` -- :class:`ManifestEntry`,
  :func:`read_manifest` (the one manifest reader), :func:`load_manifest`,
  :func:`write_manifest`, :func:`bundled`, :class:`Dataset`, :func:`drop_repeats`
- :mod:`workbench.datasets.local` -- :func:`import_common_voice`,
  :func:`import_mdcc`, :func:`import_folder`
- :mod:`workbench.datasets.huggingface` -- :func:`import_hf`,
  :func:`audio_suffix`
"""

from __future__ import annotations

from .huggingface import (
    ARRAY_FLAC_SUBTYPE,
    CLIP_INDEX_DIGITS,
    CLIP_NAME_CHARS,
    HF_AUDIO_COLUMN,
    HF_AUDIO_SUFFIXES,
    HF_CLIPS_DIR,
    HF_FILE_BUILDERS,
    HF_LANGUAGE_COLUMNS,
    HF_MANIFEST_NAME,
    HF_SPEAKER_COLUMNS,
    HF_TEXT_COLUMNS,
    HUB_INSTALL,
    SNIFF_BYTES,
    HubDatasetError,
    audio_suffix,
    import_hf,
)
from .local import AUDIO_SUFFIXES, import_common_voice, import_folder, import_mdcc
from .manifest import (
    BUNDLED_DIR,
    JSONL_KEYS,
    MANIFEST_COLUMNS,
    REQUIRED_COLUMNS,
    Dataset,
    ManifestEntry,
    ManifestError,
    bundled,
    drop_repeats,
    load_manifest,
    read_manifest,
    write_manifest,
)

#: Names of the ``import`` command, which lives in :mod:`workbench.cli.datasets`,
#: still importable from here (loaded on first use).
__all__ = [
    "ARRAY_FLAC_SUBTYPE",
    "AUDIO_SUFFIXES",
    "BUNDLED_DIR",
    "CLIP_INDEX_DIGITS",
    "CLIP_NAME_CHARS",
    "Dataset",
    "HF_AUDIO_COLUMN",
    "HF_AUDIO_SUFFIXES",
    "HF_CLIPS_DIR",
    "HF_FILE_BUILDERS",
    "HF_LANGUAGE_COLUMNS",
    "HF_MANIFEST_NAME",
    "HF_SPEAKER_COLUMNS",
    "HF_TEXT_COLUMNS",
    "HUB_INSTALL",
    "HubDatasetError",
    "JSONL_KEYS",
    "MANIFEST_COLUMNS",
    "ManifestEntry",
    "ManifestError",
    "REQUIRED_COLUMNS",
    "SNIFF_BYTES",
    "audio_suffix",
    "bundled",
    "drop_repeats",
    "import_common_voice",
    "import_folder",
    "import_hf",
    "import_mdcc",
    "load_manifest",
    "read_manifest",
    "write_manifest",
]
