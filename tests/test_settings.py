"""Production settings pass Django's deployment checks; Celery's limits are ordered; cookies are
hardened; sessions, logins and tokens are bounded; nothing starts with DEBUG off and a development
SECRET_KEY. Run in subprocesses with production environment variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "p" * 30 + "-a-long-random-production-secret-for-the-check-" + "q" * 20,
    "ALLOWED_HOSTS": "clinic.example.org",
    "SECURE_SSL_REDIRECT": "1",
    "DB_SSLMODE": "verify-full",
    "CELERY_BROKER_URL": "rediss://redis.example.org:6380/0?ssl_cert_reqs=required",
}


def test_production_settings_pass_the_deploy_check() -> None:
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env={**os.environ, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_production_cookies_transport_and_task_limits() -> None:
    code = "\n".join(
        [
            "import os, json, django",
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'clinic.settings')",
            "django.setup()",
            "from django.conf import settings as s",
            "print(json.dumps({",
            "  'secure': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE,",
            "  'httponly': s.SESSION_COOKIE_HTTPONLY, 'samesite': s.SESSION_COOKIE_SAMESITE,",
            "  'idle': s.SESSION_COOKIE_AGE, 'every': s.SESSION_SAVE_EVERY_REQUEST,",
            "  'sslmode': s.DATABASES['default'].get('OPTIONS', {}).get('sslmode'),",
            "  'broker': s.CELERY_BROKER_URL, 'soft': s.CELERY_TASK_SOFT_TIME_LIMIT,",
            "  'hard': s.CELERY_TASK_TIME_LIMIT,",
            "  'vis': s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'],",
            "  'acks_late': s.CELERY_TASK_ACKS_LATE, 'lost': s.CELERY_TASK_REJECT_ON_WORKER_LOST,",
            "  'prefetch': s.CELERY_WORKER_PREFETCH_MULTIPLIER,",
            "  'absolute': s.SESSION_ABSOLUTE_SECONDS, 'token_ttl': s.API_TOKEN_TTL_SECONDS,",
            "  'auth': s.REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES'],",
            "  'backends': s.AUTHENTICATION_BACKENDS, 'middleware': s.MIDDLEWARE,",
            "  'failures': s.AXES_FAILURE_LIMIT, 'cooloff': s.AXES_COOLOFF_TIME.total_seconds()}))",
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**os.environ, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
    )
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["secure"] and got["csrf"] and got["httponly"] and got["samesite"] == "Lax"
    assert got["idle"] <= 30 * 60 and got["every"]
    assert got["sslmode"] == "verify-full" and got["broker"].startswith("rediss://")
    assert got["soft"] < got["hard"] < got["vis"]
    assert got["acks_late"] and got["lost"] and got["prefetch"] == 1
    assert got["absolute"] <= 12 * 60 * 60 and got["token_ttl"] <= 30 * 24 * 60 * 60
    assert got["auth"][0] == "clinic.auth.ExpiringTokenAuthentication"
    assert "rest_framework.authentication.TokenAuthentication" not in got["auth"]
    assert got["backends"][0] == "axes.backends.AxesStandaloneBackend"
    assert got["middleware"][-1] == "axes.middleware.AxesMiddleware"
    for name in ("AbsoluteSessionLifetimeMiddleware", "NoStoreMiddleware"):
        assert f"clinic.middleware.{name}" in got["middleware"]
    assert got["failures"] <= 5 and got["cooloff"] >= 15 * 60


EXAMPLE_KEY = "dev-only-change-me-for-any-real-deployment-0123456789"  # .env.example's
HOW_TO = "secrets.token_urlsafe(50)"


def _start(command: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:  # it started and ran: exactly what must not happen
        raise AssertionError(f"{command[2:4]} started with a development SECRET_KEY") from exc


def _production_env(secret_key: str | None) -> dict[str, str]:
    env = {**os.environ, **PRODUCTION}
    if secret_key is None:
        del env["SECRET_KEY"]  # falls back to .env's (the example) or the settings default
    else:
        env["SECRET_KEY"] = secret_key
    return env


@pytest.mark.parametrize(
    "secret_key",
    [EXAMPLE_KEY, None, "dev-only-anything-else-but-long-enough-for-django-checks-0123456789", ""],
    ids=["env-example", "unset", "dev-only-prefix", "empty"],
)
def test_it_refuses_to_start_with_a_development_secret_key_when_debug_is_off(secret_key: str | None) -> None:
    proc = _start([sys.executable, "manage.py", "check"], _production_env(secret_key))
    assert proc.returncode != 0
    assert "refusing to start" in proc.stderr and HOW_TO in proc.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "gunicorn", "clinic.wsgi:application", "--bind", "127.0.0.1:0", "--workers", "1"],
        ["-m", "celery", "-A", "clinic", "worker", "--concurrency", "1", "-Q", "never-consumed"],
        ["-m", "celery", "-A", "clinic", "beat", "-s", "{tmp}/celerybeat-schedule"],
    ],
    ids=["gunicorn", "celery-worker", "celery-beat"],
)
def test_servers_and_workers_refuse_a_development_secret_key(command: list[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    command = [part.format(tmp=tmp_path) for part in command]
    proc = _start([sys.executable, *command], _production_env(EXAMPLE_KEY))
    assert proc.returncode != 0
    assert HOW_TO in proc.stdout + proc.stderr


def test_development_mode_still_starts_with_the_example_key() -> None:
    # scripts/run.sh: DEBUG=1 and the example key from .env.
    proc = _start(
        [sys.executable, "manage.py", "check"], {**os.environ, "DEBUG": "1", "SECRET_KEY": EXAMPLE_KEY}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_models_and_the_migrations_agree() -> None:
    # A model change without its migration would reach production as a schema the code does not match.
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_lists_every_setting_the_readme_names() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    table = readme[readme.index("## Settings (environment or `.env`)") : readme.index("## Commands")]
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    example = (root / ".env.example").read_text()
    missing = sorted(n for n in named if not re.search(rf"^#?\s*{n}=", example, re.M))
    assert len(named) > 30 and missing == []
