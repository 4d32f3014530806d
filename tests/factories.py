"""factory_boy factories for rows whose contents a test chooses (the pipeline itself is tested end
to end elsewhere), and `analysed_session`, a session with one done recording and its analysis."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, cast

import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from patients.models import Patient
from ser.models import AnalysisJob, EmotionAnalysis
from sessions.models import Recording, TherapySession

START = timezone.make_aware(datetime(2026, 1, 5, 10, 0))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"therapist{n}")
    password = factory.django.Password("correct horse battery")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    owner = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"Patient {n}")


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TherapySession

    patient = factory.SubFactory(PatientFactory)
    number = factory.Sequence(lambda n: n + 1)
    started_at = factory.LazyAttribute(lambda o: START + timedelta(days=7 * (o.number - 1)))


class RecordingFactory(factory.django.DjangoModelFactory):
    """A recording whose stored bytes are a short placeholder (with_file=False: no file at all)."""

    class Meta:
        model = Recording

    session = factory.SubFactory(SessionFactory)
    content = factory.LazyAttribute(lambda o: f"recording {o.session.pk}".encode())
    with_file = True
    original_name = factory.LazyAttribute(lambda o: f"s{o.session.number}.wav")
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())
    size_bytes = factory.LazyAttribute(lambda o: len(o.content))
    duration_s = 420.0
    sample_rate = 16000
    channels = 1
    consent_confirmed = True
    uploaded_by = factory.LazyAttribute(lambda o: o.session.patient.owner)

    @classmethod
    def _create(cls, model_class: type[Recording], *args: Any, **kwargs: Any) -> Recording:
        content, with_file = kwargs.pop("content"), kwargs.pop("with_file")
        recording = model_class(**kwargs)
        if with_file:
            recording.file.save(f"{recording.id.hex}.wav", ContentFile(content), save=False)
        else:
            recording.file.name = f"recordings/{recording.id.hex}.wav"
        recording.save()
        return recording


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnalysisJob

    recording = factory.SubFactory(RecordingFactory)
    status = AnalysisJob.Status.DONE
    progress = 100
    attempts = 1


class AnalysisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmotionAnalysis

    recording = factory.SubFactory(RecordingFactory)
    model_id = "var/models/test"
    model_revision = "sha256:0000"
    model_variant = "test-checkpoint-64d"
    is_test_model = True
    precision = "fp32"
    input_sha256 = factory.LazyAttribute(lambda o: o.recording.sha256)
    dominant_emotion = "neutral"
    confidence = 0.5
    scores = factory.LazyFunction(lambda: [1 / 9] * 9)
    embedding = factory.LazyFunction(lambda: np.zeros(64, "<f4").tobytes())
    embedding_dim = 64
    duration_s = 420.0
    analysed_s = 300.0
    segment_count = 10
    processing_s = 1.0
    segments = factory.LazyAttribute(lambda o: [[0.0, 5.0, *o.scores]])


def analysed_session(
    patient: Patient,
    number: int,
    *,
    scores: Any,
    embedding: Any,
    speech_s: float = 300.0,
    variant: str = "test-checkpoint-64d",
    when: datetime | None = None,
    with_file: bool = True,
) -> TherapySession:
    """Session `number` of `patient`, with one done recording whose analysis has these scores
    (normalised) and this embedding."""
    kwargs = {"started_at": when} if when is not None else {}
    session = cast(TherapySession, SessionFactory(patient=patient, number=number, **kwargs))
    recording = RecordingFactory(
        session=session,
        with_file=with_file,
        content=f"recording {patient.pk} {number}".encode(),
        duration_s=speech_s * 1.4,
    )
    JobFactory(recording=recording)
    p = np.asarray(scores, dtype=float)
    p = p / p.sum()
    emb = np.asarray(embedding, dtype="<f4")
    AnalysisFactory(
        recording=recording,
        model_variant=variant,
        confidence=float(p.max()),
        scores=list(p),
        embedding=emb.tobytes(),
        embedding_dim=emb.size,
        duration_s=speech_s * 1.4,
        analysed_s=speech_s,
    )
    return session
