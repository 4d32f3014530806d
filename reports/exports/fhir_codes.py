"""The product's FHIR vocabulary: its CodeSystem (no LOINC or SNOMED CT code exists for
speech-emotion scores, so every code of ours is defined here, at settings.FHIR_CODESYSTEM_URL), the
standard systems the Bundle cites, the namespace of its deterministic ids, and small builders of
coded values in them."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.codesystem import CodeSystem, CodeSystemConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.quantity import Quantity

from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER
from ser.engine.voice import MEASURES

from ..restrictions import RESTRICTIONS, WORDS

# The product's namespace for deterministic resource ids (fixed: changing it changes every id).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:speech-emotion-tracker:fhir")
URI = "urn:ietf:rfc:3986"  # identifier system for identifiers that are URIs (our urn:uuid ids)
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
MEDIA_TYPE = "http://terminology.hl7.org/CodeSystem/media-type"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# A new version whenever a concept is added or changed: a push creates the CodeSystem only if that
# url and version is not on the server yet (1.1.0: the voice-<measure> codes; 1.2.0: whose speech
# a session rests on, speech-restriction and its restriction-<kind> values).
CODESYSTEM_VERSION = "1.2.0"

PANEL = "speech-emotion-panel"
REPORT = "speech-emotion-trend-report"
CATEGORY = "speech-analysis"
EUCLIDEAN = "euclidean-drift"
COSINE = "cosine-drift"
SPEECH = "speech-seconds"
RESTRICTION = "speech-restriction"
MODEL_NOTE_PREFIX = "Model:"


def restriction_code(kind: str) -> str:
    """The code of a restriction (reports.restrictions): "restriction-channel"."""
    return f"restriction-{kind}"


_RESTRICTION_DEFINITIONS = {
    "mix": "Both speakers: the recording's channels mixed, or a one-channel recording; the "
    "therapist's speech is part of the scores.",
    "channel": "The patient's own channel of a two-channel recording.",
    "voice": "The patient's speech only, its segments found by speaker attribution (voice).",
    "mixed": "The session's recordings were restricted in different ways.",
}


def voice_code(key: str) -> str:
    """The code of a voice measure (ser.engine.voice.MEASURES)."""
    return f"voice-{key}"


# code → (display, definition)
CONCEPTS: dict[str, tuple[str, str]] = {
    PANEL: (
        "Speech emotion scores of one session",
        "The shares of nine emotion classes in the speech of one therapy session, estimated by a "
        "speech-emotion recognition model (emotion2vec+), with the voice's drift from the patient's "
        "baseline, the seconds of speech scored and, where computed, voice measures (pitch, loudness, "
        "rate, pauses, voice quality). " + DISCLAIMER,
    ),
    REPORT: (
        "Speech emotion trend report",
        "A report of speech-emotion measures across a patient's therapy sessions (PDF), grouping "
        "one panel Observation per session. " + DISCLAIMER,
    ),
    CATEGORY: ("Speech analysis", "Observations made by automated analysis of recorded speech."),
    **{
        f"emotion-{e}": (
            f"Share of speech: {e}",
            f"Share of the session's analysed speech attributed to the class '{e}' (0 to 1; the nine "
            "shares sum to 1). A session with several recordings is their speech-weighted mean.",
        )
        for e in EMOTIONS
    },
    EUCLIDEAN: (
        "Euclidean drift from baseline",
        "Euclidean distance of the session's speech embedding from the patient's baseline (the mean "
        "embedding of the baseline sessions). Comparable only within one model variant.",
    ),
    **{
        voice_code(m.key): (
            m.label,
            f"{m.help[0].upper()}{m.help[1:]}, in {m.unit}; computed with Praat (through "
            "praat-parselmouth) on the speech the emotion model scored. A session with several "
            "recordings is their speech-weighted mean.",
        )
        for m in MEASURES
    },
    COSINE: (
        "Cosine drift from baseline",
        "1 minus the cosine similarity of the session's speech embedding to the patient's baseline. "
        "Comparable only within one model variant.",
    ),
    SPEECH: ("Speech seconds analysed", "Seconds of speech the model scored in the session."),
    RESTRICTION: (
        "Whose speech was analysed",
        "The restriction the session's scores, embedding and drift rest on (a restriction-<kind> "
        "code). Drift is compared with the baseline only between sessions restricted the same way.",
    ),
    **{restriction_code(kind): (WORDS[kind], _RESTRICTION_DEFINITIONS[kind]) for kind in RESTRICTIONS},
}

# Container part of Recording.audio_format ("WAV", "MP3/MP3", "MOV/AAC") → MIME type.
AUDIO_MIME = {
    "WAV": "audio/wav",
    "WAVEX": "audio/wav",
    "RF64": "audio/wav",
    "W64": "audio/x-w64",
    "FLAC": "audio/flac",
    "OGG": "audio/ogg",
    "MP3": "audio/mpeg",
    "AIFF": "audio/aiff",
    "CAF": "audio/x-caf",
    "MOV": "audio/mp4",
    "MATROSKA": "audio/webm",
}


def concept(code: str) -> CodeableConcept:
    """One of our codes, with its display as the text."""
    display = CONCEPTS[code][0]
    return CodeableConcept(
        coding=[Coding(system=settings.FHIR_CODESYSTEM_URL, code=code, display=display)], text=display
    )


def quantity(value: float, unit: str, code: str | None = None) -> Quantity:
    """`unit` as people read it, `code` its UCUM form (the same when not given)."""
    # The shortest decimal that reads back as the same float: every digit we have, none invented.
    return Quantity(value=Decimal(repr(float(value))), unit=unit, system=UCUM, code=code or unit)


def interpretation(code: str, display: str, text: str) -> list[CodeableConcept]:
    """A v3 ObservationInterpretation ("H", "L") with words."""
    return [CodeableConcept(coding=[Coding(system=INTERPRETATION, code=code, display=display)], text=text)]


def codesystem() -> CodeSystem:
    """The product's CodeSystem: every code the Bundle uses outside the standard ones."""
    return CodeSystem(
        url=settings.FHIR_CODESYSTEM_URL,
        version=CODESYSTEM_VERSION,
        name="SpeechEmotionMeasures",
        title="Speech-emotion measures of the speech-emotion session tracker",
        status="active",
        experimental=False,
        description="Codes for speech-emotion scores, voice drift, voice measures and the trend report "
        "made from therapy session recordings. No LOINC or SNOMED CT code exists for these measures. "
        + DISCLAIMER,
        caseSensitive=True,
        content="complete",
        count=len(CONCEPTS),
        concept=[
            CodeSystemConcept(code=code, display=display, definition=definition)
            for code, (display, definition) in CONCEPTS.items()
        ],
    )
