"""The voice measures of one session as FHIR Observation components: one per measure
(ser.engine.voice.MEASURES), coded `voice-<key>` in the product's CodeSystem, valued in the
measure's UCUM unit, with this patient's baseline range as the referenceRange and H / L outside it.

A session with no voice measures at all (analysed before they existed) gets no voice component:
nothing was attempted there, and fourteen absent components would say nothing their absence does
not. In a session that has them, a measure that could not be computed (too little voiced speech, no
regular glottal periods, clipping) is a component with `dataAbsentReason` and no value, so the
receiver sees it was looked for. FHIR R4 allows both (component.value[x] is 0..1, and invariant
obs-6 only forbids a dataAbsentReason beside a value) and fhir.resources validates both. The
reason is "not-performed" rather than "error": nothing failed, the measurement was withheld."""

from __future__ import annotations

from django.utils.translation import gettext
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.observation import ObservationComponent, ObservationReferenceRange

from ser.engine.voice import MEASURES

from ..report import ReportRow, TrendReport
from .fhir_codes import DATA_ABSENT, concept, interpretation, quantity, voice_code


def has_voice(row: ReportRow) -> bool:
    return any(v is not None for v in row.voice.values())


def _absent(key: str) -> ObservationComponent:
    return ObservationComponent(
        code=concept(voice_code(key)),
        dataAbsentReason=CodeableConcept(
            coding=[Coding(system=DATA_ABSENT, code="not-performed", display="Not Performed")],
            text=gettext("Could not be computed from this session's speech."),
        ),
    )


def voice_components(report: TrendReport, row: ReportRow) -> list[ObservationComponent]:
    if not has_voice(row):
        return []
    out = []
    for m in MEASURES:
        value, band = row.voice.get(m.key), report.voice_bands.get(m.key)
        if value is None:
            out.append(_absent(m.key))
            continue
        side = row.voice_beyond.get(m.key)  # never on a baseline session: the band is made of them
        out.append(
            ObservationComponent(
                code=concept(voice_code(m.key)),
                valueQuantity=quantity(value, m.unit, m.ucum),
                referenceRange=[
                    ObservationReferenceRange(
                        low=quantity(band.low, m.unit, m.ucum),
                        high=quantity(band.high, m.unit, m.ucum),
                        text=gettext("this patient's baseline range"),
                    )
                ]
                if band is not None
                else None,
                interpretation=interpretation("H", "High", gettext("Above this patient's baseline range"))
                if side == "above"
                else interpretation("L", "Low", gettext("Below this patient's baseline range"))
                if side == "below"
                else None,
            )
        )
    return out
