"""The FHIR R4 Bundle: built from a patient's history, serialised, parsed back with fhir.resources,
and every value checked against the database rows it came from."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.conf import settings as django_settings
from fhir.resources.R4B.bundle import Bundle

from accounts.models import Profile
from reports.exports.fhir import bundle_json, codesystem, report_bundle
from reports.report import TrendReport, trend_report
from reports.trends import patient_trend
from ser.engine.labels import EMOTIONS
from ser.engine.notices import TEST_MODEL_SHORT
from ser.engine.voice import MEASURES
from ser.models import EmotionAnalysis
from sessions.models import TherapySession
from tests.reports.voice_data import LIBRARY, VALUES, add_voice

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n% a stand-in: the bundle carries whatever bytes the PDF module made\n%%EOF\n"


def _parsed(report: TrendReport, **options: Any) -> tuple[Bundle, dict[str, Any]]:
    raw = bundle_json(report_bundle(report, pdf=PDF, **options))
    return Bundle.model_validate_json(raw), json.loads(raw)


def _entries(bundle: Bundle) -> list[Any]:
    return list(bundle.entry or [])


def _of(bundle: Bundle, kind: str) -> list[Any]:
    return [e.resource for e in _entries(bundle) if e.resource.get_resource_type() == kind]


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "reference" and isinstance(v, str):
                yield v
            else:
                yield from _references(v)
    elif isinstance(value, list):
        for v in value:
            yield from _references(v)


def _codings(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "system" in value and "code" in value and "value" not in value:
            yield value
        for v in value.values():
            yield from _codings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _codings(v)


def _component(observation: Any, code: str) -> Any:
    (found,) = [c for c in observation.component if c.code.coding[0].code == code]
    return found


def test_it_round_trips_every_observation_value_against_the_database(history, patient) -> None:  # type: ignore[no-untyped-def]
    bundle, _ = _parsed(trend_report(patient=patient))
    observations = _of(bundle, "Observation")
    assert len(observations) == len(history) == 6
    trend = patient_trend(patient=patient)
    by_start = {o.effectiveDateTime: o for o in observations}
    for i, session in enumerate(TherapySession.objects.filter(patient=patient).order_by("number")):
        obs = by_start[session.started_at]  # effectiveDateTime is the session's start, as an instant
        analysis = EmotionAnalysis.objects.get(recording__session=session)
        assert obs.status == "final"
        for emotion, score in zip(EMOTIONS, analysis.scores, strict=True):
            quantity = _component(obs, f"emotion-{emotion}").valueQuantity
            assert float(quantity.value) == pytest.approx(score, abs=1e-12)
            assert (quantity.unit, quantity.system, quantity.code) == ("1", "http://unitsofmeasure.org", "1")
        euclid = _component(obs, "euclidean-drift").valueQuantity
        cosine = _component(obs, "cosine-drift").valueQuantity
        speech = _component(obs, "speech-seconds").valueQuantity
        assert float(euclid.value) == pytest.approx(trend.euclidean[i], abs=1e-12) and euclid.unit == "1"
        assert float(cosine.value) == pytest.approx(trend.cosine[i], abs=1e-12) and cosine.unit == "1"
        assert float(speech.value) == pytest.approx(analysis.analysed_s) and (speech.unit, speech.code) == (
            "s",
            "s",
        )
        note = obs.note[0].text
        assert analysis.model_id in note and analysis.model_revision in note and analysis.precision in note
    # The last session drifted beyond the patient's usual range: flagged High against that range.
    last = _component(by_start[history[-1].started_at], "euclidean-drift")
    assert last.interpretation[0].coding[0].code == "H"
    assert float(last.referenceRange[0].high.value) == pytest.approx(trend.band[1])  # type: ignore[index]
    assert not _component(by_start[history[0].started_at], "euclidean-drift").interpretation


def test_it_uses_standard_and_product_categories_and_codes(history, patient) -> None:  # type: ignore[no-untyped-def]
    bundle, _ = _parsed(trend_report(patient=patient))
    system = django_settings.FHIR_CODESYSTEM_URL
    for obs in _of(bundle, "Observation"):
        categories = {(c.system, c.code) for cc in obs.category for c in cc.coding}
        assert ("http://terminology.hl7.org/CodeSystem/observation-category", "exam") in categories
        assert (system, "speech-analysis") in categories
        assert (obs.code.coding[0].system, obs.code.coding[0].code) == (system, "speech-emotion-panel")
        assert len(obs.component) == len(EMOTIONS) + 4  # + drift, cosine, speech seconds, restriction
        assert _component(obs, "speech-restriction").valueCodeableConcept.coding[0].code == "restriction-mix"
    (report,) = _of(bundle, "DiagnosticReport")
    assert (report.code.coding[0].system, report.code.coding[0].code) == (
        system,
        "speech-emotion-trend-report",
    )


def test_it_defines_every_code_it_uses_in_its_own_codesystem(history, patient) -> None:  # type: ignore[no-untyped-def]
    bundle, raw = _parsed(trend_report(patient=patient))
    (cs,) = _of(bundle, "CodeSystem")
    assert cs.url == django_settings.FHIR_CODESYSTEM_URL
    assert (cs.status, cs.content) == ("active", "complete") and cs.count == len(cs.concept)
    defined = {c.code for c in cs.concept}
    assert {f"emotion-{e}" for e in EMOTIONS} | {"speech-emotion-panel", "euclidean-drift"} <= defined
    used = {c["code"] for c in _codings(raw) if c["system"] == cs.url}
    assert used and used <= defined
    assert codesystem().model_dump() == cs.model_dump()


def test_every_reference_resolves_inside_the_bundle(history, patient) -> None:  # type: ignore[no-untyped-def]
    bundle, raw = _parsed(trend_report(patient=patient))
    full_urls = [e["fullUrl"] for e in raw["entry"]]
    assert len(full_urls) == len(set(full_urls)) and all(u.startswith("urn:uuid:") for u in full_urls)
    refs = list(_references(raw))
    assert refs and all(r in full_urls for r in refs)
    (pat,) = _of(bundle, "Patient")
    (prac,) = _of(bundle, "Practitioner")
    urls = {e.resource.get_resource_type(): e.fullUrl for e in _entries(bundle)}
    for resource in [*_of(bundle, "Observation"), *_of(bundle, "DiagnosticReport")]:
        assert resource.subject.reference == urls["Patient"]
        assert resource.performer[0].reference == urls["Practitioner"]
    assert pat.name[0].text == patient.display_name
    assert (pat.identifier[0].system, pat.identifier[0].value) == (
        django_settings.FHIR_PATIENT_IDENTIFIER_SYSTEM,
        "MRN-001",
    )
    assert prac.name[0].text == patient.owner.get_username()
    devices = {e.fullUrl: e.resource for e in _entries(bundle) if e.resource.get_resource_type() == "Device"}
    assert len(devices) == 1  # one model made every session
    for obs in _of(bundle, "Observation"):
        device = devices[obs.device.reference]
        assert device.version[0].value == "sha256:0000" and device.deviceName[0].name == "var/models/test"


def test_it_carries_the_birth_date_and_the_professional_id(history, patient) -> None:  # type: ignore[no-untyped-def]
    patient.date_of_birth = date(1990, 4, 2)
    patient.save()
    patient.owner.first_name, patient.owner.last_name = "Robin", "Lee"
    patient.owner.save()
    Profile.objects.create(user=patient.owner, professional_id="LIC-7")
    bundle, raw = _parsed(trend_report(patient=patient), bundle_type="transaction")
    (pat,) = _of(bundle, "Patient")
    (prac,) = _of(bundle, "Practitioner")
    assert pat.birthDate == date(1990, 4, 2)
    assert (prac.name[0].text, prac.name[0].family, prac.name[0].given) == ("Robin Lee", "Lee", ["Robin"])
    system = django_settings.FHIR_PRACTITIONER_IDENTIFIER_SYSTEM
    assert (prac.identifier[0].system, prac.identifier[0].value) == (system, "LIC-7")
    (entry,) = [e for e in _entries(bundle) if e.resource.get_resource_type() == "Practitioner"]
    assert entry.request.ifNoneExist == f"identifier={system}|LIC-7"
    assert "null" not in json.dumps(raw) and "[]" not in json.dumps(raw)


def test_the_report_groups_the_observations_and_carries_the_pdf(history, patient) -> None:  # type: ignore[no-untyped-def]
    report = trend_report(patient=patient, date_from=date(2026, 1, 10))
    bundle, raw = _parsed(report)
    urls = {e.fullUrl: e.resource for e in _entries(bundle)}
    (diagnostic,) = _of(bundle, "DiagnosticReport")
    results = [urls[r.reference] for r in diagnostic.result]
    assert len(results) == 5 and all(r.get_resource_type() == "Observation" for r in results)
    assert diagnostic.status == "final" and diagnostic.issued == report.generated_at
    assert diagnostic.effectivePeriod.start == history[1].started_at
    assert diagnostic.effectivePeriod.end == history[-1].started_at
    form = diagnostic.presentedForm[0]
    assert form.contentType == "application/pdf" and form.data == PDF and form.size == len(PDF)
    assert form.hash == hashlib.sha1(PDF).digest()
    (on_wire,) = [e["resource"] for e in raw["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    assert base64.b64decode(on_wire["presentedForm"][0]["data"]) == PDF
    (doc,) = _of(bundle, "DocumentReference")
    assert doc.status == "current" and doc.content[0].attachment.data == PDF
    assert urls[doc.context.related[0].reference] is diagnostic
    assert doc.subject.reference == diagnostic.subject.reference


def test_the_conclusion_says_decision_support_and_test_checkpoint(history, patient) -> None:  # type: ignore[no-untyped-def]
    bundle, _ = _parsed(trend_report(patient=patient))
    (diagnostic,) = _of(bundle, "DiagnosticReport")
    assert "decision support, not a diagnosis" in diagnostic.conclusion.lower()
    assert TEST_MODEL_SHORT in diagnostic.conclusion and "Sad + fearful share rising" in diagnostic.conclusion
    assert all(TEST_MODEL_SHORT in o.note[0].text for o in _of(bundle, "Observation"))

    EmotionAnalysis.objects.update(is_test_model=False)
    bundle, _ = _parsed(trend_report(patient=patient))
    (diagnostic,) = _of(bundle, "DiagnosticReport")
    assert "decision support, not a diagnosis" in diagnostic.conclusion.lower()
    assert "TEST CHECKPOINT" not in diagnostic.conclusion
    assert not any("TEST CHECKPOINT" in o.note[0].text for o in _of(bundle, "Observation"))


def test_no_audio_leaves_by_default(history, patient) -> None:  # type: ignore[no-untyped-def]
    _, raw = _parsed(trend_report(patient=patient))
    text = json.dumps(raw)
    assert "Media" not in {e["resource"]["resourceType"] for e in raw["entry"]}
    for session in history:
        audio = session.recordings.get().file.read()
        assert base64.b64encode(audio).decode() not in text


def test_the_audio_leaves_as_media_only_when_asked(history, patient) -> None:  # type: ignore[no-untyped-def]
    bundle, raw = _parsed(trend_report(patient=patient), include_audio=True)
    media = {e.fullUrl: e.resource for e in _entries(bundle) if e.resource.get_resource_type() == "Media"}
    assert len(media) == len(history)
    by_start = {o.effectiveDateTime: o for o in _of(bundle, "Observation")}
    for session in history:
        recording = session.recordings.get()
        audio = recording.file.read()
        (ref,) = by_start[session.started_at].derivedFrom
        item = media[ref.reference]
        assert item.content.data == audio and item.content.hash == hashlib.sha1(audio).digest()
        assert item.content.contentType.startswith("audio/") and item.subject.reference
    (diagnostic,) = _of(bundle, "DiagnosticReport")
    assert {m.link.reference for m in diagnostic.media} == set(media)
    assert all(r in {e["fullUrl"] for e in raw["entry"]} for r in _references(raw))


def test_it_refers_to_the_ehr_ids_when_the_clinic_set_them(history, patient) -> None:  # type: ignore[no-untyped-def]
    patient.ehr_patient_id = "pat-123"
    patient.save()
    Profile.objects.create(user=patient.owner, ehr_practitioner_id="prac-9", professional_id="LIC-7")
    bundle, raw = _parsed(trend_report(patient=patient), bundle_type="transaction")
    kinds = [e["resource"]["resourceType"] for e in raw["entry"]]
    assert "Patient" not in kinds and "Practitioner" not in kinds
    full_urls = {e["fullUrl"] for e in raw["entry"]}
    refs = set(_references(raw))
    assert {"Patient/pat-123", "Practitioner/prac-9"} <= refs
    assert refs - full_urls == {"Patient/pat-123", "Practitioner/prac-9"}
    for resource in [*_of(bundle, "Observation"), *_of(bundle, "DiagnosticReport")]:
        assert resource.subject.reference == "Patient/pat-123"


def test_a_transaction_posts_each_resource_conditionally_with_stable_ids(history, patient) -> None:  # type: ignore[no-untyped-def]
    first, raw = _parsed(trend_report(patient=patient), bundle_type="transaction")
    again, _ = _parsed(trend_report(patient=patient), bundle_type="transaction")
    assert first.type == "transaction"
    for entry in _entries(first):
        kind = entry.resource.get_resource_type()
        assert (entry.request.method, entry.request.url) == ("POST", kind)
        assert entry.request.ifNoneExist
    (patient_entry,) = [e for e in _entries(first) if e.resource.get_resource_type() == "Patient"]
    assert patient_entry.request.ifNoneExist == (
        f"identifier={django_settings.FHIR_PATIENT_IDENTIFIER_SYSTEM}|MRN-001"
    )
    # Sent twice, the same report carries the same ids (the server's conditional create sees them).
    assert [e.fullUrl for e in _entries(first)] == [e.fullUrl for e in _entries(again)]
    # A collection (the download) has no requests.
    collection, _ = _parsed(trend_report(patient=patient))
    assert collection.type == "collection" and all(e.request is None for e in _entries(collection))


def test_each_voice_measure_is_a_component_in_its_ucum_unit(history, patient) -> None:  # type: ignore[no-untyped-def]
    add_voice(history)
    report = trend_report(patient=patient)
    bundle, raw = _parsed(report)  # parsed back and validated by fhir.resources
    by_start = {o.effectiveDateTime: o for o in _of(bundle, "Observation")}
    ucum = {"Hz", "{semitone}", "%", "dB", "/s", "/min", "s"}
    assert {m.ucum for m in MEASURES} == ucum
    for session in history:
        obs = by_start[session.started_at]
        values = VALUES[session.number]
        if values is None:  # analysed before voice measures existed: no voice components at all
            assert len(obs.component) == len(EMOTIONS) + 4
            assert not any(c.code.coding[0].code.startswith("voice-") for c in obs.component)
            assert "Voice measures" not in obs.note[0].text
            continue
        assert len(obs.component) == len(EMOTIONS) + 4 + len(MEASURES)
        assert LIBRARY in obs.note[0].text and "uncalibrated dB" in obs.note[0].text
        for m, value in zip(MEASURES, values, strict=True):
            component = _component(obs, f"voice-{m.key}")
            assert component.code.coding[0].display == m.label
            if value is None:  # could not be computed: said so, with no value (obs-6)
                assert component.valueQuantity is None
                reason = component.dataAbsentReason.coding[0]
                assert (reason.system, reason.code) == (
                    "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                    "not-performed",
                )
                continue
            q = component.valueQuantity
            assert float(q.value) == pytest.approx(value, abs=1e-9)
            assert (q.system, q.code, q.unit) == ("http://unitsofmeasure.org", m.ucum, m.unit)
            assert component.dataAbsentReason is None
    system = django_settings.FHIR_CODESYSTEM_URL
    (cs,) = _of(bundle, "CodeSystem")
    assert {c["code"] for c in _codings(raw) if c["system"] == system} <= {c.code for c in cs.concept}
    assert "null" not in json.dumps(raw)


def test_a_voice_measure_outside_the_band_is_high_or_low_against_that_range(history, patient) -> None:  # type: ignore[no-untyped-def]
    add_voice(history)
    report = trend_report(patient=patient)
    bundle, _ = _parsed(report)
    by_start = {o.effectiveDateTime: o for o in _of(bundle, "Observation")}
    last = by_start[history[-1].started_at]
    rate, pauses = _component(last, "voice-speech_rate"), _component(last, "voice-pause_ratio")
    assert rate.interpretation[0].coding[0].code == "L" and pauses.interpretation[0].coding[0].code == "H"
    assert rate.interpretation[0].coding[0].system.endswith("v3-ObservationInterpretation")
    band = report.voice_bands["speech_rate"]
    (range_,) = rate.referenceRange
    assert float(range_.low.value) == pytest.approx(band.low) and float(range_.high.value) == pytest.approx(
        band.high
    )
    assert (range_.low.code, range_.high.unit, range_.text) == (
        "/s",
        "syll/s",
        "this patient's baseline range",
    )
    # Every component beyond the band, and only those, is interpreted; baseline sessions never are.
    for session, row in zip(history, report.rows, strict=True):
        obs = by_start[session.started_at]
        flagged = {
            c.code.coding[0].code[6:]: c.interpretation[0].coding[0].code
            for c in obs.component
            if c.code.coding[0].code.startswith("voice-") and c.interpretation
        }
        assert flagged == {k: "H" if side == "above" else "L" for k, side in row.voice_beyond.items()}
    assert not row.baseline and row.voice_beyond  # the last session has some
    first = _component(by_start[history[0].started_at], "voice-speech_rate")
    assert first.referenceRange and not first.interpretation


def test_voice_measures_leave_the_ids_of_sessions_without_them_alone(history, patient) -> None:  # type: ignore[no-untyped-def]
    def ids() -> dict[Any, str]:
        return {
            e.resource.effectiveDateTime: e.fullUrl
            for e in _entries(_parsed(trend_report(patient=patient))[0])
            if e.resource.get_resource_type() == "Observation"
        }

    before = ids()
    add_voice(history)
    after = ids()
    # A re-push after `voice_recompute` makes new Observations only where there are new values.
    assert [before[s.started_at] == after[s.started_at] for s in history] == [
        VALUES[s.number] is None for s in history
    ]
