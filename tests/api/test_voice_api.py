"""The API returns an analysis's voice measures (null before they existed) and each segment's
pitch, loudness, voicing and syllables; the OpenAPI schema types every measure, built from
ser.engine.voice.MEASURES, and the answers keep to it."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from jsonschema import Draft202012Validator

from ser import services
from ser.engine.voice import BY_KEY, MEASURE_KEYS
from tests.factories import analysed_session

SEGMENT_VOICE = ("f0_median_hz", "intensity_median_db", "voiced_pct", "syllables")


def _schema() -> dict[str, Any]:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return _schema()


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable` in JSON Schema's words (as schemathesis reads it): null is allowed
    beside the type, or beside the whole `allOf` of a nullable nested object."""
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        if "type" in out:
            return {**out, "type": [out["type"], "null"]}
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _conforms(body: dict[str, Any], schema: dict[str, Any], component: str) -> None:
    # The components as part of the root, so the component's $refs resolve inside it.
    root = {"$ref": f"#/components/schemas/{component}", "components": _json_schema(schema["components"])}
    Draft202012Validator(root).validate(body)


def test_the_schema_types_every_voice_measure_with_its_unit(schema) -> None:  # type: ignore[no-untyped-def]
    comps = schema["components"]["schemas"]
    voice = comps["AnalysisOutput"]["properties"]["voice"]
    assert voice["nullable"] is True and voice["allOf"][0]["$ref"].endswith("/AnalysisVoice")
    body = comps["AnalysisVoice"]
    assert set(body["properties"]) == {"measures", "reasons", "notes", "pauses", "counts", "provenance"}
    measures = comps[body["properties"]["measures"]["$ref"].rsplit("/", 1)[1]]
    assert list(measures["properties"]) == list(MEASURE_KEYS) and set(measures["required"]) == set(
        MEASURE_KEYS
    )
    for key, prop in measures["properties"].items():
        assert prop["type"] == "number" and prop["nullable"] is True, key
        assert BY_KEY[key].unit in prop["description"] and BY_KEY[key].help in prop["description"], key
    pause = body["properties"]["pauses"]["items"]
    assert pause["items"]["type"] == "number" and pause["minItems"] == pause["maxItems"] == 2
    provenance = comps[body["properties"]["provenance"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert {"library", "version", "praat"} <= set(provenance["properties"])
    segment = comps["Segment"]["properties"]
    for key in SEGMENT_VOICE:
        assert segment[key]["nullable"] is True, key
    assert segment["syllables"]["type"] == "integer" and segment["f0_median_hz"]["type"] == "number"


@pytest.mark.django_db
def test_the_api_returns_the_voice_measures_and_each_segments_voice(api, upload, fresh_model, schema) -> None:  # type: ignore[no-untyped-def]
    analysis = services.analysis_run(recording_id=str(upload().pk))
    assert analysis is not None
    body = api.get(reverse("api:analysis", args=[analysis.pk])).json()
    _conforms(body, schema, "AnalysisOutput")
    voice = body["voice"]
    assert voice["measures"] == analysis.voice["values"] and list(voice["measures"]) == list(MEASURE_KEYS)
    assert voice["reasons"] == analysis.voice["reasons"] and voice["notes"] == analysis.voice["notes"]
    assert voice["pauses"] == analysis.voice["pauses"] and voice["pauses"]
    assert voice["provenance"]["library"] == "praat-parselmouth" and voice["provenance"]["praat"]
    assert voice["counts"]["syllables"] == sum(s[3] for s in analysis.voice["segments"]) > 0
    assert len(body["timeline"]) == len(analysis.voice["segments"]) >= 2
    for row, stored in zip(body["timeline"], analysis.voice["segments"], strict=True):
        assert [row[k] for k in SEGMENT_VOICE] == stored
    assert "voice.npz" in body["downloads"]
    # The recording's answer carries the same analysis.
    recording = api.get(reverse("api:recording", args=[analysis.recording_id])).json()
    assert recording["analyses"][0]["voice"] == voice
    _conforms(recording, schema, "RecordingOutput")


@pytest.mark.django_db
def test_an_analysis_made_before_voice_measures_has_null_voice(api, patient, schema) -> None:  # type: ignore[no-untyped-def]
    session = analysed_session(patient, 1, scores=np.ones(9), embedding=np.ones(64))
    analysis = session.recordings.get().analyses.get()
    body = api.get(reverse("api:analysis", args=[analysis.pk])).json()
    _conforms(body, schema, "AnalysisOutput")
    assert body["voice"] is None and "voice.npz" not in body["downloads"]
    assert all(body["timeline"][0][k] is None for k in SEGMENT_VOICE)


@pytest.mark.django_db
def test_measures_that_could_not_be_computed_keep_to_the_schema(api, patient, schema) -> None:  # type: ignore[no-untyped-def]
    from ser.engine.voice import unavailable

    session = analysed_session(patient, 1, scores=np.ones(9), embedding=np.ones(64))
    analysis = session.recordings.get().analyses.get()
    analysis.voice = unavailable("The voice measures could not be computed (boom).")
    analysis.save(update_fields=["voice"])
    body = api.get(reverse("api:analysis", args=[analysis.pk])).json()
    _conforms(body, schema, "AnalysisOutput")
    assert set(body["voice"]["measures"].values()) == {None}
    assert body["voice"]["counts"] == {} and body["voice"]["provenance"] == {}


def test_a_schema_validator_that_would_catch_a_mistyped_measure(schema) -> None:  # type: ignore[no-untyped-def]
    # The check above can fail: a measure given as a string does not conform.
    bad = {"measures": dict.fromkeys(MEASURE_KEYS, "1.0"), "reasons": {}, "notes": [], "pauses": []}
    bad |= {"counts": {}, "provenance": {}}
    with pytest.raises(Exception, match="is not of type 'number'"):
        _conforms(bad, schema, "AnalysisVoice")


@pytest.mark.django_db
def test_a_stored_row_missing_parts_or_newer_measures_still_keeps_to_the_schema(api, patient, schema) -> None:  # type: ignore[no-untyped-def]
    session = analysed_session(patient, 1, scores=np.ones(9), embedding=np.ones(64))
    analysis = session.recordings.get().analyses.get()
    analysis.voice = {"values": {"f0_median_hz": 120.5}}
    analysis.save(update_fields=["voice"])
    body = api.get(reverse("api:analysis", args=[analysis.pk])).json()
    _conforms(body, schema, "AnalysisOutput")
    assert body["voice"]["measures"] == {**dict.fromkeys(MEASURE_KEYS), "f0_median_hz": 120.5}
    assert body["voice"]["reasons"] == {} and body["voice"]["pauses"] == []
