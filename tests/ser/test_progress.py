"""The job's stage and its own progress, written while the analysis runs, and shown by the API
and the session page: "Detecting speech — 40 %", then "Analysing — 3 of 12 segments"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ser import services
from ser.models import AnalysisJob

pytestmark = pytest.mark.django_db


def test_the_job_goes_through_each_stage_with_its_own_progress(upload, fresh_model, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    written: list[dict[str, object]] = []
    mark = services._mark

    def spy(recording_id: str, **fields: object) -> None:
        written.append(fields)
        mark(recording_id, **fields)

    monkeypatch.setattr(services, "_mark", spy)
    recording = upload()
    services.analysis_run(recording_id=str(recording.pk))

    stages = [w["stage"] for w in written if "stage" in w]
    assert list(dict.fromkeys(stages)) == ["decoding", "detecting_speech", "analysing", "saving", "finished"]
    speech = [int(str(w["progress"])) for w in written if w.get("stage") == "detecting_speech"]
    assert speech[0] == 0 and speech[-1] >= 90 and speech == sorted(speech)
    # Written only when the percentage moves, not once per block regardless.
    assert len(speech) == len(set(speech))
    analysing = [w for w in written if w.get("stage") == "analysing"]
    assert analysing[0]["segments_done"] == 0 and analysing[0]["progress"] == 0
    total = analysing[-1]["segments_total"]
    assert isinstance(total, int) and total >= 1 and analysing[-1]["segments_done"] == total
    job = AnalysisJob.objects.get(recording=recording)
    assert (job.status, job.stage, job.progress, job.segments_done) == ("done", "finished", 100, total)


def test_the_api_and_the_page_show_the_stage(api, web, upload) -> None:  # type: ignore[no-untyped-def]
    recording = upload()
    AnalysisJob.objects.filter(recording=recording).update(
        status=AnalysisJob.Status.RUNNING, stage=AnalysisJob.Stage.DETECTING_SPEECH, progress=40
    )
    body = api.get(reverse("api:recording", args=[recording.pk])).json()
    assert (body["status"], body["stage"], body["progress"]) == ("running", "detecting_speech", 40)
    page = web.get(reverse("ser:session", args=[recording.session_id])).content.decode()
    assert "Detecting speech — 40 %" in page
    AnalysisJob.objects.filter(recording=recording).update(
        stage=AnalysisJob.Stage.ANALYSING, progress=25, segments_done=3, segments_total=12
    )
    body = api.get(reverse("api:recording", args=[recording.pk])).json()
    assert (body["stage"], body["segments_done"], body["segments_total"]) == ("analysing", 3, 12)
    page = web.get(reverse("ser:session", args=[recording.session_id])).content.decode()
    assert "Analysing — 3 of 12 segments" in page


def test_a_new_upload_is_queued_and_the_sweeper_puts_a_lost_run_back_to_queued(upload, settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    recording = upload()
    assert AnalysisJob.objects.get(recording=recording).stage == "queued"
    AnalysisJob.objects.filter(recording=recording).update(
        status=AnalysisJob.Status.RUNNING,
        stage=AnalysisJob.Stage.ANALYSING,
        started_at=timezone.now() - timedelta(days=1),
    )
    services.requeue_stale(older_than_s=60)
    job = AnalysisJob.objects.get(recording=recording)
    assert (job.status, job.stage) == ("pending", "queued")


def test_the_schema_types_the_stage_as_an_enum_and_documents_retry() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    comps = schema["components"]["schemas"]
    stage = comps["RecordingOutput"]["properties"]["stage"]
    assert stage["allOf"][0]["$ref"].endswith("/AnalysisStageEnum")
    assert set(comps["AnalysisStageEnum"]["enum"]) == {s.value for s in AnalysisJob.Stage}
    retry = schema["paths"]["/api/v1/recordings/{id}/retry/"]["post"]
    assert {"202", "404", "409"} <= set(retry["responses"])
