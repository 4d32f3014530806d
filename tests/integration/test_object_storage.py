"""Object storage is a settings change: the whole path — API upload, a real Celery worker's
analysis, downloads, the audio with Range, deletion — against a real S3 server (moto's, in its own
process on a free port), with nothing written under MEDIA_ROOT and nothing left in the worker's
temp folder."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ser.models import DOWNLOADS, EmotionAnalysis
from sessions.models import Recording
from tests.audio import speech_wav_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BUCKET = "clinic-media-tests"
PREFIX = "clinic"  # AWS_LOCATION: every key under it
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # moto takes any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def s3_endpoint(tmp_path: Path) -> Iterator[str]:
    """A real S3 API (moto's server) in a process of its own, with an empty private bucket."""
    import boto3

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "moto.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", **_boto_keys())
        deadline = time.monotonic() + 60
        while True:
            try:
                client.list_buckets()
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        client.create_bucket(Bucket=BUCKET)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _boto_keys() -> dict[str, str]:
    return {
        "aws_access_key_id": KEYS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": KEYS["AWS_SECRET_ACCESS_KEY"],
    }


@pytest.fixture
def bucket(s3_endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **_boto_keys())


def _keys(bucket: Any) -> set[str]:
    return {o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if not p.is_dir()] if folder.exists() else []


def _third_party_state(path: Path, tmp: Path) -> bool:
    """onnxruntime (the engine's VAD) keeps its telemetry session id, a 51-byte `.ses` file
    (a timestamp and a UUID), in TMPDIR: no media, so the one file allowed to stay there."""
    return path.relative_to(tmp).as_posix() == ".ses" and path.stat().st_size < 1024


def test_it_runs_upload_analysis_downloads_and_delete_on_s3(  # type: ignore[no-untyped-def]
    settings, s3_endpoint, bucket, start_worker, api, session, tmp_path
) -> None:
    # The test process (the web app) on S3 as the settings build it for MEDIA_STORAGE=s3.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": KEYS["AWS_ACCESS_KEY_ID"],
                "secret_key": KEYS["AWS_SECRET_ACCESS_KEY"],
                "location": PREFIX,
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
                "object_parameters": {"ServerSideEncryption": "AES256"},
                "max_memory_size": 16 * 1024 * 1024,
            },
        },
    }
    from storages.backends.s3 import S3Storage

    assert isinstance(storages["default"], S3Storage)
    assert Recording._meta.get_field("file").storage is default_storage  # the lazy one, now S3
    media = Path(settings.MEDIA_ROOT)
    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    # The worker configured through the environment alone, as a deployment would be.
    proc, log = start_worker(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_S3_REGION_NAME="us-east-1",
        AWS_LOCATION=PREFIX,
        AWS_S3_SERVER_SIDE_ENCRYPTION="AES256",
        TMPDIR=str(worker_tmp),
        MPLCONFIGDIR=str(tmp_path / "mpl"),
        **KEYS,
    )

    content = speech_wav_bytes(sr=22050)
    upload = api.post(
        reverse("api:recordings", args=[session.pk]),
        {"file": SimpleUploadedFile("visit-1.wav", content), "consent_confirmed": True},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    recording_id = upload.json()["recordings"][0]["id"]

    deadline, status = time.monotonic() + 180, "pending"
    while time.monotonic() < deadline:
        status = api.get(reverse("api:recording", args=[recording_id])).json()["status"]
        if status in ("done", "failed") or proc.poll() is not None:
            break
        time.sleep(0.5)
    assert status == "done", f"status={status}\n{log.read_text(errors='replace')[-4000:]}"

    recording = Recording.objects.get(pk=recording_id)
    analysis = EmotionAnalysis.objects.get(recording=recording)
    # Every file is an object in the bucket, under the prefix, encrypted at rest as configured.
    # (Utterance granularity: no frames.npz.)
    names = [recording.file.name] + [
        getattr(analysis, f).name for f in DOWNLOADS.values() if getattr(analysis, f)
    ]
    assert len(names) == 1 + len(DOWNLOADS) - 1
    assert {f"{PREFIX}/{name}" for name in names} <= _keys(bucket)
    for name in names:
        assert bucket.head_object(Bucket=BUCKET, Key=f"{PREFIX}/{name}")["ServerSideEncryption"] == "AES256"
    assert bucket.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{recording.file.name}")["Body"].read() == content

    # Downloads stream from the bucket through the permission-checked views.
    result = api.get(reverse("api:analysis-file", args=[analysis.pk, "result.json"]))
    assert result.status_code == 200
    assert json.loads(_body(result))["input"]["sha256"] == recording.sha256 == analysis.input_sha256
    embedding = api.get(reverse("api:analysis-file", args=[analysis.pk, "embedding.npy"]))
    assert embedding.status_code == 200
    np.testing.assert_allclose(np.load(io.BytesIO(_body(embedding))), analysis.embedding_array(), rtol=1e-6)
    processed_key = f"{PREFIX}/{analysis.audio_file.name}"
    processed = bucket.get_object(Bucket=BUCKET, Key=processed_key)["Body"].read()
    # What the web app asks S3 for: a seek must fetch from its position on, never the whole object.
    fetched: list[str | None] = []
    storages["default"].connection.meta.client.meta.events.register(
        "provide-client-params.s3.GetObject", lambda params, **_: fetched.append(params.get("Range"))
    )
    wav = api.get(
        reverse("ser:download", args=[analysis.pk, "processed_audio.wav"]), HTTP_RANGE="bytes=44-1043"
    )
    assert wav.status_code == 206 and _body(wav) == processed[44:1044]
    assert wav["Content-Range"] == f"bytes 44-1043/{len(processed)}"
    assert fetched == ["bytes=44-"]

    # The recording's own audio, seeking as the player does.
    audio = api.get(reverse("sessions:audio", args=[recording.pk]), HTTP_RANGE="bytes=1000-1999")
    assert audio.status_code == 206 and audio["Content-Range"] == f"bytes 1000-1999/{len(content)}"
    assert _body(audio) == content[1000:2000]
    whole = api.get(reverse("sessions:audio", args=[recording.pk]))
    assert whole.status_code == 200 and _body(whole) == content
    assert fetched == ["bytes=44-", "bytes=1000-", "bytes=0-"]  # one streamed GET per request

    # Nothing went to the local media folder, and the worker's temp copies are all gone.
    assert _files_under(media) == []
    leftovers = [p for p in _files_under(worker_tmp) if not _third_party_state(p, worker_tmp)]
    assert leftovers == [], log.read_text(errors="replace")[-2000:]

    # Deleting the recording takes every one of its objects out of the bucket.
    gone = api.post(reverse("sessions:recording_delete", args=[recording.pk]))
    assert gone.status_code == 302
    assert not Recording.objects.filter(pk=recording_id).exists()
    assert _keys(bucket) == set()
    assert _files_under(media) == []
