"""Thin Celery tasks of the reporting layer: take ids, call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from ser.engine.messages import gettext_noop, said

from . import push

log = logging.getLogger(__name__)

RETRY_MAX_S = 30 * 60


@shared_task(bind=True, ignore_result=True)
def export_push(self, export_id: str) -> None:  # type: ignore[no-untyped-def]
    """Send a queued report to the clinic's FHIR server. Transient failures are retried with a
    doubling delay until the export has been tried FHIR_PUSH_MAX_ATTEMPTS times (counted on the row,
    so a redelivered message counts too); then, or on any other error, the export fails with words."""
    max_attempts = max(1, settings.FHIR_PUSH_MAX_ATTEMPTS)
    try:
        push.export_send(export_id=export_id)
    except push.TransientPushError as exc:
        if exc.attempts >= max_attempts:
            push.export_fail(
                export_id=export_id,
                reason=said(
                    gettext_noop("%(reason)s Gave up after %(attempts)s attempts; nothing was sent."),
                    reason=exc.reason,
                    attempts=exc.attempts,
                ),
            )
            return
        base = float(getattr(settings, "FHIR_PUSH_RETRY_S", 30))
        countdown = min(base * 2 ** (exc.attempts - 1), RETRY_MAX_S)
        raise self.retry(exc=exc, countdown=countdown, max_retries=max_attempts) from None
    except Exception as exc:
        push.export_fail(
            export_id=export_id,
            reason=said(
                gettext_noop("Sending failed unexpectedly; the team has been notified. (%(error)s)"),
                error=type(exc).__name__,
            ),
        )
        raise


@shared_task(ignore_result=True)
def plots_prerender(patient_id: str) -> None:
    """Draw a patient's dashboard plots into the cache after an analysis (see `charts`)."""
    from .charts import plots_prerender as prerender

    drawn = prerender(patient_id=patient_id)
    log.info("pre-rendered %d plot(s) for patient %s", drawn, patient_id)
