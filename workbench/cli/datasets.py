"""``python -m workbench import``: turn a dataset into a manifest from the command line.

Runs the importers of :mod:`workbench.datasets` and prints what they found.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..datasets import (
    HF_MANIFEST_NAME,
    HF_TEXT_COLUMNS,
    ManifestError,
    import_common_voice,
    import_folder,
    import_hf,
    import_mdcc,
    write_manifest,
)
from ..io import check_output, dumps

#: What ``import`` writes: a manifest CSV (an existing file of another kind is overwritten only with --force).
MANIFEST_SUFFIXES = (".csv",)

#: ``python -m workbench import`` layouts.
IMPORT_LAYOUTS = ("common-voice", "mdcc", "folder", "hf")
#: Options of ``import`` that apply to some layouts only (option → layouts).
_IMPORT_OPTIONS = {
    "language": ("common-voice", "folder", "hf"),
    "pattern": ("folder",),
    "config": ("hf",),
    "audio_column": ("hf",),
    "text_column": ("hf",),
    "limit": ("hf",),
    "revision": ("hf",),
    "no_streaming": ("hf",),
    "split": ("common-voice", "mdcc", "hf"),
}
_IMPORT_DEFAULTS = {"split": "test", "pattern": "*", "no_streaming": False}


def add_commands(subparsers):
    """Register ``import`` on an argparse subparsers object and return its parser.

    ``python -m workbench import LAYOUT SOURCE [--out ...]`` runs
    :func:`~workbench.datasets.import_common_voice`, :func:`~workbench.datasets.import_mdcc`,
    :func:`~workbench.datasets.import_folder` (each writes ``SOURCE/manifest.csv``, or ``--out``)
    or :func:`~workbench.datasets.import_hf`
    (``--out`` folder required: clips and manifest go there).
    """
    p = subparsers.add_parser(
        "import",
        help="turn a dataset (Common Voice, MDCC, a folder, a Hugging Face id) into a manifest",
        description=(
            "LAYOUT common-voice, mdcc or folder: SOURCE is the dataset folder; the manifest goes to SOURCE/manifest.csv or --out. "
            "LAYOUT hf: SOURCE is a Hugging Face dataset id or a local datasets folder; each row's original audio is written under "
            "--out/clips and the manifest to --out/manifest.csv (a re-run resumes). Every problem is printed; exit 0 once imported."
        ),
    )
    p.add_argument("layout", choices=IMPORT_LAYOUTS, metavar="LAYOUT", help=f"one of {', '.join(IMPORT_LAYOUTS)}")
    p.add_argument(
        "source", metavar="SOURCE", help="dataset folder, or (hf) a Hugging Face id such as mozilla-foundation/common_voice_17_0"
    )
    p.add_argument("--out", help="manifest file or folder (default SOURCE/manifest.csv); with hf: the output folder (required)")
    p.add_argument("--split", default=_IMPORT_DEFAULTS["split"], help="split to import (default test)")
    p.add_argument("--language", help="code or name: yue, cantonese, 粤语, zh... (required for folder)")
    p.add_argument("--pattern", default=_IMPORT_DEFAULTS["pattern"], help="folder: glob of the audio files ('**/*' for subfolders)")
    p.add_argument("--allow-outside", action="store_true", help="accept clips outside the manifest's folder")
    p.add_argument("--config", help="hf: the dataset's config (subset), e.g. zh-HK")
    p.add_argument("--audio-column", help="hf: the audio column (default: the Audio feature)")
    p.add_argument("--text-column", help=f"hf: the reference column (default: first of {', '.join(HF_TEXT_COLUMNS)})")
    p.add_argument("--limit", type=int, help="hf: import the first N rows only")
    p.add_argument("--revision", help="hf: branch, tag or commit")
    p.add_argument("--no-streaming", action="store_true", help="hf: download and prepare the whole split first")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file that is not a .csv manifest")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_import)
    return p


def cmd_import(args) -> int:
    """Handler of the ``import`` subcommand."""
    misplaced = [
        name
        for name, layouts in _IMPORT_OPTIONS.items()
        if args.layout not in layouts and getattr(args, name) not in (None, _IMPORT_DEFAULTS.get(name))
    ]
    if misplaced:
        names = ", ".join("--" + n.replace("_", "-") for n in misplaced)
        raise ManifestError(
            f"import {args.layout} does not take {names}; see python -m workbench import --help for the options of each layout"
        )
    if args.layout == "hf":
        if not args.out:
            raise ManifestError("import hf needs --out FOLDER: the clips and manifest.csv are written there")
        check_output(args.out, folder=True, option="--out", create=False)
        check_output(Path(args.out) / HF_MANIFEST_NAME, suffixes=MANIFEST_SUFFIXES, force=args.force, option="--out", create=False)
        ds = import_hf(
            args.source,
            args.out,
            args.split,
            config=args.config,
            audio_column=args.audio_column,
            text_column=args.text_column,
            language=args.language,
            streaming=not args.no_streaming,
            limit=args.limit,
            revision=args.revision,
            allow_outside=args.allow_outside,
            progress=not args.json,
        )
        manifest = Path(args.out) / HF_MANIFEST_NAME
    else:
        manifest = _manifest_path(args.out, Path(args.source))
        if Path(args.source).is_dir():  # can it be written? before the import's work (a missing SOURCE is the importer's to report)
            check_output(manifest, option="--out", create=False)
        if args.layout == "common-voice":
            ds = import_common_voice(args.source, args.split, args.language, allow_outside=args.allow_outside)
        elif args.layout == "mdcc":
            ds = import_mdcc(args.source, args.split, allow_outside=args.allow_outside)
        else:
            if not args.language:
                raise ManifestError("import folder needs --language (e.g. yue): a plain folder does not say what language its clips are in")
            ds = import_folder(args.source, args.language, args.pattern, allow_outside=args.allow_outside)
        check_output(manifest, inputs=ds.inputs, suffixes=MANIFEST_SUFFIXES, force=args.force, option="--out")  # now the inputs are known
        write_manifest(ds, manifest, allow_outside=args.allow_outside)
    if args.json:
        payload = {"name": ds.name, "manifest": str(manifest), "clips": len(ds), "problems": ds.problems}
        print(dumps(payload, indent=2))
        return 0
    print(ds.summary().splitlines()[0])
    for problem in ds.problems:
        print(f"problem: {problem}", file=sys.stderr)
    print(f"manifest: {manifest}")
    return 0


def _manifest_path(out, root: Path) -> Path:
    """``--out`` as a manifest file: a folder (existing, or named without a suffix) gets ``manifest.csv``."""
    if out is None:
        return root / HF_MANIFEST_NAME
    out = Path(out)
    return out / HF_MANIFEST_NAME if out.is_dir() or not out.suffix else out
