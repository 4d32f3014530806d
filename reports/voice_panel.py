"""The dashboard's voice panel in words: one row per voice measure with the latest session's value,
the patient's usual range (from the baseline sessions) and where the value lies, for review beside
the emotion trend. The numbers come from `trends`, the same ones the plot and the API show."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ser.engine.voice import MEASURES

from .plots import LOUDNESS_NOTE as INTENSITY_NOTE
from .trends import Trend

EMPTY: Promise = _(
    "No voice measures yet for these sessions: they are computed with each new analysis; an "
    "administrator can run manage.py voice_recompute for older ones."
)
NO_BAND: Promise = _("needs two baseline sessions")
SIDES = ("above", "below")  # where a value outside its usual range lies (the API's enum)
STATES: dict[str, Promise] = {
    "within": pgettext_lazy("voice measure", "within usual range"),
    "above": pgettext_lazy("voice measure", "above usual range"),
    "below": pgettext_lazy("voice measure", "below usual range"),
}
BASELINE_STATE: Promise = pgettext_lazy("voice measure", "baseline session")


@dataclass(frozen=True)
class VoiceRow:
    key: str
    label: str
    unit: str
    help: str  # what the measure is, and for loudness that its dB are not calibrated
    value: str  # the latest session's value with its unit, or "—"
    band: str  # the usual range with its unit, or why there is none
    state: str  # "within usual range", "above usual range", "below usual range", or ""
    side: str  # "within", "above", "below", or "" (for a style)


def _number(v: float, decimals: int, unit: str) -> str:
    return f"{v:.{decimals}f} {unit}"


def voice_table(trend: Trend) -> list[VoiceRow]:
    """Every measure for the latest session in `trend` (a baseline session is within its own range
    by definition and is said to be part of the baseline); empty when no session has voice values."""
    if trend.count == 0 or not trend.has_voice:
        return []
    last = trend.count - 1
    is_baseline = bool(trend.baseline[last])
    beyond = trend.voice_beyond(last)
    out = []
    for j, m in enumerate(MEASURES):
        v = float(trend.voice[last, j])  # columns in MEASURES order
        band = trend.voice_bands.get(m.key)
        side = ""
        if band is not None and np.isfinite(v):
            side = beyond.get(m.key, "within")
        state = str(STATES.get(side, ""))
        if side and is_baseline:
            side, state = "", str(BASELINE_STATE)
        what = gettext(m.help)  # the engine's words, translated where the catalogue has them
        help_text = gettext("%(what)s.") % {"what": what[0].upper() + what[1:]}
        if m.group == "loudness" and m.unit == "dB":
            help_text += " " + str(INTENSITY_NOTE)
        out.append(
            VoiceRow(
                key=m.key,
                label=gettext(m.label),
                unit=m.unit,
                help=help_text,
                value=_number(v, m.decimals, m.unit) if np.isfinite(v) else "—",
                band=(
                    f"{band.low:.{m.decimals}f}–{band.high:.{m.decimals}f} {m.unit}"
                    if band is not None
                    else str(NO_BAND)
                ),
                state=state,
                side=side,
            )
        )
    return out
