"""A bounded load test on loopback: uploaders and dashboard readers against gunicorn and a Celery
worker, for a fixed time; then it waits for every upload to be analysed and prints one JSON line.

    python bench/load.py --start     # starts gunicorn + a worker itself (dev settings), stops them after
    python bench/load.py --url http://127.0.0.1:8000 --username U --password P   # a running app

Run by hand, not in CI. Only loopback addresses are accepted as targets. Every loop is bounded by
--seconds (default 300) and the whole run by --seconds + --drain-seconds.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import requests
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # ser.testkit
PY = sys.executable


def _loopback_only(url: str) -> None:
    host = urlparse(url).hostname or ""
    addr = ipaddress.ip_address(socket.gethostbyname(host))
    if not addr.is_loopback:
        raise SystemExit(f"refusing to load {host}: only loopback targets are allowed")


def _wav(seed: int) -> bytes:
    """About 8 s of espeak-ng speech with pauses (silero-vad takes pure tones for silence)."""
    from ser.testkit.synth import espeak

    lines = ["I slept badly this week.", "Work was fine, I think.", "I went for a walk on Sunday."]
    parts = []
    for k, text in enumerate(lines):
        speech, sr = espeak(text, pitch=40 + 10 * ((seed + k) % 4), speed=150 + 10 * (seed % 3))
        parts += [speech, np.zeros(int(0.8 * sr), np.float32)]
    buf = io.BytesIO()
    sf.write(buf, np.concatenate(parts), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.codes: dict[int, int] = defaultdict(int)
        self.errors = 0
        self.uploaded: list[str] = []

    def add(self, kind: str, seconds: float, code: int) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            self.codes[code] += 1


def _web_session(url: str, username: str, password: str) -> requests.Session:
    s = requests.Session()
    s.get(f"{url}/accounts/login/", timeout=30)
    r = s.post(
        f"{url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": s.cookies["csrftoken"]},
        headers={"Referer": f"{url}/accounts/login/"},
        timeout=30,
    )
    r.raise_for_status()
    return s


def _timed(stats: Stats, kind: str, call) -> requests.Response | None:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    try:
        r = call()
    except requests.RequestException:
        with stats.lock:
            stats.errors += 1
        return None
    stats.add(kind, time.perf_counter() - t, r.status_code)
    return r


def run(
    url: str,
    username: str,
    password: str,
    uploaders: int,
    readers: int,
    seconds: float,
    drain: float,
    upload_every: float,
) -> dict:
    _loopback_only(url)
    token = requests.post(
        f"{url}/api/auth/token/", data={"username": username, "password": password}, timeout=30
    )
    token.raise_for_status()
    auth = {"Authorization": f"Token {token.json()['token']}"}
    patient = requests.post(
        f"{url}/api/patients/", data={"display_name": "LOAD TEST (synthetic)"}, headers=auth, timeout=30
    ).json()
    session = requests.post(
        f"{url}/api/patients/{patient['id']}/sessions/",
        data={"started_at": "2026-11-21T10:00:00Z"},
        headers=auth,
        timeout=30,
    ).json()
    stats = Stats()
    stop = time.monotonic() + seconds
    audio = [_wav(i) for i in range(4)]

    def uploader(i: int) -> None:
        n = 0
        while time.monotonic() < stop:
            body = audio[(i + n) % len(audio)]
            r = _timed(
                stats,
                "upload",
                lambda n=n, body=body: requests.post(
                    f"{url}/api/sessions/{session['id']}/recordings/",
                    files={"file": (f"u{i}-{n}.wav", body, "audio/wav")},
                    data={"consent_confirmed": "true"},
                    headers=auth,
                    timeout=60,
                ),
            )
            if r is not None and r.status_code == 201:
                with stats.lock:
                    stats.uploaded.append(r.json()["id"])
            n += 1
            time.sleep(upload_every)  # a therapist uploads now and then, not in a tight loop

    def reader(i: int) -> None:
        web = _web_session(url, username, password)
        pages = [
            ("dashboard", f"{url}/patients/{patient['id']}/"),
            ("plot", f"{url}/patients/{patient['id']}/plots/trajectory.svg"),
            ("api", f"{url}/api/patients/"),
            ("session", f"{url}/sessions/{session['id']}/"),
        ]
        n = 0
        while time.monotonic() < stop:
            kind, page = pages[(i + n) % len(pages)]
            _timed(stats, kind, lambda page=page: web.get(page, timeout=60))
            n += 1
            time.sleep(0.5)

    threads = [threading.Thread(target=uploader, args=(i,)) for i in range(uploaders)]
    threads += [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    # Every upload must be analysed (or fail in words): wait, bounded.
    deadline = time.monotonic() + drain
    states: dict[str, int] = {}
    while time.monotonic() < deadline:
        states = defaultdict(int)
        for rid in stats.uploaded:
            states[
                requests.get(f"{url}/api/recordings/{rid}/", headers=auth, timeout=30).json()["status"]
            ] += 1
        if states.get("pending", 0) + states.get("running", 0) == 0:
            break
        time.sleep(10)
    all_times = [x for v in stats.times.values() for x in v]
    return {
        "seconds": seconds,
        "upload_every_s": upload_every,
        "uploaders": uploaders,
        "readers": readers,
        "requests": len(all_times),
        "p50_ms": round(1000 * statistics.median(all_times), 1) if all_times else None,
        "p95_ms": round(1000 * float(np.percentile(all_times, 95)), 1) if all_times else None,
        "by_kind_p95_ms": {k: round(1000 * float(np.percentile(v, 95)), 1) for k, v in stats.times.items()},
        "status_codes": dict(sorted(stats.codes.items())),
        "5xx": sum(c for code, c in stats.codes.items() if code >= 500),
        "connection_errors": stats.errors,
        "uploaded": len(stats.uploaded),
        "analysed": states.get("done", 0),
        "failed": states.get("failed", 0),
        "still_queued": states.get("pending", 0) + states.get("running", 0),
    }


def _peak_rss_mb(pattern: str) -> float:
    """Highest VmHWM of the processes whose command line matches (the worker's children)."""
    peak = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if re.search(pattern, cmd):
                for line in (proc / "status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return round(peak, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--username", default="load.therapist")
    parser.add_argument("--password", default="load-test-password-123")
    parser.add_argument("--uploaders", type=int, default=20)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument(
        "--upload-every", type=float, default=15.0, help="seconds between one uploader's uploads"
    )
    parser.add_argument("--drain-seconds", type=float, default=900)
    parser.add_argument(
        "--start", action="store_true", help="start gunicorn and a worker here, stop them after"
    )
    args = parser.parse_args()
    procs: list[subprocess.Popen[bytes]] = []
    peak = {"stop": False, "worker_mb": 0.0}
    if args.start:
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECRET_KEY": "load-test-only-" + "k" * 40,
            "AXES_FAILURE_LIMIT": "1000",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [
                PY,
                "manage.py",
                "shell",
                "-c",
                "from django.contrib.auth import get_user_model as g; u,_=g().objects.get_or_create(username="
                f"'{args.username}'); u.set_password('{args.password}'); u.save()",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        port = urlparse(args.url).port or 80
        procs.append(
            subprocess.Popen(
                [
                    PY,
                    "-m",
                    "gunicorn",
                    "clinic.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "3",
                    "--timeout",
                    "120",
                ],
                cwd=ROOT,
                env=env,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    PY,
                    "-m",
                    "celery",
                    "-A",
                    "clinic",
                    "worker",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "WARNING",
                    "-Q",
                    os.environ.get("CELERY_QUEUE", "clinic"),
                ],
                cwd=ROOT,
                env=env,
            )
        )
        for _ in range(60):
            try:
                if requests.get(f"{args.url}/healthz", timeout=2).status_code in (200, 503):
                    break
            except requests.RequestException:
                time.sleep(1)

    def watch() -> None:
        while not peak["stop"]:
            peak["worker_mb"] = max(peak["worker_mb"], _peak_rss_mb(r"celery -A clinic worker"))
            time.sleep(2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = run(
            args.url,
            args.username,
            args.password,
            args.uploaders,
            args.readers,
            args.seconds,
            args.drain_seconds,
            args.upload_every,
        )
    finally:
        peak["stop"] = True
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    result["peak_worker_rss_mb"] = peak["worker_mb"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
