"""Plotly charts of a summary and of a paired comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .settings import setting_keys
from .stats import CONFIDENCE, Comparison, _label


def summary_chart(summary: pd.DataFrame, title: str | None = None):
    """Mean error rate per setting with its confidence interval, best first."""
    import plotly.graph_objects as go

    columns = summary.attrs.get("columns") or [c for c in setting_keys() if c in summary]
    labels = _label(summary, [c for c in columns if c in summary]) if columns else summary.get("setting_id")
    metric = "/".join(sorted(set(summary["metric"]))).upper() if "metric" in summary else "error rate"
    confidence = summary.attrs.get("confidence", CONFIDENCE)
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=summary["mean"],
            error_y=dict(
                type="data", symmetric=False, array=summary["ci_high"] - summary["mean"], arrayminus=summary["mean"] - summary["ci_low"]
            ),
            customdata=np.stack([summary["clips"], summary["ci_low"], summary["ci_high"]], axis=1),
            hovertemplate=(
                "%{x}<br>mean %{y:.3f}<br>CI %{customdata[1]:.3f} to %{customdata[2]:.3f}<br>%{customdata[0]} clips<extra></extra>"
            ),
            marker_color="#4c78a8",
        )
    )
    fig.update_layout(
        title=title or f"Mean {metric} per setting, with {confidence:.0%} bootstrap confidence intervals",
        yaxis_title=f"mean {metric} per clip",
        xaxis_title="setting",
        height=440,
    )
    return fig


def paired_chart(comparison: Comparison):
    """Each clip's rate under setting a against setting b, with the no-difference line."""
    import plotly.graph_objects as go

    pc = comparison.per_clip
    top = float(max(pc["a"].max(), pc["b"].max(), 0.05)) * 1.05
    colours = np.where(pc["diff"] > 0, "#e45756", np.where(pc["diff"] < 0, "#54a24b", "#9d9d9d"))
    fig = go.Figure()
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", line=dict(color="#bbbbbb", dash="dash"), name="no difference", hoverinfo="skip")
    fig.add_scatter(
        x=pc["a"],
        y=pc["b"],
        mode="markers",
        marker=dict(color=colours, size=9),
        text=pc["clip"],
        name="clips",
        hovertemplate="%{text}<br>a %{x:.3f}<br>b %{y:.3f}<extra></extra>",
    )
    fig.update_layout(
        title=comparison.verdict(),
        xaxis_title=f"{comparison.metric} with {comparison.a}",
        yaxis_title=f"{comparison.metric} with {comparison.b}",
        height=480,
        title_font_size=12,
    )
    return fig
