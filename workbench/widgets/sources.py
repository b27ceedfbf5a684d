"""The live panel's clip list: clips from a manifest, a typed path or an upload."""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..datasets import ManifestEntry, bundled, read_manifest
from ..errors import WorkbenchError, first_line
from .constants import SYNTHETIC_MARK
from .fragments import status_html


@dataclass(frozen=True)
class ClipSource:
    """A clip the panel can show: a manifest entry, a typed path or an upload.

    Attributes
    ----------
    key : str
        Identity used by the caches (the resolved file, or the upload's hash).
    path : Path
        The file decoded.
    label : str
        How the clip is named in the panel (says "synthetic" for generated clips).
    reference : str
        Reference transcript ("" when unknown).
    language : str or None
        Language of the reference (used for scoring), from the manifest.
    synthetic : bool
        The manifest marks the clip as generated rather than recorded.
    origin : {"manifest", "path", "upload"}
    """

    key: str
    path: Path
    label: str
    reference: str = ""
    language: str | None = None
    synthetic: bool = False
    origin: str = "manifest"

    @classmethod
    def from_entry(cls, entry: ManifestEntry) -> ClipSource:
        """A source for one manifest row; its ``source`` column says whether it is synthetic."""
        synthetic = SYNTHETIC_MARK in str(entry.meta.get("source", "")).lower()
        label = " · ".join(part for part in (entry.name, entry.language, SYNTHETIC_MARK if synthetic else "") if part)
        return cls(f"file:{entry.path}", entry.path, label, entry.reference, entry.language or None, synthetic, "manifest")


def _safe_file_name(name: str) -> str:
    """An uploaded file's own name, without folders or characters no file system accepts."""
    base = re.split(r"[\\/]", str(name))[-1]
    return re.sub(r'[:*?"<>|\x00-\x1f]', "_", base).strip(" .") or "upload"


def read_entries(manifest) -> tuple[list[ManifestEntry], str]:
    """The manifest entries ``manifest`` names (see :class:`~workbench.widgets.Panel`), and a note when there are none."""
    if manifest is None:
        try:
            entries = bundled()
        except WorkbenchError as exc:
            return [], f"No bundled clips here ({first_line(exc)}). Load a file by its path or upload one."
        return entries, ""
    if isinstance(manifest, (list, tuple)):
        return list(manifest), ""
    try:
        return read_manifest(manifest), ""
    except WorkbenchError as exc:
        return [], f"{exc} Load a file by its path or upload one."


class SourcesMixin:
    """The clip list and the clip selected in it; loading a path or an upload adds a clip."""

    def _init_sources(self) -> None:
        self._uploads = tempfile.TemporaryDirectory(prefix="workbench-uploads-")
        self._replacing_clip_options = False
        self.sources: list[ClipSource] = []
        self._loading_line = ""
        self._line_before_loading = ""

    def set_sources(self, sources, select: int = 0) -> None:
        """Replace the clip list with ``sources`` (ClipSource objects) and show number ``select``."""
        self.sources = list(sources)
        self._replacing_clip_options = True
        try:
            self.clip.options = [(source.label, i) for i, source in enumerate(self.sources)]
            self.clip.value = select if self.sources else None
        finally:
            self._replacing_clip_options = False
        self._on_clip_change(None)

    @property
    def source(self) -> ClipSource | None:
        """The clip selected now."""
        index = self.clip.value
        return self.sources[index] if index is not None and 0 <= index < len(self.sources) else None

    def load_path(self, path) -> None:
        """Decode the file at ``path``, add it to the clip list and show it.

        Problems (missing file, not audio, unsupported codec...) are shown
        in the panel; the clip list is left as it was.
        """
        self._start_action()
        text = str(path).strip().strip('"').strip("'")
        if not text:
            raise WorkbenchError("Type the path of an audio file first.")
        file = Path(text).expanduser()
        key = f"file:{file.resolve()}"
        self._add_source(ClipSource(key, file, f"{file.name} · path", origin="path"))

    def load_upload(self, name: str, content: bytes) -> None:
        """Add an uploaded file (its name and bytes) to the clip list and show it.

        The bytes are written, under the file's own name, to a folder that
        is deleted when the panel closes; an unreadable upload is reported in
        the panel.
        """
        self._start_action()
        content = bytes(content)
        digest = hashlib.sha256(content).hexdigest()[:16]
        folder = Path(self._uploads.name) / digest
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / _safe_file_name(name)
        file.write_bytes(content)
        self._add_source(ClipSource(f"upload:{digest}", file, f"{file.name} · upload", origin="upload"))

    def _on_upload(self, change) -> None:
        files = change["new"]
        if files:
            item = files[-1]
            self.load_upload(item["name"], item["content"])

    def _add_source(self, source: ClipSource) -> None:
        for i, known in enumerate(self.sources):
            if known.key == source.key:
                self.clip.value = i
                return
        self.load_button.disabled = True
        self._submit(self._signal_pool, self._load_job, source, action=f"loading {source.path.name}", on_error=self._load_finished)

    def _load_job(self, source: ClipSource) -> None:
        self._line_before_loading = self.signal_status.value
        self._loading_line = status_html(f"decoding {source.path.name}…")
        self.signal_status.value = self._loading_line
        self._base(source, self.decoder.value, self.channel.value)
        self.set_sources([*self.sources, source], select=len(self.sources))
        self._load_finished()

    def _load_finished(self) -> None:
        """Enable the Load button again; a "decoding…" line nothing has replaced goes back to what it said before."""
        self.load_button.disabled = False
        if self._loading_line and self.signal_status.value == self._loading_line:
            self.signal_status.value = self._line_before_loading
        self._loading_line = ""

    def _on_clip_change(self, change) -> None:
        if self._replacing_clip_options:
            return
        self._start_action()
        source = self.source
        self.reference.value = source.reference if source else ""
        self._refresh_signal()

    def _source_by_key(self, key: str) -> ClipSource:
        for source in self.sources:
            if source.key == key:
                return source
        raise WorkbenchError("That clip is no longer in the clip list; choose another one.")
