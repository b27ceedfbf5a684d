"""Small pieces the panel's parts share: a thread-safe cache, figure display helpers and number formatting."""

from __future__ import annotations

import json
import math
import numbers
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .constants import PLOTLY_MIMETYPE, RATE_DECIMALS

#: Shown for a number that is missing (no score, no timing).
MISSING = "–"


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


def rounded(value, decimals: int = RATE_DECIMALS) -> str:
    """``value`` as the panel shows it: floats rounded to ``decimals`` places, never in full precision.

    Parameters
    ----------
    value : object
        A number (Python or NumPy), a flag, None or anything else.
    decimals : int
        Decimal places kept for a non-integer number.

    Returns
    -------
    str
        ``"–"`` for None, NaN or infinity; ``"yes"``/``"no"`` for a flag;
        an integer as it is; other values as text.

    Examples
    --------
    >>> rounded(1.845238), rounded(2.364972e-03), rounded(3.372520833333333, 2)
    ('1.845', '0.002', '3.37')
    >>> rounded(float("nan")), rounded(5), rounded(True), rounded("soxr_hq")
    ('–', '5', 'yes', 'soxr_hq')
    """
    if value is None:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return f"{number:.{decimals}f}" if math.isfinite(number) else MISSING
    return str(value)
