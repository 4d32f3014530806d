"""Queue visibility: a queued recording's place in the queue (every therapist's queued jobs count,
nothing of theirs is shown) and the estimated time to done, from the recording's duration and the
RTF measured by the analyses stored on this host; in the API and on the session page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ser import services
from ser.estimates import duration_words, measured_rtf, ordinal, queue_estimate, queue_estimates, rounded_s
from ser.models import AnalysisJob
from sessions.models import Recording, TherapySession
from tests.factories import AnalysisFactory, JobFactory, PatientFactory, RecordingFactory, SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_session(therapist) -> TherapySession:  # type: ignore[no-untyped-def]
    # A session of the owning therapist's patient: its recordings are the ones looked at.
    return cast(TherapySession, SessionFactory(patient=PatientFactory(owner=therapist)))


@pytest.fixture
def others_session(other_therapist) -> TherapySession:  # type: ignore[no-untyped-def]
    # Another therapist's session: its queued jobs count in positions, nothing of them is shown.
    return cast(TherapySession, SessionFactory(patient=PatientFactory(owner=other_therapist)))


def _job(
    session: TherapySession,
    *,
    status: AnalysisJob.Status = AnalysisJob.Status.PENDING,
    duration_s: float = 60.0,
    queued_ago_s: float = 0.0,
    name: str = "r.wav",
    **fields: Any,
) -> AnalysisJob:
    recording = RecordingFactory(
        session=session, duration_s=duration_s, original_name=name, content=f"{session.pk} {name}".encode()
    )
    stage = {
        AnalysisJob.Status.PENDING: AnalysisJob.Stage.QUEUED,
        AnalysisJob.Status.RUNNING: AnalysisJob.Stage.DECODING,
    }.get(status, AnalysisJob.Stage.FINISHED)
    defaults: dict[str, Any] = {"stage": stage, "progress": 0, "attempts": 0}
    if status == AnalysisJob.Status.RUNNING:
        defaults["started_at"] = timezone.now()
    job = JobFactory(
        recording=recording,
        status=status,
        queued_at=timezone.now() - timedelta(seconds=queued_ago_s),
        **{**defaults, **fields},
    )
    return cast(AnalysisJob, job)


def _measured(variant: str, precision: str, rtfs: list[float]) -> None:
    for rtf in rtfs:
        AnalysisFactory(
            model_variant=variant, precision=precision, duration_s=100.0, processing_s=100.0 * rtf
        )


def test_positions_count_every_therapists_queued_jobs_and_show_nothing_of_theirs(
    api, own_session, others_session
) -> None:  # type: ignore[no-untyped-def]
    theirs_first = _job(others_session, queued_ago_s=40, name="theirs-first.wav")
    mine_a = _job(own_session, queued_ago_s=30, name="mine-a.wav")
    theirs_second = _job(others_session, queued_ago_s=20, name="theirs-second.wav")
    mine_b = _job(own_session, queued_ago_s=10, name="mine-b.wav")
    _job(others_session, status=AnalysisJob.Status.RUNNING, name="theirs-running.wav")
    _job(others_session, status=AnalysisJob.Status.DONE, queued_ago_s=99, name="theirs-done.wav")

    found = queue_estimates(recording_ids=[mine_a.pk, mine_b.pk])
    assert (found[mine_a.pk].position, found[mine_b.pk].position) == (2, 4)
    assert found[mine_a.pk].running == 1

    response = api.get(reverse("api:recordings", args=[own_session.pk]))
    assert response.status_code == 200
    by_name = {r["original_name"]: r for r in response.json()}
    assert (by_name["mine-a.wav"]["queue_position"], by_name["mine-b.wav"]["queue_position"]) == (2, 4)
    assert by_name["mine-a.wav"]["estimate"].startswith("2nd in the queue · about ")
    body = response.content.decode()
    for job in (theirs_first, theirs_second):
        assert str(job.pk) not in body
    assert "theirs" not in body


def test_a_new_job_is_queued_now_and_a_retry_goes_to_the_back_but_the_sweeper_keeps_its_place(
    upload, own_session, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    before = timezone.now()
    recording = upload()
    job = AnalysisJob.objects.get(recording=recording)
    assert before <= job.queued_at <= timezone.now()

    failed = _job(own_session, status=AnalysisJob.Status.FAILED, queued_ago_s=600, name="failed.wav")
    waiting = _job(own_session, queued_ago_s=300, name="waiting.wav")
    assert queue_estimate(waiting) is not None and queue_estimate(waiting).position == 1  # type: ignore[union-attr]
    assert queue_estimate(failed) is None

    with django_capture_on_commit_callbacks(execute=True):
        services.job_retry(recording=failed.recording)
    failed.refresh_from_db()
    assert failed.queued_at > job.queued_at
    positions = queue_estimates(recording_ids=[failed.pk, waiting.pk, recording.pk])
    assert (positions[waiting.pk].position, positions[recording.pk].position) == (1, 2)
    assert positions[failed.pk].position == 3

    # The sweeper re-sends a stale pending job's message: it keeps its place.
    AnalysisJob.objects.filter(pk=waiting.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    queued_at = AnalysisJob.objects.get(pk=waiting.pk).queued_at
    assert services.requeue_stale(older_than_s=60) >= 1
    assert AnalysisJob.objects.get(pk=waiting.pk).queued_at == queued_at
    assert queue_estimate(waiting).position == 1  # type: ignore[union-attr]


def test_the_eta_uses_the_rtf_measured_on_the_newest_variant_and_precision(
    own_session, others_session
) -> None:  # type: ignore[no-untyped-def]
    _measured("older-variant", "fp32", [1.0, 1.0, 1.0, 1.0])  # what the workers ran before
    _measured("emotion2vec_plus_large", "bf16", [0.04, 0.05, 0.06, 0.07, 0.50])  # median 0.06
    rtf = measured_rtf()
    assert rtf.value == pytest.approx(0.06) and rtf.measured_over == 5
    assert rtf.basis == "measured RTF 0.06 over the last 5 analyses (emotion2vec_plus_large, bf16)"

    _job(others_session, status=AnalysisJob.Status.RUNNING, duration_s=600)  # 36 s left, just started
    _job(others_session, duration_s=300, queued_ago_s=20)  # 18 s of work ahead
    mine = _job(own_session, duration_s=1100, queued_ago_s=10)  # 66 s of its own

    estimate = queue_estimate(mine)
    assert estimate is not None
    assert (estimate.position, estimate.running) == (2, 1)
    assert estimate.eta_s == 120  # 36 + 18 + 66
    assert estimate.words == "2nd in the queue · about 2 min"

    # Two workers busy: the work ahead is shared between them.
    _job(others_session, status=AnalysisJob.Status.RUNNING, duration_s=600)
    assert queue_estimate(mine).eta_s == 110  # type: ignore[union-attr]  # (36 + 36 + 18) / 2 + 66 = 111


def test_with_nothing_measured_it_assumes_the_setting_and_says_so(api, own_session, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SER_ESTIMATE_RTF = 0.2
    mine = _job(own_session, duration_s=300)
    estimate = queue_estimate(mine)
    assert estimate is not None and estimate.rtf.measured_over == 0
    assert (estimate.position, estimate.eta_s) == (1, 60)
    assert estimate.words == "Next in the queue · about 1 min"
    body = api.get(reverse("api:recording", args=[mine.pk])).json()
    assert body["eta_s"] == 60
    assert "not yet measured" in body["estimate_basis"] and "SER_ESTIMATE_RTF" in body["estimate_basis"]


def test_with_nothing_running_for_a_while_it_waits_for_a_worker_without_a_time(api, web, own_session) -> None:  # type: ignore[no-untyped-def]
    oldest = _job(own_session, queued_ago_s=300, name="oldest.wav")
    newest = _job(own_session, queued_ago_s=1, name="newest.wav")
    found = queue_estimates(recording_ids=[oldest.pk, newest.pk])
    assert [found[j.pk].eta_s for j in (oldest, newest)] == [None, None]
    assert found[oldest.pk].words == "Next in the queue · waiting for a worker to start"
    assert found[newest.pk].words == "2nd in the queue · waiting for a worker to start"
    assert found[oldest.pk].basis == "no analysis is running and the oldest queued recording has waited 5 min"

    body = api.get(reverse("api:recording", args=[newest.pk])).json()
    assert (body["queue_position"], body["eta_s"]) == (2, None)
    page = web.get(reverse("ser:session", args=[own_session.pk])).content.decode()
    assert "2nd in the queue · waiting for a worker to start" in page

    # A job queued just now, with nothing running, is about to be picked up: it gets a time.
    AnalysisJob.objects.filter(pk=oldest.pk).update(status=AnalysisJob.Status.DONE)
    assert queue_estimate(newest).eta_s is not None  # type: ignore[union-attr]


def test_a_running_job_has_its_own_time_left(api, own_session, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SER_ESTIMATE_RTF = 0.1
    # Just started: duration × RTF.
    starting = _job(own_session, status=AnalysisJob.Status.RUNNING, duration_s=600, name="starting.wav")
    # Six of eight segments scored in 76 s: its own pace (76 s for 76 % of the run) is the guide.
    far = _job(
        own_session,
        status=AnalysisJob.Status.RUNNING,
        duration_s=600,
        name="far.wav",
        stage=AnalysisJob.Stage.ANALYSING,
        progress=75,
        segments_done=6,
        segments_total=8,
        started_at=timezone.now() - timedelta(seconds=76),
    )
    found = queue_estimates(recording_ids=[starting.pk, far.pk])
    assert (found[starting.pk].position, found[starting.pk].eta_s) == (None, 60)
    assert found[starting.pk].words == "about 1 min left"
    assert found[far.pk].eta_s == 25  # 76 × 0.24 / 0.76 = 24 s, to the nearest 5 s
    assert found[far.pk].words == "about 25 s left"

    body = api.get(reverse("api:recording", args=[far.pk])).json()
    assert (body["status"], body["queue_position"], body["eta_s"], body["estimate"]) == (
        "running",
        None,
        25,
        "about 25 s left",
    )
    # With two running, a queued job waits for the first slot's work to be shared out.
    mine = _job(own_session, duration_s=100)
    assert queue_estimate(mine).eta_s == 50  # type: ignore[union-attr]  # (60 + 24) / 2 + 10 = 52 s


def test_the_api_types_the_fields_and_leaves_them_empty_when_done(api, own_session) -> None:  # type: ignore[no-untyped-def]
    from drf_spectacular.generators import SchemaGenerator

    props = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"][
        "RecordingOutput"
    ]["properties"]
    assert props["queue_position"]["type"] == "integer" and props["queue_position"]["nullable"] is True
    assert props["eta_s"]["type"] == "integer" and props["eta_s"]["nullable"] is True
    assert props["estimate"]["type"] == "string" and props["estimate_basis"]["type"] == "string"

    queued = _job(own_session, duration_s=120, name="queued.wav")
    done = _job(own_session, status=AnalysisJob.Status.DONE, name="done.wav")
    body = {r["original_name"]: r for r in api.get(reverse("api:recordings", args=[own_session.pk])).json()}
    q, d = body["queued.wav"], body["done.wav"]
    assert isinstance(q["queue_position"], int) and isinstance(q["eta_s"], int)
    assert isinstance(q["estimate"], str) and q["estimate"] and q["estimate_basis"]
    assert (d["queue_position"], d["eta_s"], d["estimate"], d["estimate_basis"]) == (None, None, "", "")
    assert queued.pk and done.pk


def test_the_session_page_shows_the_place_and_the_time(web, own_session, others_session, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SER_ESTIMATE_RTF = 0.1
    _job(others_session, duration_s=600, queued_ago_s=20)
    _job(own_session, duration_s=1200, queued_ago_s=10)
    _job(own_session, status=AnalysisJob.Status.RUNNING, duration_s=400, name="running.wav")
    page = web.get(reverse("ser:session", args=[own_session.pk])).content.decode()
    # (40 s running + 60 s ahead) / 1 slot + 120 s of its own = 220 s.
    assert "2nd in the queue · about 4 min" in page
    assert "about 40 s left" in page
    assert 'title="RTF 0.1 assumed (SER_ESTIMATE_RTF): not yet measured on this host"' in page


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_estimating_takes_the_same_queries_however_many_recordings_are_queued(
    api, web, own_session, others_session, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _measured("emotion2vec_plus_large", "bf16", [0.05, 0.06])
    _job(others_session, status=AnalysisJob.Status.RUNNING)
    _job(own_session, name="first.wav")
    page, listing, detail = (
        reverse("ser:session", args=[own_session.pk]),
        reverse("api:recordings", args=[own_session.pk]),
        reverse("api:session", args=[own_session.pk]),
    )
    _queries(web, page), _queries(api, listing)  # warm: the first request loads what later ones reuse
    one = [_queries(web, page), _queries(api, listing), _queries(api, detail)]
    for i in range(4):
        _job(
            own_session,
            name=f"more-{i}.wav",
            status=AnalysisJob.Status.RUNNING if i == 0 else AnalysisJob.Status.PENDING,
        )
    assert [_queries(web, page), _queries(api, listing), _queries(api, detail)] == one

    ids = list(Recording.objects.values_list("pk", flat=True))
    with django_assert_max_num_queries(4):
        assert len(queue_estimates(recording_ids=ids)) == 6
    with django_assert_max_num_queries(0):
        assert queue_estimates(recording_ids=[]) == {}


def test_the_words_are_rounded_to_what_an_estimate_can_claim() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
    ]  # fmt: skip
    assert [rounded_s(s) for s in (0.4, 42, 114, 170, 725, 4790)] == [5, 40, 110, 170, 720, 4800]
    assert [duration_words(s) for s in (40, 170, 3600, 4800)] == ["40 s", "3 min", "1 h", "1 h 20 min"]
