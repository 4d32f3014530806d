"""Thin Celery tasks: take ids, call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from django.db import InterfaceError, OperationalError

from . import runtime, services

log = logging.getLogger(__name__)


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
        services.job_fail(
            recording_id=recording_id,
            reason="The analysis took longer than the time limit and was stopped; nothing was saved.",
        )
    except Exception as exc:
        if self.request.retries >= self.max_retries or not isinstance(exc, self.autoretry_for):
            services.job_fail(
                recording_id=recording_id,
                reason="The analysis failed unexpectedly; the team has been notified. "
                f"({type(exc).__name__})",
            )
        raise


@shared_task(ignore_result=True)
def requeue_stale_recordings() -> int:
    """Periodic (Celery beat): re-send recordings stuck in PENDING."""
    from django.conf import settings

    return services.requeue_stale(older_than_s=settings.SER_REQUEUE_AFTER_S)


@worker_process_init.connect
def _load_model_in_worker_process(**_: object) -> None:
    # Load once per worker process, before the first task; a missing model is reported now and
    # again (as the recording's failure reason) when a task needs it.
    try:
        runtime.get_model()
    except services.ModelUnavailableError as exc:
        log.error("%s", exc)
