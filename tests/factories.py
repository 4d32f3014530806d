"""Rows for trend tests: sessions with a recording and a stored analysis whose scores and
embedding the test chooses (the pipeline itself is tested elsewhere, end to end)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import numpy as np
from django.core.files.base import ContentFile
from django.utils import timezone

from ser.models import EmotionAnalysis
from sessions.models import Recording, TherapySession

START = timezone.make_aware(datetime(2026, 1, 5, 10, 0))


def analysed_session(
    patient,
    number: int,
    *,
    scores,
    embedding,
    speech_s: float = 300.0,  # type: ignore[no-untyped-def]
    variant: str = "test-checkpoint-64d",
    when: datetime | None = None,
    with_file: bool = True,
) -> TherapySession:
    session = TherapySession.objects.create(
        patient=patient, number=number, started_at=when or START + timedelta(days=7 * (number - 1))
    )
    content = f"recording {patient.pk} {number}".encode()
    recording = Recording(
        session=session,
        original_name=f"s{number}.wav",
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        duration_s=speech_s * 1.4,
        sample_rate=16000,
        channels=1,
        consent_confirmed=True,
        uploaded_by=patient.owner,
        status=Recording.Status.DONE,
    )
    if with_file:
        recording.file.save(f"{recording.id.hex}.wav", ContentFile(content), save=False)
    else:
        recording.file.name = f"recordings/{recording.id.hex}.wav"
    recording.save()
    scores = np.asarray(scores, dtype=float)
    scores = scores / scores.sum()
    emb = np.asarray(embedding, dtype="<f4")
    EmotionAnalysis.objects.create(
        recording=recording,
        model_id="var/models/test",
        model_revision="sha256:0000",
        model_variant=variant,
        is_test_model=True,
        precision="fp32",
        input_sha256=recording.sha256,
        dominant_emotion="neutral",
        confidence=float(scores.max()),
        scores=list(scores),
        embedding=emb.tobytes(),
        embedding_dim=emb.size,
        duration_s=speech_s * 1.4,
        analysed_s=speech_s,
        segment_count=10,
        processing_s=1.0,
        segments=[[0.0, 5.0, *scores.tolist()]],
    )
    return session
