"""``python -m workbench run`` and ``results``: experiment grids from the command line.

``run`` runs an experiment file (see :func:`workbench.experiments.load_config`)
and prints its counts and summary; ``results`` summarises a results store or
compares two settings in it (:mod:`workbench.experiments`).
"""

from __future__ import annotations

import argparse
import json
import warnings

from .. import experiments  # light: each name is imported from its module on first use
from ..errors import ExperimentWarning, OutputError
from ..experiments import EXAMPLE_CONFIG, ExperimentError
from ..io import atomic_path, check_output, write_text


def add_commands(sub) -> None:
    """Add ``run`` and ``results`` to the command line."""
    p = sub.add_parser(
        "run",
        help="run an experiment grid from a YAML file; resumes where it stopped",
        description="Transcribe and score every clip under every setting of the grid; "
        "each result is appended to the results file as soon as it exists, "
        "so the same command after a crash (even kill -9) picks up where it stopped.",
        epilog=EXAMPLE_CONFIG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="experiment YAML file")
    p.add_argument("--executor", choices=["local", "ray"], help="override the file's executor")
    p.add_argument("--ray-address", help="Ray cluster to join ('auto', 'ray://head:10001'); default: a local instance")
    p.add_argument("--workers", type=int, help="Ray workers")
    p.add_argument("--limit", type=int, help="only the first N clips")
    p.add_argument("--retry-errors", action="store_true", help="compute again the rows that failed")
    p.add_argument("--force", action="store_true", help="append to the results file even if it exists and is not .jsonl")
    p.add_argument("--json", action="store_true", help="print the run's counts and summary as JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "results",
        help="summarise an experiment's results: mean error per setting with confidence intervals, or compare two settings",
        description="Reads a results file written by 'run'. --compare A B pairs two settings on the clips both finished.",
    )
    p.add_argument("results", help="results file (.jsonl)")
    p.add_argument("--by", help="comma-separated setting columns to group by (default: each setting)")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="two settings, each a setting id or key=value[,key=value]")
    p.add_argument("--lenient", action="store_true", help="use the lenient error rate")
    p.add_argument(
        "--group-by",
        metavar="COLUMN",
        help="average the clips of each group before the intervals and tests "
        "(default: recording, when every row names one; 'clip' for none)",
    )
    p.add_argument("--chart", help="also write the chart as HTML here")
    p.add_argument("--parquet", help="also write every result row as Parquet here")
    p.add_argument("--force", action="store_true", help="overwrite an existing --chart or --parquet file of another kind")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    p.set_defaults(func=cmd_results)


def cmd_run(args) -> int:
    config = experiments.load_config(args.config)
    inputs = [args.config, *(getattr(config.dataset, "inputs", None) or [])]
    check_output(config.results, inputs=inputs, suffixes=experiments.RESULTS_SUFFIXES, force=args.force, option="results")
    overrides = {"force": args.force}
    if args.executor:
        overrides["executor"] = args.executor
    ray_opts = dict(config.ray)
    if args.ray_address:
        ray_opts["address"] = args.ray_address
    if args.workers:
        ray_opts["workers"] = args.workers
    overrides["ray"] = ray_opts
    if args.limit is not None:
        overrides["limit"] = args.limit
    exp = config.run(progress=not args.json, retry_errors=args.retry_errors, **overrides)
    counts = {
        "results": str(exp.results),
        "total": exp.total,
        "computed": exp.computed,
        "skipped": exp.skipped,
        "failed": exp.failed,
        "problems": exp.problems,
        "unreadable_lines": exp.unreadable,
    }
    try:
        with warnings.catch_warnings():  # the run has just reported the store's unreadable lines
            warnings.filterwarnings("ignore", message=".*not result rows", category=ExperimentWarning)
            table = experiments.summarise(exp.results)
    except ExperimentError as exc:
        table, counts["summary_error"] = None, str(exc)
    if args.json:
        counts["summary"] = [] if table is None else json.loads(table.to_json(orient="records"))
        print(json.dumps(counts, ensure_ascii=False, indent=2))
        return 0
    print(f"{exp.total} run(s): {exp.computed} computed now, {exp.skipped} already in {exp.results}, {exp.failed} failed")
    if exp.unreadable:
        print(f"{exp.unreadable} line(s) of {exp.results} are not result rows: skipped and left as they are (see the warning above)")
    if table is not None:
        print(experiments.format_summary(table))
    else:
        print(counts["summary_error"])
    return 0


def cmd_results(args) -> int:
    metric = "lenient_error_rate" if args.lenient else "error_rate"
    outputs = {"--chart": (args.chart, (".html", ".htm")), "--parquet": (args.parquet, (".parquet", ".pq"))}
    checked = {}
    for option, (path, suffixes) in outputs.items():  # before any work: neither may overwrite the results or each other
        if path:
            checked[option] = check_output(
                path, inputs=[args.results, *checked.values()], suffixes=suffixes, force=args.force, option=option, create=False
            )
    if len(checked) == 2 and checked["--chart"].resolve() == checked["--parquet"].resolve():
        raise OutputError(f"--chart and --parquet are one file ({args.chart}); give each its own path")
    frame = experiments.load_results(args.results, include_errors=True)  # read once: unreadable lines are reported once
    if args.parquet:
        with atomic_path(args.parquet, suffix=".parquet") as tmp:
            frame.drop(columns=["versions"], errors="ignore").to_parquet(tmp)
    if args.compare:
        c = experiments.compare(frame, args.compare[0], args.compare[1], group_by=args.group_by, metric=metric)
        fig = c.chart()
        if args.json:
            print(c.to_frame().to_json(orient="records", indent=2, force_ascii=False))
        else:
            print(c.format_text())
    else:
        table = experiments.summarise(frame, by=args.by.split(",") if args.by else None, group_by=args.group_by, metric=metric)
        fig = experiments.summary_chart(table)
        print(table.to_json(orient="records", indent=2, force_ascii=False) if args.json else experiments.format_summary(table))
    if args.chart:
        write_text(args.chart, fig.to_html(include_plotlyjs=True, full_html=True))
        if not args.json:
            print(f"chart: {args.chart}")
    return 0
