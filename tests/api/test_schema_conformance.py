"""The OpenAPI schema is valid, types what it should, and the API keeps to it: schemathesis
generates requests for every operation from the schema and sends them, as a logged-in therapist
with real records, through the real WSGI app (in-process, inside the test's transaction). No answer
may be a 5xx, and every answer must match the schema (status code, content type, body)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ser.engine.voice import BY_KEY, MEASURE_KEYS
from ser.models import EmotionAnalysis
from tests.factories import analysed_session
from tests.reports.voice_data import voice_json


def _schema() -> dict[str, Any]:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))  # type: ignore[no-any-return]


SCHEMA = _schema()
api = schemathesis.openapi.from_dict(SCHEMA)
api.app = get_wsgi_application()
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_schema_is_valid_openapi_3() -> None:
    validate_schema(SCHEMA)
    assert SCHEMA["openapi"].startswith("3.")


def test_ids_are_uuids_and_states_are_enums() -> None:
    comps = SCHEMA["components"]["schemas"]
    for name in ("PatientOutput", "SessionOutput", "RecordingOutput", "AnalysisOutput", "ExportOutput"):
        assert comps[name]["properties"]["id"]["format"] == "uuid", name
    assert comps["TrendSession"]["properties"]["session_id"]["format"] == "uuid"
    assert comps["RecordingOutput"]["properties"]["session"]["format"] == "uuid"
    recording = comps["RecordingOutput"]
    assert recording["properties"]["status"]["allOf"][0]["$ref"].endswith("/RecordingStatusEnum")
    assert set(comps["RecordingStatusEnum"]["enum"]) == {"pending", "running", "done", "failed"}
    assert set(comps["ChannelEnum"]["enum"]) == {"mix", "left", "right", "voice"}
    assert set(comps["GranularityEnum"]["enum"]) == {"utterance", "frame"}
    for path, ops in SCHEMA["paths"].items():
        for param in ops.get("parameters", []) + [
            p for op in ops.values() if isinstance(op, dict) for p in op.get("parameters", [])
        ]:
            if param["in"] == "path" and param["name"] in ("pk", "id", "patient_pk"):
                assert param["schema"] == {"type": "string", "format": "uuid"}, (path, param)


def test_the_trend_types_each_voice_measure_its_marks_and_bands() -> None:
    comps = SCHEMA["components"]["schemas"]
    session = comps["TrendSession"]
    assert {"voice", "voice_beyond_band"} <= set(session["required"])
    voice = comps[session["properties"]["voice"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert list(voice["properties"]) == list(MEASURE_KEYS)
    for key, prop in voice["properties"].items():
        assert prop["type"] == "number" and prop["nullable"] is True, key
        m = BY_KEY[key]
        assert m.label in prop["description"] and m.unit in prop["description"], key
    beyond = comps[session["properties"]["voice_beyond_band"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert list(beyond["properties"]) == list(MEASURE_KEYS) and not beyond.get("required")
    assert beyond["properties"]["speech_rate"]["allOf"][0]["$ref"].endswith("/VoiceBeyondBandEnum")
    assert comps["VoiceBeyondBandEnum"]["enum"] == ["above", "below"]
    trend = comps["Trend"]
    assert "voice_bands" in trend["required"]
    bands = comps[trend["properties"]["voice_bands"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert list(bands["properties"]) == list(MEASURE_KEYS)
    for key, prop in bands["properties"].items():
        assert prop["allOf"][0]["$ref"].endswith("/VoiceBand") and prop["nullable"] is True, key
    band = comps["VoiceBand"]
    assert set(band["required"]) == {"low", "high", "mean", "n", "unit"}
    assert band["properties"]["n"]["type"] == "integer" and band["properties"]["low"]["type"] == "number"
    kinds = set(comps["KindEnum"]["enum"])
    assert {"rising-distress", "drift", "low-speech"} | {f"voice-{k}" for k in MEASURE_KEYS} == kinds


def test_every_operation_documents_the_error_body() -> None:
    for path, ops in SCHEMA["paths"].items():
        for method, op in ops.items():
            if path.endswith("/auth/token/"):
                continue
            for code in ("400", "401", "404", "429"):
                content = op["responses"][code]["content"]["application/json"]["schema"]
                assert content["$ref"].endswith("/Error"), (method, path, code)


def test_the_upload_documents_its_fields() -> None:
    body = SCHEMA["paths"]["/api/v1/sessions/{id}/recordings/"]["post"]["requestBody"]["content"]
    fields = SCHEMA["components"]["schemas"]["UploadInputRequest"]
    assert "multipart/form-data" in body
    assert fields["properties"]["file"]["items"]["format"] == "binary"
    assert set(fields["required"]) >= {"file", "consent_confirmed"}


@pytest.fixture
def in_process():  # type: ignore[no-untyped-def]
    # What Django's test client does around each request: keep the test's database connection
    # open (Django closes "old" connections when a request starts and finishes).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def records(therapist, patient, in_process):  # type: ignore[no-untyped-def]
    # The therapist's real records, so generated requests reach them and not only 404s.
    rng = np.random.default_rng(1)
    sessions = [
        analysed_session(patient, i, scores=rng.dirichlet(np.ones(9)), embedding=rng.normal(size=64))
        for i in range(1, 5)
    ]
    # Voice measures too (one session without, one value missing), so the trend's voice values,
    # marks and bands are checked against the schema with numbers in them, not only nulls.
    for i, s in enumerate(sessions[:3]):
        values = [float(v) for v in rng.uniform(1, 100, len(MEASURE_KEYS))]
        values[-1] = None if i == 2 else values[-1]  # hnr_db, the last measure
        EmotionAnalysis.objects.filter(recording__session=s).update(voice=voice_json(tuple(values)))
    analysis = sessions[0].recordings.first().analyses.first()
    return {
        "patient": patient,
        "session": sessions[1],
        "recording": sessions[2].recordings.first(),
        "analysis": analysis,
        "token": Token.objects.create(user=therapist),
    }


def _point_at_real_records(case: Any, records: dict[str, Any]) -> None:
    path = case.operation.path
    for name in ("pk", "id", "patient_pk"):
        if name not in (case.path_parameters or {}):
            continue
        for prefix, key in (
            ("/api/v1/patients/", "patient"),
            ("/api/v1/sessions/", "session"),
            ("/api/v1/recordings/", "recording"),
            ("/api/v1/analyses/", "analysis"),
        ):
            if path.startswith(prefix):
                case.path_parameters[name] = str(records[key].pk)


@pytest.mark.django_db
@api.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_keeps_to_its_schema(case, records) -> None:  # type: ignore[no-untyped-def]
    _point_at_real_records(case, records)
    case.call_and_validate(headers={"Authorization": f"Token {records['token'].key}"}, checks=CHECKS)
