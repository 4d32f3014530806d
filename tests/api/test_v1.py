"""The REST API v1 as an integration would use it: one error body, records edited and archived,
several recordings in one upload, the trend series, baseline, flags and report exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from patients.models import Patient
from reports.models import ReportExport
from reports.trends import patient_trend
from sessions.models import Recording
from tests.audio import wav_bytes
from tests.factories import analysed_session

pytestmark = pytest.mark.django_db


def _error(response, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = response.json()
    assert response.status_code == status, body
    assert set(body) >= {"status", "code", "detail", "errors"} and body["status"] == status, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body  # type: ignore[no-any-return]


def test_errors_share_one_body(api, other_api, patient, client) -> None:  # type: ignore[no-untyped-def]
    body = _error(api.post(reverse("api:patients"), {}, format="json"), 400)
    assert body["code"] == "invalid" and body["errors"]["display_name"] == ["This field is required."]
    assert "display_name: This field is required." in body["detail"]
    assert _error(client.get(reverse("api:patients")), 401)["code"] == "not_authenticated"
    assert _error(other_api.get(reverse("api:patient", args=[patient.pk])), 404)["code"] == "not_found"
    assert _error(api.get("/api/v1/no-such-thing/"), 404)["code"] == "not_found"
    session = api.post(reverse("api:sessions", args=[patient.pk]), {"started_at": "2026-01-05T10:00:00Z"})
    upload = api.post(reverse("api:recordings", args=[session.json()["id"]]), {"x": 1}, format="json")
    assert _error(upload, 415)["code"] == "unsupported_media_type"


def test_a_duplicate_record_id_is_refused_in_words_not_a_500(api, patient) -> None:  # type: ignore[no-untyped-def]
    body = _error(api.post(reverse("api:patients"), {"display_name": "B", "external_id": "MRN-001"}), 400)
    assert body["errors"]["external_id"] == ["You already have a patient with record id MRN-001."]
    future = (date.today() + timedelta(days=2)).isoformat()
    body = _error(api.post(reverse("api:patients"), {"display_name": "C", "date_of_birth": future}), 400)
    assert body["errors"]["date_of_birth"] == ["The date of birth is in the future."]


def test_the_rate_limit_answers_429_with_the_wait(api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    from clinic.throttling import ClinicUserThrottle

    cache.clear()
    monkeypatch.setattr(ClinicUserThrottle, "THROTTLE_RATES", {"user": "3/min"})
    try:
        codes = [api.get(reverse("api:patients")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        body = _error(api.get(reverse("api:patients")), 429)
        assert body["code"] == "throttled" and 0 < body["retry_after_s"] <= 60
    finally:
        cache.clear()


def test_patients_are_edited_archived_searched_and_sorted(api, therapist) -> None:  # type: ignore[no-untyped-def]
    ids = {}
    for name, mrn in (("Bo Ng", "A-2"), ("Al Ray", "A-1"), ("Cy Lu", "Z-9")):
        ids[name] = api.post(reverse("api:patients"), {"display_name": name, "external_id": mrn}).json()["id"]
    url = reverse("api:patient", args=[ids["Cy Lu"]])
    edited = api.patch(url, {"display_name": "Cy Lu-Wong", "ehr_patient_id": "ehr-77"}, format="json")
    assert edited.status_code == 200 and edited.json()["display_name"] == "Cy Lu-Wong"
    assert Patient.objects.get(pk=ids["Cy Lu"]).ehr_patient_id == "ehr-77"
    archived = api.patch(url, {"archived": True}, format="json").json()
    assert archived["archived"] is True and archived["archived_at"]

    def names(**params: str) -> list[str]:
        return [p["display_name"] for p in api.get(reverse("api:patients"), params).json()["results"]]

    assert names() == ["Al Ray", "Bo Ng"]  # archived patients leave the list
    assert names(archived="true") == ["Cy Lu-Wong"]
    assert names(archived="all", ordering="-name") == ["Cy Lu-Wong", "Bo Ng", "Al Ray"]
    assert names(search="a-2") == ["Bo Ng"] and names(search="ray") == ["Al Ray"]
    assert names(ordering="record_id") == ["Al Ray", "Bo Ng"]
    assert api.patch(url, {"archived": False}, format="json").json()["archived"] is False
    events = AuditEvent.objects.filter(action="update", object_id=ids["Cy Lu"]).values_list(
        "detail", flat=True
    )
    assert any("archived" in d for d in events) and any("restored" in d for d in events)


def test_sessions_are_corrected_and_filtered_by_date(api, patient) -> None:  # type: ignore[no-untyped-def]
    patient.date_of_birth = date(1990, 5, 1)
    patient.save()
    url = reverse("api:sessions", args=[patient.pk])
    made = [api.post(url, {"started_at": f"2026-0{m}-10T09:00:00Z"}).json() for m in (1, 2, 3)]
    listed = api.get(url, {"date_from": "2026-02-01", "date_to": "2026-02-28"}).json()["results"]
    assert [s["id"] for s in listed] == [made[1]["id"]]
    _error(api.get(url, {"date_from": "2026-03-01", "date_to": "2026-02-01"}), 400)
    detail = reverse("api:session", args=[made[2]["id"]])
    body = _error(api.patch(detail, {"number": 1}, format="json"), 400)
    assert body["errors"]["number"] == ["This patient already has a session number 1."]
    body = _error(api.patch(detail, {"started_at": "1989-01-01T10:00:00Z"}, format="json"), 400)
    assert body["errors"]["started_at"] == ["The session date is before the patient's date of birth."]
    fixed = api.patch(detail, {"number": 7, "notes": "moved"}, format="json").json()
    assert (fixed["number"], fixed["notes"], fixed["recordings"]) == (7, "moved", [])


def test_several_files_upload_at_once_or_not_at_all(  # type: ignore[no-untyped-def]
    api, session, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr("ser.services.publish", lambda *a, **k: None)
    url = reverse("api:recordings", args=[session.pk])
    good = [SimpleUploadedFile(f"part{i}.wav", wav_bytes(1.0 + i, seed=i)) for i in (1, 2)]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url, {"file": good, "consent_confirmed": "true"}, format="multipart")
    assert response.status_code == 201, response.content
    made = response.json()["recordings"]
    assert [r["original_name"] for r in made] == ["part1.wav", "part2.wav"]
    assert all(r["status"] == "pending" for r in made)
    assert all(default_storage.exists(str(r.file.name)) for r in Recording.objects.all())
    mixed = [
        SimpleUploadedFile("fine.wav", wav_bytes(1.0, seed=9)),
        SimpleUploadedFile("bad.wav", b"not audio"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        refused = api.post(url, {"file": mixed, "consent_confirmed": "true"}, format="multipart")
    body = _error(refused, 400)
    assert body["errors"]["file"][0].startswith("bad.wav: ")
    assert Recording.objects.count() == 2  # fine.wav was not kept either
    listed = api.get(url).json()
    assert [r["id"] for r in listed] == [r["id"] for r in made]
    again = SimpleUploadedFile("copy-of-part1.wav", wav_bytes(2.0, seed=1))
    body = _error(api.post(url, {"file": again, "consent_confirmed": "true"}, format="multipart"), 409)
    assert body["code"] == "conflict" and "already in this session" in body["detail"]
    assert "part1.wav" in body["detail"] and Recording.objects.count() == 2


@pytest.fixture
def analysed(patient):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    start = datetime(2026, 1, 5, 10, tzinfo=UTC)
    return [
        analysed_session(
            patient,
            i,
            scores=rng.dirichlet(np.ones(9)),
            embedding=rng.normal(size=64),
            when=start + timedelta(weeks=i),
        )
        for i in range(1, 7)
    ]


def test_the_trend_series_is_the_dashboards(api, patient, analysed) -> None:  # type: ignore[no-untyped-def]
    body = api.get(reverse("api:trend", args=[patient.pk])).json()
    trend = patient_trend(patient=patient)
    assert [s["number"] for s in body["sessions"]] == trend.numbers
    for got, scores, euclid, cosine in zip(
        body["sessions"], trend.scores, trend.euclidean, trend.cosine, strict=True
    ):
        assert [got["scores"][e] for e in got["scores"]] == pytest.approx(list(scores), abs=1e-12)
        assert (got["euclidean"], got["cosine"]) == (pytest.approx(euclid), pytest.approx(cosine))
    assert body["baseline"].startswith("Baseline: mean of the first 3") and body["band"]["high"] > 0
    assert body["is_test_model"] is trend.is_test_model and "must not be used clinically" in body["notice"]
    assert "not a diagnosis" in body["notice"]
    ranged = api.get(reverse("api:trend", args=[patient.pk]), {"date_from": "2026-02-01"}).json()
    assert [s["number"] for s in ranged["sessions"]] == [4, 5, 6]
    assert api.get(reverse("api:flags", args=[patient.pk])).json() == body["flags"]


def test_the_baseline_is_read_and_set(api, other_api, patient, analysed) -> None:  # type: ignore[no-untyped-def]
    url = reverse("api:baseline", args=[patient.pk])
    assert api.get(url).json() == {"mode": "first_n", "n": 3, "sessions": []}
    chosen = str(analysed[3].pk)
    assert api.put(url, {"mode": "session", "sessions": [chosen]}, format="json").json()["sessions"] == [
        chosen
    ]
    assert (
        api.get(reverse("api:trend", args=[patient.pk])).json()["baseline"].startswith("Baseline: session 4")
    )
    body = _error(api.put(url, {"mode": "set", "sessions": []}, format="json"), 400)
    assert body["errors"]["baseline_sessions"] == ["Choose at least one session."]
    _error(other_api.put(url, {"mode": "first_n", "n": 2}, format="json"), 404)


def test_a_csv_export_is_downloaded_recorded_and_audited(api, other_api, patient, analysed) -> None:  # type: ignore[no-untyped-def]
    url = reverse("api:export", args=[patient.pk, "csv"])
    response = api.get(url, {"date_from": "2026-01-20"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"] and "Alex" not in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(r["session_number"]) for r in rows] == [3, 4, 5, 6]
    export = ReportExport.objects.get()
    assert (export.format, export.destination, export.session_count, export.date_from) == (
        "csv",
        "download",
        4,
        date(2026, 1, 20),
    )
    assert AuditEvent.objects.filter(
        action="export", object_id=str(export.pk), patient_id=patient.pk
    ).exists()
    history = api.get(reverse("api:exports", args=[patient.pk])).json()
    assert [e["id"] for e in history["results"]] == [str(export.pk)]
    assert api.get(reverse("api:export-detail", args=[export.pk])).json()["sha256"] == export.sha256
    _error(other_api.get(url), 404)
    _error(other_api.get(reverse("api:export-detail", args=[export.pk])), 404)
    assert ReportExport.objects.count() == 1  # a refused export leaves no row
    _error(api.get(reverse("api:export", args=[patient.pk, "docx"])), 400)


def test_push_is_refused_in_words_when_no_fhir_server_is_configured(api, patient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FHIR_BASE_URL = ""
    body = _error(api.post(reverse("api:export-push", args=[patient.pk]), {}, format="json"), 400)
    assert "No FHIR server is configured" in body["detail"] and not ReportExport.objects.exists()


def test_an_analysis_and_its_files_are_reachable_with_a_token(api, patient, analysed) -> None:  # type: ignore[no-untyped-def]
    analysis = analysed[0].recordings.get().analyses.get()
    body = api.get(reverse("api:analysis", args=[analysis.pk])).json()
    assert body["scores"] == pytest.approx(dict(zip(body["scores"], analysis.scores, strict=True)))
    assert body["input_sha256"] == analysis.input_sha256 and body["model_revision"] == analysis.model_revision
    assert body["timeline"][0]["end_s"] == 5.0
    # The keys stay English; the names beside them are in the request's language.
    assert body["dominant_emotion"] == analysis.dominant_emotion
    assert body["dominant_emotion_display"] == analysis.dominant_emotion
    assert body["emotion_names"]["sad"] == "sad" and list(body["emotion_names"]) == list(body["scores"])
    with translation.override("en"):  # the request's language is not left active for later tests
        body = api.get(reverse("api:analysis", args=[analysis.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["emotion_names"]["sad"] == "难过" and "sad" in body["scores"]
    assert body["dominant_emotion_display"] == body["emotion_names"][analysis.dominant_emotion]
