"""``python -m workbench``: the command line.

Every subcommand has ``--help``; those that print results have ``--json``
for scripts. Errors the workbench anticipates are printed as one message
(exit status 2), never as a traceback from inside a library.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
import warnings
from dataclasses import fields
from pathlib import Path

from ..errors import WorkbenchError, WorkbenchWarning
from ..options import ENGINES

EXIT_ERROR = 2


def _print_json(obj) -> None:
    """Print ``obj`` as indented JSON through the workbench's one encoder (infinities and NaN become null)."""
    from ..io import dumps

    print(dumps(obj, indent=2))


def cmd_doctor(args) -> int:
    from ..environment import run_doctor

    report = run_doctor()
    if args.json:
        _print_json((report.to_dict()))
    else:
        print(report.format_text())
    return report.exit_code


def cmd_info(args) -> int:
    from ..audio import check_sample_rate, probe_audio

    channel = _channel_arg(args.channel)
    if args.assume_rate is not None:
        check_sample_rate(args.assume_rate, "--assume-rate", advice="; pass the rate the audio was recorded at")
    # probe_audio reads the header and measures the samples without keeping them (a long file block by block)
    info = probe_audio(
        args.file, backend=args.backend, channel=channel, assume_sample_rate=args.assume_rate, non_finite=args.non_finite
    ).to_dict()
    if args.json:
        _print_json((info))
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        if key in ("attempts", "history", "warnings"):
            continue
        print(f"{key:<{width}}  {value}")
    for backend, outcome in info["attempts"].items():
        print(f"{'tried ' + backend:<{width}}  {outcome}")
    for step in info["history"]:
        print(f"{'step':<{width}}  {step}")
    return 0


def cmd_compare_decoders(args) -> int:
    from ..audio import check_backends, compare_decoders

    backends = check_backends(args.backends, "--backends") if args.backends is not None else None
    rows = [c.to_dict() for c in compare_decoders(args.file, backends, reference=args.reference)]
    if args.json:
        _print_json((rows))
        return 0
    print(f"{args.file}: reference {rows[0]['reference']}")
    print(f"{'decoder':<12} {'offset (samples)':>17} {'offset (ms)':>12} {'level (dB)':>11} {'residual (dB)':>14} {'frames':>10}")
    for r in rows:
        resid = "identical" if r["residual_db"] == -math.inf else f"{r['residual_db']:.1f}"
        print(
            f"{r['other']:<12} {r['offset_samples']:>17d} {r['offset_ms']:>12.2f} {r['level_difference_db']:>11.2f} "
            f"{resid:>14} {r['other_frames']:>10d}"
        )
    return 0


def cmd_resample(args) -> int:
    from ..audio import check_sample_rate, load_audio
    from ..errors import OutputError, ResampleError
    from ..io import AUDIO_OUTPUTS, check_output, write_wav
    from ..resampling import check_resampler

    # every argument is checked before any decoding, and the output before anything is written
    channel = _channel_arg(args.channel)
    rate = check_sample_rate(args.rate, "--rate", error=ResampleError, advice="; choose a rate in that range (Whisper takes 16000)")
    check_resampler(args.method)
    suffix = Path(args.output).suffix.lower()
    container = AUDIO_OUTPUTS.get(suffix, "WAV")
    if suffix not in AUDIO_OUTPUTS and not args.force and not Path(args.output).is_dir():  # a folder: check_output says so
        named = f"a {suffix} name" if suffix else "a name without a suffix"
        raise OutputError(
            f"OUT {args.output}: resample writes WAV or FLAC files, and {named} would say otherwise; "
            "name the output .wav or .flac (ffmpeg converts either further), or pass --force to write WAV under this name"
        )
    target = check_output(args.output, inputs=[args.input], suffixes=tuple(AUDIO_OUTPUTS), force=args.force, option="OUT")
    out = load_audio(args.input, backend=args.backend, channel=channel, non_finite=args.non_finite, target_rate=rate, resampler=args.method)
    try:
        write_wav(target, out, format=container)
    except OSError as exc:  # disk full, permissions changed meanwhile: nothing partial is left (write_wav is atomic)
        raise OutputError(f"OUT {args.output}: could not be written: {exc.strerror or exc}; nothing was written") from exc
    steps = [s for s in out.info.history if s.get("step") == "resample"]
    msg = {
        "input": args.input,
        "output": args.output,
        "method": args.method,
        "from_rate": steps[-1]["from_rate"] if steps else out.sample_rate,
        "to_rate": out.sample_rate,
        "channels": out.num_channels,
        "seconds": round(out.duration, 3),
    }
    if args.json:
        _print_json(msg)
    else:
        print(
            f"wrote {args.output}: {out.sample_rate} Hz, {out.num_channels} channel(s), {out.duration:.2f} s, resampled with {args.method}"
        )
    return 0


def cmd_resamplers(args) -> int:
    from ..resampling import DEFAULT_RESAMPLER, RESAMPLERS

    rows = []
    for name, r in RESAMPLERS.items():
        ok, why = r.available()
        rows.append(
            {
                "name": name,
                "kind": r.kind,
                "library": r.library,
                "available": ok,
                "reason": why,
                "default": name == DEFAULT_RESAMPLER,
                "description": r.description,
            }
        )
    if args.json:
        _print_json(rows)
        return 0
    for r in rows:
        mark = "*" if r["default"] else (" " if r["available"] else "-")
        note = "" if r["available"] else f"  [unavailable: {r['reason']}]"
        print(f"{mark} {r['name']:<24} {r['kind']:<9} {r['description']}{note}")
    print("\n* default   - not available on this machine")
    return 0


def cmd_resample_report(args) -> int:
    from ..reports import write_resampling_report
    from ..resampling import resample_report

    rates = [int(r) for r in args.rates.split(",")]
    methods = args.methods.split(",") if args.methods else None
    df = resample_report(rates, args.target, methods, timing_seconds=args.timing_seconds, progress=not args.json)
    out_dir = Path(args.out)
    paths = write_resampling_report(df, out_dir, target_sr=args.target, sweep_rate=max(rates))
    if args.json:
        _print_json({"rows": df.to_dict(orient="records"), "skipped": df.attrs.get("skipped", {}), "files": [str(p) for p in paths]})
        return 0
    print(_format_quality_table(df))
    for name, why in df.attrs.get("skipped", {}).items():
        print(f"skipped {name}: {why}")
    for p in paths:
        print(f"wrote {p}")
    return 0


def _format_quality_table(df) -> str:
    view = df[["orig_sr", "target_sr", "method", "kind", "alias_noise_db", "alias_sweep_db", "passband_ripple_db", "x_real_time"]].copy()
    view.columns = ["from Hz", "to Hz", "method", "kind", "alias noise dB", "alias sweep dB", "ripple dB", "× real time"]
    return view.to_string(index=False, float_format=lambda v: f"{v:.1f}", na_rep="n/a")


def cmd_demo(args) -> int:
    from ..reports import run_demo

    diagnosis, path = run_demo(
        out_dir=Path(args.out),
        data=args.data,
        language=args.language,
        resamplers=args.resamplers.split(",") if args.resamplers else None,
        quick=args.quick,
        model=args.model,
        engine=args.engine,
        progress=not args.json,
        force=args.force,
    )
    summary = diagnosis.summary()
    runs_csv = path.with_name(path.stem + "-runs.csv")
    if args.json:
        _print_json(
            (
                {
                    "report": str(path),
                    "runs": str(runs_csv),
                    "verdicts": diagnosis.verdicts(),
                    "summary": summary.to_dict(orient="records"),
                    "mislabelled": diagnosis.mislabelled().to_dict(orient="records"),
                    "channels": diagnosis.channels.to_dict(orient="records"),
                }
            )
        )
        return 0
    print("What the audio path does to these clips:\n")
    for verdict in diagnosis.verdicts():
        print(textwrap.fill(verdict, width=100, initial_indent="* ", subsequent_indent="  "))
    if not summary.empty:
        print()
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nreport: {path}\nruns:   {runs_csv}")
    return 0


def cmd_transcribe(args) -> int:
    from tqdm.auto import tqdm

    from ..engines import LanguageNotSupportedError
    from ..io import dumps, write_text
    from ..models import ModelError
    from ..options import TranscriptionOptions, default_engine
    from ..transcription import transcribe
    from ..writers import write_transcript

    # every TranscriptionOptions field the command has a flag for; unset flags keep the option's default
    option_names = [f.name for f in fields(TranscriptionOptions) if hasattr(args, f.name)]
    options = {k: getattr(args, k) for k in option_names if getattr(args, k) is not None}
    options = {k: None if v is _NO_THRESHOLD else v for k, v in options.items()}
    planned = _planned_outputs(args)  # every output checked before the first file is decoded
    results, failures = [], []
    several = len(args.files) > 1
    bar = tqdm(args.files, desc="transcribing", unit="file", disable=not several or args.json)
    for path in bar:
        bar.set_postfix_str(Path(path).name)
        if args.verbose and several:
            tqdm.write(f"{path}:", file=sys.stderr if args.json else sys.stdout)
        audio_bar = _AudioBar(Path(path).name, disable=args.json)
        try:
            t = transcribe(
                path,
                model=args.model,
                engine=args.engine or default_engine(),
                progress=audio_bar.update,
                on_segment=_segment_printer(sys.stderr if args.json else sys.stdout) if args.verbose else None,
                **options,
            )
        except (LanguageNotSupportedError, ModelError):
            raise  # the same for every file: said once, by main()
        except WorkbenchError as exc:
            failures.append({"path": path, "error": str(exc)})
            print(f"error: {exc}", file=sys.stderr)
            continue
        finally:
            audio_bar.close()
        row = t.to_dict()
        row["path"] = path
        results.append(row)
        if args.output:  # written after every file: a crash loses nothing already transcribed
            write_text(args.output, "".join(dumps(r) + "\n" for r in results))
        if planned.get(path):
            write_transcript(t, planned[path])
        if not args.json and not args.verbose:  # verbose: the segments have said it
            tqdm.write(f"{path}: {t.text}" if several else t.text)
    if args.json:
        _print_json(({"results": results, "failures": failures}))
    return 1 if failures else 0


#: Files longer than this get a progress bar over their audio (more than one 30-s window).
AUDIO_BAR_SECONDS = 30.0


class _AudioBar:
    """A progress bar over one file's audio time, shown only for files longer than :data:`AUDIO_BAR_SECONDS`.

    ``update`` is :func:`~workbench.transcription.transcribe`'s ``progress``
    callback: the first call says how long the audio is. ``bar_options``
    go to tqdm.
    """

    def __init__(self, name: str, disable: bool = False, **bar_options):
        self.name, self.disable, self.bar, self.bar_options = name, disable, None, bar_options

    def update(self, done_s: float, total_s: float) -> None:
        if self.bar is None:
            if self.disable or total_s <= AUDIO_BAR_SECONDS:
                return
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=round(total_s, 1),
                desc=self.name,
                unit="s",
                leave=False,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s of audio [{elapsed}<{remaining}]",
                **self.bar_options,
            )
        self.bar.update(round(min(done_s, total_s) - self.bar.n, 1))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _segment_printer(stream):
    """``on_segment`` for ``--verbose``: each segment as ``[MM:SS.mmm --> MM:SS.mmm] text``, as it is decoded."""
    from tqdm.auto import tqdm

    from ..writers import timestamp

    def show(segment) -> None:
        start = 0.0 if segment.start is None else segment.start
        end = start if segment.end is None else segment.end
        tqdm.write(f"[{timestamp(start, always_hours=False)} --> {timestamp(end, always_hours=False)}] {segment.text.strip()}", file=stream)

    return show


def _planned_outputs(args) -> dict:
    """Check every output of ``transcribe`` before any work: file -> {format: path} (empty without --output-format/--output-dir)."""
    from ..io import check_output
    from ..writers import ALL, output_paths, parse_formats

    inputs = list(args.files)
    if args.output:
        check_output(args.output, inputs=inputs, suffixes=(".jsonl", ".json"), force=args.force, option="--output")
    if args.output_format is None and args.output_dir is None:
        return {}
    try:
        formats = parse_formats(args.output_format or ALL)
    except ValueError as exc:
        raise WorkbenchError(f"--output-format: {exc}") from None
    folder = check_output(args.output_dir or ".", inputs=inputs, folder=True, option="--output-dir")
    planned, owners = {}, {}
    for path in inputs:
        planned[path] = output_paths(path, folder, formats)
        for out in planned[path].values():
            if out in owners and owners[out] != path:
                raise WorkbenchError(
                    f"{owners[out]} and {path} would both be written to {out}; transcribe them into different --output-dir folders"
                )
            owners[out] = path
            check_output(out, inputs=inputs, suffixes=(out.suffix,), force=args.force, option="--output-dir")
    return planned


def cmd_export(args) -> int:
    from ..notebook import export_html

    page = export_html(args.notebook, args.out, execute=args.execute)
    if args.json:
        _print_json({"page": str(page)})
    else:
        print(page)
    return 0


def _threshold_arg(value: str):
    """A number, or 'none' for a check turned off."""
    if value.strip().lower() in ("none", "off"):
        return _NO_THRESHOLD
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none'; got {value!r}") from None


class _NoThreshold:
    """A threshold given as 'none' on the command line (None itself means "not given": the option's default)."""

    def __repr__(self) -> str:
        return "none"


_NO_THRESHOLD = _NoThreshold()


def _channel_arg(value: str):
    """``--channel``: mean, first, all or a channel index; anything else is the workbench's own error (exit 2)."""
    from ..audio import CHANNEL_CHOICES
    from ..errors import AudioLoadError

    text = value.strip().lower()
    if text in CHANNEL_CHOICES:
        return text
    try:
        return int(text)
    except ValueError:
        raise AudioLoadError(
            f"--channel {value}: not a channel; use mean (the average of the channels), first, all, "
            "or a channel index (0 is the first, -1 the last)"
        ) from None


# --------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from ..audio import BACKENDS, SAMPLE_RATE
    from ..resampling import DEFAULT_RESAMPLER, REPORT_RATES, TIMING_SECONDS

    parser = argparse.ArgumentParser(
        prog="python -m workbench", description="Whisper Workbench: see why Whisper transcribes the way it does."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "doctor",
        help="report what on this machine decides how Whisper will behave",
        description="Check OS, Python, torch/CUDA, decoders, FFmpeg, model libraries, memory, disk and non-ASCII paths.",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_doctor)

    channel_help = "channel handling: mean (default), first, all, or a channel index"
    p = sub.add_parser(
        "info",
        help="decode a file and show what was decoded and how",
        description="Decode FILE and print codec, rates, channels, bit depth, levels, decoder and the decoders that were skipped. "
        "A long file is measured block by block, never held in memory whole.",
    )
    p.add_argument("file")
    p.add_argument(
        "--backend",
        default="auto",
        choices=["auto", *BACKENDS],
        help="decoder to use (default: %(default)s, the first that reads the file)",
    )
    p.add_argument("--channel", default="mean", help=channel_help)
    p.add_argument("--assume-rate", type=int, default=None, help="relabel the audio with this rate (Hz) when the header is wrong")
    p.add_argument(
        "--non-finite",
        default="error",
        choices=["error", "zero"],
        help="samples that are NaN or infinite: refuse the file (default), or replace them with silence (zero) and say so",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "compare-decoders",
        help="decode one file with several decoders and measure the differences",
        description="Sample offset, level and residual between decoders (MP3 decoders differ in priming/padding).",
    )
    p.add_argument("file")
    p.add_argument("--backends", help="comma-separated, first is the reference (default: every available one)")
    p.add_argument("--reference", help="compare every decoder with this file instead (e.g. the WAV an MP3 was made from)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    p.set_defaults(func=cmd_compare_decoders)

    p = sub.add_parser(
        "resample",
        help="convert a file to a WAV or FLAC at another rate with a named resampler",
        description="Like 'ffmpeg -i in -ar 16000 -ac 1 out.wav', with the resampler of your choice. OUT is a .wav or .flac file "
        "(another name only with --force, and it gets WAV data), written atomically; it may not be the input. "
        "A long file is decoded and resampled block by block (soxr resamplers).",
    )
    p.add_argument("input")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--rate", type=int, default=SAMPLE_RATE, help="output sample rate in Hz (default: %(default)s)")
    p.add_argument("--method", default=DEFAULT_RESAMPLER, help="a resampler name (see 'resamplers')")
    p.add_argument(
        "--backend",
        default="auto",
        choices=["auto", *BACKENDS],
        help="decoder to use (default: %(default)s, the first that reads the file)",
    )
    p.add_argument("--channel", default="mean", help=channel_help)
    p.add_argument(
        "--non-finite",
        default="error",
        choices=["error", "zero"],
        help="samples that are NaN or infinite: refuse the file (default), or replace them with silence (zero) and say so",
    )
    p.add_argument("--force", action="store_true", help="write WAV data under a name that is not .wav or .flac, replacing such a file")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    p.set_defaults(func=cmd_resample)

    p = sub.add_parser("resamplers", help="list the resamplers and whether each can run here")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    p.set_defaults(func=cmd_resamplers)

    p = sub.add_parser(
        "resample-report",
        help="measure every resampler: alias rejection, passband, speed",
        description="Measures every method on a log sweep and band-limited noise above the new Nyquist; "
        "prints a table and writes CSV, JSON and an HTML report.",
    )
    p.add_argument("--rates", default=",".join(map(str, REPORT_RATES)), help="comma-separated source rates (Hz)")
    p.add_argument("--target", type=int, default=SAMPLE_RATE, help="rate every method resamples to, in Hz (default: %(default)s)")
    p.add_argument("--methods", help="comma-separated subset of resamplers")
    p.add_argument("--timing-seconds", type=float, default=TIMING_SECONDS, help="audio length used for timing")
    p.add_argument("--out", default="reports", help="folder for the report files")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    p.set_defaults(func=cmd_resample_report)

    from .bench import add_commands as add_bench_commands

    add_bench_commands(sub)

    p = sub.add_parser(
        "transcribe",
        help="transcribe files with Whisper (embedded model, Hugging Face, ModelScope or a folder)",
        description="Transcribe FILEs. Every option is recorded in the JSON output.",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--model", default="embedded", help="'embedded' (Whisper base, offline), a Hugging Face id, 'ms:<ModelScope id>', or a folder"
    )
    p.add_argument(
        "--engine",
        default=None,
        choices=ENGINES,
        help="inference engine (default: faster-whisper where it is installed, else transformers, the pipeline most tutorials use)",
    )
    p.add_argument("--language", help="code or name: yue, cantonese, 粤语, zh, 普通话, en... (default: detect)")
    p.add_argument("--task", choices=["transcribe", "translate"], help="transcribe, or translate into English (default: transcribe)")
    p.add_argument("--beam-size", type=int, metavar="N", help="beam search width; 1 is greedy decoding (default: 5)")
    p.add_argument("--temperature", type=float, help="first sampling temperature of every window; 0 is deterministic (default: 0)")
    p.add_argument(
        "--max-new-tokens",
        type=int,
        metavar="N",
        help="cap on generated tokens per 30-s window (default: capped by each window's duration)",
    )
    p.add_argument(
        "--chunk-length",
        dest="chunk_length_s",
        type=float,
        metavar="SECONDS",
        help="seconds per window for long audio, at most 30 (default: 30)",
    )
    p.add_argument("--batch-size", type=int, metavar="N", help="windows of a long file decoded together (default: 1)")
    p.add_argument("--timestamps", choices=["none", "segment", "word"], help="timestamps to predict (default: segment)")
    p.add_argument(
        "--initial-prompt", metavar="TEXT", help="text the first window is conditioned on, e.g. '以下係廣東話。' (default: none)"
    )
    p.add_argument("--device", help="auto, cpu or cuda:N (default: auto, a GPU when the engine sees one)")
    p.add_argument("--dtype", help="transformers: auto, float32, float16, bfloat16 (default: auto, float16 on a GPU, float32 on a CPU)")
    p.add_argument(
        "--compute-type", help="faster-whisper: auto, int8, float16, float32... (default: auto, float16 on a GPU, int8 on a CPU)"
    )
    p.add_argument(
        "--strict-language",
        dest="language_fallback",
        action="store_false",
        default=None,
        help="refuse a language the model has no token for (yue on models before large-v3) instead of "
        "transcribing as zh (default: fall back to zh, with a note, recorded in the result)",
    )
    p.add_argument("--resampler", help=f"resampler for audio that is not 16 kHz, see 'resamplers' (default: {DEFAULT_RESAMPLER})")
    p.add_argument(
        "--warmup", action="store_true", default=None, help="one dummy pass first, excluded from timings (GPU warm-up; default: off)"
    )
    p.add_argument(
        "--temperature-increment",
        type=float,
        metavar="STEP",
        help="temperature fallback: a window failing the compression-ratio or log-prob check is decoded again at temperature + STEP, "
        "up to 1.0; 0 disables it (default: 0.2)",
    )
    p.add_argument(
        "--compression-ratio-threshold",
        type=_threshold_arg,
        metavar="RATIO",
        help="a window whose text gzip-compresses better than RATIO (a repetition loop) falls back; "
        "'none' disables the check (default: 2.4)",
    )
    p.add_argument(
        "--log-prob-threshold",
        type=_threshold_arg,
        metavar="LOGPROB",
        help="a window whose average token log-probability is below LOGPROB falls back; 'none' disables the check (default: -1.0)",
    )
    p.add_argument(
        "--no-speech-threshold",
        type=_threshold_arg,
        metavar="PROB",
        help="a window whose no-speech probability is above PROB, with a log-probability below --log-prob-threshold, "
        "is dropped as silence; 'none' keeps every window (default: 0.6)",
    )
    p.add_argument(
        "--no-condition-on-previous-text",
        dest="condition_on_previous_text",
        action="store_false",
        default=None,
        help="do not prompt each window with the previous window's text "
        "(default: conditioned; turning it off stops repetition carrying over)",
    )
    p.add_argument(
        "--vad-filter",
        action="store_true",
        default=None,
        help="faster-whisper only: skip the stretches Silero VAD finds without speech (default: off)",
    )
    p.add_argument("--output", metavar="FILE", help="also write results as JSON lines to FILE, updated after every file (default: none)")
    p.add_argument(
        "--output-format",
        metavar="FORMAT",
        help="write each file's transcript as txt, srt, vtt, tsv or json (comma-separated, or 'all') into --output-dir, "
        "named after the audio file (default: none, or 'all' when --output-dir is given)",
    )
    p.add_argument(
        "--output-dir", metavar="FOLDER", help="folder for --output-format files, created if missing (default: the current folder)"
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing output that is not of the kind written (default: refuse)")
    p.add_argument(
        "--verbose",
        action="store_true",
        help="print each segment with its times as it is decoded (transformers: once the file's chunks are joined); "
        "with --json, on standard error (default: print each file's text when done)",
    )
    p.add_argument("--json", action="store_true", help="print every result (text, segments, settings, timings) as JSON")
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser(
        "export",
        help="write a notebook as one HTML page that opens offline, figures included",
        description="Like 'jupyter nbconvert --to html', but the page loads nothing from the network "
        "(no require.js or MathJax from a CDN; the figures carry their own plotly.js).",
    )
    p.add_argument("notebook", metavar="NOTEBOOK", help="an .ipynb file")
    p.add_argument("--out", default=None, metavar="HTML", help="the page to write (default: the notebook's name with .html, beside it)")
    p.add_argument("--execute", action="store_true", help="run the notebook first, in its own folder (default: export as saved)")
    p.add_argument("--json", action="store_true", help="print the page's path as JSON")
    p.set_defaults(func=cmd_export)

    from .score import add_commands as add_score_commands

    add_score_commands(sub)
    from .datasets import add_commands as add_dataset_commands

    add_dataset_commands(sub)

    p = sub.add_parser(
        "demo",
        help="the main job: the resampling diagnosis (bundled real Cantonese, or --data) as an HTML report",
        description="Transcribe every clip after every resampler, score each against its reference, and write a report that "
        "says how much error comes from the audio path and how much from script, colloquial-vs-written and real errors.",
    )
    p.add_argument(
        "--data",
        default=None,
        metavar="MANIFEST_OR_FOLDER",
        help="a manifest (CSV, TSV, JSONL) or a folder of clips (default: the bundled real Cantonese recordings)",
    )
    p.add_argument("--language", default=None, help="language of a folder without a manifest (e.g. yue); default: taken from the manifest")
    p.add_argument(
        "--resamplers",
        default=None,
        metavar="A,B,...",
        help="resamplers to compare, the reference first "
        "(default: soxr_vhq,soxr_hq,torchaudio_default,linear,naive_decimation; see 'resamplers')",
    )
    p.add_argument(
        "--model",
        default="embedded",
        help="model: 'embedded' (Whisper base, offline), a Hugging Face id, 'ms:' ModelScope id or a folder (default: %(default)s)",
    )
    p.add_argument("--engine", default="faster-whisper", choices=ENGINES, help="inference engine (default: %(default)s)")
    p.add_argument("--out", default="reports", help="folder for the HTML report and the per-run CSV (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="one recording, three conditions, three resamplers (default: the full set)")
    p.add_argument("--force", action="store_true", help="overwrite a report or runs file in --out that is not HTML / CSV")
    p.add_argument("--json", action="store_true", help="print the verdicts and tables as JSON instead of text")
    p.set_defaults(func=cmd_demo)

    from .experiments import add_commands as add_experiment_commands

    add_experiment_commands(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    label = "warning" if issubclass(category, WorkbenchWarning) else category.__name__
    print(f"{label}: {message}", file=sys.stderr)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        return int(args.func(args) or 0)
    except WorkbenchError as exc:
        in_terms = getattr(exc, "in_terms", None)  # a language refusal names the CLI's switch, not Python's
        print(f"error: {in_terms('cli') if in_terms else exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0
    except OSError as exc:  # a file the workbench did not anticipate: one line, no traceback
        print(f"error: {_os_error_message(exc)}", file=sys.stderr)
        return EXIT_ERROR


def _os_error_message(exc: OSError) -> str:
    """An OSError as one line naming the file and what to do.

    Examples
    --------
    >>> _os_error_message(PermissionError(13, "Permission denied", "/ro/report.html"))
    '/ro/report.html: Permission denied; check that the path exists and can be written, or choose another'
    >>> import errno
    >>> _os_error_message(OSError(errno.ENOSPC, "No space left on device", "/data/out.parquet"))
    '/data/out.parquet: No space left on device; free some space and run the command again'
    """
    import errno

    from ..errors import one_line

    names = " -> ".join(str(n) for n in (exc.filename, exc.filename2) if n is not None)
    what = one_line(exc.strerror or exc)
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        todo = "free some space and run the command again"
    else:
        todo = "check that the path exists and can be written, or choose another"
    return f"{names + ': ' if names else ''}{what}; {todo}"
