"""What the runs say: summaries per condition and resampler, causes, verdicts in words, and the chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .run import Diagnosis
from .settings import (
    CHART_CAP,
    CLEARLY_WORSE_CER,
    MISLABELLED,
    REFERENCE_RESAMPLER,
    SAME_CER,
)

# ----------------------------------------------------------------------------
# Summaries
# ----------------------------------------------------------------------------


def diff_column(reference: str = REFERENCE_RESAMPLER) -> str:
    """Name of the paired-difference column: what it is, in its name."""
    return f"median_cer_minus_{reference}"


def _paired(runs: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Each run with ``cer_minus_reference``: its CER minus the reference resampler's on the same clip."""
    ref = runs[runs["resampler"] == reference].set_index("clip")["cer"]
    out = runs.copy()
    out["cer_minus_reference"] = out["cer"] - out["clip"].map(ref)
    return out


def summarise(runs: pd.DataFrame, *, reference: str = REFERENCE_RESAMPLER) -> pd.DataFrame:
    """Per condition and resampler (mislabelled runs excluded: see :func:`mislabelled_table`).

    Columns: ``condition``, ``resampler``, ``kind``, ``clips``,
    ``median_cer``, ``mean_cer``, ``median_lenient_cer``, the median paired
    difference against ``reference`` on the same clips
    (``median_cer_minus_<reference>``) and ``looped`` (runs flagged as
    repetition loops or hallucination).
    """
    if runs.empty:
        return pd.DataFrame()
    normal = _paired(runs[runs["resampler"] != MISLABELLED], reference)
    conditions = list(dict.fromkeys(normal["condition"]))
    order = list(dict.fromkeys(normal["resampler"]))
    rows = []
    for condition in conditions:
        for resampler in order:
            g = normal[(normal["condition"] == condition) & (normal["resampler"] == resampler)]
            if g.empty:
                continue
            rows.append(
                {
                    "condition": condition,
                    "resampler": resampler,
                    "kind": g["kind"].iloc[0],
                    "clips": len(g),
                    "median_cer": float(g["cer"].median()),
                    "mean_cer": float(g["cer"].mean()),
                    "median_lenient_cer": float(g["lenient_cer"].median()),
                    diff_column(reference): float(g["cer_minus_reference"].median()),
                    "looped": int(g["looped"].sum()),
                }
            )
    return pd.DataFrame(rows)


def mislabelled_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The mislabelled-rate runs, one row per clip, with the evidence."""
    if runs.empty or not (runs["resampler"] == MISLABELLED).any():
        return pd.DataFrame()
    m = runs[runs["resampler"] == MISLABELLED]
    cols = [
        "clip",
        "condition",
        "sample_rate",
        "declared_rate",
        "duration_ratio",
        "cer",
        "lenient_cer",
        "looped",
        "text",
    ]
    return m[[c for c in cols if c in m]].reset_index(drop=True)


def cause_table(runs: pd.DataFrame, channels: pd.DataFrame, *, reference: str = REFERENCE_RESAMPLER) -> pd.DataFrame:
    """Per condition, where the errors come from, as errors per reference character (medians over clips).

    ``script`` and ``punctuation`` are differences no rate counts; the
    strict CER of the reference pipeline splits into ``colloquial``,
    ``numerals``, ``hallucination``, ``audio_fault`` (what a detected fault
    such as a cancelling down-mix costs against the best single channel) and
    ``real_errors``; the audio path adds
    ``worst_resampler_adds`` (the largest median paired difference of any
    resampler) and ``downmix_adds`` (mean down-mix against the best single
    channel).
    """
    if runs.empty:
        return pd.DataFrame()
    normal = _paired(runs[runs["resampler"] != MISLABELLED], reference)
    rows = []
    for condition, group in normal.groupby("condition", sort=False):
        ref = group[group["resampler"] == reference]
        if ref.empty:
            continue

        def per_char(col, ref=ref):
            return float((ref[col] / ref["reference_length"].clip(lower=1)).median())

        by_resampler = group[group["resampler"] != reference].groupby("resampler", sort=False)["cer_minus_reference"].median()
        worst = by_resampler.idxmax() if not by_resampler.empty else None
        # Where the audio check found a fault (a cancelling down-mix, a silent channel...), what the mean down-mix
        # loses against the best channel is the audio path's, not the model's.
        other = ref["other"] / ref["reference_length"].clip(lower=1)
        faulty = [
            _downmix_loss(channels, clip) if causes else 0.0
            for clip, causes in zip(
                ref["clip"],
                ref.get("audio_causes", pd.Series([""] * len(ref))).fillna(""),
                strict=True,
            )
        ]
        audio_path = np.minimum(np.array(faulty), other.to_numpy())
        row = {
            "condition": condition,
            "clips": len(ref),
            "reference_cer": float(ref["cer"].median()),
            "script": per_char("script"),
            "punctuation": per_char("punctuation_width"),
            "colloquial": per_char("colloquial"),
            "numerals": per_char("numerals"),
            "hallucination": per_char("hallucination") if "hallucination" in ref else 0.0,
            "audio_fault": float(np.median(audio_path)),
            "real_errors": float(np.median(other.to_numpy() - audio_path)),
            "worst_resampler": worst or "",
            "worst_resampler_adds": float(by_resampler.max()) if worst else 0.0,
            "downmix_adds": _downmix_adds(channels, ref["clip"]),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _downmix_loss(channels: pd.DataFrame, clip: str) -> float:
    """Mean down-mix CER minus the best channel's for one clip (0 when it has no channel runs)."""
    if channels.empty:
        return 0.0
    c = channels[channels["clip"] == clip]
    if c.empty or not (c["choice"] == "mean").any():
        return 0.0
    return max(0.0, float(c.loc[c["choice"] == "mean", "cer"].iloc[0] - c["cer"].min()))


def _downmix_adds(channels: pd.DataFrame, clips) -> float:
    """Median over the multichannel clips among ``clips``: mean down-mix CER minus the best channel's."""
    if channels.empty:
        return 0.0
    adds = []
    for clip in clips:
        c = channels[channels["clip"] == clip]
        if c.empty or not (c["choice"] == "mean").any():
            continue
        adds.append(float(c.loc[c["choice"] == "mean", "cer"].iloc[0] - c["cer"].min()))
    return float(np.median(adds)) if adds else 0.0


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


#: How the reference pipeline's errors are named in a verdict, largest first; shares under 0.01 are left out.
_SHARES = (
    ("real_errors", "real recognition errors"),
    ("audio_fault", "the audio-path fault"),
    ("colloquial", "colloquial-vs-written"),
    ("numerals", "numeral style"),
    ("hallucination", "loops"),
)


def _split(base) -> str:
    """ ", of which real recognition errors 0.21, colloquial-vs-written 0.04 (...)": the non-zero shares, then what no rate counts."""
    shares = sorted(
        ((float(base[k]), label) for k, label in _SHARES if float(base[k]) >= 0.01),
        reverse=True,
    )
    text = f", of which {', '.join(f'{label} {_fmt(v)}' for v, label in shares)}" if shares else ""
    ignored = float(base["script"] + base["punctuation"])
    if ignored >= 0.01:
        text += f" (script and punctuation differences, {_fmt(ignored)} per character, are not counted)"
    return text


def _fmt(v: float) -> str:
    return f"{v:.2f}"


def _signed(v: float) -> str:
    return f"{v:+.2f}"


def _resampler_finding(others: pd.DataFrame, col: str, ref: str) -> str:
    """What the resamplers other than ``ref`` did in one condition, every one of them named where they differ."""
    worse = others[others[col] >= CLEARLY_WORSE_CER].sort_values(col, ascending=False)
    same = others[others[col].abs() <= SAME_CER]
    if worse.empty:
        if len(same) == len(others):
            return f"the resampler does not matter: every resampler is within {SAME_CER} CER of {ref}"
        return f"small resampler effects only (largest {_signed(others[col].max())} CER against {ref})"
    named = ", ".join(f"{r.resampler} ({_signed(getattr(r, col))})" for r in worse.itertuples())
    text = f"the resampler matters: {named} {'is' if len(worse) == 1 else 'are'} clearly worse than {ref}"
    if not same.empty:
        text += f", while {', '.join(same['resampler'])} {'stays' if len(same) == 1 else 'stay'} within {SAME_CER} of it"
    between = others.drop(index=worse.index.union(same.index))  # neither clearly worse nor the same: named too
    if not between.empty:
        named = ", ".join(f"{r.resampler} by {_signed(getattr(r, col))}" for r in between.itertuples()).replace(
            " by ", " differs from it by ", 1
        )
        text += f", and {named} (less than {CLEARLY_WORSE_CER})"
    return text


def verdicts(diagnosis: Diagnosis) -> list[str]:
    """Plain-English answers, one per condition, then the down-mix and mislabelled-rate findings."""
    ref = diagnosis.reference
    summary = diagnosis.summary()
    if summary.empty:
        return ["Nothing was transcribed: no clip had a reference."]
    col = diff_column(ref)
    causes = diagnosis.causes().set_index("condition")
    out = []
    for condition, g in summary.groupby("condition", sort=False):
        others = g[g["resampler"] != ref]
        n = int(g["clips"].max())
        base = causes.loc[condition] if condition in causes.index else None
        head = f"{condition} ({_plural(n, 'clip')}): "
        parts = []
        if base is not None and base["audio_fault"] >= SAME_CER:
            parts.append(
                f"the down-mix destroys the speech, an audio-path fault that costs {_fmt(base['audio_fault'])} CER (see the down-mix "
                "finding below)"
            )
        parts.append(_resampler_finding(others, col, ref))
        if base is not None:
            parts.append(f"with {ref}, median strict CER is {_fmt(base['reference_cer'])}{_split(base)}")
        loops = int(g["looped"].sum())
        if loops:
            parts.append(f"{_plural(loops, 'run')} looped (flagged as hallucination)")
        text = "; ".join(parts)
        out.append(head + text[0].upper() + text[1:] + ".")
    ch = diagnosis.channels
    if not ch.empty:
        for clip, c in ch.groupby("clip", sort=False):
            mean = c[c["choice"] == "mean"]
            best = c[c["best"]].iloc[0]
            if mean.empty or best["choice"] == "mean":
                continue
            loss = float(mean["cer"].iloc[0] - best["cer"])
            if loss < SAME_CER:
                continue
            check = diagnosis.checks.get(clip)
            if check is not None and check.causes:
                why = f": {' '.join(check.messages)}"
            else:
                corr = c["correlation"].iloc[0]
                shown = f" (correlation {corr:.2f})" if corr is not None and np.isfinite(corr) else ""
                why = (
                    f"; the channels show no fault{shown}, so on one clip this can be decoding noise or the comb filter a delay "
                    "between channels makes"
                )
            out.append(
                f"Down-mix, {clip}: averaging the channels costs {_signed(loss)} CER against {best['choice']} alone{why}".rstrip(".") + "."
            )
    mis = diagnosis.mislabelled()
    if not mis.empty:
        out.append(
            "A mislabelled sample rate (samples handed over as 16 kHz without resampling, audio "
            f"{mis['duration_ratio'].min():g}–{mis['duration_ratio'].max():g}× too long) "
            f"is catastrophic: median strict CER {_fmt(mis['cer'].median())} over {len(mis)} clips, shown apart from everything else."
        )
    return out


# ----------------------------------------------------------------------------
# Chart
# ----------------------------------------------------------------------------


def condition_chart(
    summary: pd.DataFrame,
    *,
    reference: str = REFERENCE_RESAMPLER,
    cap: float = CHART_CAP,
):
    """What each resampler adds to the reference pipeline's strict CER, per condition: one bar per resampler.

    Bars are the median over clips of the paired difference (a run's CER
    minus the reference's on the same clip), so decoding noise between clips
    cannot rank a resampler; they are capped at ``cap`` with the raw value,
    the median CER and the looped runs in the hover. Mislabelled-rate runs
    are not in ``summary`` (see :func:`mislabelled_table`).
    """
    import plotly.graph_objects as go

    from ..figures import resampler_colour

    col = diff_column(reference)
    fig = go.Figure()
    for resampler, g in summary[summary["resampler"] != reference].groupby("resampler", sort=False):
        raw = g[col].to_numpy()
        fig.add_bar(
            x=g["condition"],
            y=np.clip(raw, -cap, cap),
            name=resampler,
            marker_color=resampler_colour(resampler),
            customdata=np.stack(
                [
                    raw,
                    g["median_cer"].to_numpy(),
                    g["looped"].to_numpy(),
                    g["clips"].to_numpy(),
                ],
                axis=1,
            ),
            hovertemplate=(
                f"<b>{resampler}</b><br>%{{x}}<br>adds %{{customdata[0]:+.3f}} CER to {reference} (median, paired)"
                "<br>median strict CER %{customdata[1]:.3f}<br>looped runs %{customdata[2]} of %{customdata[3]}<extra></extra>"
            ),
        )
    fig.add_hline(
        y=CLEARLY_WORSE_CER,
        line_dash="dot",
        line_color="#999",
        annotation_text="clearly worse",
        annotation_position="top left",
    )
    low = min(-0.1, float(np.clip(summary[col].min(), -cap, 0)) - 0.05) if not summary.empty else -0.1
    fig.update_layout(
        barmode="group",
        title=f"What each resampler adds to the strict CER of {reference}, per condition (median paired difference, capped at {cap:g})",
        yaxis=dict(title=f"CER minus {reference}", range=[low, cap * 1.05]),
        xaxis_title="condition",
        legend_title="resampler",
        height=440,
        margin=dict(l=60, r=20, t=60, b=60),
    )
    return fig


def cause_chart(summary: pd.DataFrame, *, cap: float = CHART_CAP):
    """Alias kept for notebooks: :func:`condition_chart`."""
    return condition_chart(summary, cap=cap)
