"""The patient dashboard (trajectory, drift from baseline, flags, session map, the numbers table),
the baseline choice, and the SVG plots of the dashboard and the session page. Thin: trends come from
`trends`, drawings from `charts`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import owned
from patients import services as patient_services
from patients.models import Patient
from ser.engine.labels import EMOTIONS
from ser.models import EmotionAnalysis

from . import charts, plots, services
from .forms import BaselineForm, ExportForm
from .models import ReportExport
from .trends import patient_trend, similar_sessions


def _classes(request: HttpRequest) -> list[str]:
    chosen = [c for c in request.GET.getlist("c") if c in EMOTIONS]
    return chosen or list(EMOTIONS)


def _svg(svg: bytes) -> HttpResponse:
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"  # plots show PHI; Redis caches them server-side
    return response


@login_required
@require_GET
def patient_dashboard(request: HttpRequest, pk: str) -> HttpResponse:
    patient = owned(Patient.objects, pk, detail="dashboard")
    trend = patient_trend(patient=patient, variant=request.GET.get("variant"))
    classes = _classes(request)
    selected = request.GET.get("session")
    similar = []
    if selected in trend.session_ids:
        i = trend.session_ids.index(selected)
        similar = [(trend.numbers[j], trend.session_ids[j], d) for j, d in similar_sessions(trend, i)]
    form = BaselineForm(
        patient=patient,
        initial={
            "baseline_mode": patient.baseline_mode,
            "baseline_n": patient.baseline_n,
            "baseline_sessions": list(patient.baseline_sessions.all()),
        },
    )
    export_form = ExportForm(request.GET if "date_from" in request.GET else None)
    stamp = charts.patient_stamp(patient, trend.variant) if trend.variant else ""
    query = "&".join([f"variant={trend.variant}", f"v={stamp}", *[f"c={c}" for c in classes]])
    return render(
        request,
        "reports/dashboard.html",
        {
            "patient": patient,
            "sessions": patient.sessions.order_by("number"),
            "trend": trend,
            "rows": trend.rows(),
            "classes": classes,
            "emotions": EMOTIONS,
            "palette": plots.PALETTE,
            "form": form,
            "plot_query": query,
            "similar": similar,
            "selected": selected,
            "selected_query": f"&session={selected}" if selected else "",
            "export_form": export_form if export_form.is_bound else ExportForm(),
            "exports": patient.exports.select_related("requested_by")[:10],
            "push_configured": services.push_configured(),
        },
    )


@login_required
@require_GET
def patient_export(request: HttpRequest, pk: str, fmt: str) -> HttpResponse:
    """Download the trend report (PDF, CSV or FHIR Bundle) for the chosen range."""
    patient = owned(Patient.objects, pk, detail=f"export {fmt}")
    if fmt not in ReportExport.Format.values:
        raise Http404("No such report format.")
    form = ExportForm(request.GET)
    if not form.is_valid():
        messages.error(request, "The report was not made: " + " ".join(_errors(form)))
        return redirect("reports:dashboard", pk=patient.pk)
    out = services.report_export(
        patient=patient,
        user=request.user,
        fmt=fmt,
        date_from=form.cleaned_data["date_from"],
        date_to=form.cleaned_data["date_to"],
        page_size=form.cleaned_data["page_size"],
        variant=request.GET.get("variant") or None,
    )
    return services.attachment(out)


@login_required
@require_POST
def patient_export_push(request: HttpRequest, pk: str) -> HttpResponse:
    """Queue the report for the clinic's FHIR server; the history shows how it went."""
    patient = owned(Patient.objects, pk, detail="export push")
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The report was not sent: " + " ".join(_errors(form)))
        return redirect("reports:dashboard", pk=patient.pk)
    try:
        services.report_push(
            patient=patient,
            user=request.user,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            page_size=form.cleaned_data["page_size"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, "The report is queued for the clinic's record system. See the history below."
        )
    return redirect(f"{reverse('reports:dashboard', args=[patient.pk])}#exports")


def _errors(form: ExportForm) -> list[str]:
    return [str(e) for errs in form.errors.values() for e in errs]


@login_required
@require_GET
def patient_plot(request: HttpRequest, pk: str, kind: str) -> HttpResponse:
    patient = owned(Patient.objects, pk, detail=f"{kind} plot")
    if kind not in charts.PATIENT_PLOTS:
        raise Http404("No such plot.")
    svg = charts.patient_plot_svg(
        patient,
        kind,
        variant=request.GET.get("variant"),
        classes=_classes(request),
        selected=request.GET.get("session", ""),
    )
    return _svg(svg)


@login_required
@require_GET
def analysis_plot(request: HttpRequest, pk: str, kind: str) -> HttpResponse:
    analysis = owned(EmotionAnalysis.objects.select_related("recording__session"), pk, detail=f"{kind} plot")
    if kind not in charts.ANALYSIS_PLOTS:
        raise Http404("No such plot.")
    return _svg(charts.analysis_plot_svg(analysis, kind))


@login_required
@require_POST
def patient_baseline(request: HttpRequest, pk: str) -> HttpResponse:
    patient = owned(Patient.objects, pk, action=AuditEvent.Action.UPDATE, detail="baseline")
    form = BaselineForm(request.POST, patient=patient)
    if form.is_valid():
        try:
            patient_services.baseline_set(
                patient=patient,
                mode=form.cleaned_data["baseline_mode"],
                n=form.cleaned_data["baseline_n"] or 3,
                sessions=list(form.cleaned_data["baseline_sessions"]),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(
            request,
            "The baseline was not changed: "
            + " ".join(str(e) for errs in form.errors.values() for e in errs),
        )
    return redirect("reports:dashboard", pk=patient.pk)
