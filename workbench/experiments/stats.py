"""Statistics over a results store: per-setting summaries and paired comparisons.

:func:`summarise` gives per-setting mean error rates with bootstrap
confidence intervals; :func:`compare` tests whether two settings really
differ on the same clips (paired bootstrap and sign-flip permutation test).
When every row names its source recording, both work on recordings, not
files (variants of one recording are not independent evidence).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ExperimentWarning
from .settings import ExperimentError, setting_keys
from .store import RECORDING_COLUMN, load_results

#: Bootstrap resamples for confidence intervals.
BOOTSTRAP_RESAMPLES = 9999
#: Confidence level of the intervals.
CONFIDENCE = 0.95
#: Paired differences (or per-recording mean differences) this close to zero count as ties.
TIE_TOLERANCE = 1e-12


def varying_settings(frame: pd.DataFrame) -> list[str]:
    """The setting columns that take more than one value in ``frame``."""
    return [k for k in setting_keys() if k in frame and frame[k].astype(str).nunique() > 1]


def _label(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    if not columns:
        return frame["setting_id"]
    return frame[columns].astype(str).agg(lambda r: ", ".join(f"{k}={v}" for k, v in zip(columns, r, strict=True)), axis=1)


def bootstrap_ci(values, *, confidence: float = CONFIDENCE, n_resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Bootstrap confidence interval of the mean (BCa; percentile where BCa is undefined).

    One value gives no interval (NaN, NaN); identical values give a zero-width one.
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return (math.nan, math.nan)
    if np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BCa warns, then gives NaN, on degenerate resamples
        res = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=n_resamples, method="BCa", rng=rng)
    low, high = res.confidence_interval
    if not (math.isfinite(low) and math.isfinite(high)):
        res = stats.bootstrap(
            (x,), np.mean, confidence_level=confidence, n_resamples=n_resamples, method="percentile", rng=np.random.default_rng(seed)
        )
        low, high = res.confidence_interval
    return float(low), float(high)


def min_sign_flip_p(n: int) -> float:
    """The smallest p-value an exact two-sided sign-flip test can give over ``n`` non-zero differences.

    Under "no difference" each of the ``2**n`` sign patterns is equally
    likely, and the observed one and its mirror image are the two most
    extreme: ``2 / 2**n`` (1 for ``n`` <= 1). Four differences give 0.125,
    five 0.0625: below six, no difference reaches p < 0.05, however large.
    """
    n = int(n)
    return 1.0 if n <= 1 else math.ldexp(1.0, 1 - n)


def units_needed(alpha: float = 1 - CONFIDENCE) -> int:
    """The fewest independent non-zero differences for which a sign-flip test can reach ``p < alpha`` (6 for 0.05)."""
    if not 0 < alpha <= 1:
        raise ExperimentError(f"significance level must be in (0, 1]; got {alpha!r}")
    n = 1
    while min_sign_flip_p(n) >= alpha:
        n += 1
    return n


def _named(values: pd.Series) -> np.ndarray:
    """Which values name something (not missing, not blank)."""
    return (values.notna() & (values.astype(str).str.strip() != "")).to_numpy()


def _grouping(frame: pd.DataFrame, group_by, where: str) -> str | None:
    """The column whose values group clips into independent units, or None (each clip its own unit)."""
    if group_by is None:
        if RECORDING_COLUMN not in frame or frame.empty:
            return None
        named = _named(frame[RECORDING_COLUMN])
        if named.all():
            return RECORDING_COLUMN
        if named.any():
            warnings.warn(
                f"{where}: {int((~named).sum())} of {len(frame)} result rows name no recording (rows written before the manifest had a "
                f"recording column?), so every clip counts as independent; to group by recording, fill the {RECORDING_COLUMN!r} column "
                "of load_results(...)'s table and pass the table",
                ExperimentWarning,
                stacklevel=3,
            )
        return None
    if group_by is False or group_by == "clip":
        return None
    if not isinstance(group_by, str) or not group_by:
        raise ExperimentError(
            f"{where}: group_by must be a column such as 'recording', 'clip' (each clip on its own) "
            f"or None (by recording when every row names one); got {group_by!r}"
        )
    if group_by not in frame:
        hint = " (results written from a manifest without a recording column have none)" if group_by == RECORDING_COLUMN else ""
        raise ExperimentError(f"{where}: cannot group by {group_by!r}: not a column of these results{hint}")
    named = _named(frame[group_by])
    if not named.all():
        raise ExperimentError(
            f"{where}: {int((~named).sum())} of {len(frame)} result rows have no {group_by!r} value; give every clip one "
            "(a clip that is its own recording can name itself), or pass group_by='clip' to count every clip as independent"
        )
    return group_by


def summarise(
    results,
    by=None,
    *,
    group_by=None,
    metric: str = "error_rate",
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Per setting: mean error rate over clips with a bootstrap confidence interval.

    Parameters
    ----------
    results : path or DataFrame
        A results store or :func:`load_results`' table.
    by : str or list of str, optional
        Setting columns to group by (others pooled). Default: each distinct
        setting, labelled by the settings that vary.
    group_by : str, optional
        A result column whose values mark clips that are not independent,
        such as ``"recording"`` (variants of one source recording). The
        clips of each group are averaged first; the mean is over groups and
        the bootstrap resamples groups, not files. Default: ``"recording"``
        when every row names one, else clip by clip (``"clip"`` asks for
        clip by clip explicitly).
    metric : str
        ``"error_rate"`` (strict CER/WER) or ``"lenient_error_rate"``.

    Returns
    -------
    pandas.DataFrame
        One row per group: the settings, ``clips``, ``groups`` (independent
        units the interval resampled: recordings, or clips), ``mean``,
        ``ci_low``, ``ci_high``, ``lenient_mean``, ``pooled`` (errors /
        reference units over all clips), ``rtf`` (mean real-time factor) and
        ``failed``; best first. ``attrs["grouped_by"]`` names the grouping
        column (None: clip by clip).
    """
    all_rows = load_results(results, include_errors=True)
    if all_rows.empty:
        raise ExperimentError("no results to summarise yet")
    frame = all_rows[all_rows["error"].isna()] if "error" in all_rows else all_rows
    if frame.empty:
        raise ExperimentError(
            f"every one of the {len(all_rows)} result(s) failed; see their error column (load_results(..., include_errors=True))"
        )
    if metric not in frame:
        raise ExperimentError(f"no column {metric!r} in the results; use error_rate or lenient_error_rate")
    columns = [by] if isinstance(by, str) else list(by) if by else varying_settings(frame)
    unknown = [c for c in columns if c not in frame]
    if unknown:
        raise ExperimentError(
            f"cannot group by {', '.join(unknown)}: not a column of the results "
            f"(settings: {', '.join(k for k in setting_keys() if k in frame)})"
        )
    unit = _grouping(frame, group_by, "summarise")
    group_keys = columns if by else ["setting_id"]
    failed = all_rows[all_rows["error"].notna()].groupby(group_keys).size() if "error" in all_rows else pd.Series(dtype=int)
    out = []
    for key, g in frame.groupby(group_keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(group_keys, key, strict=True))
        if not by:
            row.update({c: g[c].iloc[0] for c in columns})
        rates = g[list(dict.fromkeys([metric, "lenient_error_rate"]))]
        if unit is not None:
            rates = rates.groupby(g[unit].astype(str), sort=False).mean()
        low, high = bootstrap_ci(rates[metric], confidence=confidence, n_resamples=n_resamples, seed=seed)
        length = g["reference_length"].sum()
        row.update(
            {
                "metric": "/".join(sorted(set(g["metric"]))),
                "clips": int(g["clip"].nunique()),
                "groups": int(len(rates)),
                "mean": float(rates[metric].mean()),
                "ci_low": low,
                "ci_high": high,
                "lenient_mean": float(rates["lenient_error_rate"].mean()),
                "pooled": float(g["errors"].sum() / length) if length else math.nan,
                "rtf": float(g["real_time_factor"].mean()) if "real_time_factor" in g else math.nan,
                "failed": int(failed.get(key if len(key) > 1 else key[0], 0)),
            }
        )
        out.append(row)
    table = pd.DataFrame(out).sort_values("mean", kind="stable").reset_index(drop=True)
    table.attrs.update({"metric": metric, "confidence": confidence, "columns": columns, "grouped_by": unit})
    return table


@dataclass
class Comparison:
    """Two settings on the same clips: is the difference real?

    When clips are grouped (``grouped_by``, e.g. variants of one
    recording), the per-clip differences are averaged within each group
    first, and the means, the interval and the test are over groups: the
    independent units. Otherwise each clip is a unit.

    Attributes
    ----------
    a, b : str
        The settings compared, as labels.
    clips : int
        Clips both settings finished.
    mean_a, mean_b, mean_diff : float
        Mean rates and the mean of the paired differences (b − a), over
        units (groups, or clips).
    ci_low, ci_high : float
        Bootstrap confidence interval of ``mean_diff`` (resampling units;
        NaN from a single unit).
    p_value : float
        Sign-flip permutation test of "no difference" over the units with a
        non-zero difference (exact for up to 13 of them).
    wins, losses, ties : int
        Clips where b is better, worse, the same (a tie carries no sign information).
    per_clip : pandas.DataFrame
        ``clip, a, b, diff`` (and the grouping column when grouped).
    grouped_by : str or None
        The column that grouped clips (``"recording"``), or None: clip by clip.
    n_groups : int or None
        Groups with at least one paired clip (None when not grouped).
    n_units : int
        Independent units (groups, or clips) whose difference is not zero:
        the ones the sign-flip test can use.
    unit_ties : int
        Units whose difference is zero (for clips, the same as ``ties``).
    per_group : pandas.DataFrame or None
        ``<grouped_by>, clips, a, b, diff``: the group means (None when not grouped).
    min_p_value : float
        The smallest p-value the test could give with ``n_units``: ``2 / 2**n_units``.
    """

    a: str
    b: str
    metric: str
    confidence: float
    clips: int
    mean_a: float
    mean_b: float
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    wins: int
    losses: int
    ties: int
    per_clip: pd.DataFrame = field(repr=False)
    grouped_by: str | None = None
    n_groups: int | None = None
    n_units: int | None = None
    unit_ties: int | None = None
    per_group: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.n_units is None or self.unit_ties is None:
            units = self.per_group if self.per_group is not None else self.per_clip
            tied = np.abs(units["diff"].to_numpy(dtype=float)) <= TIE_TOLERANCE
            self.n_units, self.unit_ties = int((~tied).sum()), int(tied.sum())

    @property
    def alpha(self) -> float:
        """The significance level: 1 − confidence."""
        return 1 - self.confidence

    @property
    def min_p_value(self) -> float:
        """The smallest p-value an exact sign-flip test over ``n_units`` differences can give (see :func:`min_sign_flip_p`)."""
        return min_sign_flip_p(self.n_units)

    @property
    def too_few(self) -> bool:
        """True when no test on this many units could reach p < alpha, whatever the data."""
        return self.min_p_value >= self.alpha

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero and p < 1 − confidence."""
        return bool(self.clips >= 2 and (self.ci_low > 0 or self.ci_high < 0) and self.p_value < self.alpha)

    def _unit_names(self) -> tuple[str, str]:
        if self.grouped_by is None:
            return "clip", "clips"
        if self.grouped_by == RECORDING_COLUMN:
            return "recording", "recordings"
        return f"{self.grouped_by} group", f"{self.grouped_by} groups"

    def _evidence(self) -> str:
        one, many = self._unit_names()
        text = f"{self.clips} clips" + (
            f" from {self.n_groups} {one if self.n_groups == 1 else many}" if self.grouped_by is not None else ""
        )
        if self.ties:
            text += f"; {self.ties} of {self.clips} clip pairs identical, carrying no sign information"
        if self.grouped_by is not None and self.unit_ties:
            text += f"; {self.unit_ties} of {self.n_groups} {many} with no net difference"
        return text

    def _interval(self) -> str:
        if not (math.isfinite(self.ci_low) and math.isfinite(self.ci_high)):
            return f"no {self.confidence:.0%} interval from a single {self._unit_names()[0]}"
        return f"{self.confidence:.0%} CI {self.ci_low:+.3f} to {self.ci_high:+.3f}"

    def verdict(self) -> str:
        """The comparison in one sentence, saying when the sample is too small for any test to decide."""
        if self.clips < 2:
            return f"only {self.clips} clip(s) in common: too few to tell"
        one, many = self._unit_names()
        evidence = self._evidence()
        if self.n_units == 0:
            if self.ties == self.clips:
                return f"{self.b} vs {self.a}: the same {self.metric} on every one of the {self.clips} clips: no difference to test"
            return f"{self.b} vs {self.a}: no {one} shows a net difference in {self.metric} ({evidence}): no difference to test"
        ci = self._interval()
        if self.significant:
            direction = "worse" if self.mean_diff > 0 else "better"
            return (
                f"{self.b} is {direction} than {self.a} by {abs(self.mean_diff):.3f} {self.metric} "
                f"({ci}, p={self.p_value:.3g}, {evidence}): a real difference"
            )
        if self.too_few:
            which = f"{many} with a difference" if self.unit_ties else many
            return (
                f"{self.b} vs {self.a}: too few independent {which} ({self.n_units}) for any test to reach p < {self.alpha:g}: "
                f"at least {units_needed(self.alpha)} are needed; "
                f"the observed difference was {self.mean_diff:+.3f} {self.metric} ({ci}, {evidence})"
            )
        return (
            f"{self.b} vs {self.a}: {self.mean_diff:+.3f} {self.metric} ({ci}, p={self.p_value:.3g}, {evidence}): "
            "not distinguishable from chance"
        )

    def format_text(self) -> str:
        """The comparison for a terminal: each setting's mean, the paired difference, who wins where, the verdict."""
        ci = self._interval()
        width = max(len(self.a), len(self.b))
        lines = [
            f"A  {self.a:<{width}}  mean {self.metric} {self.mean_a:.3f}",
            f"B  {self.b:<{width}}  mean {self.metric} {self.mean_b:.3f}",
            f"B - A: {self.mean_diff:+.3f} {self.metric} ({ci}, p={self.p_value:.3g}) over {self.clips} clips in common",
            f"clip by clip: B better on {self.wins}, worse on {self.losses}, the same on {self.ties}",
            self.verdict(),
        ]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        keys = (
            "a", "b", "metric", "clips", "mean_a", "mean_b", "mean_diff", "ci_low", "ci_high", "p_value", "wins", "losses", "ties",
            "grouped_by", "n_groups", "n_units", "unit_ties", "min_p_value",
        )  # fmt: skip
        return pd.DataFrame([{**{k: getattr(self, k) for k in keys}, "significant": self.significant}])

    def chart(self):
        """Per-clip rates under a (x) and b (y): points above the diagonal are clips b made worse."""
        from .charts import paired_chart

        return paired_chart(self)


def _select(frame: pd.DataFrame, which, name: str) -> tuple[pd.DataFrame, str]:
    if isinstance(which, str):
        if which in set(frame["setting_id"]):
            chosen = frame[frame["setting_id"] == which]
        else:
            try:
                which = dict(part.split("=", 1) for part in which.split(",") if part.strip())
            except ValueError:
                raise ExperimentError(f"setting {name} {which!r}: give a setting id or key=value[,key=value]") from None
    if isinstance(which, dict):
        unknown = [k for k in which if k not in frame]
        if unknown:
            raise ExperimentError(
                f"setting {name}: {', '.join(unknown)} is not a setting in these results "
                f"(settings: {', '.join(k for k in setting_keys() if k in frame)})"
            )
        mask = np.ones(len(frame), dtype=bool)
        for k, v in which.items():
            mask &= frame[k].astype(str).to_numpy() == str(v)
        chosen = frame[mask]
    elif not isinstance(which, str):
        raise ExperimentError(f"setting {name} must be a setting id, 'key=value,...' or a dict; got {type(which).__name__}")
    ids = list(dict.fromkeys(chosen["setting_id"]))
    varying = varying_settings(frame)
    if not ids:
        raise ExperimentError(f"setting {name} {which!r} matches no results; settings that vary here: {', '.join(varying) or 'none'}")
    if len(ids) > 1:
        labels = sorted(set(_label(chosen.drop_duplicates("setting_id"), varying)))
        raise ExperimentError(f"setting {name} {which!r} matches {len(ids)} settings; narrow it down: {'; '.join(labels)}")
    label = _label(chosen.iloc[:1], varying).iloc[0] if varying else ids[0]
    return chosen, label


def _sign_flip_p(x: np.ndarray, *, n_resamples: int, seed: int) -> float:
    """Two-sided sign-flip permutation test of "mean zero" (exact while 2**len(x) <= n_resamples)."""
    from scipy import stats

    if len(x) < 2:
        return 1.0
    res = stats.permutation_test(
        (x,), np.mean, permutation_type="samples", n_resamples=n_resamples, alternative="two-sided", rng=np.random.default_rng(seed)
    )
    return float(res.pvalue)


def compare(
    results,
    a,
    b,
    *,
    group_by=None,
    metric: str = "error_rate",
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """Paired comparison of two settings on the clips both finished.

    Parameters
    ----------
    results : path or DataFrame
    a, b : str or dict
        A setting id, ``"key=value,key=value"`` or ``{key: value}`` that picks
        out exactly one setting, e.g. ``{"resampler": "soxr_hq"}``.
    group_by : str, optional
        A result column marking clips that are not independent, such as
        ``"recording"`` (the same speech at 44.1 kHz, at 48 kHz in stereo,
        with noise...). The paired differences are averaged within each
        group, and the bootstrap interval (resampling groups, not files) and
        the sign-flip test work on the group differences. Default:
        ``"recording"`` when every paired row names one, else clip by clip
        (``"clip"`` asks for clip by clip explicitly).
    metric : str
        ``"error_rate"`` or ``"lenient_error_rate"``.

    Returns
    -------
    Comparison
        Differences are b − a: positive means b has more errors. Its
        ``verdict()`` says when there are too few independent units for any
        test to reach significance (fewer than 6 at 95 %).

    Raises
    ------
    ExperimentError
        A setting that matches no results or several, no clips in common, an
        unknown ``group_by`` column, or a clip filed under different groups
        by the two settings.
    """
    frame = load_results(results)
    if frame.empty:
        raise ExperimentError("no finished results to compare")
    if metric not in frame:
        raise ExperimentError(f"no column {metric!r} in the results; use error_rate or lenient_error_rate")
    rows_a, label_a = _select(frame, a, "a")
    rows_b, label_b = _select(frame, b, "b")
    candidate = (
        RECORDING_COLUMN if group_by is None else group_by if isinstance(group_by, str) and group_by not in ("clip", metric) else None
    )
    extra = [candidate] if candidate is not None and candidate in frame else []
    paired = rows_a[["clip", metric, *extra]].merge(rows_b[["clip", metric, *extra]], on="clip", suffixes=("_a", "_b"))
    per_clip = pd.DataFrame({"clip": paired["clip"], "a": paired[f"{metric}_a"], "b": paired[f"{metric}_b"]})
    per_clip["diff"] = per_clip["b"] - per_clip["a"]
    n = len(per_clip)
    if n == 0:
        raise ExperimentError(f"settings {label_a!r} and {label_b!r} have no clips in common: nothing to pair")
    probe = (
        pd.DataFrame({candidate: pd.concat([paired[f"{candidate}_a"], paired[f"{candidate}_b"]], ignore_index=True)})
        if extra
        else pd.DataFrame(index=range(n))
    )
    unit = _grouping(probe, group_by, "compare")
    per_group = None
    if unit is not None:
        ga, gb = paired[f"{unit}_a"].astype(str).str.strip(), paired[f"{unit}_b"].astype(str).str.strip()
        clash = paired.loc[ga != gb, "clip"]
        if len(clash):
            raise ExperimentError(
                f"compare: {len(clash)} clip(s) have a different {unit!r} under {label_a!r} and {label_b!r} (first: {clash.iloc[0]}, "
                f"{ga[ga != gb].iloc[0]!r} vs {gb[ga != gb].iloc[0]!r}); was the manifest changed between the runs?"
            )
        per_clip[unit] = ga.to_numpy()
        per_group = (
            per_clip.groupby(unit, sort=False)
            .agg(clips=("clip", "size"), a=("a", "mean"), b=("b", "mean"), diff=("diff", "mean"))
            .reset_index()
        )
    units = per_group if per_group is not None else per_clip
    u = units["diff"].to_numpy(dtype=float)
    tied = np.abs(u) <= TIE_TOLERANCE
    low, high = bootstrap_ci(u, confidence=confidence, n_resamples=n_resamples, seed=seed)
    p = _sign_flip_p(u[~tied], n_resamples=n_resamples, seed=seed)  # zeros carry no sign: leaving them out changes no exact p-value
    d = per_clip["diff"].to_numpy(dtype=float)
    return Comparison(
        a=label_a,
        b=label_b,
        metric=metric,
        confidence=confidence,
        clips=n,
        mean_a=float(units["a"].mean()),
        mean_b=float(units["b"].mean()),
        mean_diff=float(u.mean()),
        ci_low=low,
        ci_high=high,
        p_value=p,
        wins=int((d < -TIE_TOLERANCE).sum()),
        losses=int((d > TIE_TOLERANCE).sum()),
        ties=int((np.abs(d) <= TIE_TOLERANCE).sum()),
        per_clip=per_clip,
        grouped_by=unit,
        n_groups=None if per_group is None else len(per_group),
        n_units=int((~tied).sum()),
        unit_ties=int(tied.sum()),
        per_group=per_group,
    )


def format_summary(table: pd.DataFrame) -> str:
    """A summary table as text: settings, clips (and groups, when grouped), mean with CI, lenient, pooled, RTF."""
    columns = table.attrs.get("columns") or []
    groups = ["groups"] if table.attrs.get("grouped_by") and "groups" in table else []
    view = table[[*columns, "metric", "clips", *groups, "mean", "ci_low", "ci_high", "lenient_mean", "pooled", "rtf", "failed"]].copy()
    return view.to_string(index=False, float_format=lambda v: f"{v:.3f}")
