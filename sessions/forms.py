from __future__ import annotations

from django import forms
from django.utils import timezone

from .models import Recording


class SessionForm(forms.Form):
    started_at = forms.DateTimeField(
        label="Session date and time",
        initial=lambda: timezone.localtime().replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class RecordingUploadForm(forms.Form):
    file = forms.FileField(
        label="Recording",
        help_text="WAV, FLAC, MP3, M4A, OGG/Opus or WebM of the session.",
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}),
    )
    channel = forms.ChoiceField(
        choices=Recording.Channel.choices,
        initial=Recording.Channel.MIX,
        help_text="If patient and clinician are on separate channels, analyse only the patient's.",
    )
    granularity = forms.ChoiceField(
        choices=Recording.Granularity.choices,
        initial=Recording.Granularity.UTTERANCE,
        required=False,
        help_text="Frame granularity adds a 20 ms emotion timeline (larger files).",
    )
    consent_confirmed = forms.BooleanField(
        label="The patient consented to this recording being stored and analysed.",
        required=True,
    )
