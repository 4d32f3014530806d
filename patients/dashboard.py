"""The patient dashboard: trajectory, drift from baseline, flags, session map, the numbers table;
SVG plots rendered server-side and cached in Redis under a key that changes with the data."""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ser.engine import plots
from ser.engine.labels import EMOTIONS
from ser.models import EmotionAnalysis
from sessions.models import TherapySession

from . import services
from .models import Patient
from .trends import patient_trend, session_map, similar_sessions

PLOTS = ("trajectory", "drift", "map")


class BaselineForm(forms.Form):
    baseline_mode = forms.ChoiceField(choices=Patient.Baseline.choices, label="Baseline")
    baseline_n = forms.IntegerField(min_value=1, max_value=50, initial=3, label="N", required=False)
    baseline_sessions = forms.ModelMultipleChoiceField(
        queryset=TherapySession.objects.none(),
        required=False,
        label="Sessions",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: object, patient: Patient, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["baseline_sessions"].queryset = patient.sessions.order_by("number")  # type: ignore[attr-defined]
        self.fields["baseline_sessions"].label_from_instance = lambda s: f"{s.number}"  # type: ignore[attr-defined]


def _classes(request: HttpRequest) -> list[str]:
    chosen = [c for c in request.GET.getlist("c") if c in EMOTIONS]
    return chosen or list(EMOTIONS)


def _stamp(patient: Patient, variant: str | None) -> str:
    """Changes whenever anything a plot depends on changes."""
    agg = EmotionAnalysis.objects.filter(
        recording__session__patient=patient, model_variant=variant
    ).aggregate(n=Count("id"), last=Max("created_at"))
    raw = f"{patient.pk}|{variant}|{agg['n']}|{agg['last']}|{patient.updated_at.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


@login_required
@require_GET
def patient_dashboard(request: HttpRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient.objects.for_user(request.user), pk=pk)
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
    stamp = _stamp(patient, trend.variant) if trend.variant else ""
    query = "&".join([f"variant={trend.variant}", f"v={stamp}", *[f"c={c}" for c in classes]])
    return render(
        request,
        "patients/dashboard.html",
        {
            "patient": patient,
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
        },
    )


@login_required
@require_GET
def patient_plot(request: HttpRequest, pk: str, kind: str) -> HttpResponse:
    patient = get_object_or_404(Patient.objects.for_user(request.user), pk=pk)
    if kind not in PLOTS:
        return HttpResponse(status=404)
    classes = _classes(request)
    variant = request.GET.get("variant")
    selected = request.GET.get("session", "")
    key = f"plot:{kind}:{_stamp(patient, variant)}:{','.join(classes)}:{selected}"
    svg = cache.get(key)
    if svg is None:
        svg = _render(patient, kind, variant, classes, selected)
        cache.set(key, svg)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _render(patient: Patient, kind: str, variant: str | None, classes: list[str], selected: str) -> bytes:
    trend = patient_trend(patient=patient, variant=variant)
    if trend.count == 0:
        return plots.empty_svg("No analysed sessions yet.")
    note = ("TEST CHECKPOINT — meaningless scores. " if trend.is_test_model else "") + plots.FOOTNOTE
    if kind == "trajectory":
        return plots.trajectory_svg(
            trend.dates, trend.scores, classes=classes, dominant=trend.dominant, note=note
        )
    if kind == "drift":
        return plots.drift_svg(
            trend.dates,
            trend.euclidean,
            trend.cosine,
            band=trend.band,
            baseline=list(trend.baseline),
            note=note,
        )
    coords = session_map(trend)
    if coords is None:
        return plots.empty_svg("The session map needs at least three analysed sessions.", width=6.0)
    highlight = trend.session_ids.index(selected) if selected in trend.session_ids else None
    return plots.session_map_svg(
        coords, trend.dates, [str(n) for n in trend.numbers], highlight=highlight, note=note
    )


@login_required
@require_POST
def patient_baseline(request: HttpRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient.objects.for_user(request.user), pk=pk)
    form = BaselineForm(request.POST, patient=patient)
    if form.is_valid():
        try:
            services.baseline_set(
                patient=patient,
                mode=form.cleaned_data["baseline_mode"],
                n=form.cleaned_data["baseline_n"] or 3,
                sessions=list(form.cleaned_data["baseline_sessions"]),
            )
        except ValidationError as exc:
            from django.contrib import messages

            messages.error(request, " ".join(exc.messages))
    else:
        from django.contrib import messages

        messages.error(
            request,
            "The baseline was not changed: "
            + " ".join(str(e) for errs in form.errors.values() for e in errs),
        )
    return redirect("patients:detail", pk=patient.pk)
