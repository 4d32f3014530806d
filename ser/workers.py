"""The worker processes as the rest of the product sees them: how many torch threads each one
uses, and whether a GPU worker is alive to send recordings to.

Threads: a worker's main process records its `--concurrency` in the environment at start
(`worker_init`), which the pool's child processes inherit; each child then uses the host's cores //
concurrency torch threads (SER_THREADS overrides). Oversubscribed threads cost more than they give:
on 2 cores, two processes of two threads each wait on each other.

GPU routing: a worker consuming SER_GPU_QUEUE announces itself in the cache every
SER_GPU_HEARTBEAT_S seconds; a new recording is sent to that queue while an announcement is fresh
(three beats), otherwise to the CPU queue. When the last GPU worker stops, its announcement expires
and the stale-job sweeper re-sends what it left queued, to the CPU queue."""

from __future__ import annotations

import logging
import os
import threading
import time

from django.conf import settings
from django.core.cache import cache

from ser.engine.host import available_cores, threads_per_process

log = logging.getLogger(__name__)

CONCURRENCY_ENV = "SER_WORKER_CONCURRENCY"
GPU_WORKER_KEY = "ser:gpu-worker-alive"


def record_concurrency(concurrency: object) -> None:
    """Called in a worker's main process before its pool starts (children inherit it)."""
    n = concurrency if isinstance(concurrency, int) and concurrency > 0 else available_cores()
    os.environ[CONCURRENCY_ENV] = str(n)


def torch_threads() -> tuple[int, str]:
    """This process's torch intra-op threads, and how that number was reached (for the log)."""
    if settings.SER_THREADS > 0:
        return settings.SER_THREADS, f"SER_THREADS={settings.SER_THREADS}"
    try:
        concurrency = max(1, int(os.environ.get(CONCURRENCY_ENV, "1")))
    except ValueError:
        concurrency = 1
    cores = available_cores()
    threads = threads_per_process(concurrency, cores)
    return threads, f"{cores} cores // concurrency {concurrency}"


# -- GPU queue --------------------------------------------------------------------------------


def gpu_queue() -> str | None:
    """The queue a new recording goes to when it should not go to the default (CPU) queue."""
    if not settings.SER_GPU_QUEUE:
        return None
    try:
        alive = cache.get(GPU_WORKER_KEY)
    except Exception:  # the cache (Redis) is down: the CPU queue, which needs nothing to decide
        return None
    return settings.SER_GPU_QUEUE if alive else None


def announce_gpu_worker(hostname: str) -> None:
    cache.set(
        GPU_WORKER_KEY, {"hostname": hostname, "at": time.time()}, timeout=3 * settings.SER_GPU_HEARTBEAT_S
    )


def start_gpu_heartbeat(hostname: str, stop: threading.Event) -> threading.Thread:
    """Announce this GPU worker now and every SER_GPU_HEARTBEAT_S until `stop` is set."""

    def beat() -> None:
        while True:
            try:
                announce_gpu_worker(hostname)
            except Exception as exc:  # Redis away for a moment: the next beat tries again
                log.warning("GPU worker heartbeat failed (%s)", type(exc).__name__)
            if stop.wait(settings.SER_GPU_HEARTBEAT_S):
                return

    thread = threading.Thread(target=beat, name="ser-gpu-heartbeat", daemon=True)
    thread.start()
    return thread
