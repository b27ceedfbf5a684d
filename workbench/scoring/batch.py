"""Scoring many transcripts: a table with totals, and a run against a manifest's references."""

from __future__ import annotations

import csv
import functools
import json
import math
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from ..io import parse_json_lines
from .alignment import CAUSES, FORGIVEN_CAUSES
from .base import ScoringError
from .process import score
from .results import Score

COUNT_COLUMNS = ("hits", "substitutions", "deletions", "insertions", "reference_length")
TOTAL_LABEL = "TOTAL"


def score_many(items, language: str | None = None, *, script: str | None = "auto", id_column: str = "id"):
    """Score many transcripts; one row each plus totals from summed counts.

    Parameters
    ----------
    items : pandas.DataFrame or iterable
        A DataFrame with ``hypothesis`` and ``reference`` columns (and
        optionally ``language``, ``id`` and ``audio_seconds``, the clip's
        duration for the hallucination check), or an iterable of
        ``(hypothesis, reference)`` / ``(hypothesis, reference, language)``
        tuples or of mappings with those keys.
    language : str, optional
        Language for every item; overrides an item's own.
    script : str or None
        As for :func:`score`.
    id_column : str
        Name of the first column, which holds each item's ``id`` (or ``path``), else its position.

    Returns
    -------
    pandas.DataFrame
        One row per item with the rates, counts and :data:`CAUSES` columns,
        then a ``TOTAL`` row per unit (one, unless characters and words are
        mixed) whose rates are summed errors over summed reference lengths,
        not an average of rates. An item that cannot be scored keeps its row,
        with the reason in ``error`` and no rates.
    """
    rows = [(_row_id(row, k), *_row_fields(row, language), _row_seconds(row)) for k, row in enumerate(_iter_items(items))]
    scored = []
    for row_id, hyp, ref, lang, seconds in rows:
        try:
            if lang is None:
                raise ScoringError("no language: give one for the item or pass language=")
            scored.append((row_id, hyp, ref, score(hyp, ref, lang, script=script, audio_seconds=seconds), ""))
        except ScoringError as exc:
            scored.append((row_id, hyp, ref, lang, str(exc)))
    return _table(scored, id_column)


def _iter_items(items):
    try:
        import pandas as pd

        if isinstance(items, pd.DataFrame):
            return items.to_dict(orient="records")
    except ImportError:
        pass
    return list(items)


def _row_id(row, position: int):
    if isinstance(row, Mapping):
        for key in ("id", "path"):
            if key in row and row[key] is not None:
                return row[key]
    return position


def _row_seconds(row) -> float | None:
    """An item's ``audio_seconds``, if it has one."""
    seconds = row.get("audio_seconds") if isinstance(row, Mapping) else None
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return None
    try:
        return float(seconds)
    except (TypeError, ValueError):
        raise ScoringError(f"audio_seconds must be a number of seconds, not {seconds!r}") from None


def _row_fields(row, language: str | None) -> tuple[str, str, str | None]:
    if isinstance(row, Mapping):
        missing = [k for k in ("hypothesis", "reference") if k not in row]
        if missing:
            raise ScoringError(f"item {row!r} has no {' or '.join(missing)}")
        hyp, ref, own = row["hypothesis"], row["reference"], row.get("language")
    else:
        row = tuple(row)
        if len(row) not in (2, 3):
            raise ScoringError(f"item {row!r} is not (hypothesis, reference) or (hypothesis, reference, language)")
        hyp, ref, own = row[0], row[1], row[2] if len(row) == 3 else None
    hyp = "" if hyp is None or (isinstance(hyp, float) and math.isnan(hyp)) else hyp
    own = None if own is None or (isinstance(own, float) and math.isnan(own)) or own == "" else own
    return hyp, ref, language or own


def _table(scored, id_column: str):
    import pandas as pd

    records = []
    for row_id, hyp, ref, result, error in scored:
        rec = {id_column: row_id}
        if isinstance(result, Score):
            rec.update(
                language=result.language,
                unit=result.unit,
                error_rate=result.error_rate,
                lenient_error_rate=result.lenient_error_rate,
                **{c: getattr(result, c) for c in COUNT_COLUMNS},
                **result.breakdown,
            )
        else:
            rec.update(language=result, unit=None, error_rate=math.nan, lenient_error_rate=math.nan)
            rec.update({c: 0 for c in (*COUNT_COLUMNS, *CAUSES)})
        rec.update(reference=ref, hypothesis=hyp, error=error)
        records.append(rec)
    columns = [
        id_column,
        "language",
        "unit",
        "error_rate",
        "lenient_error_rate",
        *COUNT_COLUMNS,
        *CAUSES,
        "reference",
        "hypothesis",
        "error",
    ]
    df = pd.DataFrame(records, columns=columns)
    ok = df[df["error"] == ""]
    units = sorted(ok["unit"].unique())
    totals = []
    for unit in units:
        part = ok[ok["unit"] == unit]
        sums = {c: int(part[c].sum()) for c in (*COUNT_COLUMNS, *CAUSES)}
        errors = sums["substitutions"] + sums["deletions"] + sums["insertions"]
        forgiven = sum(sums[c] for c in FORGIVEN_CAUSES)
        length = sums["reference_length"]
        label = TOTAL_LABEL if len(units) == 1 else f"{TOTAL_LABEL} ({unit})"
        totals.append(
            {
                id_column: label,
                "language": ",".join(sorted(part["language"].unique())),
                "unit": unit,
                "error_rate": errors / length,
                "lenient_error_rate": (errors - forgiven) / length,
                **sums,
                "reference": "",
                "hypothesis": "",
                "error": "",
            }
        )
    if totals:
        df = pd.concat([df, pd.DataFrame(totals, columns=columns)], ignore_index=True)
    for c in (*COUNT_COLUMNS, *CAUSES):
        df[c] = df[c].astype("int64")
    return df


def score_manifest(results, manifest, *, language: str | None = None, script: str | None = "auto"):
    """Score a transcription run against the reference transcripts in a manifest.

    Parameters
    ----------
    results : iterable of mapping, or mapping
        The run: items with ``"path"`` and ``"text"`` and optionally
        ``"audio_seconds"`` (for the hallucination check; other keys are
        ignored), or a mapping ``{path: text}``.
    manifest : str or Path
        CSV with columns ``path`` (relative to the manifest's folder),
        ``reference`` and ``language``, or any manifest
        :func:`workbench.datasets.read_manifest` reads (TSV, JSONL).
    language : str, optional
        Overrides the manifest's language column.
    script : str or None
        As for :func:`score`.

    Returns
    -------
    pandas.DataFrame
        As :func:`score_many`, with a ``path`` column (the manifest's path,
        relative to its folder).
        ``df.attrs["unmatched"]`` lists results with no manifest row and
        ``df.attrs["missing"]`` manifest rows with no result.

    Notes
    -----
    A result matches a manifest row when its path, resolved, is that
    row's file, or else when its file name is the name of
    exactly one manifest row (so results recorded on another machine, with
    Windows or POSIX paths, still match).
    """
    manifest = Path(manifest)
    rows = _references(manifest)
    if isinstance(results, Mapping):
        pairs = [(str(p), t, None) for p, t in results.items()]
    else:
        pairs = []
        for k, r in enumerate(results):
            get = r.get if isinstance(r, Mapping) else functools.partial(getattr, r)
            path, text = get("path", None), get("text", None)
            if path is None or text is None:
                raise ScoringError(f"result {k} has no 'path' or no 'text': each result needs both")
            pairs.append((str(path), text, get("audio_seconds", None)))
    by_file = {r["file"]: r for r in rows}
    by_name: dict[str, list[dict]] = {}
    for r in rows:
        by_name.setdefault(PurePosixPath(r["path"].replace("\\", "/")).name, []).append(r)

    scored_items, unmatched, seen = [], [], set()
    for path, text, seconds in pairs:
        row = _match(path, by_file, by_name)
        if row is None:
            unmatched.append(path)
            continue
        seen.add(row["path"])
        item = {"path": row["path"], "hypothesis": text, "reference": row["reference"], "language": row.get("language") or None}
        scored_items.append({**item, "audio_seconds": seconds})
    if not scored_items:
        raise ScoringError(
            f"none of the {len(pairs)} results matches a clip in {manifest}: compare the result paths with its 'path' column"
        )
    df = score_many(scored_items, language, script=script, id_column="path")
    df.attrs["unmatched"] = unmatched
    df.attrs["missing"] = [r["path"] for r in rows if r["path"] not in seen]
    df.attrs["manifest"] = str(manifest)
    return df


def _references(manifest: Path) -> list[dict]:
    """The manifest's clips as scoring matches them, read by :func:`workbench.datasets.read_manifest`.

    Each row holds ``path`` (the clip's path relative to the manifest's
    folder, with ``/``; the resolved path for a clip outside it), ``file``
    (resolved), ``reference`` and ``language``. Paths outside the folder are
    allowed: scoring reads no audio.
    """
    from ..datasets import ManifestError, read_manifest

    if not manifest.is_file():
        raise ScoringError(f"manifest {manifest} does not exist: give the CSV with path, language and reference columns")
    try:
        entries = read_manifest(manifest, allow_outside=True)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ScoringError(f"manifest {manifest} is not a UTF-8 CSV file: {exc}") from None
    except ManifestError as exc:
        raise _manifest_error(manifest, exc) from None
    root = manifest.parent.resolve()
    return [
        {
            "path": e.path.relative_to(root).as_posix() if root in e.path.parents else e.path.as_posix(),
            "file": e.path,
            "reference": e.reference,
            "language": e.language,
        }
        for e in entries
    ]


def _manifest_error(manifest: Path, exc: Exception) -> ScoringError:
    """``exc`` as a :class:`ScoringError`, naming the columns when a CSV lacks ``path`` or ``reference``."""
    if manifest.suffix.lower() not in (".jsonl", ".json"):
        with open(manifest, newline="", encoding="utf-8-sig") as f:
            columns = next(csv.reader(f, delimiter="\t" if manifest.suffix.lower() == ".tsv" else ","), [])
        missing = [c for c in ("path", "reference") if c not in columns]
        if missing:
            return ScoringError(f"manifest {manifest} has no {' or '.join(missing)} column (it has: {', '.join(columns) or 'none'})")
    return ScoringError(str(exc))


def _match(path: str, by_file: dict, by_name: dict) -> dict | None:
    """The manifest row of a result's ``path``: the same file, or else the only row with its file name."""
    try:
        found = by_file.get(Path(path).resolve())
        if found is not None:
            return found
    except (ValueError, OSError):
        pass
    name = PurePosixPath(path.replace("\\", "/")).name
    found = by_name.get(name, [])
    return found[0] if len(found) == 1 else None


def _read_results(path: Path) -> list[dict]:
    """A transcription run's output: JSON Lines (one object per line) or a JSON list of objects."""
    if not path.is_file():
        raise ScoringError(f"results file {path} does not exist")
    text = path.read_text(encoding="utf-8-sig")
    try:
        if text.lstrip().startswith("["):
            data = json.loads(text)
        else:
            data = []
            for line in parse_json_lines(text):
                if line.error is not None:
                    raise line.error
                data.append(line.value)
    except json.JSONDecodeError as exc:
        raise ScoringError(f"results file {path} is not JSON lines or a JSON list: {exc}") from None
    if not all(isinstance(d, dict) for d in data):
        raise ScoringError(f"results file {path} must hold objects with path and text")
    return data
