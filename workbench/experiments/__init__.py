"""Experiments: every clip under every setting of a grid, kept as it is computed.

A single clip answers "what happened here?"; an experiment answers "how
often, how much, and how fast?". :func:`run` transcribes and scores every
(clip × setting) of a grid over decoder, channel handling, resampler, model,
engine, language and decoding options, and appends each result to a results
store the moment it exists.

The store is JSON Lines: one self-contained JSON object per line, written
with a single ``write`` and ``fsync``. A run killed at any point (even
``kill -9``) leaves at worst one torn last line, which the next run cuts off
before it resumes; every complete line is a finished result. The store is
locked as the file it is (however its path is spelled), a failed write (a
full disk) is taken back and reported, and lines that are not result rows
are skipped, counted and never rewritten. Parquet would
read faster, but a Parquet file cannot be appended to one row at a time:
each result would mean rewriting the file or adding a file per row. Tables
come from :func:`load_results` (pandas), and Parquet is one
``DataFrame.to_parquet`` away.

Every row is keyed by its clip and its *setting id* (a hash of every setting
with defaults filled in), so a resumed run skips exactly what is done and a
changed setting is a new row, never an overwrite.

:func:`summarise` gives per-setting mean error rates with bootstrap
confidence intervals; :func:`compare` tests whether two settings really
differ on the same clips (paired bootstrap and sign-flip permutation test).

Several clips may be variants of one recording (the same speech at 44.1 kHz,
at 48 kHz in stereo, with added noise...). They are not independent: a
model that stumbles on one speaker stumbles on every variant. A manifest's
optional ``recording`` column names each clip's source recording; every
result row keeps it, and when every row names one the statistics work on
recordings, not files: per-clip values (or paired differences) are averaged
within each recording, the bootstrap resamples recordings and the sign-flip
test flips recordings. An exact two-sided sign-flip test over ``n``
independent units can never give a p-value below ``2 / 2**n``, so with five
recordings or fewer no difference, however large, reaches p < 0.05;
:meth:`Comparison.verdict` says so rather than "not distinguishable".

The package, one concern per module:

- :mod:`~workbench.experiments.settings` -- the settings a grid varies and :func:`expand_grid`
- :mod:`~workbench.experiments.store` -- the :class:`ResultsStore` and :func:`load_results`
- :mod:`~workbench.experiments.runner` -- :func:`run`, locally or on Ray
- :mod:`~workbench.experiments.config` -- experiments as YAML files (:func:`load_config`)
- :mod:`~workbench.experiments.stats` -- :func:`summarise` and :func:`compare`
- :mod:`~workbench.experiments.charts` -- :func:`summary_chart` and :func:`paired_chart`

Examples
--------
>>> from workbench import datasets, experiments
>>> exp = experiments.run(datasets.bundled(), {"resampler": ["soxr_hq", "naive_decimation"]},
...                       results="results/resamplers.jsonl")            # doctest: +SKIP
>>> experiments.summarise(exp.results)                                  # doctest: +SKIP
>>> experiments.compare(exp.results, {"resampler": "soxr_hq"}, {"resampler": "naive_decimation"})  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Names are imported from their module on first use, so that importing one light part (the YAML format, the
# settings) does not import pandas and the statistics; `from workbench.experiments import run` works as always.
_EXPORTS = {
    "ExperimentWarning": "..errors",
    "paired_chart": ".charts",
    "summary_chart": ".charts",
    "DATASET_LAYOUTS": ".config",
    "EXAMPLE_CONFIG": ".config",
    "ExperimentConfig": ".config",
    "load_config": ".config",
    "RAY_BATCH": ".runner",
    "Experiment": ".runner",
    "Runner": ".runner",
    "Task": ".runner",
    "make_tasks": ".runner",
    "run": ".runner",
    "AUDIO_SETTINGS": ".settings",
    "BASE_DEFAULTS": ".settings",
    "EXPERIMENT_OPTION_DEFAULTS": ".settings",
    "MANIFEST_LANGUAGE": ".settings",
    "OPTION_SETTINGS": ".settings",
    "ExperimentError": ".settings",
    "default_setting": ".settings",
    "expand_grid": ".settings",
    "setting_id": ".settings",
    "setting_keys": ".settings",
    "BOOTSTRAP_RESAMPLES": ".stats",
    "CONFIDENCE": ".stats",
    "TIE_TOLERANCE": ".stats",
    "Comparison": ".stats",
    "bootstrap_ci": ".stats",
    "compare": ".stats",
    "format_summary": ".stats",
    "min_sign_flip_p": ".stats",
    "summarise": ".stats",
    "units_needed": ".stats",
    "varying_settings": ".stats",
    "RECORDING_COLUMN": ".store",
    "RESULTS_FORMAT": ".store",
    "RESULTS_SUFFIXES": ".store",
    "ResultsStore": ".store",
    "UnreadableLine": ".store",
    "describe_unreadable": ".store",
    "load_results": ".store",
    "read_rows": ".store",
    "scan_rows": ".store",
}

if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from ..errors import ExperimentWarning
    from .charts import paired_chart, summary_chart
    from .config import DATASET_LAYOUTS, EXAMPLE_CONFIG, ExperimentConfig, load_config
    from .runner import RAY_BATCH, Experiment, Runner, Task, make_tasks, run
    from .settings import (
        AUDIO_SETTINGS,
        BASE_DEFAULTS,
        EXPERIMENT_OPTION_DEFAULTS,
        MANIFEST_LANGUAGE,
        OPTION_SETTINGS,
        ExperimentError,
        default_setting,
        expand_grid,
        setting_id,
        setting_keys,
    )
    from .stats import (
        BOOTSTRAP_RESAMPLES,
        CONFIDENCE,
        TIE_TOLERANCE,
        Comparison,
        bootstrap_ci,
        compare,
        format_summary,
        min_sign_flip_p,
        summarise,
        units_needed,
        varying_settings,
    )
    from .store import (
        RECORDING_COLUMN,
        RESULTS_FORMAT,
        RESULTS_SUFFIXES,
        ResultsStore,
        UnreadableLine,
        describe_unreadable,
        load_results,
        read_rows,
        scan_rows,
    )


def __getattr__(name: str):
    """Import a public name (or a submodule) the first time it is used."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


__all__ = [
    "AUDIO_SETTINGS",
    "BASE_DEFAULTS",
    "BOOTSTRAP_RESAMPLES",
    "CONFIDENCE",
    "Comparison",
    "DATASET_LAYOUTS",
    "EXAMPLE_CONFIG",
    "EXPERIMENT_OPTION_DEFAULTS",
    "Experiment",
    "ExperimentConfig",
    "ExperimentError",
    "ExperimentWarning",
    "MANIFEST_LANGUAGE",
    "OPTION_SETTINGS",
    "RAY_BATCH",
    "RECORDING_COLUMN",
    "RESULTS_FORMAT",
    "RESULTS_SUFFIXES",
    "ResultsStore",
    "Runner",
    "TIE_TOLERANCE",
    "Task",
    "UnreadableLine",
    "bootstrap_ci",
    "compare",
    "describe_unreadable",
    "default_setting",
    "expand_grid",
    "format_summary",
    "load_config",
    "load_results",
    "make_tasks",
    "min_sign_flip_p",
    "paired_chart",
    "read_rows",
    "run",
    "scan_rows",
    "setting_id",
    "setting_keys",
    "summarise",
    "summary_chart",
    "units_needed",
    "varying_settings",
]


def __dir__():
    return sorted(set(globals()) | set(__all__))
