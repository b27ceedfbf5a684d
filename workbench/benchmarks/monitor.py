"""Measuring a block of work: best-of timing, CPU time, peak resident and GPU memory.

:class:`ResourceMonitor` samples in a background thread while the block
runs. GPU memory comes from PyTorch's allocator for PyTorch engines, and
from NVML (the ``pynvml`` module of ``nvidia-ml-py``, else ``nvidia-smi``)
for CTranslate2, whose allocations PyTorch does not see.
"""

from __future__ import annotations

import contextlib
import time

#: Timed runs per measurement of the audio and engines benchmarks (the best one counts).
REPEATS = 3
#: Seconds between two samples of the memory monitor (RSS; GPU memory through NVML is slower).
RSS_SAMPLE_S = 0.05
GPU_SAMPLE_S = 0.2


def _best_of(fn, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def cpu_utilisation(cpu_seconds: float, wall_seconds: float, cores: int) -> float:
    """Share of the machine's cores busy: process CPU time / wall time / cores (0 to 1)."""
    if wall_seconds <= 0 or cores < 1:
        raise ValueError(f"wall time and cores must be positive; got {wall_seconds} s and {cores} cores")
    return cpu_seconds / wall_seconds / cores


def _cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return False


class _GpuMemory:
    """Memory in use on GPU ``index`` by every process, for the length of one measurement.

    NVML (``pynvml``, from the ``nvidia-ml-py`` package) is initialised once
    by :meth:`open` and shut down by :meth:`close`; without ``pynvml``, or
    when NVML cannot be used, each reading asks ``nvidia-smi``.
    """

    def __init__(self, index: int):
        self.index = index
        self._nvml = None
        self._handle = None

    def open(self) -> _GpuMemory:
        try:
            import pynvml
        except ImportError:
            return self
        try:
            pynvml.nvmlInit()
        except Exception:  # noqa: BLE001 - NVML unusable (no driver, no library): nvidia-smi
            return self
        self._nvml = pynvml
        try:
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(self.index)
        except Exception:  # noqa: BLE001 - no such GPU for NVML: nvidia-smi
            self._handle = None
        return self

    def used_bytes(self) -> int | None:
        """Bytes in use on the GPU now, or None when neither NVML nor nvidia-smi can tell."""
        if self._handle is not None:
            try:
                return int(self._nvml.nvmlDeviceGetMemoryInfo(self._handle).used)
            except Exception:  # noqa: BLE001 - NVML failed for this reading: ask nvidia-smi
                pass
        return _nvidia_smi_used_bytes(self.index)

    def close(self) -> None:
        if self._nvml is not None:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
        self._nvml = self._handle = None


def _nvidia_smi_used_bytes(index: int) -> int | None:
    import shutil
    import subprocess

    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    proc = subprocess.run(
        [exe, "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", str(index)], capture_output=True, text=True, check=False
    )
    try:
        return int(float(proc.stdout.strip().splitlines()[0])) * 2**20  # MiB
    except (ValueError, IndexError):
        return None


class ResourceMonitor:
    """Peak resident memory (and GPU memory) of this process while a block runs, plus its CPU time.

    RSS is sampled with psutil every :data:`RSS_SAMPLE_S`; GPU memory with
    ``torch.cuda.max_memory_allocated`` for PyTorch (``gpu="torch"``) or,
    for CTranslate2, device memory in use through NVML (``gpu="nvml"``,
    every :data:`GPU_SAMPLE_S`, less what was in use at the start; NVML is
    initialised once per block and shut down after it, and ``nvidia-smi``
    answers when ``pynvml`` is not installed).

    Examples
    --------
    >>> with ResourceMonitor() as mon:          # doctest: +SKIP
    ...     work()
    >>> mon.result()["peak_rss_bytes"]          # doctest: +SKIP
    """

    def __init__(self, *, gpu: str | None = None, device_index: int = 0):
        import psutil

        self.process = psutil.Process()
        self.gpu, self.device_index = gpu, device_index
        self.peak_rss = self.process.memory_info().rss
        self.gpu_base = self.gpu_peak = None
        self._stop = None
        self._gpu_memory = None

    def __enter__(self):
        import threading

        if self.gpu == "torch":
            import torch

            torch.cuda.synchronize(self.device_index)
            torch.cuda.reset_peak_memory_stats(self.device_index)
        elif self.gpu == "nvml":
            self._gpu_memory = _GpuMemory(self.device_index).open()
            self.gpu_base = self.gpu_peak = self._gpu_memory.used_bytes()
        self._cpu0 = self._cpu_seconds()
        self._t0 = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _cpu_seconds(self) -> float:
        t = self.process.cpu_times()
        return t.user + t.system

    def _sample(self) -> None:
        next_gpu = 0.0
        while not self._stop.wait(RSS_SAMPLE_S):
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            if self._gpu_memory is not None and time.perf_counter() >= next_gpu:
                used = self._gpu_memory.used_bytes()
                if used is not None:
                    self.gpu_peak = max(self.gpu_peak or 0, used)
                next_gpu = time.perf_counter() + GPU_SAMPLE_S

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        if self._gpu_memory is not None:
            self._gpu_memory.close()
            self._gpu_memory = None
        self.wall_s = time.perf_counter() - self._t0
        self.cpu_s = self._cpu_seconds() - self._cpu0
        self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
        if self.gpu == "torch":
            import torch

            torch.cuda.synchronize(self.device_index)
            self.gpu_peak = int(torch.cuda.max_memory_allocated(self.device_index))

    def result(self) -> dict:
        """``wall_s``, ``cpu_s``, ``cpu_utilisation``, ``peak_rss_bytes``, ``peak_gpu_bytes`` (None on the CPU) and how it was measured."""
        gpu = None
        if self.gpu == "torch":
            gpu = self.gpu_peak
        elif self.gpu == "nvml" and self.gpu_peak is not None and self.gpu_base is not None:
            gpu = self.gpu_peak - self.gpu_base
        methods = {"torch": "torch.cuda.max_memory_allocated", "nvml": "NVML device memory in use, less the memory in use before loading"}
        return {
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "cpu_utilisation": cpu_utilisation(self.cpu_s, self.wall_s, _cores()) if self.wall_s > 0 else None,
            "peak_rss_bytes": int(self.peak_rss),
            "peak_gpu_bytes": gpu,
            "gpu_memory_method": methods.get(self.gpu),
        }


def _vm_hwm(pid="self") -> int | None:
    """Linux's high-water mark of a process's resident set (``VmHWM`` in ``/proc/<pid>/status``), in bytes.

    None where there is no ``/proc``, or once the process has exited.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _process_peak_rss() -> int | None:
    """The operating system's high-water mark of this process's resident set (bytes), where it keeps one.

    Linux: ``VmHWM`` (``ru_maxrss`` of a forked child starts from its
    parent's peak, so it can report the parent's memory); elsewhere
    ``ru_maxrss``.
    """
    own = _vm_hwm()
    if own is not None:
        return own
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux
    except ImportError:  # Windows
        return None
