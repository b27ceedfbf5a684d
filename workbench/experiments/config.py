"""Experiments written as YAML files, for ``python -m workbench run``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .settings import ExperimentError

if TYPE_CHECKING:
    from .runner import Experiment

#: An experiment file, as ``python -m workbench run --help`` shows it.
EXAMPLE_CONFIG = """\
example (paths relative to the file):
  dataset: ../data/manifest.csv
  results: results/resamplers.jsonl
  grid:
    resampler: [soxr_hq, naive_decimation, mislabelled]
    beam_size: [1, 5]
  fixed: {engine: faster-whisper, language: yue}
  executor: local          # or ray (pip install "whisper-workbench[ray]")
  ray: {address: null, workers: 2}
"""
#: Dataset layouts a configuration file can name, and the importer for each.
DATASET_LAYOUTS = ("manifest", "common_voice", "mdcc", "folder", "hf")


@dataclass
class ExperimentConfig:
    """An experiment as written in a YAML file (see :func:`load_config`)."""

    dataset: object
    grid: dict | list
    results: Path
    fixed: dict = field(default_factory=dict)
    executor: str = "local"
    ray: dict = field(default_factory=dict)
    limit: int | None = None
    source: Path | None = None

    def run(self, **overrides) -> Experiment:
        kwargs = {"fixed": self.fixed, "executor": self.executor, "ray": self.ray, "limit": self.limit, **overrides}
        from .runner import run

        return run(self.dataset, self.grid, self.results, **kwargs)


def load_config(path) -> ExperimentConfig:
    """Read an experiment from YAML; relative paths are relative to the file.

    Example file::

        dataset: ../data/manifest.csv          # or {common_voice: DIR, split: test}, {hf: ID, out: DIR, config: zh-HK}, ...
        results: results/resamplers.jsonl
        grid:
          resampler: [soxr_hq, torchaudio_default, naive_decimation, mislabelled]
          beam_size: [1, 5]
        fixed:
          engine: faster-whisper
          language: yue
        executor: local                        # or ray
        ray: {address: null, workers: 2}

    Raises
    ------
    ExperimentError
        Unreadable YAML, a missing key, or an unknown dataset layout.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: no such experiment file; see python -m workbench run --help for an example")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ExperimentError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ExperimentError(f"{path}: expected a mapping with dataset, results and grid")
    allowed = {"dataset", "grid", "results", "fixed", "executor", "ray", "limit"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ExperimentError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    missing = [k for k in ("dataset", "results") if not data.get(k)]
    if missing:
        raise ExperimentError(f"{path}: missing {', '.join(missing)} (see python -m workbench run --help for an example)")
    base = path.parent
    from ..io import check_output

    # the store must be writable before a dataset is imported (an import can take long, or download)
    check_output(base / data["results"], inputs=[path], suffixes=(".jsonl",), force=True, option="results:", create=False)
    dataset = _dataset_from_config(data["dataset"], base, path)
    return ExperimentConfig(
        dataset=dataset,
        grid=data.get("grid") or {},
        results=base / data["results"],
        fixed=data.get("fixed") or {},
        executor=data.get("executor", "local"),
        ray=data.get("ray") or {},
        limit=data.get("limit"),
        source=path,
    )


def _dataset_from_config(spec, base: Path, where: Path):
    from .. import datasets

    if isinstance(spec, str):
        return datasets.load_manifest(base / spec)
    if not isinstance(spec, dict):
        raise ExperimentError(f"{where}: dataset must be a manifest path or a mapping with one of: {', '.join(DATASET_LAYOUTS)}")
    spec = dict(spec)
    layouts = [k for k in DATASET_LAYOUTS if k in spec]
    if len(layouts) != 1:
        raise ExperimentError(f"{where}: dataset needs exactly one of {', '.join(DATASET_LAYOUTS)}; got {', '.join(spec) or 'nothing'}")
    layout = layouts[0]
    source = spec.pop(layout)
    if layout == "manifest":
        return datasets.load_manifest(base / source, **spec)
    if layout == "common_voice":
        return datasets.import_common_voice(base / source, **spec)
    if layout == "mdcc":
        return datasets.import_mdcc(base / source, **spec)
    if layout == "folder":
        return datasets.import_folder(base / source, **spec)
    if "out" not in spec:
        raise ExperimentError(f"{where}: a Hugging Face dataset needs out: a folder to keep its clips and manifest in")
    spec["out"] = base / spec["out"]
    local = base / str(source)
    return datasets.import_hf(local if local.exists() else source, **spec)  # a local snapshot, else a hub id
