"""Session and upload forms. They parse input only; the rules (a session before the patient's
birth, a duplicate session number) are `sessions.services`', shown on the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.forms import ServiceForm
from patients.models import Patient

from . import services
from .models import Recording, TherapySession


class SessionForm(ServiceForm):
    """Date-times are entered and shown in the active time zone (the user's, else the clinic's),
    named beside the field; Django converts them to UTC for storage."""

    started_at = forms.DateTimeField(
        label=_("Session date and time"),
        initial=lambda: timezone.localtime().replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["started_at"].help_text = gettext("In %(zone)s time.") % {
            "zone": timezone.get_current_timezone_name()
        }

    def create(self, *, patient: Patient) -> TherapySession | None:
        return self.call(services.session_create, patient=patient, **self.cleaned_data)


class SessionEditForm(SessionForm):
    number = forms.IntegerField(label=_("Session number"), min_value=1)

    field_order = ["started_at", "number", "notes"]

    @classmethod
    def for_session(cls, session: TherapySession, data: Any = None) -> SessionEditForm:
        # To the minute, as the field shows it: seconds are not "changed" by saving the notes.
        started = session.started_at.replace(second=0, microsecond=0)
        initial = {"started_at": started, "number": session.number, "notes": session.notes}
        return cls(data, initial=initial)

    def update(self, *, session: TherapySession) -> TherapySession | None:
        return self.call_changed(services.session_update, session, session=session)


class RecordingUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Recording"),
        help_text=_("WAV, FLAC, MP3, M4A, OGG/Opus or WebM of the session."),
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=Recording.Channel.choices,
        initial=Recording.Channel.MIX,
        help_text=_(
            "If patient and clinician are on separate channels, analyse only the patient's; "
            "on one channel, “patient only (voice)” finds the patient's speech by voice."
        ),
    )
    granularity = forms.ChoiceField(
        label=_("Granularity"),
        choices=Recording.Granularity.choices,
        initial=Recording.Granularity.UTTERANCE,
        required=False,
        help_text=_("Frame granularity adds a 20 ms emotion timeline (larger files)."),
    )
    consent_confirmed = forms.BooleanField(
        label=_("The patient consented to this recording being stored and analysed."),
        required=True,
    )
