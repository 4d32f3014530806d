"""Pushing a report to the clinic's FHIR server, against a small FHIR-speaking HTTP server on
127.0.0.1: the service's outcomes (sent with server ids, refused with the server's words, a
transient failure raised for retry), the task's retries and giving up, and one run through a real
Celery worker that retries past two 503s."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue

from audit.models import AuditEvent
from reports import push, services
from reports.models import ReportExport
from reports.tasks import export_push

TOKEN = "s3cret-test-token"


@dataclass
class FhirServer:
    """Takes transaction Bundles at /fhir. `fail_with` answers that status `failures` times (then
    succeeds); 400 answers an OperationOutcome every time."""

    url: str = ""
    fail_with: int = 0
    failures: int = 0
    posts: int = 0
    accepted: list[bytes] = field(default_factory=list)
    locations: list[list[str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: FhirServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _answer(self, status: int, resource: object) -> None:
            body = resource.model_dump_json().encode()  # type: ignore[attr-defined]
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _outcome(self, status: int, code: str, words: str) -> None:
            issue = OperationOutcomeIssue(severity="error", code=code, diagnostics=words)
            self._answer(status, OperationOutcome(issue=[issue]))

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.posts += 1
                if self.path.rstrip("/") != "/fhir":
                    return self._outcome(404, "not-found", "no such endpoint")
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._outcome(401, "login", "bearer token missing or wrong")
                if self.headers.get("Content-Type") != "application/fhir+json":
                    return self._outcome(415, "not-supported", "send application/fhir+json")
                bundle: Any = Bundle.model_validate_json(body)
                if bundle.type != "transaction":
                    return self._outcome(400, "invalid", "only transaction bundles are processed here")
                if state.fail_with == 400:
                    return self._outcome(
                        400, "code-invalid", "Observation.code: unknown code system (HAPI-0450)"
                    )
                if state.failures > 0:
                    state.failures -= 1
                    return self._outcome(state.fail_with, "transient", "busy, try again")
                n = len(state.accepted)
                locations = [f"{e.request.url}/{n}-{i}/_history/1" for i, e in enumerate(bundle.entry or [])]
                state.accepted.append(body)
                state.locations.append(locations)
            reply = Bundle(
                type="transaction-response",
                entry=[
                    BundleEntry(response=BundleEntryResponse(status="201 Created", location=loc))
                    for loc in locations
                ],
            )
            self._answer(200, reply)

    return Handler


@pytest.fixture
def fhir_server(settings) -> Iterator[FhirServer]:  # type: ignore[no-untyped-def]
    # The clinic's FHIR server, configured as the push destination.
    state = FhirServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.FHIR_BASE_URL, settings.FHIR_TOKEN, settings.FHIR_TIMEOUT_S = state.url, TOKEN, 10.0
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def queued(history, patient, fhir_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """A push export queued through the real service (its task not sent)."""
    with django_capture_on_commit_callbacks(execute=False):
        return services.report_push(patient=patient, user=patient.owner)


@pytest.mark.django_db
def test_it_sends_the_bundle_and_stores_the_server_ids(queued, fhir_server, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    push.export_send(export_id=str(queued.pk))
    export = ReportExport.objects.get(pk=queued.pk)
    assert (export.status, export.attempts, export.http_status, export.error) == ("sent", 1, 200, "")
    (body,) = fhir_server.accepted
    assert export.server_ids == fhir_server.locations[0] and len(export.server_ids) > 8
    assert export.sha256 == hashlib.sha256(body).hexdigest() and export.size_bytes == len(body)
    assert (export.session_count, export.model_variant) == (6, "test-checkpoint-64d")
    assert export.finished_at is not None
    sent: Any = Bundle.model_validate_json(body)
    kinds = [e.resource.get_resource_type() for e in sent.entry or []]
    assert kinds.count("Observation") == 6 and "DiagnosticReport" in kinds and "Media" not in kinds
    (diagnostic,) = [
        e.resource for e in sent.entry or [] if e.resource.get_resource_type() == "DiagnosticReport"
    ]
    assert diagnostic.presentedForm[0].data.startswith(b"%PDF")  # the real PDF went with it
    event = AuditEvent.objects.filter(object_id=str(queued.pk), action=AuditEvent.Action.EXPORT).latest("pk")
    assert event.detail == "fhir push sent, 6 session(s)" and event.actor == queued.requested_by
    logged = caplog.text
    assert TOKEN not in logged and "Alex Example" not in logged and "MRN-001" not in logged


@pytest.mark.django_db
def test_a_refusal_fails_the_export_with_the_servers_words(queued, fhir_server) -> None:  # type: ignore[no-untyped-def]
    fhir_server.fail_with = 400
    push.export_send(export_id=str(queued.pk))
    export = ReportExport.objects.get(pk=queued.pk)
    assert (export.status, export.http_status, export.server_ids) == ("failed", 400, [])
    assert "HTTP 400" in export.error and "unknown code system (HAPI-0450)" in export.error
    assert not AuditEvent.objects.filter(detail__startswith="fhir push sent").exists()


@pytest.mark.django_db
def test_a_wrong_token_fails_and_says_to_check_it(queued, fhir_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FHIR_TOKEN = "not-the-clinics-token"
    push.export_send(export_id=str(queued.pk))
    export = ReportExport.objects.get(pk=queued.pk)
    assert (export.status, export.http_status) == ("failed", 401)
    assert "FHIR_TOKEN" in export.error and "not-the-clinics-token" not in export.error


@pytest.mark.django_db
def test_a_503_is_raised_for_retry_and_the_export_is_not_sent(queued, fhir_server) -> None:  # type: ignore[no-untyped-def]
    fhir_server.fail_with, fhir_server.failures = 503, 1
    with pytest.raises(push.TransientPushError) as raised:
        push.export_send(export_id=str(queued.pk))
    assert raised.value.attempts == 1
    export = ReportExport.objects.get(pk=queued.pk)
    assert (export.status, export.attempts, export.http_status) == ("queued", 1, 503)
    assert "503" in export.error and not export.server_ids and fhir_server.accepted == []


@pytest.mark.django_db
def test_an_unreachable_server_is_transient(queued, settings) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.FHIR_BASE_URL = f"http://127.0.0.1:{port}/fhir"
    with pytest.raises(push.TransientPushError, match="could not be reached"):
        push.export_send(export_id=str(queued.pk))
    assert ReportExport.objects.get(pk=queued.pk).status == "queued"


@pytest.mark.django_db
def test_an_export_that_ended_is_not_sent_again(queued, fhir_server) -> None:  # type: ignore[no-untyped-def]
    push.export_send(export_id=str(queued.pk))
    push.export_send(export_id=str(queued.pk))  # a redelivered message
    assert fhir_server.posts == 1 and ReportExport.objects.get(pk=queued.pk).attempts == 1


@pytest.mark.django_db
def test_the_task_retries_then_gives_up_with_words(queued, fhir_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FHIR_PUSH_MAX_ATTEMPTS = 3
    fhir_server.fail_with, fhir_server.failures = 503, 99
    export_push.apply(args=(str(queued.pk),))  # eager: each retry runs at once
    export = ReportExport.objects.get(pk=queued.pk)
    assert fhir_server.posts == 3
    assert (export.status, export.attempts, export.http_status) == ("failed", 3, 503)
    assert "Gave up after 3 attempts" in export.error and "503" in export.error


@pytest.mark.django_db
def test_the_task_succeeds_after_transient_failures(queued, fhir_server, settings) -> None:  # type: ignore[no-untyped-def]
    fhir_server.fail_with, fhir_server.failures = 429, 2
    export_push.apply(args=(str(queued.pk),))
    export = ReportExport.objects.get(pk=queued.pk)
    assert (export.status, export.attempts, len(fhir_server.accepted)) == ("sent", 3, 1)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_past_two_503s_and_sends_once(  # type: ignore[no-untyped-def]
    history, patient, fhir_server, start_worker
) -> None:
    fhir_server.fail_with, fhir_server.failures = 503, 2
    proc, log = start_worker(
        FHIR_BASE_URL=fhir_server.url, FHIR_TOKEN=TOKEN, FHIR_PUSH_RETRY_S="1", FHIR_PUSH_MAX_ATTEMPTS="5"
    )
    export = services.report_push(patient=patient, user=patient.owner)  # commits; the task is sent

    deadline = time.monotonic() + 240  # retries wait FHIR_PUSH_RETRY_S, 2× after each failure
    status = "queued"
    while time.monotonic() < deadline:
        status = ReportExport.objects.get(pk=export.pk).status
        if status in ("sent", "failed") or proc.poll() is not None:
            break
        time.sleep(0.5)
    worker_log = log.read_text(errors="replace")
    assert status == "sent", f"status={status}\n{worker_log[-4000:]}"
    export.refresh_from_db()
    assert export.attempts == 3 and fhir_server.posts == 3
    assert len(fhir_server.accepted) == 1  # exactly one bundle went through: no duplicate
    assert export.server_ids == fhir_server.locations[0] and export.http_status == 200
    assert json.loads(fhir_server.accepted[0])["type"] == "transaction"
    assert TOKEN not in worker_log
