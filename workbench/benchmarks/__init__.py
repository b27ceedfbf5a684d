"""Speed benchmarks, run by ``python -m workbench bench``.

Targets are checked by running the benchmark, not by timed tests: timing
on a shared CI machine is too noisy to fail a build on.

- :mod:`~workbench.benchmarks.audio_bench`: loading, resampling and figures (``bench audio``);
- :mod:`~workbench.benchmarks.switch`: the panel's resampler switch (part of ``bench audio``);
- :mod:`~workbench.benchmarks.engine_bench`: raw libraries against the workbench's engines (``bench engines``);
- :mod:`~workbench.benchmarks.harness`: the performance harness (``bench``), which plans the runs and
  runs each one in a fresh process; :mod:`~workbench.benchmarks.measure` the measurements it makes,
  with :class:`~workbench.benchmarks.monitor.ResourceMonitor`; :mod:`~workbench.benchmarks.results`
  its result files, figures and report;
- :mod:`~workbench.benchmarks.large_v3`: Whisper large-v3's architecture with random weights.

Every public name is importable from ``workbench.benchmarks``; a harness
child process finds its ``measure_*`` function here by name.
"""

from __future__ import annotations

from .audio_bench import (
    FIGURE_SECONDS,
    LOAD_MINUTES,
    RESAMPLE_SECONDS,
    TARGET_DEFAULT_REALTIME,
    TARGET_FIGURE_SECONDS,
    TARGET_LOAD_SECONDS,
    bench_audio,
    format_audio_bench,
    make_long_flac,
)
from .cli_bench import TARGET_RATIO, bench_cli, format_cli_bench
from .engine_bench import (
    ENGINES_BEAM_SIZE,
    LONG_MINUTES,
    TARGET_FW_SPEEDUP,
    TARGET_OVERHEAD,
    TARGET_PEAK_GB,
    TARGET_RELOAD_SECONDS,
    bench_engines,
    format_engines_bench,
)
from .harness import (
    BATCH_REPEATS,
    BATCH_VARIANTS,
    CHILD_TIMEOUT_S,
    HARNESS_BEAM_SIZE,
    HARNESS_TIMESTAMPS,
    PRECISIONS,
    QUICK_CLIPS,
    QUICK_DRIFT_WINDOW,
    QUICK_STABILITY_FILES,
    SEED_MAX_NEW_TOKENS,
    STABILITY_FILES,
    VARIANT_REPEATS,
    bench_harness,
    machine_label,
)
from .large_v3 import (
    LARGE_V3_BATCH_SIZES,
    LARGE_V3_CONFIG,
    LARGE_V3_NEW_TOKENS,
    LARGE_V3_PROMPT,
    LARGE_V3_REPEATS,
    QUICK_LARGE_V3_NEW_TOKENS,
    RANDOM_LARGE_V3_LABEL,
    WINDOW_SECONDS,
    bench_random_large_v3,
    decode_fixed_tokens,
    format_random_large_v3,
    large_v3_log_mels,
    random_large_v3,
)
from .measure import (
    BATCH_CLIPS,
    DRIFT_WINDOW,
    MB,
    TARGET_BATCH_SPEEDUP,
    TARGET_DRIFT,
    TARGET_MEMORY_GROWTH_MB,
    batch_speedup,
    harness_clips,
    latency_drift,
    measure_batch_vs_loop,
    measure_configuration,
    measure_stability,
    memory_growth,
)
from .monitor import GPU_SAMPLE_S, REPEATS, RSS_SAMPLE_S, ResourceMonitor, cpu_utilisation
from .results import (
    COMPARISON_FIGURE,
    DEFAULT_SECTIONS,
    RESULTS_DIR,
    SECTIONS,
    SUITE,
    compare_machines_figure,
    config_label,
    format_harness,
    harness_figure,
    load_harness_results,
    load_results,
    write_harness_result,
)
from .switch import SWITCH_TARGET_SECONDS, measure_resampler_switch

__all__ = [
    "TARGET_RATIO",
    "bench_cli",
    "format_cli_bench",
    "BATCH_CLIPS",
    "BATCH_REPEATS",
    "BATCH_VARIANTS",
    "CHILD_TIMEOUT_S",
    "COMPARISON_FIGURE",
    "DEFAULT_SECTIONS",
    "DRIFT_WINDOW",
    "ENGINES_BEAM_SIZE",
    "FIGURE_SECONDS",
    "GPU_SAMPLE_S",
    "HARNESS_BEAM_SIZE",
    "HARNESS_TIMESTAMPS",
    "LARGE_V3_BATCH_SIZES",
    "LARGE_V3_CONFIG",
    "LARGE_V3_NEW_TOKENS",
    "LARGE_V3_PROMPT",
    "LARGE_V3_REPEATS",
    "LOAD_MINUTES",
    "LONG_MINUTES",
    "MB",
    "PRECISIONS",
    "QUICK_CLIPS",
    "QUICK_DRIFT_WINDOW",
    "QUICK_LARGE_V3_NEW_TOKENS",
    "QUICK_STABILITY_FILES",
    "RANDOM_LARGE_V3_LABEL",
    "REPEATS",
    "RESAMPLE_SECONDS",
    "RESULTS_DIR",
    "RSS_SAMPLE_S",
    "ResourceMonitor",
    "SECTIONS",
    "SEED_MAX_NEW_TOKENS",
    "STABILITY_FILES",
    "SUITE",
    "SWITCH_TARGET_SECONDS",
    "TARGET_BATCH_SPEEDUP",
    "TARGET_DEFAULT_REALTIME",
    "TARGET_DRIFT",
    "TARGET_FIGURE_SECONDS",
    "TARGET_FW_SPEEDUP",
    "TARGET_LOAD_SECONDS",
    "TARGET_MEMORY_GROWTH_MB",
    "TARGET_OVERHEAD",
    "TARGET_PEAK_GB",
    "TARGET_RELOAD_SECONDS",
    "VARIANT_REPEATS",
    "WINDOW_SECONDS",
    "batch_speedup",
    "bench_audio",
    "bench_engines",
    "bench_harness",
    "bench_random_large_v3",
    "compare_machines_figure",
    "config_label",
    "cpu_utilisation",
    "decode_fixed_tokens",
    "format_audio_bench",
    "format_engines_bench",
    "format_harness",
    "format_random_large_v3",
    "harness_clips",
    "harness_figure",
    "large_v3_log_mels",
    "latency_drift",
    "load_harness_results",
    "load_results",
    "machine_label",
    "make_long_flac",
    "measure_batch_vs_loop",
    "measure_configuration",
    "measure_resampler_switch",
    "measure_stability",
    "memory_growth",
    "random_large_v3",
    "write_harness_result",
]
