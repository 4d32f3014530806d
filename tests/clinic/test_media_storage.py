"""MEDIA_STORAGE picks the storage from the environment: the file system by default, a private
S3-compatible bucket with `s3`, and a clear refusal to start without a bucket or with an unknown
value. Run in subprocesses, as settings are read once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

CODE = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
django.setup()
from django.conf import settings
from django.core.files.storage import storages
print(json.dumps({**settings.STORAGES["default"], "class": type(storages["default"]).__name__}))
"""


def _settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MEDIA_STORAGE"))}
    return subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _storage(**env: str) -> dict[str, object]:
    proc = _settings(**env)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_it_stores_on_the_file_system_by_default() -> None:
    got = _storage()
    assert got["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert got["class"] == "FileSystemStorage"


def test_s3_is_a_private_bucket_built_from_the_environment() -> None:
    got = _storage(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="clinic-media",
        AWS_S3_ENDPOINT_URL="https://minio.example.org:9000",
        AWS_S3_REGION_NAME="eu-west-1",
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_LOCATION="prod",
        AWS_S3_SERVER_SIDE_ENCRYPTION="aws:kms",
    )
    assert got["BACKEND"] == "storages.backends.s3.S3Storage" and got["class"] == "S3Storage"
    options = got["OPTIONS"]
    assert isinstance(options, dict)
    assert options["bucket_name"] == "clinic-media" and options["location"] == "prod"
    assert (
        options["endpoint_url"] == "https://minio.example.org:9000" and options["region_name"] == "eu-west-1"
    )
    assert options["addressing_style"] == "path"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["file_overwrite"] is False
    assert options["object_parameters"] == {"ServerSideEncryption": "aws:kms"}
    # No keys given: None, so boto3's own credential chain (an instance role, ~/.aws) decides.
    assert options["access_key"] is None and options["secret_key"] is None
    assert options["max_memory_size"] > 0  # opened objects spool to disk past this, not all in memory


@pytest.mark.parametrize(
    "env, words",
    [
        ({"MEDIA_STORAGE": "s3"}, "needs AWS_STORAGE_BUCKET_NAME"),
        ({"MEDIA_STORAGE": "gcs"}, "use filesystem or s3"),
    ],
    ids=["s3-without-bucket", "unknown"],
)
def test_it_refuses_to_start_without_what_it_needs(env: dict[str, str], words: str) -> None:
    proc = _settings(**env)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and words in proc.stderr
