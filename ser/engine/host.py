"""What this host gives a worker process: its CPU cores, and the torch threads each of a worker's
processes should use so that they together fill the cores without oversubscribing them."""

from __future__ import annotations

import ctypes
import functools
import math
import os
from pathlib import Path
from typing import Any


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota (a container
    started with --cpus), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup v2 `cpu.max` ("max 100000" = no limit), or v1's quota/period."""
    try:
        text = (root / "cpu.max").read_text().split()
        if len(text) == 2 and text[0] != "max":
            return int(text[0]) / int(text[1])
        return None
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def threads_per_process(concurrency: int, cores: int | None = None) -> int:
    """torch intra-op threads for one of `concurrency` processes sharing the host: cores //
    concurrency, at least 1. Two processes of two threads each on two cores spend their time
    waiting for each other's threads; two of one thread each do not."""
    cores = available_cores() if cores is None else cores
    return max(1, cores // max(1, concurrency))


@functools.cache
def libc() -> Any:
    """The C library, for madvise and malloc_trim; None where it cannot be loaded."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
