"""Import a folder of recordings as `import_recordings` does (one session per file), wait for
their analyses, and write a CSV of the results: the on-server twin of examples/upload_folder.py,
with the same columns. It lives here rather than beside import_recordings because waiting reads
the analysis app's jobs and analyses, which the sessions layer may not import."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from django.core.management.base import CommandError
from tqdm import tqdm

from ser.engine.labels import EMOTIONS
from ser.engine.notices import TEST_MODEL_WARNING
from ser.models import AnalysisJob, EmotionAnalysis
from sessions.management.commands.import_recordings import Command as ImportCommand
from sessions.management.commands.import_recordings import Imported

CSV_COLUMNS = [
    *("file", "session_id", "session_number", "recording_id", "status", "dominant_emotion", "confidence"),
    *(f"score_{e}" for e in EMOTIONS),
    *("analysed_s", "model_id", "model_revision", "precision", "is_test_model", "input_sha256", "error"),
]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


class Command(ImportCommand):
    help = __doc__
    audit_path = "manage.py import_and_report"

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument("--csv", default="results.csv", help="results file (default: results.csv)")
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="stop waiting after this many seconds in all (default: no limit)",
        )
        parser.add_argument("--poll", type=float, default=2.0, help="seconds between status checks")

    def _run(self, user: Any, opts: dict[str, Any]) -> list[Imported]:
        out = Path(opts["csv"])
        if not out.parent.is_dir():  # found out now, not after an hour of analyses
            raise CommandError(f"Cannot write {out}: there is no folder {out.parent}.")
        results = super()._run(user, opts)
        ids = [r.recording.pk for r in results if r.recording is not None]
        jobs = self._wait(ids, timeout=opts["timeout"], poll=opts["poll"])
        latest: dict[UUID, EmotionAnalysis] = {}
        for analysis in (
            EmotionAnalysis.objects.for_user(user).filter(recording_id__in=ids).order_by("updated_at")
        ):
            latest[analysis.recording_id] = analysis  # the newest wins, as in the API's analyses[0]
        rows = [self._row(r, jobs, latest, opts["timeout"]) for r in results]
        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        for row in rows:  # a refused file's reason was given as it was skipped (and is in the CSV)
            if row["status"] == "done":
                self.stdout.write(f"{row['file']}: done: {row['dominant_emotion']} {row['confidence']}")
            elif row["status"] != "refused":
                self.stdout.write(f"{row['file']}: {row['status']}: {row['error']}")
        statuses = [row["status"] for row in rows]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
        self.stdout.write(f"{counts}. Results: {out}")
        if any(row["is_test_model"] == "true" for row in rows):
            self.stdout.write(f"Note: {TEST_MODEL_WARNING}")
        if statuses.count("done") != len(rows):
            raise CommandError(
                f"{len(rows) - statuses.count('done')} of {len(rows)} files not analysed; see {out}.",
                returncode=1,
            )
        return results

    def _wait(self, ids: list[UUID], *, timeout: float | None, poll: float) -> dict[UUID, AnalysisJob]:
        """The recordings' jobs once every one is done or failed, or as they stand at the timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with tqdm(total=len(ids), desc="Analysing", unit="file", file=sys.stderr, disable=None) as bar:
            while True:
                jobs = {j.recording_id: j for j in AnalysisJob.objects.filter(recording_id__in=ids)}
                # A recording without a job yet is pending, as the API shows it.
                finished = sum(rid in jobs and not jobs[rid].active for rid in ids)
                bar.update(finished - bar.n)
                if finished == len(ids) or (deadline is not None and time.monotonic() >= deadline):
                    return jobs
                time.sleep(poll)

    @staticmethod
    def _row(
        item: Imported,
        jobs: dict[UUID, AnalysisJob],
        latest: dict[UUID, EmotionAnalysis],
        timeout: float | None,
    ) -> dict[str, str]:
        row = dict.fromkeys(CSV_COLUMNS, "")
        row["file"] = item.path.name
        recording = item.recording
        if recording is None:
            row.update(status="refused", error=item.error)
            return row
        job = jobs.get(recording.pk)
        status = str(job.status if job else AnalysisJob.Status.PENDING)
        row.update(
            session_id=str(recording.session_id),
            session_number=str(recording.session.number),
            recording_id=str(recording.pk),
            status=status,
            error=job.error if job else "",
        )
        if status in (AnalysisJob.Status.PENDING, AnalysisJob.Status.RUNNING):
            limit = "the wait" if timeout is None else f"the --timeout of {timeout:g} s"
            row["error"] = f"Still {status} when {limit} ran out; the analysis goes on on the server."
        analysis = latest.get(recording.pk)
        if status == AnalysisJob.Status.DONE and analysis is not None:
            row.update(
                dominant_emotion=analysis.dominant_emotion,
                confidence=_number(analysis.confidence),
                analysed_s=_number(analysis.analysed_s),
                model_id=analysis.model_id,
                model_revision=analysis.model_revision,
                precision=analysis.precision,
                is_test_model="true" if analysis.is_test_model else "false",
                input_sha256=analysis.input_sha256,
            )
            row.update({f"score_{e}": _number(v) for e, v in analysis.score_map.items()})
        return row
