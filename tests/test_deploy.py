"""docker-compose.yml is safe to expose as shipped (Docker does not run on the build machines, so
the file itself is what is checked): DEBUG off, a SECRET_KEY required, the demo account only in a
profile, the app reached only through the proxy, whose body limit matches the app's upload limit."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.conf import settings

from clinic.limits import max_body_bytes

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_defaults_are_safe_to_expose() -> None:
    compose = _compose()
    env = compose["x-app"]["environment"]
    assert env["DEBUG"] == "${DEBUG:-0}"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # compose stops, saying how to make one
    services = compose["services"]
    assert services["demo"]["profiles"] == ["demo"]
    assert not any("demo_account" in str(s.get("command", "")) for n, s in services.items() if n != "demo")
    assert "ports" not in services["web"] and services["proxy"]["ports"] == ["${WEB_BIND:-127.0.0.1}:8000:80"]


def test_the_proxy_caps_bodies_at_the_apps_upload_limit() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    (limit,) = re.findall(r"client_max_body_size\s+(\d+)m;", conf)
    default_upload = 1024 * 1024 * 1024
    assert settings.SER_MAX_UPLOAD_BYTES == default_upload  # the limit the proxy is written for
    assert int(limit) * 1024 * 1024 == max_body_bytes()


def test_the_gpu_worker_profile_consumes_the_queue_recordings_are_routed_to(settings) -> None:  # type: ignore[no-untyped-def]
    services = _compose()["services"]
    gpu = services["worker-gpu"]
    assert gpu["profiles"] == ["gpu"] and gpu["environment"]["SER_DEVICE"] == "cuda"
    assert gpu["command"].endswith(f"-Q ${{SER_GPU_QUEUE:-{settings.SER_GPU_QUEUE}}}")
    assert "-Q clinic" in services["worker"]["command"]  # the CPU queue (CELERY_QUEUE's default)
    assert services["minio"]["profiles"] == ["s3"]
