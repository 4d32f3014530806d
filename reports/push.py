"""Sending a queued report to the clinic's FHIR server: the report is rebuilt from the database, its
PDF rendered, and the transaction Bundle POSTed to FHIR_BASE_URL with the bearer token. The outcome
(status, HTTP status, the ids the server assigned, the reason in words) goes on the ReportExport row:
the reason in English (`error`) and as a message to translate (`error_message`, {"msgid", "params"},
shown in the reader's language).
Failures that may pass (no connection, a timeout, 5xx, 408, 429) raise `TransientPushError` for the
task to retry; the others fail the export at once. Logs carry the export id and HTTP status only:
never the patient, the bundle or the token."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from accounts.models import language_of
from audit import services as audit
from audit.models import AuditEvent
from ser.engine.messages import gettext_noop, render, said

from .exports.fhir import bundle_json, report_bundle
from .models import ReportExport
from .report import TrendReport, range_message, trend_report

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({408, 429})
ERROR_CHARS = 600

Message = Mapping[str, Any]  # {"msgid": English template (gettext_noop), "params": {...}}


class TransientPushError(Exception):
    """The server could not take the bundle now; sending again later may work. `str()` is the
    English reason; `reason` the message to store."""

    def __init__(self, reason: Message, *, attempts: int) -> None:
        super().__init__(render(reason))
        self.reason = reason
        self.attempts = attempts


def _render_pdf(report: TrendReport, page_size: str) -> bytes:
    from .exports.pdf import report_pdf

    return report_pdf(report, page_size=page_size)


@transaction.atomic
def _begin(export_id: str) -> ReportExport | None:
    """Mark the export as sending and count the attempt; None when there is nothing to send (a
    redelivered task for an export that already ended)."""
    export = (
        ReportExport.objects.select_for_update()
        .select_related("patient", "requested_by")
        .get(pk=export_id, destination=ReportExport.Destination.PUSH)
    )
    if export.status in (ReportExport.Status.SENT, ReportExport.Status.FAILED):
        log.info("report push %s already %s; not sent again", export_id, export.status)
        return None
    ReportExport.objects.filter(pk=export.pk).update(
        status=ReportExport.Status.SENDING, attempts=F("attempts") + 1
    )
    export.refresh_from_db(fields=["status", "attempts"])
    return export


def _reason(response: requests.Response) -> dict[str, Any]:
    """The server's refusal in words, with its OperationOutcome's diagnostics when it sent one."""
    params = {"status": response.status_code, "reason": response.reason or ""}
    if response.status_code in (401, 403):
        words = said(
            gettext_noop(
                "The FHIR server refused the report (HTTP %(status)s %(reason)s). Check the clinic's "
                "FHIR_TOKEN and its permissions."
            ),
            **params,
        )
    elif response.status_code in (404, 405):
        words = said(
            gettext_noop(
                "The FHIR server refused the report (HTTP %(status)s %(reason)s). Check FHIR_BASE_URL: "
                "it must be the server's base, which takes transaction bundles."
            ),
            **params,
        )
    else:
        words = said(
            gettext_noop("The FHIR server refused the report (HTTP %(status)s %(reason)s)."), **params
        )
    try:
        outcome = OperationOutcome.model_validate_json(response.content)
    except Exception:  # not an OperationOutcome: its body stays out of our records
        return words
    details = "; ".join(
        f"{i.severity} {i.code}: {i.diagnostics or (i.details and i.details.text) or ''}".strip()
        for i in outcome.issue or []
    )
    # The server's own words are kept as they came; the whole stays within ERROR_CHARS in English.
    room = ERROR_CHARS - len(render(words)) - len(" Server says: ")
    if len(details) > room:
        details = details[: max(room - 1, 0)] + "…"
    return said(gettext_noop("%(refusal)s Server says: %(details)s"), refusal=words, details=details)


def _nothing_to_send(export: ReportExport) -> dict[str, Any]:
    return said(
        gettext_noop("There is no analysed session in this range (%(range)s); nothing was sent."),
        range=range_message(export.date_from, export.date_to),
    )


def _locations(response: requests.Response) -> list[str]:
    reply = Bundle.model_validate_json(response.content)
    if reply.type != "transaction-response":
        raise ValueError(f"a {reply.type} bundle, not a transaction-response")
    return [e.response.location for e in reply.entry or [] if e.response and e.response.location]


def _end(export_id: str, **fields: object) -> None:
    ReportExport.objects.filter(pk=export_id).update(**fields)


@transaction.atomic
def export_fail(*, export_id: str, reason: Message, http_status: int | None = None) -> None:
    """End an export as failed, with why in words (also when retries ran out): `reason` is a
    message ({"msgid", "params"}), stored to translate and in English."""
    fields: dict[str, object] = {
        "status": ReportExport.Status.FAILED,
        "error": render(reason),
        "error_message": dict(reason),
        "finished_at": timezone.now(),
    }
    if http_status is not None:
        fields["http_status"] = http_status
    ReportExport.objects.filter(pk=export_id).exclude(status=ReportExport.Status.SENT).update(**fields)
    log.warning("report push %s failed (http %s)", export_id, http_status)


def _transient(export: ReportExport, reason: Message, http_status: int | None = None) -> TransientPushError:
    english = render(reason)
    _end(
        str(export.pk),
        status=ReportExport.Status.QUEUED,
        error=english,
        error_message=dict(reason),
        http_status=http_status,
    )
    log.warning("report push %s attempt %d: %s", export.pk, export.attempts, english)
    return TransientPushError(reason, attempts=export.attempts)


def export_send(*, export_id: str) -> None:
    """Send one queued push export. Raises TransientPushError when trying again later may work; the
    row then says why and is queued again. No database transaction is held over the HTTP call."""
    export = _begin(export_id)
    if export is None:
        return
    if not settings.FHIR_BASE_URL:
        export_fail(
            export_id=export_id,
            reason=said(gettext_noop("No FHIR server is configured for this clinic (FHIR_BASE_URL).")),
        )
        return
    # The report goes into the clinical record in the language of the therapist who sent it (their
    # profile's choice; the clinic's default language without one).
    with translation.override(language_of(export.requested_by) or settings.LANGUAGE_CODE):
        report = trend_report(patient=export.patient, date_from=export.date_from, date_to=export.date_to)
        if not report.rows:
            export_fail(export_id=export_id, reason=_nothing_to_send(export))
            return
        pdf = _render_pdf(report, export.page_size or ReportExport.PageSize.A4)
        body = bundle_json(report_bundle(report, pdf=pdf, bundle_type="transaction"))
    try:
        response = requests.post(
            settings.FHIR_BASE_URL.rstrip("/"),
            data=body,
            headers={
                "Authorization": f"Bearer {settings.FHIR_TOKEN}",
                "Content-Type": "application/fhir+json",
                "Accept": "application/fhir+json",
            },
            timeout=settings.FHIR_TIMEOUT_S,
            # A redirect would drop the token or turn the POST into a GET: the base URL is wrong.
            allow_redirects=False,
        )
    except requests.Timeout:
        raise _transient(
            export,
            said(
                gettext_noop("The FHIR server did not answer within %(seconds)s s."),
                seconds=f"{settings.FHIR_TIMEOUT_S:g}",
            ),
        ) from None
    except requests.RequestException as exc:
        raise _transient(
            export,
            said(gettext_noop("The FHIR server could not be reached (%(error)s)."), error=type(exc).__name__),
        ) from None

    status = response.status_code
    if status >= 500 or status in TRANSIENT_STATUSES:
        answered = (
            said(
                gettext_noop("The FHIR server answered HTTP %(status)s %(reason)s."),
                status=status,
                reason=response.reason,
            )
            if response.reason
            else said(gettext_noop("The FHIR server answered HTTP %(status)s."), status=status)
        )
        raise _transient(export, answered, status)
    if not 200 <= status < 300:
        export_fail(export_id=export_id, reason=_reason(response), http_status=status)
        return

    error: dict[str, Any] = {}
    try:
        server_ids = _locations(response)
    except Exception as exc:  # it took the bundle (2xx); what it created is unknown
        server_ids = []
        error = said(
            gettext_noop("The server accepted the report but its reply could not be read (%(error)s)."),
            error=type(exc).__name__,
        )
    with transaction.atomic():
        _end(
            export_id,
            status=ReportExport.Status.SENT,
            http_status=status,
            server_ids=server_ids,
            error=render(error) if error else "",
            error_message=error,
            finished_at=timezone.now(),
            sha256=hashlib.sha256(body).hexdigest(),
            size_bytes=len(body),
            session_count=len(report.rows),
            model_variant=report.variant or "",
        )
        audit.record(
            AuditEvent.Action.EXPORT,
            export,
            user=export.requested_by,
            detail=f"fhir push sent, {len(report.rows)} session(s)",
        )
    log.info("report push %s sent (http %s, %d resource(s))", export_id, status, len(server_ids))
