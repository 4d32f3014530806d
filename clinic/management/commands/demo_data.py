"""Fill the demo therapist with one demo patient and a dozen sessions whose recordings are
synthetic espeak-ng speech analysed by the real pipeline, so a newcomer sees full pages at once.
Everything is marked as demo data made by the configured model (with the test checkpoint, its
scores are meaningless and every page says so)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.context import acting_as
from patients.models import Patient
from patients.services import patient_create
from ser.services import analysis_run
from ser.testkit.synth import espeak
from sessions.services import recording_create, session_create

DEMO_NAME = "DEMO — Sam Taylor (synthetic)"
PATIENT_LINES = [
    "I am doing fine, work is busy but manageable.",
    "This week was alright. I went for a walk with my sister.",
    "I slept badly on Tuesday, but otherwise it was a normal week.",
    "Things are harder lately. I keep worrying about my job.",
    "I have been feeling low and I do not enjoy much at the moment.",
    "I cried twice this week and I could not explain why.",
    "I am scared that it will not get better.",
    "A little better. I tried the breathing exercise every morning.",
    "I met a friend for coffee and actually laughed.",
    "I am sleeping more and I started cooking again.",
    "Work was stressful but I handled it better than before.",
    "I feel more like myself. I am planning a short trip.",
]
THERAPIST_LINES = ["How was your week?", "What helped?", "Tell me more about that.", "How did you sleep?"]


# How the patient's synthetic voice changes over the twelve weeks, so the voice panel has a story
# to show: steady for the three baseline sessions, then slower, lower and with longer pauses while
# the words turn low, then faster and higher than at baseline as they recover (which the voice
# flags mark for review: "above this patient's usual range" is not "better"). espeak-ng's pitch
# (-p, 0-99), speed (words per minute) and the silence between the patient's sentences (s).
VOICE_PITCH = [40, 42, 41, 36, 33, 31, 31, 37, 46, 52, 57, 60]
VOICE_SPEED = [150, 154, 151, 138, 128, 122, 125, 142, 160, 172, 182, 188]
VOICE_PAUSE_S = [0.55, 0.5, 0.6, 0.9, 1.3, 1.5, 1.4, 0.9, 0.5, 0.45, 0.4, 0.4]


def _recording(i: int) -> bytes:
    """Clinician on the right channel, patient on the left, with pauses."""
    import soundfile as sf

    rng = np.random.default_rng(i)
    parts: list[np.ndarray] = []
    week = i % len(VOICE_PITCH)
    # Eight exchanges, the patient saying four of the week's lines each time: over a minute of
    # patient speech, so the "little speech" flag marks only what really has little.
    for turn in range(8):
        therapist, sr = espeak(THERAPIST_LINES[turn % 4], voice="en-us+f3", pitch=70, speed=165)
        block = np.zeros((therapist.size, 2), np.float32)
        block[:, 1] = 0.8 * therapist
        parts += [block, np.zeros((int(rng.uniform(0.6, 1.6) * sr), 2), np.float32)]
        for k in (0, 1, 0, 2):
            line, _ = espeak(
                PATIENT_LINES[(i + k) % len(PATIENT_LINES)],
                voice="en-us+m3",
                pitch=VOICE_PITCH[week],
                speed=int(VOICE_SPEED[week] + rng.integers(-3, 4)),
            )
            block = np.zeros((line.size, 2), np.float32)
            block[:, 0] = 0.8 * line
            gap = VOICE_PAUSE_S[week] * rng.uniform(0.85, 1.15)
            parts += [block, np.zeros((int(gap * sr), 2), np.float32)]
        parts.append(np.zeros((int(rng.uniform(0.4, 0.9) * sr), 2), np.float32))
    buf = io.BytesIO()
    sf.write(buf, np.concatenate(parts), sr, format="FLAC")
    return buf.getvalue()


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sessions", type=int, default=12)
        parser.add_argument("--reset", action="store_true", help="replace an existing demo patient")

    def handle(self, *args: Any, **opts: Any) -> None:
        import os

        username = os.environ.get("DEMO_USERNAME", "demo.therapist")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError("Run `python manage.py demo_account` first.")
        with acting_as(user, path="manage.py demo_data"):
            self._run(user, opts)

    def _run(self, user: Any, opts: dict[str, Any]) -> None:
        existing = Patient.objects.for_user(user).filter(display_name=DEMO_NAME).first()
        if existing is not None and not opts["reset"]:
            self.stdout.write(f"Demo patient already present ({existing.sessions.count()} sessions).")
            return
        if existing is not None:
            existing.delete()
        patient = patient_create(
            owner=user,
            display_name=DEMO_NAME,
            external_id="DEMO-0001",
            notes="Demo data: synthetic espeak-ng speech, not a real person. "
            "Analysed by the configured model (the test checkpoint gives meaningless scores).",
        )
        start = timezone.now() - timedelta(weeks=opts["sessions"])
        for i in range(opts["sessions"]):
            session = session_create(
                patient=patient,
                started_at=start + timedelta(weeks=i),
                notes="Demo session (synthetic audio).",
            )
            recording = recording_create(
                session=session,
                consent_confirmed=True,
                uploaded_by=user,
                channel="left",
                # The last session at 20 ms frame granularity, to show the frame timeline.
                granularity="frame" if i == opts["sessions"] - 1 else "utterance",
                upload=SimpleUploadedFile(f"demo-session-{i + 1}.flac", _recording(i % 12)),
            )
            analysis = analysis_run(recording_id=str(recording.pk))
            state = f"{analysis.dominant_emotion} ({analysis.confidence:.2f})" if analysis else "failed"
            self.stdout.write(f"  session {session.number}: {state}")
        self.stdout.write(f"Demo patient {DEMO_NAME!r} with {opts['sessions']} analysed sessions.")
