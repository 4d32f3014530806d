"""The product's FHIR vocabulary: its CodeSystem (no LOINC or SNOMED CT code exists for
speech-emotion scores, so every code of ours is defined here, at settings.FHIR_CODESYSTEM_URL), the
standard systems the Bundle cites, the namespace of its deterministic ids, and small builders of
coded values in them."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.codesystem import CodeSystem, CodeSystemConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.quantity import Quantity

from ser.emotions import emotion_name
from ser.engine.labels import EMOTIONS
from ser.engine.messages import gettext_noop
from ser.engine.notices import DISCLAIMER
from ser.engine.voice import BY_KEY, MEASURES

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


# The CodeSystem's displays are English and never change with the reader's language (a Coding's
# display must be the CodeSystem's); the words a person reads are the CodeableConcept's `text`.
_RESTRICTION_DISPLAYS = {
    "mix": "Both speakers",
    "channel": "Patient's channel",
    "voice": "Patient only (voice)",
    "mixed": "Mixed (recordings differ)",
}
assert set(_RESTRICTION_DISPLAYS) == set(WORDS)

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
    **{
        restriction_code(kind): (_RESTRICTION_DISPLAYS[kind], _RESTRICTION_DEFINITIONS[kind])
        for kind in RESTRICTIONS
    },
}

# The displays of our other codes as a person reads them (`text`), marked for the catalogue.
_TEXTS = {
    PANEL: gettext_noop("Speech emotion scores of one session"),
    REPORT: gettext_noop("Speech emotion trend report"),
    CATEGORY: gettext_noop("Speech analysis"),
    EUCLIDEAN: gettext_noop("Euclidean drift from baseline"),
    COSINE: gettext_noop("Cosine drift from baseline"),
    SPEECH: gettext_noop("Speech seconds analysed"),
    RESTRICTION: gettext_noop("Whose speech was analysed"),
}
assert all(CONCEPTS[code][0] == text for code, text in _TEXTS.items())


def concept_text(code: str) -> str:
    """What one of our codes means, in the active language (the display, in English)."""
    if code.startswith("emotion-"):
        return gettext("Share of speech: %(emotion)s") % {
            "emotion": emotion_name(code.removeprefix("emotion-"))
        }
    if code.startswith("restriction-"):
        return str(WORDS[code.removeprefix("restriction-")])
    if code.startswith("voice-"):
        return gettext(BY_KEY[code.removeprefix("voice-")].label)
    return gettext(_TEXTS[code]) if code in _TEXTS else CONCEPTS[code][0]


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
    """One of our codes, with the CodeSystem's (English) display and, as the text, what it means in
    the active language (the same as the display in English)."""
    display = CONCEPTS[code][0]
    return CodeableConcept(
        coding=[Coding(system=settings.FHIR_CODESYSTEM_URL, code=code, display=display)],
        text=concept_text(code),
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
        language="en",  # its displays and definitions: English, whoever exports
        url=settings.FHIR_CODESYSTEM_URL,
        version=CODESYSTEM_VERSION,
        name="SpeechEmotionMeasures",
        # The CodeSystem is English by design (language "en"), like its displays.
        title="Speech-emotion measures of the speech-emotion session tracker",  # not for people
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
