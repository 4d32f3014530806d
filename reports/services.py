"""Writes of the reporting layer: a trend report leaving the system (downloaded as PDF, CSV or a
FHIR Bundle, or queued to be pushed to the clinic's FHIR server). Every export is a ReportExport row
(the history) and an audit event (PHI leaving the system)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit import services as audit
from audit.models import AuditEvent
from patients.models import Patient
from ser.engine.messages import gettext_noop, render, said

from .models import ReportExport
from .report import TrendReport, trend_report

log = logging.getLogger(__name__)

PUSH_TASK = "reports.tasks.export_push"
CONTENT_TYPES: dict[str, str] = {
    ReportExport.Format.PDF: "application/pdf",
    ReportExport.Format.CSV: "text/csv; charset=utf-8",
    ReportExport.Format.FHIR: "application/fhir+json",
}
EXTENSIONS: dict[str, str] = {
    ReportExport.Format.PDF: "pdf",
    ReportExport.Format.CSV: "csv",
    ReportExport.Format.FHIR: "json",
}


QUEUE_DOWN = gettext_noop("The report could not be queued (the task queue is unreachable). Try again later.")


@dataclass(frozen=True)
class ExportFile:
    export: ReportExport
    content: bytes
    content_type: str
    filename: str


def _check_range(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise ValidationError({"date_to": gettext("The end of the range is before its start.")})


def report_render(*, report: TrendReport, fmt: str, page_size: str = ReportExport.PageSize.A4) -> bytes:
    """The report in one format (no database writes)."""
    if fmt == ReportExport.Format.CSV:
        from .exports.table import report_csv

        return report_csv(report)
    from .exports.pdf import report_pdf

    pdf = report_pdf(report, page_size=page_size)
    if fmt == ReportExport.Format.PDF:
        return pdf
    from .exports.fhir import bundle_json, report_bundle

    return bundle_json(report_bundle(report, pdf=pdf))


@transaction.atomic
def report_export(
    *,
    patient: Patient,
    user: Any,
    fmt: str,
    date_from: date | None = None,
    date_to: date | None = None,
    page_size: str = ReportExport.PageSize.A4,
    variant: str | None = None,
) -> ExportFile:
    """Render a report for download and record that it left: who, which patient, range, format."""
    if fmt not in ReportExport.Format.values:
        raise ValidationError({"format": gettext("Choose pdf, csv or fhir.")})
    if page_size not in ReportExport.PageSize.values:
        raise ValidationError({"page_size": gettext("Choose a4 or letter.")})
    _check_range(date_from, date_to)
    report = trend_report(patient=patient, date_from=date_from, date_to=date_to, variant=variant)
    content = report_render(report=report, fmt=fmt, page_size=page_size)
    export = ReportExport.objects.create(
        patient=patient,
        requested_by=user,
        format=fmt,
        page_size=page_size if fmt != ReportExport.Format.CSV else "",
        destination=ReportExport.Destination.DOWNLOAD,
        date_from=date_from,
        date_to=date_to,
        session_count=len(report.rows),
        model_variant=report.variant or "",
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        status=ReportExport.Status.DONE,
        finished_at=timezone.now(),
    )
    with translation.override("en"):  # the audit trail is in English, whoever reads the page
        span = report.range_words
    audit.record(
        AuditEvent.Action.EXPORT,
        export,
        user=user,
        detail=f"{fmt} download, {span}, {len(report.rows)} session(s)",
    )
    return ExportFile(export, content, CONTENT_TYPES[fmt], report.filename(EXTENSIONS[fmt]))


def attachment(out: ExportFile) -> HttpResponse:
    """The exported file as a download (never cached: it carries PHI)."""
    response = HttpResponse(out.content, content_type=out.content_type)
    response["Content-Disposition"] = f'attachment; filename="{out.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def push_configured() -> bool:
    return bool(settings.FHIR_BASE_URL)


@transaction.atomic
def report_push(
    *,
    patient: Patient,
    user: Any,
    date_from: date | None = None,
    date_to: date | None = None,
    page_size: str = ReportExport.PageSize.A4,
) -> ReportExport:
    """Queue the report (a FHIR transaction Bundle with the PDF) for the clinic's FHIR server. The
    task is sent after commit; a broker that is down leaves the export queued, and it says so."""
    if not push_configured():
        raise ValidationError(
            {"destination": gettext("No FHIR server is configured for this clinic (FHIR_BASE_URL).")}
        )
    if page_size not in ReportExport.PageSize.values:
        raise ValidationError({"page_size": gettext("Choose a4 or letter.")})
    _check_range(date_from, date_to)
    export = ReportExport.objects.create(
        patient=patient,
        requested_by=user,
        format=ReportExport.Format.FHIR,
        page_size=page_size,
        destination=ReportExport.Destination.PUSH,
        date_from=date_from,
        date_to=date_to,
        status=ReportExport.Status.QUEUED,
    )
    audit.record(AuditEvent.Action.EXPORT, export, user=user, detail="fhir push queued")
    transaction.on_commit(lambda: _send(str(export.pk)))
    return export


def _send(export_id: str) -> None:
    try:
        current_app.send_task(PUSH_TASK, args=(export_id,))
    except Exception as exc:
        log.error("could not queue report push %s (%s)", export_id, type(exc).__name__)
        reason = said(QUEUE_DOWN)
        ReportExport.objects.filter(pk=export_id, status=ReportExport.Status.QUEUED).update(
            status=ReportExport.Status.FAILED,
            error=render(reason),
            error_message=reason,
            finished_at=timezone.now(),
        )
