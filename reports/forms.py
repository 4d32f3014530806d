from __future__ import annotations

from typing import Any

from django import forms

from patients.models import Patient
from sessions.models import TherapySession


class BaselineForm(forms.Form):
    baseline_mode = forms.ChoiceField(choices=Patient.Baseline.choices, label="Baseline")
    baseline_n = forms.IntegerField(min_value=1, max_value=50, initial=3, label="N", required=False)
    baseline_sessions = forms.ModelMultipleChoiceField(
        queryset=TherapySession.objects.none(),
        required=False,
        label="Sessions",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["baseline_sessions"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = TherapySession.objects.filter(patient=patient).order_by("number")
        field.label_from_instance = lambda s: f"{s.number}"  # type: ignore[assignment,method-assign]


class ExportForm(forms.Form):
    """The dashboard's report choice: a date range (empty: all sessions) and the paper size."""

    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    page_size = forms.ChoiceField(
        choices=[("a4", "A4"), ("letter", "US Letter")], initial="a4", required=False, label="Paper"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The end of the range is before its start.")
        data["page_size"] = data.get("page_size") or "a4"
        return data
