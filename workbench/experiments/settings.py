"""The settings an experiment varies, and the grid of them.

A *setting* is one value for every key of :func:`setting_keys`: the audio
path (decoder, channel handling, resampler), the model, engine and language,
and the decoding options. :func:`expand_grid` turns a grid into complete,
checked settings; :func:`setting_id` names each one by a hash, so the same
values give the same id on any machine.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import fields

from ..errors import WorkbenchError
from ..options import FASTER_WHISPER

#: Settings of the audio path, applied before the model sees the audio.
AUDIO_SETTINGS = ("decoder", "channel", "resampler")
#: Default grid values that are not transcription options.
BASE_DEFAULTS = {"decoder": "auto", "channel": "mean", "model": "embedded", "engine": FASTER_WHISPER, "language": "manifest"}
#: Transcription options an experiment may vary (see :class:`~workbench.options.TranscriptionOptions`).
OPTION_SETTINGS = (
    "task",
    "beam_size",
    "temperature",
    "max_new_tokens",
    "chunk_length_s",
    "batch_size",
    "timestamps",
    "initial_prompt",
    "device",
    "dtype",
    "compute_type",
    "language_fallback",
    "temperature_increment",
    "compression_ratio_threshold",
    "log_prob_threshold",
    "no_speech_threshold",
    "condition_on_previous_text",
    "vad_filter",
    "seed",
)
#: Experiment defaults that differ from a single transcription's: no timestamps
#: (nothing scores them), and a recorded ``zh`` fallback when a model has no Cantonese.
EXPERIMENT_OPTION_DEFAULTS = {"timestamps": "none", "language_fallback": True}
#: ``language`` value meaning "each clip's own language from the manifest".
MANIFEST_LANGUAGE = "manifest"


class ExperimentError(WorkbenchError, ValueError):
    """An experiment cannot run as configured (grid, dataset, results store)."""


def _option_defaults() -> dict:
    from ..options import TranscriptionOptions

    defaults = {f.name: f.default for f in fields(TranscriptionOptions) if f.name in OPTION_SETTINGS}
    return {**defaults, **EXPERIMENT_OPTION_DEFAULTS}


def setting_keys() -> tuple[str, ...]:
    """Every key a grid may vary, in the order settings are shown."""
    return (*AUDIO_SETTINGS, "model", "engine", "language", *OPTION_SETTINGS)


def default_setting() -> dict:
    """The setting used for every key a grid leaves out."""
    from ..resampling import DEFAULT_RESAMPLER

    base = {**BASE_DEFAULTS, "resampler": DEFAULT_RESAMPLER, **_option_defaults()}
    return {k: base[k] for k in setting_keys()}


def setting_id(setting: dict) -> str:
    """A short, stable id for a complete setting (same values, same id, on any machine)."""
    blob = json.dumps(setting, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def _canonical(setting: dict, where: str) -> dict:
    """Fill defaults, normalise names and check every value once, before any work."""
    from ..audio import BACKENDS
    from ..languages import normalise_language
    from ..options import ENGINES, OptionsError, TranscriptionOptions
    from ..resampling import RESAMPLERS

    unknown = sorted(set(setting) - set(setting_keys()))
    if unknown:
        raise ExperimentError(f"{where}: unknown setting(s) {', '.join(unknown)}; an experiment can vary: {', '.join(setting_keys())}")
    full = {**default_setting(), **setting}
    if full["decoder"] not in ("auto", *BACKENDS):
        raise ExperimentError(f"{where}: decoder {full['decoder']!r} is not one of auto, {', '.join(BACKENDS)}")
    channel = full["channel"]
    if isinstance(channel, str) and channel.lstrip("-").isdigit():
        channel = int(channel)
    if not (isinstance(channel, int) or channel in ("mean", "first")):
        raise ExperimentError(f"{where}: channel {channel!r} must be 'mean', 'first' or a channel index (a whole number)")
    full["channel"] = channel
    if full["resampler"] not in RESAMPLERS:
        raise ExperimentError(f"{where}: unknown resampler {full['resampler']!r}; choose from: {', '.join(RESAMPLERS)}")
    if full["engine"] not in ENGINES:
        raise ExperimentError(f"{where}: unknown engine {full['engine']!r}; choose one of: {', '.join(ENGINES)}")
    if not isinstance(full["model"], str) or not full["model"]:
        raise ExperimentError(
            f"{where}: model must be a name ('embedded', a Hugging Face id, 'ms:<id>' or a folder); got {full['model']!r}"
        )
    if full["language"] not in (MANIFEST_LANGUAGE, None):
        try:
            full["language"] = normalise_language(full["language"])
        except WorkbenchError as exc:
            raise ExperimentError(f"{where}: {exc}") from None
    try:
        TranscriptionOptions(**{k: full[k] for k in OPTION_SETTINGS})
    except (OptionsError, TypeError) as exc:
        raise ExperimentError(f"{where}: {exc}") from None
    return full


def expand_grid(grid: dict | list, fixed: dict | None = None) -> list[dict]:
    """Every setting of a grid, complete and checked.

    Parameters
    ----------
    grid : dict or list of dict
        ``{key: [values...]}``: the cartesian product of the lists (a single
        value counts as a one-item list), or an explicit list of settings.
        Keys are from :func:`setting_keys`.
    fixed : dict, optional
        Values applied to every setting (a grid value wins).

    Returns
    -------
    list of dict
        Complete settings (defaults filled in), without repeats, in grid order.

    Raises
    ------
    ExperimentError
        An unknown key or a value that cannot work, named with its setting.
    """
    fixed = dict(fixed or {})
    if isinstance(grid, dict):
        keys = list(grid)
        values = [v if isinstance(v, (list, tuple)) else [v] for v in grid.values()]
        empty = [k for k, v in zip(keys, values, strict=True) if not v]
        if empty:
            raise ExperimentError(f"grid: {', '.join(empty)} has no values; give at least one value or leave the key out")
        raw = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]
    elif isinstance(grid, (list, tuple)) and all(isinstance(s, dict) for s in grid):
        raw = [dict(s) for s in grid]
    else:
        raise ExperimentError(f"grid must be a mapping of setting -> list of values, or a list of settings; got {type(grid).__name__}")
    out, seen = [], set()
    for i, setting in enumerate(raw):
        label = ", ".join(f"{k}={v}" for k, v in setting.items()) or "defaults"
        full = _canonical({**fixed, **setting}, f"grid setting {i + 1} ({label})")
        sid = setting_id(full)
        if sid not in seen:
            seen.add(sid)
            out.append(full)
    return out
