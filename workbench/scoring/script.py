"""Script conversion (Traditional/Simplified Chinese) with OpenCC.

Both texts of a Chinese comparison go through the same conversion, so
``幾個`` and ``几个`` are the same text; the colloquial table goes through it
too (see :mod:`workbench.scoring.colloquial`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .base import CHINESE_LANGUAGES, ScoringError

DEFAULT_SCRIPT_CONVERSION = "t2s"
"""OpenCC conversion applied to both texts of a Chinese comparison: to Simplified.

Traditional -> Simplified is many-to-one, so two texts that differ only in
script always meet; Simplified -> Traditional has to guess (发 is 發 or 髮)
and can split texts that were equal. The alignment still shows each text as
it was written.
"""


def _opencc_configs() -> list[str]:
    import opencc

    return sorted(c.removesuffix(".json") for c in opencc.CONFIGS)


def _script_config(language: str, script: str | None) -> str | None:
    """The OpenCC config to use, or None for no conversion."""
    if script is None:
        return None
    if not isinstance(script, str):
        raise ScoringError(f"script must be 'auto', 'none' or an OpenCC config name, not {script!r}")
    name = script.strip().lower().removesuffix(".json")
    if name == "auto":
        return DEFAULT_SCRIPT_CONVERSION if language in CHINESE_LANGUAGES else None
    if name in ("none", ""):
        return None
    configs = _opencc_configs()
    if name not in configs:
        raise ScoringError(f"unknown script conversion {script!r}: use auto, none or an OpenCC config ({', '.join(configs)})")
    return name


@functools.lru_cache(maxsize=16)
def _converter(config: str | None) -> Callable[[str], str]:
    if config is None:
        return lambda text: text
    import opencc

    return opencc.OpenCC(f"{config}.json").convert
