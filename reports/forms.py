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
