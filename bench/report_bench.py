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
    from pypdf import PdfReader

    from bench._patients import bench_patient
    from reports.report import trend_report
    from reports.services import report_render

    with bench_patient(args.sessions, vary_speech=True) as (_, patient):
        build = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            report = trend_report(patient=patient)
            build.append(time.perf_counter() - t)
        seconds: dict[str, float] = {}
        sizes: dict[str, int] = {}
        outputs: dict[str, bytes] = {}
        for fmt in ("pdf", "csv", "fhir"):
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


if __name__ == "__main__":
    main()
