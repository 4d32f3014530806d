"""The patient dashboard (trajectory, drift from baseline, flags, session map, the numbers table),
all following one date range; the baseline choice; the help page; and the SVG plots of the
dashboard and the session page. Thin: trends come from
`trends`, drawings from `charts`."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import owned
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.models import Patient
from ser.engine.labels import EMOTIONS
from ser.models import EmotionAnalysis

from . import charts, plots, restrictions, services, voice_panel
from . import help as help_texts
from .forms import BaselineForm, DateRangeForm, ExportForm
from .models import ReportExport
from .report import range_words
from .trends import Trend, patient_trend, similar_sessions

# The dashboard's own query parameters: what it carries into plot URLs and back after a POST.
DASHBOARD_KEYS = ("variant", "date_from", "date_to", "c", "session")


def _classes(request: HttpRequest) -> list[str]:
    chosen = [c for c in request.GET.getlist("c") if c in EMOTIONS]
    return chosen or list(EMOTIONS)


def _svg(svg: bytes) -> HttpResponse:
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"  # plots show PHI; Redis caches them server-side
    return response


def _dashboard_query(raw: QueryDict) -> str:
    """Only the dashboard's own parameters, re-encoded: safe to put after the dashboard's path."""
    keep = QueryDict(mutable=True)
    for key in DASHBOARD_KEYS:
        values = [v for v in raw.getlist(key) if v]
        if values:
            keep.setlist(key, values)
    return keep.urlencode()


def _range(request: HttpRequest) -> tuple[DateRangeForm, date | None, date | None]:
    """The dashboard's one date range (query `date_from`, `date_to`); invalid means all sessions."""
    bound = any(request.GET.get(k) for k in ("date_from", "date_to"))
    form = DateRangeForm(request.GET if bound else None)
    date_from, date_to = form.span()
    return form, date_from, date_to


def _similar(trend: Trend, selected: str | None) -> list[dict[str, object]]:
    if selected not in trend.session_ids:
        return []
    i = trend.session_ids.index(selected)
    return [
        {
            "number": trend.numbers[j],
            "session_id": trend.session_ids[j],
            "date": trend.dates[j],
            "distance": d,
        }
        for j, d in similar_sessions(trend, i)
    ]


@login_required
@require_GET
def patient_dashboard(request: HttpRequest, pk: str) -> HttpResponse:
    patient = owned(Patient.objects, pk, detail="dashboard")
    range_form, date_from, date_to = _range(request)
    if range_form.is_bound and not range_form.is_valid():
        messages.error(
            request,
            gettext("The date range was not applied (showing all sessions): %(errors)s")
            % {"errors": " ".join(_errors(range_form))},
        )
    full = patient_trend(patient=patient, variant=request.GET.get("variant"))
    trend = full.within(date_from, date_to)
    classes = _classes(request)
    selected = request.GET.get("session")
    sessions = list(patient.sessions.order_by("number"))
    chosen = [str(pk) for pk in patient.baseline_sessions.values_list("pk", flat=True)]
    form = BaselineForm(
        sessions=sessions,
        initial={
            "baseline_mode": patient.baseline_mode,
            "baseline_n": patient.baseline_n,
            "baseline_session": chosen[0] if len(chosen) == 1 else None,
            "baseline_sessions": chosen,
            "back": _dashboard_query(request.GET),
        },
    )
    stamp = charts.patient_stamp(patient, full.variant) if full.variant else ""
    plot_query = QueryDict(mutable=True)
    plot_query.update({"variant": full.variant or "", "v": stamp})
    if date_from or date_to:
        plot_query.update({"date_from": str(date_from or ""), "date_to": str(date_to or "")})
    voice_query = plot_query.urlencode()  # no classes: the voice plot shows none, one drawing serves all
    plot_query.setlist("c", classes)
    return render(
        request,
        "reports/dashboard.html",
        {
            "patient": patient,
            "sessions": sessions,
            "failed_sessions": {
                f.session_id
                for f in patient_selectors.sessions_with_failed_recordings(patient_ids=[patient.pk]).get(
                    patient.pk, []
                )
            },
            "full": full,
            "trend": trend,
            "rows": trend.rows(),
            "classes": classes,
            "emotions": EMOTIONS,
            "palette": plots.PALETTE,
            "form": form,
            "range_form": range_form,
            "baseline_chosen": set(chosen),
            "baseline_one": chosen[0] if len(chosen) == 1 else "",
            "range_words": range_words(date_from, date_to),
            "date_from": date_from,
            "date_to": date_to,
            "plot_query": plot_query.urlencode(),
            "voice_query": voice_query,
            "voice_rows": voice_panel.voice_table(trend),
            "voice": voice_panel,
            "voice_sd": settings.VOICE_BAND_SD,
            "restriction_words": restrictions.WORDS,
            "similar": _similar(trend, selected),
            "selected": selected,
            "selected_query": f"&session={selected}" if selected in trend.session_ids else "",
            "export_form": ExportForm(initial={"date_from": date_from, "date_to": date_to}),
            "exports": patient.exports.select_related("requested_by")[:10],
            "push_configured": services.push_configured(),
            "help": help_texts,
        },
    )


@login_required
@require_GET
def patient_similar(request: HttpRequest, pk: str) -> HttpResponse:
    """The similar-sessions list alone (the dashboard swaps it in without a reload)."""
    patient = owned(Patient.objects, pk, detail="similar sessions")
    _, date_from, date_to = _range(request)
    trend = patient_trend(patient=patient, variant=request.GET.get("variant")).within(date_from, date_to)
    selected = request.GET.get("session")
    return render(
        request,
        "reports/_similar.html",
        {"similar": _similar(trend, selected), "selected": selected, "help": help_texts},
    )


@login_required
@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    """What every word and number on the dashboard means, in plain language."""
    return render(
        request,
        "help.html",
        {
            "help": help_texts,
            "flag_k": settings.FLAG_TREND_SESSIONS,
            "flag_rise": settings.FLAG_TREND_MIN_RISE * 100,
            "flag_min_speech": settings.FLAG_MIN_SPEECH_S,
            "voice_k": settings.VOICE_FLAG_SESSIONS,
            "voice_sd": settings.VOICE_BAND_SD,
            "voice_min_rel": settings.VOICE_BAND_MIN_REL * 100,
            "voice_empty": voice_panel.EMPTY,
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
        messages.error(
            request, gettext("The report was not made: %(errors)s") % {"errors": " ".join(_errors(form))}
        )
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
        messages.error(
            request, gettext("The report was not sent: %(errors)s") % {"errors": " ".join(_errors(form))}
        )
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
            request, gettext("The report is queued for the clinic's record system. See the history below.")
        )
    return redirect(f"{reverse('reports:dashboard', args=[patient.pk])}#exports")


def _errors(form: DateRangeForm) -> list[str]:
    return [str(e) for errs in form.errors.values() for e in errs]


@login_required
@require_GET
def patient_plot(request: HttpRequest, pk: str, kind: str) -> HttpResponse:
    patient = owned(Patient.objects, pk, detail=f"{kind} plot")
    if kind not in charts.PATIENT_PLOTS:
        raise Http404("No such plot.")
    _, date_from, date_to = _range(request)
    svg = charts.patient_plot_svg(
        patient,
        kind,
        variant=request.GET.get("variant"),
        classes=_classes(request),
        selected=request.GET.get("session", ""),
        width=plots.NARROW if request.GET.get("w") == plots.NARROW else plots.WIDE,
        date_from=date_from,
        date_to=date_to,
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
    form = BaselineForm(request.POST, sessions=list(patient.sessions.order_by("number")))
    if form.is_valid():
        try:
            patient_services.baseline_set(
                patient=patient,
                mode=form.cleaned_data["baseline_mode"],
                n=form.cleaned_data["baseline_n"] or 3,
                sessions=form.chosen_sessions(),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(
            request,
            gettext("The baseline was not changed: %(errors)s")
            % {"errors": " ".join(str(e) for errs in form.errors.values() for e in errs)},
        )
    # Back to the dashboard as it was (range, classes, chosen session), never anywhere else.
    back = _dashboard_query(QueryDict(request.POST.get("back", "")))
    return redirect(reverse("reports:dashboard", args=[patient.pk]) + (f"?{back}" if back else "") + "#drift")
