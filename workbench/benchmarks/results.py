"""Harness results on disk: one JSON file and figure per run, every machine's runs compared, and the text report."""

from __future__ import annotations

import json
from pathlib import Path

from .large_v3 import format_random_large_v3
from .measure import MB, TARGET_BATCH_SPEEDUP

#: Where results go, relative to the working directory (the project root).
RESULTS_DIR = Path("benchmarks") / "results"
COMPARISON_FIGURE = "comparison.html"
SUITE = "harness"
#: Sections of :func:`~workbench.benchmarks.bench_harness`; the first three are the default run.
SECTIONS = ("matrix", "batch", "stability", "variants")
DEFAULT_SECTIONS = SECTIONS[:3]


def write_harness_result(result: dict, out_dir=RESULTS_DIR) -> dict:
    """Write ``result`` as ``<date>-<label>[-quick].json`` with its figure beside it, and refresh the comparison figure.

    Returns
    -------
    dict
        ``json``, ``figure`` and ``comparison``: the paths written.
    """
    from ..figures import to_html
    from ..io import dumps, write_text

    out = Path(out_dir)
    part = "" if set(result["sections"]) == set(DEFAULT_SECTIONS) else "-" + "-".join(result["sections"])
    stem = f"{result['started'][:10]}-{result['machine']['label']}{part}{'-quick' if result['quick'] else ''}"
    files = {"json": str(out / f"{stem}.json"), "figure": str(out / f"{stem}.html"), "comparison": str(out / COMPARISON_FIGURE)}
    write_text(files["json"], dumps({**result, "files": files}, indent=2))
    # plotly.js is written once beside the figures, so that they open offline without a copy each
    to_html(harness_figure(result), files["figure"], include_plotlyjs="directory")
    to_html(compare_machines_figure(load_harness_results(out)), files["comparison"], include_plotlyjs="directory")
    return files


def load_harness_results(folder=RESULTS_DIR) -> list[dict]:
    """Every harness result in ``folder``, oldest first: one JSON object per ``*.json`` file.

    Files that cannot be read, are not JSON or are not a harness result
    (their ``suite`` is not :data:`SUITE`) are left out. (An experiment's
    results store, JSON Lines, is read by :func:`workbench.experiments.load_results`.)
    """
    results = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("suite") == SUITE:
            results.append(data)
    return results


#: The name :func:`load_harness_results` had first.
load_results = load_harness_results


def config_label(row: dict) -> str:
    """``faster-whisper int8 cpu, batch 16``: one configuration in a table or on an axis."""
    return f"{row['engine']} {row['precision']} {row['device']}, batch {row['batch_size']}"


def harness_figure(result: dict):
    """Throughput and peak memory per configuration, batch speed-ups and stability traces of one run."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    titles = (
        "Throughput (audio seconds per wall second)",
        "Peak memory (GB)",
        "Batch vs per-file loop (speed-up)",
        "Stability: latency per file (s)",
    )
    fig = make_subplots(rows=2, cols=2, subplot_titles=titles, vertical_spacing=0.22, horizontal_spacing=0.1)
    rows = result.get("matrix", [])
    labels = [config_label(r) for r in rows]
    fig.add_trace(
        go.Bar(
            x=labels, y=[r["throughput"] for r in rows], name="throughput", text=[f"{r['throughput']:.1f}x" for r in rows], showlegend=False
        ),
        row=1,
        col=1,
    )
    fig.add_trace(go.Bar(x=labels, y=[r["peak_rss_bytes"] / 1e9 for r in rows], name="peak RSS"), row=1, col=2)
    if any(r.get("peak_gpu_bytes") for r in rows):
        fig.add_trace(go.Bar(x=labels, y=[(r.get("peak_gpu_bytes") or 0) / 1e9 for r in rows], name="peak GPU memory"), row=1, col=2)
    batch = result.get("batch", []) + result.get("variants", [])
    if batch:
        names = [
            f"{r['engine']} {r['precision']} {r['device']}, beam {r['beam_size']}, {r['timestamps']}, batch {r['batch_size']}"
            for r in batch
        ]
        fig.add_trace(
            go.Bar(x=names, y=[r["speedup"] for r in batch], text=[f"{r['speedup']:.2f}x" for r in batch], showlegend=False), row=2, col=1
        )
        fig.add_hline(y=TARGET_BATCH_SPEEDUP, line_dash="dash", annotation_text=f"target {TARGET_BATCH_SPEEDUP}x", row=2, col=1)
    for r in result.get("stability", []):
        fig.add_trace(
            go.Scatter(y=r["latencies_s"], mode="lines+markers", name=f"{r['engine']} latency (drift {r['drift']:+.1%})"), row=2, col=2
        )
    for r in result.get("random_large_v3", []):
        for b in r["runs"]:
            fig.add_trace(
                go.Bar(x=[f"{r['label']}, {r['device']}, batch {b['batch_size']}"], y=[b["throughput"]], name=r["label"], showlegend=False),
                row=1,
                col=1,
            )
    quick = " (quick mode: a smoke test)" if result.get("quick") else ""
    fig.update_layout(
        title=f"Whisper Workbench harness on {result['machine']['label']}, {result['started'][:10]}{quick}", height=900, barmode="group"
    )
    return fig


def compare_machines_figure(results):
    """Throughput per configuration and batch speed-up per engine, one colour per machine run."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Throughput (audio seconds per wall second)", "Batch vs per-file loop (speed-up)"),
        horizontal_spacing=0.1,
    )
    for r in results:
        name = f"{r['machine']['label']} {r['started'][:10]}{' quick' if r.get('quick') else ''}"
        rows = r.get("matrix", [])
        fig.add_trace(
            go.Bar(x=[config_label(x) for x in rows], y=[x["throughput"] for x in rows], name=name, legendgroup=name), row=1, col=1
        )
        batch = r.get("batch", []) + r.get("variants", [])
        fig.add_trace(
            go.Bar(
                x=[
                    f"{x['engine']} {x['precision']} {x['device']}, beam {x['beam_size']}, {x['timestamps']}, batch {x['batch_size']}"
                    for x in batch
                ],
                y=[x["speedup"] for x in batch],
                name=name,
                legendgroup=name,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.add_hline(y=TARGET_BATCH_SPEEDUP, line_dash="dash", annotation_text=f"target {TARGET_BATCH_SPEEDUP}x", row=1, col=2)
    fig.update_layout(title="Whisper Workbench harness: machines compared", barmode="group", height=550)
    return fig


def format_harness(result: dict) -> str:
    """The harness result as a readable table."""

    def gb(v):
        return f"{v / 1e9:.2f}" if v else "-"

    def mark(ok):
        return "meets target" if ok else "MISSES target"

    quick = " (quick mode: a smoke test, not comparable to the targets)" if result["quick"] else ""
    s = result["settings"]
    lines = [
        f"harness{quick} on {result['machine']['label']} ({result['machine']['platform']}), embedded Whisper base, "
        f"beam {s['beam_size']}, timestamps {s['timestamps']}, {len(s['clips'])} clips",
    ]
    if result["matrix"]:
        lines.append(
            f"{'configuration':<44} {'load s':>7} {'RTF':>7} {'x real time':>11} {'peak RSS GB':>11} {'peak GPU GB':>11} {'CPU use':>8}"
        )
        for r in result["matrix"]:
            lines.append(
                f"{config_label(r):<44} {r['load_s']:>7.2f} {r['real_time_factor']:>7.3f} {r['throughput']:>11.1f} "
                f"{gb(r['peak_rss_bytes']):>11} {gb(r['peak_gpu_bytes']):>11} {r['cpu_utilisation']:>8.0%}"
            )
    for r in result["batch"]:
        enc = r["encoder"]
        lines.append(
            f"batch of {r['clips']} vs per-file loop, {r['engine']} {r['precision']} {r['device']}: "
            f"loop {min(r['loop_s']):.2f} s, batch {min(r['batch_s']):.2f} s, "
            f"{r['speedup']:.2f}x ({mark(r['met'])}, target >= {r['target']}x); "
            f"{r['identical_transcripts']}/{r['clips']} transcripts identical; "
            f"encoder {enc['per_clip_alone_s']:.3f} s per clip alone, {enc['per_clip_batched_s']:.3f} s batched"
        )
    if result.get("variants"):
        lines.append(f"other ways to batch ({len(result['settings']['clips'])} clips, best of each):")
        lines.append(
            f"  {'engine':<15} {'precision':<9} {'beam':>4} {'timestamps':<10} {'batch':>5} {'max tokens':>10} "
            f"{'loop s':>7} {'batch s':>7} {'speed-up':>8} {'identical':>9}"
        )
        for r in result["variants"]:
            lines.append(
                f"  {r['engine']:<15} {r['precision']:<9} {r['beam_size']:>4} {r['timestamps']:<10} {r['batch_size']:>5} "
                f"{r.get('max_new_tokens') or '-':>10} "
                f"{min(r['loop_s']):>7.2f} {min(r['batch_s']):>7.2f} {r['speedup']:>7.2f}x {r['identical_transcripts']:>4}/{r['clips']}"
            )
    for r in result["stability"]:
        lines.append(
            f"stability, {r['engine']} {r['precision']} {r['device']}, {r['files']} files: "
            f"latency drift {r['drift']:+.1%} ({mark(r['drift_met'])}, within +/-{r['drift_target']:.0%}), "
            f"memory growth {r['memory_growth_bytes'] / MB:+.1f} MB "
            f"({mark(r['memory_met'])}, < {r['memory_growth_target_bytes'] / MB:g} MB)"
        )
    for r in result.get("random_large_v3", []):
        lines.append(format_random_large_v3(r))
    for key, path in (result.get("files") or {}).items():
        lines.append(f"wrote {key}: {path}")
    return "\n".join(lines)
