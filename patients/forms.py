"""Patient forms. They parse and shape input only; the rules (a duplicate record id, a date of
birth in the future) live in `patients.services`, whose ValidationError words the forms show on
the field they concern."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .models import Patient

T = TypeVar("T")


class ServiceForm(forms.Form):
    """A form whose `call` runs a service and puts the service's ValidationError on the fields it
    names (on the form as a whole for a field the form does not have)."""

    def call(self, service: Callable[..., T], **kwargs: Any) -> T | None:
        try:
            return service(**kwargs)
        except ValidationError as exc:
            self.add_service_error(exc)
            return None

    def call_changed(self, service: Callable[..., T], instance: Any, **kwargs: Any) -> T | Any | None:
        """Edit forms: only the changed fields go to the service (and so into the audit event's
        detail); nothing changed, nothing called. A refused change leaves `instance` as stored."""
        changed = {name: self.cleaned_data[name] for name in self.changed_data}
        if not changed:
            return instance
        updated = self.call(service, **kwargs, **changed)
        if updated is None:
            instance.refresh_from_db()  # the service set the refused values on this instance
        return updated

    def add_service_error(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, errors in exc.error_dict.items():
            self.add_error(field if field in self.fields else None, errors)


def _field(name: str, **kwargs: Any) -> forms.Field:
    """The model field's form field (its label, length and help text), not its validation."""
    model_field = Patient._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    field = model_field.formfield(**kwargs)
    assert field is not None
    return field


class PatientForm(ServiceForm):
    display_name = _field("display_name", label=_("Name"))
    external_id = _field("external_id", label=_("Record id / MRN"))
    date_of_birth = _field(
        "date_of_birth",
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    notes = _field("notes", label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}))
    ehr_patient_id = _field("ehr_patient_id")

    @classmethod
    def for_patient(cls, patient: Patient, data: Any = None) -> PatientForm:
        return cls(data, initial={name: getattr(patient, name) for name in services.UPDATABLE})

    def create(self, *, owner: Any) -> Patient | None:
        return self.call(services.patient_create, owner=owner, **self.cleaned_data)

    def update(self, *, patient: Patient) -> Patient | None:
        return self.call_changed(services.patient_update, patient, patient=patient)


SORTS = [("name", _("Name")), ("record_id", _("Record id")), ("-created", _("Newest first"))]


class PatientListForm(forms.Form):
    """The list's search box, sort and "show archived" toggle (GET); bad values fall back."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORTS, required=False)
    archived = forms.BooleanField(label=_("Show archived"), required=False)

    def query(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_valid() else {}
        sort = data.get("sort") or "name"
        return {
            "search": data.get("q", ""),
            "archived": "all" if data.get("archived") else "false",
            "ordering": sort if sort in selectors.ORDERINGS else "name",
        }
