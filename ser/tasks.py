"""Thin Celery tasks: take ids, call a service.

The model is loaded by the first task a worker process runs (ser.runtime.get_model), not at process
start: Celery waits only a few seconds for a new child process to report that it is up, and loading
emotion2vec+ large takes longer, so a child that replaced a killed one would itself be killed, again
and again. Loaded lazily, a replacement child is up at once and takes the redelivered task."""

from __future__ import annotations

import logging
import threading

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init, worker_ready, worker_shutdown
from django.db import InterfaceError, OperationalError

from ser.engine.messages import gettext_noop, said

from . import services, workers

log = logging.getLogger(__name__)

# Failure reasons (translated where they are shown: ser.models.AnalysisJob.error_words).
TIMED_OUT = said(
    gettext_noop("The analysis took longer than the time limit and was stopped; nothing was saved.")
)
UNEXPECTED = gettext_noop("The analysis failed unexpectedly; the team has been notified. (%(error)s)")


@shared_task(
    bind=True,
    autoretry_for=(OperationalError, InterfaceError, ConnectionError, TimeoutError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def analyse_recording(self, recording_id: str) -> None:  # type: ignore[no-untyped-def]
    try:
        services.analysis_run(recording_id=recording_id)
    except SoftTimeLimitExceeded:
        services.job_fail(recording_id=recording_id, reason=TIMED_OUT)
    except Exception as exc:
        if self.request.retries >= self.max_retries or not isinstance(exc, self.autoretry_for):
            services.job_fail(
                recording_id=recording_id,
                reason=said(UNEXPECTED, error=type(exc).__name__),
            )
        raise


@shared_task(ignore_result=True)
def requeue_stale_recordings() -> int:
    """Periodic (Celery beat): re-send jobs stuck in PENDING, and RUNNING jobs past their deadline
    (their worker process died)."""
    from django.conf import settings

    return services.requeue_stale(older_than_s=settings.SER_REQUEUE_AFTER_S)


@worker_init.connect
def _record_concurrency(sender: object = None, **_: object) -> None:
    """The pool's processes inherit it and size their torch threads by it (ser.workers)."""
    workers.record_concurrency(getattr(sender, "concurrency", None))


_heartbeat_stop = threading.Event()


@worker_ready.connect
def _announce_gpu_worker(sender: object = None, **_: object) -> None:
    """A worker consuming the GPU queue tells the web processes so, to have recordings sent to it."""
    from django.conf import settings

    app = getattr(sender, "app", None)
    consumed = set(app.amqp.queues.consume_from or {}) if app is not None else set()
    if settings.SER_GPU_QUEUE and settings.SER_GPU_QUEUE in consumed:
        hostname = str(getattr(sender, "hostname", "") or "gpu-worker")
        log.info("consuming the GPU queue %r: announcing this worker", settings.SER_GPU_QUEUE)
        _heartbeat_stop.clear()
        workers.start_gpu_heartbeat(hostname, _heartbeat_stop)


@worker_shutdown.connect
def _stop_heartbeat(**_: object) -> None:
    _heartbeat_stop.set()


@worker_init.connect
def _remove_stale_spools(**_: object) -> None:
    """A worker process killed mid-analysis (kill -9, out of memory, hard time limit) leaves its
    temporary spool folder behind. At worker start, remove those older than the hard time limit:
    no live analysis can be older than that, so another worker's folder on the same host is safe."""
    import shutil
    import tempfile
    import time
    from pathlib import Path

    from django.conf import settings

    cutoff = time.time() - settings.CELERY_TASK_TIME_LIMIT
    for folder in Path(tempfile.gettempdir()).glob("ser-analysis-*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                log.info("removed a stale analysis spool %s", folder.name)
        except OSError:
            continue
