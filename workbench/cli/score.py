"""The ``score`` command: CER/WER of a transcript, or of a whole run, with the cause of every error.

``python -m workbench score --hyp TEXT --ref TEXT --language yue [--json]``
scores one transcript; ``--results RUN.jsonl --manifest manifest.csv``
scores a transcription run against the manifest's references. The work is
:mod:`workbench.scoring`'s; this module parses the arguments and prints.
"""

from __future__ import annotations

import argparse


def add_commands(subparsers) -> argparse.ArgumentParser:
    """Register ``score`` on an argparse subparsers object and return its parser."""
    p = subparsers.add_parser(
        "score",
        help="score a transcript against a reference: CER/WER and the cause of every error",
        description=(
            "Strict and lenient CER (Chinese, Cantonese, Japanese...) or WER (space-delimited languages), "
            "with each difference attributed to script, punctuation/width, numerals, colloquial Cantonese, hallucination (loops) or other. "
            "Give --hyp, --ref and --language, or --results and --manifest."
        ),
    )
    p.add_argument("--hyp", help="the transcript to score (may be empty)")
    p.add_argument("--ref", help="the reference transcript")
    p.add_argument("--language", help="code or name: yue, zh, en, cantonese, 粵語, 普通话...; overrides the manifest's column")
    p.add_argument("--script", default="auto", help="OpenCC conversion for Chinese: auto (t2s), none, or a config such as s2hk")
    p.add_argument(
        "--audio-seconds", type=float, help="with --hyp: the clip's duration, so text too long for the audio is flagged as hallucination"
    )
    p.add_argument("--results", help="a transcription run: JSON lines (or a JSON list) of objects with path and text")
    p.add_argument("--manifest", help="CSV with path, language and reference columns")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_score)
    return p


def cmd_score(args) -> int:
    """Handler of the ``score`` subcommand."""
    from pathlib import Path

    from ..io import dumps
    from ..scoring import CAUSES, ScoringError, score, score_manifest
    from ..scoring.batch import _read_results

    single = args.hyp is not None or args.ref is not None
    run = args.results is not None or args.manifest is not None
    if single and run:
        raise ScoringError("give either --hyp/--ref or --results/--manifest, not both")
    if single:
        if args.hyp is None or args.ref is None:
            raise ScoringError("--hyp and --ref go together: give both (an empty --hyp '' is allowed)")
        if not args.language:
            raise ScoringError("--language is required with --hyp/--ref (e.g. yue, zh, en)")
        result = score(
            args.hyp, args.ref, args.language, script=_script_arg(args.script), audio_seconds=getattr(args, "audio_seconds", None)
        )
        if args.json:
            print(dumps(result.to_dict(), indent=2))
        else:
            print(result.to_text())
        return 0
    if not (args.results and args.manifest):
        raise ScoringError("give --hyp, --ref and --language, or --results RUN.jsonl and --manifest manifest.csv")
    df = score_manifest(_read_results(Path(args.results)), args.manifest, language=args.language, script=_script_arg(args.script))
    if args.json:
        payload = {"rows": df.to_dict(orient="records"), "unmatched": df.attrs["unmatched"], "missing": df.attrs["missing"]}
        print(dumps(payload, indent=2))
        return 0
    view = df[
        ["path", "language", "error_rate", "lenient_error_rate", "substitutions", "deletions", "insertions", "reference_length", *CAUSES]
    ]
    print(view.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="n/a"))
    for _, row in df[df["error"] != ""].iterrows():
        print(f"not scored {row['path']}: {row['error']}")
    for path in df.attrs["unmatched"]:
        print(f"no reference for {path}")
    for path in df.attrs["missing"]:
        print(f"no result for {path}")
    return 0


def _script_arg(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() == "none" else value
