from __future__ import annotations

from django import forms

from .models import Patient


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["display_name", "external_id", "date_of_birth", "notes"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}
