from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import time_zone_names


class TimeZoneForm(forms.Form):
    # A choice, not free text: the service validates the name too, this spares the typing.
    time_zone = forms.ChoiceField(label=_("Your time zone"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clinic = gettext("The clinic's time zone (%(zone)s)") % {"zone": settings.TIME_ZONE}
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", clinic), *((name, name) for name in sorted(time_zone_names()))]
