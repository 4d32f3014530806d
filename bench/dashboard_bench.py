"""Dashboard benchmark: a patient with 200 analysed sessions (plus_large-sized 1024-d embeddings).

    python bench/dashboard_bench.py [--sessions 200] [--repeat 20]

Creates a throw-away database (test_<name>_bench), measures the dashboard page's server time and
query count (Django test client, median of --repeat), the plot endpoints cold (cache empty, drawn
in the request) and warm, and the first view after an analysis (the worker's pre-rendering done).
Prints one JSON line last. Target: dashboard ≤ 300 ms, no N+1 queries; first view ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    os.environ["CACHE_URL"] = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from bench._patients import bench_patient

    settings.ALLOWED_HOSTS = ["testserver"]
    with bench_patient(args.sessions) as (user, patient):
        client = Client()
        client.force_login(user)
        url = reverse("reports:dashboard", args=[patient.pk])
        client.get(url)
        from django.db import reset_queries

        connection.force_debug_cursor = True
        reset_queries()
        response = client.get(url)
        queries = list(connection.queries)
        connection.force_debug_cursor = False
        assert response.status_code == 200 and b"Bench Patient" in response.content
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - t)
        from reports.charts import plots_prerender

        plot_cold, plot_warm, plot_prerendered = {}, {}, {}
        # What a clinician waits for on the first view after an analysis: the worker has drawn the
        # dashboard's plots (reports.tasks.plots_prerender) by then.
        cache.clear()
        t = time.perf_counter()
        plots_prerender(patient_id=str(patient.pk))
        prerender_s = round(time.perf_counter() - t, 2)
        for kind in ("trajectory", "drift", "map"):
            purl = reverse("reports:plot", args=[patient.pk, kind]) + "?variant=emotion2vec_plus_large"
            t = time.perf_counter()
            assert client.get(purl).status_code == 200
            plot_prerendered[kind] = round((time.perf_counter() - t) * 1000, 1)
        for kind in ("trajectory", "drift", "map"):
            purl = reverse("reports:plot", args=[patient.pk, kind]) + "?variant=emotion2vec_plus_large"
            cache.clear()
            t = time.perf_counter()
            assert client.get(purl).status_code == 200
            plot_cold[kind] = round((time.perf_counter() - t) * 1000, 1)
            t = time.perf_counter()
            client.get(purl)
            plot_warm[kind] = round((time.perf_counter() - t) * 1000, 1)
        print(
            json.dumps(
                {
                    "sessions": args.sessions,
                    "dashboard_ms_median": round(statistics.median(times) * 1000, 1),
                    "dashboard_ms_max": round(max(times) * 1000, 1),
                    "queries": len(queries),
                    "html_kb": round(len(response.content) / 1024, 1),
                    "plot_cold_ms": plot_cold,
                    "plot_warm_ms": plot_warm,
                    "plot_first_view_after_analysis_ms": plot_prerendered,
                    "worker_prerender_s": prerender_s,
                }
            )
        )


if __name__ == "__main__":
    main()
