"""Report benchmark: a patient with 200 analysed sessions (1024-d embeddings, like
emotion2vec_plus_large), the trend report rendered as PDF, CSV and FHIR.

    python bench/report_bench.py [--sessions 200] [--repeat 3] [--page-size a4] [--out report.pdf]

Creates a throw-away database (test_<name>_bench), times `reports.services.report_render` per format
(median of --repeat; FHIR is skipped with a note when its exporter is not there) and building the
`TrendReport` itself, and prints one JSON line last. Target: the PDF in under 5 s.
"""

from __future__ import annotations

import argparse
import io
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
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--page-size", default="a4", choices=["a4", "letter"])
    ap.add_argument("--out", type=Path, help="also write the PDF here")
    args = ap.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    import django

    django.setup()
    import numpy as np
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.contrib.auth import get_user_model
        from pypdf import PdfReader

        from patients.services import patient_create
        from reports.report import trend_report
        from reports.services import report_render
        from tests.factories import analysed_session

        user = get_user_model().objects.create_user(username="bench", password="x" * 16)
        patient = patient_create(owner=user, display_name="Bench Patient", external_id="BENCH-1")
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        for n in range(1, args.sessions + 1):
            analysed_session(
                patient,
                n,
                scores=rng.dirichlet(np.ones(9)),
                embedding=rng.normal(size=1024),
                speech_s=float(rng.uniform(30, 900)),
                variant="emotion2vec_plus_large",
                with_file=False,
            )
        print(f"[bench] {args.sessions} sessions created in {time.perf_counter() - t:.1f} s", file=sys.stderr)

        build = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            report = trend_report(patient=patient)
            build.append(time.perf_counter() - t)
        seconds: dict[str, float] = {}
        sizes: dict[str, int] = {}
        outputs: dict[str, bytes] = {}
        for fmt in ("pdf", "csv", "fhir"):
            if fmt == "fhir":
                try:
                    import reports.exports.fhir  # noqa: F401
                except ImportError as exc:
                    print(
                        f"[bench] fhir skipped: reports.exports.fhir not importable ({exc})", file=sys.stderr
                    )
                    continue
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                outputs[fmt] = report_render(report=report, fmt=fmt, page_size=args.page_size)
                times.append(time.perf_counter() - t)
            seconds[fmt] = round(statistics.median(times), 3)
            sizes[fmt] = len(outputs[fmt])
        pages = len(PdfReader(io.BytesIO(outputs["pdf"])).pages)
        if args.out:
            args.out.write_bytes(outputs["pdf"])
            print(f"[bench] PDF written to {args.out}", file=sys.stderr)
        print(
            json.dumps(
                {
                    "sessions": args.sessions,
                    "page_size": args.page_size,
                    "trend_report_s": round(statistics.median(build), 3),
                    "render_s_median": seconds,
                    "bytes": sizes,
                    "pdf_pages": pages,
                    "pdf_under_5s": seconds["pdf"] < 5.0,
                }
            )
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
