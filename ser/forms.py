"""Forms of the analysis app's own pages. They parse input only; the rules are the services'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .voiceprofiles import CONSENT_MESSAGE


class VoiceProfileForm(forms.Form):
    """A sample of the therapist's own voice: uploaded, or recorded in the browser (the recorder
    puts its recording into the same file field)."""

    file = forms.FileField(
        label=_("Sample of your voice"),
        help_text=_(
            "20-60 s of you speaking naturally, alone. WAV, FLAC, MP3, M4A, OGG/Opus or WebM; "
            "at most 5 minutes."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*,.webm,.m4a"}),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that a voice profile is made from my own voice and stored with my account, to "
            "tell my speech apart from my patients' in “patient only (voice)” analyses. "
            "I can delete it at any time."
        ),
        error_messages={"required": CONSENT_MESSAGE},
    )
    keep_sample = forms.BooleanField(
        label=_("Keep my sample"),
        required=False,
        help_text=_(
            "Off: only the voice print is stored and the recording is discarded. On: the recording is "
            "also kept, privately, until you replace or delete the profile."
        ),
    )
