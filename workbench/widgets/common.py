"""Small pieces the panel's parts share: a thread-safe cache and figure display helpers."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import ipywidgets as widgets
import plotly.graph_objects as go
import plotly.io as pio

from .constants import PLOTLY_MIMETYPE


@dataclass
class LRU:
    """A small thread-safe least-recently-used mapping."""

    maxsize: int
    _items: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def figure_bundle(fig: go.Figure) -> dict:
    """A JSON-ready display bundle for ``fig`` (rendered by JupyterLab, Notebook 7 and VS Code)."""
    title = fig.layout.title.text or "figure"
    return {PLOTLY_MIMETYPE: json.loads(pio.to_json(fig, validate=False, remove_uids=False)), "text/plain": f"<plotly figure: {title}>"}


def show_bundle(output: widgets.Output, bundle: dict | None) -> None:
    """Replace what ``output`` shows (safe from any thread, unlike ``with output:``)."""
    output.outputs = () if bundle is None else ({"output_type": "display_data", "data": bundle, "metadata": {}},)


def khz(rate: float) -> str:
    """``rate`` in kHz, for labels: ``16 kHz``."""
    return f"{rate / 1000:g} kHz"
