"""``python -m workbench bench``: the benchmarks from the command line.

Runs the suites of :mod:`workbench.benchmarks` and prints their report, or
the result as JSON.
"""

from __future__ import annotations

from .. import benchmarks
from ..benchmarks import ENGINES_BEAM_SIZE, HARNESS_BEAM_SIZE, HARNESS_TIMESTAMPS, RESULTS_DIR
from ..errors import WorkbenchError
from ..io import dumps


def cmd_bench(args) -> int:
    """Run one suite and print its report, or its result as JSON."""
    if args.suite == "cli":
        if len(args.files) > 1:
            raise WorkbenchError(f"bench cli takes one FILE; got {len(args.files)}")
        engines = [e.strip() for e in (args.engines_cli or "faster-whisper,transformers").split(",") if e.strip()]
        result = benchmarks.bench_cli(
            args.files[0] if args.files else None, language=args.language, engines=engines, repeat=args.repeat, progress=not args.json
        )
        text = benchmarks.format_cli_bench
    elif args.suite == "audio":
        result = benchmarks.bench_audio(quick=args.quick, out=args.out, progress=not args.json)
        text = benchmarks.format_audio_bench
    elif args.suite == "engines":
        if not args.files:
            raise WorkbenchError("bench engines needs speech to transcribe: pass one or more audio FILEs (e.g. a short English clip)")
        beam = args.beam_size if args.beam_size is not None else benchmarks.ENGINES_BEAM_SIZE
        result = benchmarks.bench_engines(
            args.files, language=args.language, beam_size=beam, quick=args.quick, out=args.out, progress=not args.json
        )
        text = benchmarks.format_engines_bench
    else:
        if args.files:
            raise WorkbenchError(f"bench {args.suite} uses the bundled clips and takes no FILEs; got {' '.join(args.files)}")
        sections = benchmarks.DEFAULT_SECTIONS if args.suite == "harness" else (args.suite.removeprefix("batch-"),)
        devices = [d.strip() for d in args.devices.split(",")] if args.devices else None
        engines = [e.strip() for e in args.engines.split(",")]
        result = benchmarks.bench_harness(
            quick=args.quick,
            engines=engines,
            devices=devices,
            sections=sections,
            beam_size=args.beam_size if args.beam_size is not None else benchmarks.HARNESS_BEAM_SIZE,
            timestamps=args.timestamps,
            random_large_v3=args.random_large_v3,
            large_v3_layers=args.large_v3_layers,
            out_dir=args.out or benchmarks.RESULTS_DIR,
            label=args.label,
            isolate=not args.in_process,
            progress=not args.json,
        )
        text = benchmarks.format_harness
    if args.json:
        print(dumps(result, indent=2))
    else:
        print(text(result))
    return 0


def add_commands(sub) -> None:
    """Add ``bench`` to the command line."""
    p = sub.add_parser(
        "bench",
        help="benchmarks (suites: harness, matrix, batch, batch-variants, stability, audio, engines, cli)",
        description="harness (the default): every engine x precision x batch size x device "
        "(load time, real-time factor, throughput, peak RSS and GPU memory, CPU use), "
        "a batch of 16 clips vs the per-file loop, and latency drift and memory growth over 100 files; "
        "writes JSON (with the doctor report) and a figure under "
        "benchmarks/results/. matrix, batch, stability: one part of it. "
        "batch-variants: batch vs loop with other precisions, beams, timestamps and batch sizes. "
        "audio: load time of a 10-minute 48 kHz stereo FLAC, resampling speed per method, "
        "time to build a before/after spectrogram figure, "
        "and time and peak memory of a 2-hour 48 kHz stereo FLAC reaching 16 kHz mono, and of its info. "
        "engines: raw transformers and faster-whisper against the workbench's engines on FILEs, model reload time, "
        "and peak memory of a 10-minute file. "
        "cli: the workbench's transcribe command against a plain faster-whisper (and transformers) script on FILE "
        "(default: the bundled English clip), each in fresh processes: wall time and peak memory.",
    )
    p.add_argument(
        "suite",
        nargs="?",
        default="harness",
        choices=["harness", "matrix", "batch", "batch-variants", "stability", "audio", "engines", "cli"],
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="speech clips for the engines suite; one for the cli suite")
    p.add_argument("--repeat", type=int, default=3, help="fresh processes per side (cli suite; default: %(default)s)")
    p.add_argument(
        "--cli-engines",
        dest="engines_cli",
        default=None,
        help="comma-separated engines (cli suite; default: faster-whisper,transformers)",
    )
    p.add_argument("--language", default="en", help="language of the clips (engines suite)")
    p.add_argument(
        "--beam-size",
        type=int,
        default=None,
        help=f"beam size (default {ENGINES_BEAM_SIZE} for engines, {HARNESS_BEAM_SIZE} for the harness)",
    )
    p.add_argument("--timestamps", default=HARNESS_TIMESTAMPS, choices=["none", "segment", "word"], help="timestamps (harness)")
    p.add_argument("--engines", default="transformers,faster-whisper", help="comma-separated engines (harness)")
    p.add_argument(
        "--devices", default=None, help="comma-separated devices, e.g. cpu,cuda:0 (harness; default cpu, and cuda:0 when there is a GPU)"
    )
    p.add_argument(
        "--random-large-v3",
        action="store_true",
        help="also time Whisper large-v3's architecture with random weights "
        "(throughput and memory only, not a transcription; meant for GPUs)",
    )
    p.add_argument("--large-v3-layers", type=int, default=None, help="layers of that model (default 32, as published)")
    p.add_argument("--label", default=None, help="machine label in the result file names (default e.g. cpu-2core or the GPU's name)")
    p.add_argument(
        "--in-process",
        action="store_true",
        help="run every configuration in this process rather than a fresh one each (harness; faster, peak memory less meaningful)",
    )
    p.add_argument("--quick", action="store_true", help="shorter signals and fewer files, for a smoke test")
    p.add_argument(
        "--out",
        default=None,
        help=f"harness: folder for the results (default {RESULTS_DIR.as_posix()}); "
        "audio, engines: also write the result as JSON to this file",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    p.set_defaults(func=cmd_bench)
