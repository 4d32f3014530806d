"""Production settings pass Django's deployment checks; Celery's limits are ordered; cookies are
hardened. Run in subprocesses with production environment variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
            "  'prefetch': s.CELERY_WORKER_PREFETCH_MULTIPLIER}))",
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
