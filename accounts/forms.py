from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from .models import time_zone_names


class TimeZoneForm(forms.Form):
    # A choice, not free text: the service validates the name too, this spares the typing.
    time_zone = forms.ChoiceField(label="Your time zone", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clinic = f"The clinic's time zone ({settings.TIME_ZONE})"
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", clinic), *((name, name) for name in sorted(time_zone_names()))]
