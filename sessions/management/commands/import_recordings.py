"""Import a folder of recordings into a patient's sessions and queue their analyses — for clinics
moving an archive in. One new session per file, in file-name order (name files so that this is the
order they happened), dated by the file's modification time unless --date-from-name finds a date
(YYYY-MM-DD or YYYYMMDD) in the name. Files that are not valid audio are reported and skipped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from audit.context import acting_as
from patients.models import Patient
from ser.engine.audio import find_audio_files
from sessions.models import Recording
from sessions.services import recording_create, session_create

_DATE = re.compile(r"(20\d\d)-?([01]\d)-?([0-3]\d)")


@dataclass(frozen=True)
class Imported:
    """One file of the folder: its recording (queued), or why it was skipped."""

    path: Path
    recording: Recording | None
    error: str = ""


class Command(BaseCommand):
    help = __doc__
    # The audit trail's name for what did the import (reports' import_and_report extends this one).
    audit_path = "manage.py import_recordings"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder")
        parser.add_argument("--patient", required=True, help="patient id (UUID)")
        parser.add_argument(
            "--therapist", required=True, help="username of the therapist who owns the patient"
        )
        parser.add_argument(
            "--consent-confirmed",
            action="store_true",
            help="confirm the patient consented to every recording being analysed (required)",
        )
        parser.add_argument("--channel", choices=["mix", "left", "right"], default="mix")
        parser.add_argument("--granularity", choices=["utterance", "frame"], default="utterance")
        parser.add_argument("--date-from-name", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["consent_confirmed"]:
            raise CommandError(
                "Pass --consent-confirmed once you have confirmed consent for these recordings."
            )
        user = get_user_model().objects.filter(username=opts["therapist"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {opts['therapist']!r}.")
        with acting_as(user, path=self.audit_path):
            self._run(user, opts)

    def _run(self, user: Any, opts: dict[str, Any]) -> list[Imported]:
        try:
            patient = Patient.objects.for_user(user).get(pk=opts["patient"])
        except (Patient.DoesNotExist, ValidationError) as exc:
            raise CommandError("No such patient for this therapist.") from exc
        files = sorted(find_audio_files([opts["folder"]]), key=lambda p: p.name)
        if not files:
            raise CommandError("No audio files in the folder.")
        results: list[Imported] = []
        for path in files:
            started = self._date(path, opts["date_from_name"])
            try:
                with path.open("rb") as f:
                    upload = File(f, name=path.name)
                    with transaction.atomic():
                        session = session_create(
                            patient=patient, started_at=started, notes=f"Imported from {path.name}"
                        )
                        recording = recording_create(
                            session=session,
                            upload=upload,
                            consent_confirmed=True,
                            uploaded_by=user,
                            channel=opts["channel"],
                            granularity=opts["granularity"],
                        )
            except ValidationError as exc:
                results.append(Imported(path, None, " ".join(exc.messages)))
                self.stdout.write(f"skipped {path.name}: {results[-1].error}")
                continue
            results.append(Imported(path, recording))
            self.stdout.write(f"session {session.number}: {path.name} ({started:%Y-%m-%d}) queued")
        imported = sum(r.recording is not None for r in results)
        self.stdout.write(f"{imported} of {len(files)} recordings imported and queued.")
        return results

    @staticmethod
    def _date(path: Path, from_name: bool) -> datetime:
        if from_name and (m := _DATE.search(path.name)):
            try:
                return timezone.make_aware(datetime(int(m[1]), int(m[2]), int(m[3]), 12, 0))
            except ValueError:
                pass
        return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
