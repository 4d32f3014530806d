"""The dashboard's forms: its date range (one range that every plot, table, flag and export on the
page follows), the baseline choice and the report export."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.models import Patient
from sessions.models import TherapySession


def _session_label(s: TherapySession) -> str:
    return gettext("Session %(number)s · %(date)s") % {
        "number": s.number,
        "date": date_format(timezone.localtime(s.started_at), "SHORT_DATE_FORMAT"),
    }


class BaselineForm(forms.Form):
    """Which sessions make the patient's baseline. The page shows only the controls of the chosen
    mode (reports/static/reports/dashboard.js): N for "first N", a single choice for "one
    session", tick boxes for "a set". The session lists come from one list of the patient's
    sessions (one query, shared with the page); the service still checks the rules (exactly one,
    at least one, the patient's own)."""

    baseline_mode = forms.ChoiceField(choices=Patient.Baseline.choices, label=_("Baseline"))
    baseline_n = forms.IntegerField(min_value=1, max_value=50, initial=3, label=_("N"), required=False)
    baseline_session = forms.ChoiceField(required=False, label=_("Session"), widget=forms.RadioSelect)
    baseline_sessions = forms.MultipleChoiceField(
        required=False, label=_("Sessions"), widget=forms.CheckboxSelectMultiple
    )
    # The dashboard's query string (date range, classes, chosen session) to come back to.
    back = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, sessions: list[TherapySession], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = {str(s.pk): s for s in sessions}
        choices = [(pk, _session_label(s)) for pk, s in self.sessions.items()]
        for name in ("baseline_session", "baseline_sessions"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices

    def chosen_sessions(self) -> list[TherapySession]:
        """The sessions of the chosen mode: the single choice for one session, the ticks for a set."""
        data = self.cleaned_data
        picked = list(data.get("baseline_sessions") or [])
        if data["baseline_mode"] == Patient.Baseline.SESSION and data.get("baseline_session"):
            picked = [data["baseline_session"]]
        return [self.sessions[pk] for pk in picked]


class DateRangeForm(forms.Form):
    """A date range; both ends optional (empty: all sessions), the end not before the start."""

    date_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The end of the range is before its start."))
        return data

    def span(self) -> tuple[date | None, date | None]:
        """(from, to) of a valid form; (None, None), i.e. all sessions, otherwise."""
        if not self.is_valid():
            return None, None
        return self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")


class ExportForm(DateRangeForm):
    """The dashboard's report choice: a date range (empty: all sessions) and the paper size."""

    page_size = forms.ChoiceField(
        choices=[("a4", _("A4")), ("letter", _("US Letter"))], initial="a4", required=False, label=_("Paper")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["page_size"] = data.get("page_size") or "a4"
        return data
