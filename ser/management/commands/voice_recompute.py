"""Compute the voice measures (pitch, loudness, rate, pauses, voice quality) of existing analyses
from their stored processed audio and the segments their model scored: for analyses made before
the measures existed (the default: only those without measures), or for all of them after the
measures changed (--all). The emotion scores are not touched; each change is audited.

    python manage.py voice_recompute                 # every analysis without voice measures
    python manage.py voice_recompute --patient ID    # one patient's analyses
    python manage.py voice_recompute --all           # every analysis, measures replaced
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from audit.context import acting_as
from ser.models import EmotionAnalysis
from ser.services import VoiceRecomputeError, voice_recompute


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--patient", action="append", default=[], help="patient id (UUID); repeatable")
        parser.add_argument("--all", action="store_true", help="also analyses that already have measures")
        parser.add_argument("--limit", type=int, default=0, help="at most this many analyses (0: no limit)")

    def handle(self, *args: Any, **opts: Any) -> None:
        analyses = EmotionAnalysis.objects.select_related("recording__session").order_by("created_at")
        if opts["patient"]:
            try:
                analyses = analyses.filter(recording__session__patient__in=opts["patient"])
                analyses.exists()
            except (ValidationError, ValueError) as exc:
                raise CommandError(f"Not a patient id: {exc}") from exc
        if not opts["all"]:
            analyses = analyses.filter(Q(voice={}) | Q(voice__values__isnull=True))
        if opts["limit"]:
            analyses = analyses[: opts["limit"]]
        done = failed = 0
        with acting_as(None, path="manage.py voice_recompute"):
            for analysis in analyses.iterator(chunk_size=50):
                label = f"analysis {analysis.pk} (session {analysis.recording.session.number})"
                try:
                    voice_recompute(analysis=analysis)
                except VoiceRecomputeError as exc:
                    failed += 1
                    self.stderr.write(f"{label}: not recomputed: {exc}")
                    continue
                done += 1
                values = analysis.voice_values
                self.stdout.write(
                    f"{label}: F0 median {_fmt(values.get('f0_median_hz'))} Hz, "
                    f"speech rate {_fmt(values.get('speech_rate'))} syll/s, "
                    f"pause ratio {_fmt(values.get('pause_ratio'))} %"
                )
        self.stdout.write(f"{done} recomputed, {failed} not recomputed.")
        if failed:
            raise CommandError(f"{failed} analysis/analyses could not be recomputed (reasons above).")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
