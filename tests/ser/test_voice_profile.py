"""A therapist's voice profile: enrolment from a sample on the page and through the API (real
speech detector and speaker encoder, real PostgreSQL), consent, bad samples that change nothing,
the audio kept only when asked, every user reaching only their own profile, deletion, and
enrolment from one voice of an analysed session."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from ser import runtime, voiceprofiles
from ser.models import VoiceProfile
from ser.testkit.synth import ENROLMENT_TEXT, Voice
from tests.factories import AnalysisFactory, RecordingFactory, SessionFactory

pytestmark = pytest.mark.django_db

THERAPIST = Voice("en-us+f3", 70)


def _wav(x: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture(scope="module")
def sample_wav() -> bytes:
    """About 30 s of the therapist reading the enrolment text."""
    return _wav(THERAPIST.say(ENROLMENT_TEXT))


@pytest.fixture(scope="module")
def short_wav() -> bytes:
    """A few seconds of speech: too little for a profile."""
    return _wav(THERAPIST.say("Hello, this is a short test of my voice."))


def _old_profile(user, *, with_sample: bool = False) -> VoiceProfile:  # type: ignore[no-untyped-def]
    """A profile made earlier (a constant voice print), with a kept sample when asked."""
    profile = VoiceProfile(
        user=user,
        embedding=np.full(256, 1 / 16, "<f4").tobytes(),
        speech_s=42.0,
        model_name="Resemblyzer voice encoder old",
        model_revision="sha256:old",
        source=VoiceProfile.Source.SAMPLE,
        consented_at=timezone.now(),
    )
    if with_sample:
        profile.sample_file.name = default_storage.save("voice-profiles/old.wav", ContentFile(b"old sample"))
    profile.save()
    return profile


def _media_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_it_shows_the_page_linked_from_the_header_and_the_time_zone_page(web) -> None:  # type: ignore[no-untyped-def]
    page = web.get(reverse("ser:voice_profile"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="no-profile"' in html and "Not the recording" in html
    assert 'id="voice-recorder"' in html and "ser/voice_profile.js" in html and "<script>" not in html
    assert reverse("ser:voice_profile") in web.get(reverse("accounts:time_zone")).content.decode()
    assert 'id="voice-profile-link"' in html


def test_it_requires_consent_and_refuses_a_short_sample_keeping_the_old_profile(
    web, therapist, short_wav, settings
) -> None:  # type: ignore[no-untyped-def]
    old = _old_profile(therapist)
    url = reverse("ser:voice_profile")

    no_consent = web.post(url, {"file": SimpleUploadedFile("me.wav", short_wav)})
    assert no_consent.status_code == 400
    assert "Confirm that you agree" in no_consent.content.decode()

    short = web.post(url, {"file": SimpleUploadedFile("me.wav", short_wav), "consent": "on"})
    assert short.status_code == 400
    assert "a voice profile needs at least 15 s" in short.content.decode()

    garbage = web.post(url, {"file": SimpleUploadedFile("me.wav", b"RIFF not audio at all"), "consent": "on"})
    assert garbage.status_code == 400 and "could not be read as audio" in garbage.content.decode()

    kept = VoiceProfile.objects.get(pk=therapist.pk)
    assert (kept.model_revision, bytes(kept.embedding)) == (old.model_revision, bytes(old.embedding))
    assert not AuditEvent.objects.filter(object_type="voiceprofile").exists()
    assert _media_files(settings) == []


def test_it_enrols_on_the_page_replacing_the_old_profile_and_its_kept_sample(
    web, therapist, sample_wav, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    old = _old_profile(therapist, with_sample=True)
    old_file = Path(settings.MEDIA_ROOT) / str(old.sample_file.name)
    assert old_file.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(
            reverse("ser:voice_profile"),
            {"file": SimpleUploadedFile("../../my voice.wav", sample_wav), "consent": "on"},
        )
    assert response.status_code == 302

    profile = VoiceProfile.objects.get(pk=therapist.pk)
    encoder = runtime.get_speaker_encoder()
    vector = profile.embedding_array()
    assert vector.shape == (256,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-3
    assert 15 <= profile.speech_s <= 60
    assert profile.source == VoiceProfile.Source.SAMPLE and profile.model_revision == encoder.info.revision
    # The audio was not kept, and the replaced profile's kept sample is gone.
    assert not profile.sample_file and not old_file.exists() and _media_files(settings) == []
    event = AuditEvent.objects.get(object_type="voiceprofile")
    assert (event.action, event.actor_id) == (AuditEvent.Action.UPDATE, therapist.pk)

    html = web.get(reverse("ser:voice_profile")).content.decode()
    assert f"{profile.speech_s:.0f} s of your speech" in html and "Not kept" in html


def test_the_api_keeps_the_sample_only_when_asked_and_each_user_reaches_only_their_own(
    api, other_api, therapist, other_therapist, sample_wav, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("api:voice-profile")
    assert api.get(url).status_code == 404  # none yet

    refused = api.put(
        url, {"file": SimpleUploadedFile("me.wav", sample_wav), "consent": "false"}, format="multipart"
    )
    assert refused.status_code == 400 and not VoiceProfile.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        created = api.put(
            url,
            {
                "file": SimpleUploadedFile("../../x\x00.wav", sample_wav),
                "consent": "true",
                "keep_sample": "true",
            },
            format="multipart",
        )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["sample_kept"] is True and body["source"] == "sample" and "embedding" not in body
    profile = VoiceProfile.objects.get(pk=therapist.pk)
    stored = Path(settings.MEDIA_ROOT) / str(profile.sample_file.name)
    assert stored.read_bytes() == sample_wav
    assert stored.parent.name == "voice-profiles" and len(stored.stem) == 32  # a server-made name
    assert AuditEvent.objects.filter(object_type="voiceprofile", action=AuditEvent.Action.CREATE).count() == 1

    # Another therapist sees no profile, and deleting "theirs" touches nobody else's.
    assert other_api.get(url).status_code == 404
    assert other_api.delete(url).status_code == 404
    assert VoiceProfile.objects.filter(pk=therapist.pk).exists() and stored.exists()
    assert api.get(url).json()["speech_s"] == pytest.approx(profile.speech_s)

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(url).status_code == 204
    assert not VoiceProfile.objects.exists() and not stored.exists()
    assert AuditEvent.objects.filter(object_type="voiceprofile", action=AuditEvent.Action.DELETE).count() == 1
    assert api.get(url).status_code == 404


def test_the_page_deletes_after_a_confirmation(
    web, therapist, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    profile = _old_profile(therapist, with_sample=True)
    url = reverse("ser:voice_profile_delete")
    confirm = web.get(url)
    assert confirm.status_code == 200 and 'id="confirm-delete"' in confirm.content.decode()
    assert VoiceProfile.objects.filter(pk=therapist.pk).exists()  # asking deletes nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert web.post(url).status_code == 302
    assert not VoiceProfile.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / str(profile.sample_file.name)).exists()


def _voice_analysis(owner, *, revision: str, seconds_b: float = 31.5):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    centres = {
        v: (c / np.linalg.norm(c)).round(6).tolist()
        for v, c in zip("AB", rng.normal(size=(2, 256)), strict=True)
    }
    recording = RecordingFactory(session=SessionFactory(patient__owner=owner), channel="voice")
    return AnalysisFactory(
        recording=recording,
        speakers={
            "method": "voices",
            "named": False,
            "seconds": {"voice_A": 40.2, "voice_B": seconds_b},
            "model": {"name": "Resemblyzer voice encoder", "version": "0.1.4", "revision": revision},
            "centres": centres,
            "segments": [],
        },
    )


def test_it_enrols_from_a_voice_of_the_owners_analysed_session(therapist, other_therapist) -> None:  # type: ignore[no-untyped-def]
    revision = runtime.get_speaker_encoder().info.revision
    analysis = _voice_analysis(therapist, revision=revision)

    with pytest.raises(Http404):  # not theirs
        voiceprofiles.voice_profile_from_analysis(
            user=other_therapist, analysis=analysis, voice="B", consent=True
        )
    with pytest.raises(ValidationError, match="agree"):
        voiceprofiles.voice_profile_from_analysis(user=therapist, analysis=analysis, voice="B", consent=False)

    profile = voiceprofiles.voice_profile_from_analysis(
        user=therapist, analysis=analysis, voice="B", consent=True
    )
    assert profile.source == VoiceProfile.Source.SESSION and profile.speech_s == 31.5
    assert np.allclose(profile.embedding_array(), analysis.speakers["centres"]["B"], atol=1e-5)
    assert str(analysis.pk) in profile.source_detail
    assert AuditEvent.objects.filter(object_type="voiceprofile", action=AuditEvent.Action.CREATE).exists()
    assert not VoiceProfile.objects.filter(pk=other_therapist.pk).exists()

    other_model = _voice_analysis(therapist, revision="sha256:another")
    with pytest.raises(ValidationError, match="another speaker model"):
        voiceprofiles.voice_profile_from_analysis(
            user=therapist, analysis=other_model, voice="A", consent=True
        )
    too_little = _voice_analysis(therapist, revision=revision, seconds_b=6.0)
    with pytest.raises(ValidationError, match="only 6 s"):
        voiceprofiles.voice_profile_from_analysis(
            user=therapist, analysis=too_little, voice="B", consent=True
        )
    profile.refresh_from_db()
    assert profile.source_detail.startswith(f"analysis {analysis.pk}")  # the refused ones changed nothing
