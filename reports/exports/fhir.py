"""The trend report as a FHIR R4 Bundle (JSON), built with the `fhir.resources` R4B models (wire-
compatible with R4 for every resource here): "collection" for a download, "transaction" for a push.

It holds the product's CodeSystem (no LOINC or SNOMED CT code exists for speech-emotion scores, so
every code of ours is defined there, at settings.FHIR_CODESYSTEM_URL); the Patient and Practitioner,
or only a `Patient/<id>` / `Practitioner/<id>` reference when the clinic set the EHR's ids; one
Device per distinct model provenance; one Observation per analysed session (a component per emotion
class, Euclidean drift with the patient's usual range as its referenceRange and H above it (neither
for a session restricted differently from the baseline), cosine drift, speech seconds, whose speech
was analysed (speech-restriction: a restriction-<kind> code), and each voice measure in its UCUM
unit with the patient's baseline range and H / L outside it); a DiagnosticReport grouping them with
the PDF in presentedForm and the notices and review flags in its conclusion; a DocumentReference to
the same PDF, for EHRs that file documents. The audio leaves (a Media per recording, read from
storage) only when explicitly asked.

Observation category: the standard `exam` plus the product's own `speech-analysis`. `survey` is for
answers to assessment instruments, `laboratory` and `imaging` for what they say; `exam` covers
findings made with an instrument during an encounter, which these are, and lets EHRs that file
Observations by the standard categories list them; the product category says what they are.

Ids: each new resource's fullUrl is `urn:uuid:` + a uuid5 in the product's namespace, from our row
ids (and, for results, a digest of their values), also carried as its identifier; a transaction
creates each conditionally (`ifNoneExist` on that identifier, the patient's MRN, the CodeSystem's
url and version), so a report re-sent after a lost reply creates nothing twice.

Language: codes, systems and the CodeSystem's displays are English and fixed; what people read (the
concepts' `text`, notes, the conclusion, descriptions, titles) is in the active language (the
request's; for a push the sending therapist's), and each resource says which in `language` ("en"
or "zh-Hans")."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext, pgettext
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryRequest
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.device import Device, DeviceDeviceName, DeviceProperty, DeviceVersion
from fhir.resources.R4B.diagnosticreport import DiagnosticReport, DiagnosticReportMedia
from fhir.resources.R4B.documentreference import (
    DocumentReference,
    DocumentReferenceContent,
    DocumentReferenceContext,
)
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.media import Media
from fhir.resources.R4B.observation import Observation, ObservationComponent, ObservationReferenceRange
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER, TEST_MODEL_SHORT, TEST_MODEL_WARNING
from ser.engine.voice import MEASURES

from ..report import ReportRow, TrendReport
from ..restrictions import PHRASES, join
from ..trends import Provenance
from .fhir_codes import (
    AUDIO_MIME,
    CATEGORY,
    COSINE,
    EUCLIDEAN,
    MEDIA_TYPE,
    NAMESPACE,
    OBSERVATION_CATEGORY,
    PANEL,
    REPORT,
    RESTRICTION,
    SPEECH,
    URI,
    codesystem,
    concept,
    interpretation,
    quantity,
    restriction_code,
)
from .fhir_voice import has_voice, voice_components


def language() -> str:
    """The language of the words in the resources (a BCP 47 tag): "en" or "zh-Hans"."""
    return "zh-Hans" if (translation.get_language() or "").lower().startswith("zh") else "en"


def _id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _digest(*values: object) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


def _local(when: datetime) -> datetime:
    return timezone.localtime(when)


def _attachment(content: bytes, content_type: str, title: str, created: datetime | None) -> Attachment:
    return Attachment(
        contentType=content_type,
        data=base64.b64encode(content),
        size=len(content),
        hash=base64.b64encode(hashlib.sha1(content).digest()),  # FHIR Attachment.hash is SHA-1
        title=title,
        creation=_local(created) if created is not None else None,
    )


class _Builder:
    """Collects entries in order; for a transaction, each with its conditional POST."""

    def __init__(self, bundle_type: str) -> None:
        self.transaction = bundle_type == "transaction"
        self.entries: list[BundleEntry] = []

    def add(self, resource: Resource, key: str, if_none_exist: str | None = None) -> Reference:
        full_url = f"urn:uuid:{key}"
        request = None
        if self.transaction:
            kind = resource.get_resource_type()
            request = BundleEntryRequest(method="POST", url=kind, ifNoneExist=if_none_exist)
        self.entries.append(BundleEntry(fullUrl=full_url, resource=resource, request=request))
        return Reference(reference=full_url)


def _own_id(key: str) -> Identifier:
    return Identifier(system=URI, value=f"urn:uuid:{key}")


def _search(identifier: Identifier) -> str:
    """The conditional-create query for a token: system|value, each percent-encoded."""
    return (
        f"identifier={quote(identifier.system or '', safe=':/')}|{quote(identifier.value or '', safe=':/')}"
    )


def _patient(b: _Builder, report: TrendReport) -> Reference:
    p = report.patient
    if p.ehr_patient_id:
        return Reference(reference=f"Patient/{p.ehr_patient_id}")
    key = _id("Patient", p.pk)
    ident = (
        Identifier(system=settings.FHIR_PATIENT_IDENTIFIER_SYSTEM, value=p.external_id)
        if p.external_id
        else _own_id(key)
    )
    resource = Patient(
        language=language(),
        identifier=[ident],
        name=[HumanName(text=p.display_name)],
        birthDate=p.date_of_birth,
    )
    return b.add(resource, key, _search(ident))


def _practitioner(b: _Builder, report: TrendReport) -> Reference:
    if report.profile.ehr_practitioner_id:
        return Reference(reference=f"Practitioner/{report.profile.ehr_practitioner_id}")
    user = report.therapist
    key = _id("Practitioner", user.pk)
    ident = (
        Identifier(system=settings.FHIR_PRACTITIONER_IDENTIFIER_SYSTEM, value=report.profile.professional_id)
        if report.profile.professional_id
        else _own_id(key)
    )
    first, last = user.first_name.strip(), user.last_name.strip()
    name = HumanName(
        text=f"{first} {last}".strip() or user.get_username(),
        family=last or None,
        given=[first] if first else None,
    )
    return b.add(Practitioner(language=language(), identifier=[ident], name=[name]), key, _search(ident))


def _model_words(m: Provenance) -> str:
    words = gettext(
        "Model: %(model)s (weights revision %(revision)s, variant %(variant)s, precision %(precision)s, "
        "run on %(device)s)."
    ) % {
        "model": m.model_id,
        "revision": m.model_revision,
        "variant": m.model_variant,
        "precision": m.precision,
        "device": m.device,
    }
    if m.is_test_model:
        return f"{words} {gettext(TEST_MODEL_SHORT)} {gettext(TEST_MODEL_WARNING)}"
    return words


def _device(b: _Builder, m: Provenance) -> Reference:
    key = _id("Device", m.model_id, m.model_revision, m.model_variant, m.precision, m.device, m.is_test_model)
    ident = _own_id(key)
    resource = Device(
        language=language(),
        identifier=[ident],
        status="active",
        deviceName=[DeviceDeviceName(name=m.model_id, type="model-name")],
        type=CodeableConcept(text=gettext("Speech emotion recognition model (software)")),
        version=[
            DeviceVersion(type=CodeableConcept(text=gettext("weights revision")), value=m.model_revision)
        ],
        property=[
            DeviceProperty(type=CodeableConcept(text=label), valueCode=[CodeableConcept(text=value)])
            for label, value in (
                (gettext("model variant"), m.model_variant),
                (gettext("precision"), m.precision),
                (gettext("compute device"), m.device),
            )
        ],
        note=[Annotation(text=_model_words(m))],
    )
    return b.add(resource, key, _search(ident))


def _components(report: TrendReport, row: ReportRow) -> list[ObservationComponent]:
    out = [
        ObservationComponent(code=concept(f"emotion-{e}"), valueQuantity=quantity(row.scores[e], "1"))
        for e in EMOTIONS
    ]
    band = report.trend.band
    out.append(
        ObservationComponent(
            code=concept(EUCLIDEAN),
            valueQuantity=quantity(row.euclidean, "1"),
            referenceRange=[
                ObservationReferenceRange(
                    low=quantity(band[0], "1"),
                    high=quantity(band[1], "1"),
                    text=gettext(
                        "This patient's usual range: the baseline sessions' own drift, mean ± 2 SD."
                    ),
                )
            ]
            # A session restricted differently from the baseline is not compared with its range.
            if band is not None and row.drift_comparable
            else None,
            interpretation=interpretation("H", "High", gettext("Beyond this patient's usual range"))
            if row.beyond_band
            else None,
        )
    )
    out.append(ObservationComponent(code=concept(COSINE), valueQuantity=quantity(row.cosine, "1")))
    out.append(ObservationComponent(code=concept(SPEECH), valueQuantity=quantity(row.speech_s, "s")))
    out.append(
        ObservationComponent(
            code=concept(RESTRICTION), valueCodeableConcept=concept(restriction_code(row.restriction))
        )
    )
    return out + voice_components(report, row)


def _categories() -> list[CodeableConcept]:
    return [
        CodeableConcept(
            coding=[Coding(system=OBSERVATION_CATEGORY, code="exam", display="Exam")],
            text=gettext("Exam") if language() != "en" else None,
        ),
        concept(CATEGORY),
    ]


def _observation(
    b: _Builder,
    report: TrendReport,
    row: ReportRow,
    refs: dict[str, Reference],
    devices: dict[Provenance, Reference],
    media: Sequence[Reference],
) -> Reference:
    # Voice values join the digest only where there are any, so a session without them keeps the
    # id it was pushed with before voice measures existed; recomputed ones make a new Observation.
    voice = [row.voice.get(m.key) for m in MEASURES] if has_voice(row) else []
    values = _digest(*row.scores.values(), row.euclidean, row.cosine, row.speech_s, *voice)
    key = _id("Observation", row.session_id, *row.analysis_ids, values)
    ident = _own_id(key)
    notes = [_model_words(m) for m in row.models]
    if row.voice_provenance:
        notes.append(
            gettext(
                "Voice measures computed with %(libraries)s; intensity is uncalibrated dB, comparable only "
                "within this patient and recording set-up."
            )
            % {"libraries": pgettext("list", " and ").join(row.voice_provenance)}
        )
    if row.baseline:
        notes.append(gettext("Baseline session."))
    if not row.drift_comparable:
        base = PHRASES.get(report.trend.baseline_restriction) or pgettext("restriction", "none")
        notes.append(
            gettext(
                "Restricted differently from the baseline (%(restriction)s vs %(baseline)s): its drift is "
                "not compared."
            )
            % {"restriction": PHRASES[row.restriction], "baseline": base}
        )
    notes.append(gettext(DISCLAIMER))
    resource = Observation(
        language=language(),
        identifier=[ident],
        status="final",
        category=_categories(),
        code=concept(PANEL),
        subject=refs["patient"],
        effectiveDateTime=_local(row.date),
        issued=_local(report.generated_at),
        performer=[refs["practitioner"]],
        device=devices[row.models[0]] if row.models else None,
        note=[Annotation(text=" ".join(notes))],
        derivedFrom=list(media) or None,
        component=_components(report, row),
    )
    return b.add(resource, key, _search(ident))


def _media(b: _Builder, report: TrendReport, row: ReportRow, refs: dict[str, Reference]) -> list[Reference]:
    """The original recordings of one session: only ever called when audio was asked for."""
    from ser.models import EmotionAnalysis

    out = []
    analyses = EmotionAnalysis.objects.filter(pk__in=row.analysis_ids).select_related("recording")
    for recording in dict.fromkeys(a.recording for a in analyses):
        with recording.file.open("rb") as fh:
            content = fh.read()
        container = recording.audio_format.split("/")[0].upper()
        mime = AUDIO_MIME.get(container) or mimetypes.guess_type(recording.file.name or "")[0] or "audio/wav"
        key = _id("Media", recording.pk)
        ident = _own_id(key)
        resource = Media(
            language=language(),
            identifier=[ident],
            status="completed",
            type=CodeableConcept(coding=[Coding(system=MEDIA_TYPE, code="audio", display="Audio")]),
            subject=refs["patient"],
            operator=refs["practitioner"],
            createdDateTime=_local(row.date),
            duration=Decimal(repr(float(recording.duration_s))),
            content=_attachment(
                content, mime, gettext("Session %(number)s recording") % {"number": row.number}, row.date
            ),
        )
        out.append(b.add(resource, key, _search(ident)))
    return out


def _conclusion(report: TrendReport) -> str:
    parts = [f"{gettext(TEST_MODEL_SHORT)} {gettext(TEST_MODEL_WARNING)}"] if report.is_test_model else []
    n = len(report.rows)
    parts.append(
        ngettext(
            "Speech-emotion trend, %(range)s: %(n)s analysed session, model variant %(variant)s.",
            "Speech-emotion trend, %(range)s: %(n)s analysed sessions, model variant %(variant)s.",
            n,
        )
        % {"range": report.range_words, "n": n, "variant": report.variant or pgettext("variant", "none")}
    )
    parts.append(report.baseline_words)
    for flag in report.flags:
        parts.append(
            ngettext(
                "Review flag — %(title)s (session %(sessions)s): %(detail)s",
                "Review flag — %(title)s (sessions %(sessions)s): %(detail)s",
                len(flag.sessions),
            )
            % {"title": flag.title, "sessions": join(flag.sessions), "detail": flag.detail}
        )
    if not report.flags:
        parts.append(gettext("No review flags."))
    parts.append(gettext(DISCLAIMER))
    return " ".join(parts)


def report_bundle(
    report: TrendReport, *, pdf: bytes, bundle_type: str = "collection", include_audio: bool = False
) -> Bundle:
    """The report as a Bundle: "collection" for a download, "transaction" for a push."""
    if bundle_type not in ("collection", "transaction"):
        raise ValueError(f"bundle_type must be collection or transaction, not {bundle_type!r}")
    b = _Builder(bundle_type)
    cs = codesystem()  # English, whoever exports: its displays are the codes' fixed names
    b.add(cs, _id("CodeSystem", cs.url, cs.version), f"url={cs.url}&version={cs.version}")
    refs = {"patient": _patient(b, report), "practitioner": _practitioner(b, report)}
    devices = {m: _device(b, m) for m in report.models}
    results = []
    media_refs: list[Reference] = []
    for row in report.rows:
        media = _media(b, report, row, refs) if include_audio else []
        media_refs += media
        results.append(_observation(b, report, row, refs, devices, media))

    report_key = _id("DiagnosticReport", report.patient.pk, report.variant, *(r.reference for r in results))
    ident = _own_id(report_key)
    period = (
        Period(start=_local(report.rows[0].date), end=_local(report.rows[-1].date)) if report.rows else None
    )
    attachment = _attachment(pdf, "application/pdf", report.filename("pdf"), report.generated_at)
    diagnostic = b.add(
        DiagnosticReport(
            language=language(),
            identifier=[ident],
            status="final",
            category=[concept(CATEGORY)],
            code=concept(REPORT),
            subject=refs["patient"],
            effectivePeriod=period,
            issued=_local(report.generated_at),
            performer=[refs["practitioner"]],
            result=results or None,
            media=[DiagnosticReportMedia(link=m) for m in media_refs] or None,
            conclusion=_conclusion(report),
            presentedForm=[attachment],
        ),
        report_key,
        _search(ident),
    )
    doc_key = _id("DocumentReference", report_key)
    doc_ident = _own_id(doc_key)
    b.add(
        DocumentReference(
            language=language(),
            masterIdentifier=doc_ident,
            status="current",
            docStatus="final",
            type=concept(REPORT),
            category=[concept(CATEGORY)],
            subject=refs["patient"],
            date=_local(report.generated_at),
            author=[refs["practitioner"]],
            description=gettext("Speech-emotion trend report, %(range)s.") % {"range": report.range_words}
            + " "
            + gettext(DISCLAIMER),
            content=[DocumentReferenceContent(attachment=attachment)],
            context=DocumentReferenceContext(related=[diagnostic], period=period),
        ),
        doc_key,
        _search(doc_ident),
    )
    return Bundle(
        language=language(),
        identifier=_own_id(_id("Bundle", report_key)),
        type=bundle_type,
        timestamp=_local(report.generated_at),
        entry=b.entries,
    )


def bundle_json(bundle: Bundle) -> bytes:
    return bundle.model_dump_json().encode("utf-8")
