"""The live panel's run history: one row per transcription of the session, as a table and a chart."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from .. import figures
from .common import figure_bundle, show_bundle
from .fragments import runs_table_html

if TYPE_CHECKING:
    from ..scoring import Score
    from ..transcription import Transcript
    from .transcribing import Request


def runs_figure(runs: list[dict]) -> go.Figure:
    """Strict error rate of each run as a bar coloured by resampler, lenient rate as a marker.

    Each resampler has its own colour, fixed by its name
    (:func:`workbench.figures.resampler_colour`), whatever the order of the runs.
    """
    traces = []
    groups: dict[str, list[dict]] = {}
    for row in runs:
        groups.setdefault(row["resampler"], []).append(row)
    hover = "run %{x}<br>%{customdata}<br>strict %{y:.3f}<extra>%{fullData.name}</extra>"
    for name, rows in groups.items():
        traces.append(
            go.Bar(
                x=[f"#{r['run']}" for r in rows],
                y=[None if math.isnan(r["error rate"]) else r["error rate"] for r in rows],
                name=name,
                marker={"color": figures.resampler_colour(name)},
                customdata=[f"{r['clip']}<br>{r['model']} · {r['engine']} · {r['language']} · beam {r['beam']}" for r in rows],
                hovertemplate=hover,
            )
        )
    if runs:
        traces.append(
            go.Scatter(
                x=[f"#{r['run']}" for r in runs],
                y=[None if math.isnan(r["lenient"]) else r["lenient"] for r in runs],
                mode="markers",
                name="lenient",
                marker={"symbol": "diamond", "color": "black", "size": 9},
                hovertemplate="run %{x}<br>lenient %{y:.3f}<extra></extra>",
            )
        )
    layout = {
        "title": {"text": "Error rate of each run, coloured by resampler"},
        "xaxis": {"title": {"text": "run"}, "type": "category", "categoryorder": "array", "categoryarray": [f"#{r['run']}" for r in runs]},
        "yaxis": {"title": {"text": "error rate (CER or WER)"}, "rangemode": "tozero"},
        "barmode": "overlay",
        "height": figures.FIGURE_HEIGHT,
    }
    return go.Figure(data=traces, layout=layout)


class RunsMixin:
    """The table and chart of every transcription computed in this session."""

    def _init_runs(self) -> None:
        self.runs: list[dict] = []
        self.compare_figure = runs_figure([])

    def _record_run(self, request: Request, transcript: Transcript, sc: Score | None) -> dict:
        opts = request.options
        timings = transcript.timings or {}
        row = {
            "run": len(self.runs) + 1,
            "clip": request.source.label,
            "decoder": request.decoder,
            "channel": request.channel,
            "resampler": request.resampler,
            "model": request.model,
            "engine": request.engine,
            "language": opts.language or "auto",
            "decoded as": transcript.language,
            "beam": opts.beam_size,
            "batch": opts.batch_size,
            "timestamps": opts.timestamps,
            "fallback": opts.language_fallback,
            "metric": sc.metric.upper() if sc else "",
            "error rate": sc.error_rate if sc else float("nan"),
            "lenient": sc.lenient_error_rate if sc else float("nan"),
            "inference s": timings.get("inference_s", float("nan")),
            "real-time factor": timings.get("real_time_factor", float("nan")),
            "fallbacks": "; ".join(transcript.fallbacks),
            "text": transcript.text,
        }
        self.runs.append(row)
        self._update_compare()
        return row

    def runs_frame(self):
        """The table of runs as a :class:`pandas.DataFrame` (one row per computed transcription)."""
        import pandas as pd

        return pd.DataFrame(self.runs)

    def clear_runs(self) -> None:
        """Empty the table and chart of runs; cached transcripts stay cached."""
        self._start_action()
        self.runs.clear()
        self._update_compare()

    def _update_compare(self) -> None:
        self.compare_table.value = runs_table_html(self.runs)
        self.compare_figure = runs_figure(self.runs)
        show_bundle(self.compare_output, figure_bundle(self.compare_figure) if self.runs else None)
