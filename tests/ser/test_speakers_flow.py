""" "Patient only (voice)" through the app: a mono conversation of two espeak-ng voices uploaded with
channel "voice", analysed in-process by the real pipeline (test checkpoint, real speaker encoder,
real PostgreSQL). Without a voice profile the analysis waits for the therapist to say which voice
is theirs (left out of trends until then); naming it, on the page or through the API, computes the
scores again from the patient's segments alone. With a profile it is named at once. A missing
speaker model fails the job in words."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from ser import runtime, services
from ser.engine import speakers as engine_speakers
from ser.engine.pipeline import aggregate
from ser.engine.vad import VadConfig, speech_regions
from ser.models import AnalysisJob, EmotionAnalysis, VoiceProfile
from ser.selectors import done_analyses
from ser.testkit.synth import ENROLMENT_TEXT, Voice, conversation
from sessions.models import Recording

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_model")]

THERAPIST = Voice("en-us+f3", 70)
PATIENT = Voice("en-us+m3", 40)


@pytest.fixture(scope="module")
def conv():  # type: ignore[no-untyped-def]
    return conversation(THERAPIST, PATIENT, turns=3)


@pytest.fixture(scope="module")
def conv_wav(conv) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    sf.write(buf, conv.mix, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture(scope="module")
def enrolment():  # type: ignore[no-untyped-def]
    """The therapist's voice from a separate sample (not the conversation's lines)."""
    wav = THERAPIST.say(ENROLMENT_TEXT)
    pieces = [wav[a:b] for a, b in speech_regions(wav, VadConfig())]
    return engine_speakers.enrol(pieces, runtime.get_speaker_encoder())


def _truth_share(conv, segments, speakers, who: str, label: str) -> float:  # type: ignore[no-untyped-def]
    """Of `who`'s speech time (10 ms frames), the share inside segments labelled `label`."""
    frames = conv.active[who].size
    labelled = np.zeros(frames, bool)
    for row, s in zip(segments, speakers, strict=True):
        if s == label:
            labelled[int(round(row[0] * 100)) : int(round(row[1] * 100))] = True
    return float((conv.active[who] & labelled).sum() / max(1, conv.active[who].sum()))


def _patient_aggregate(analysis: EmotionAnalysis) -> tuple[np.ndarray, float]:
    keep = np.array([row[0] == "patient" for row in analysis.speakers["segments"]])
    with analysis.segment_embeddings_file.open("rb") as f, np.load(f) as npz:
        emb = npz["embeddings"]
    probs = np.array([row[2:] for row in analysis.segments], float)
    durations = np.array([row[1] - row[0] for row in analysis.segments], float)
    scores, _, seconds = aggregate(probs, emb, durations, keep)
    return scores, seconds


def test_it_asks_which_voice_is_yours_and_recomputes_from_the_patients_segments(
    upload, web, api, conv, conv_wav, patient
) -> None:  # type: ignore[no-untyped-def]
    recording = upload(conv_wav, name="conv.wav", channel=Recording.Channel.VOICE)
    analysis = services.analysis_run(recording_id=str(recording.pk))
    assert analysis is not None and analysis.channel == "voice"
    sp = analysis.speakers
    assert sp["named"] is False and sp["method"] == "voices" and sp["profile"] is None
    assert len(sp["segments"]) == len(analysis.segments) and set(sp["centres"]) == {"A", "B"}
    assert {row[0] for row in sp["segments"]} == {""} and {row[1] for row in sp["segments"]} == {"A", "B"}
    # Over all speech until named: left out of trends.
    assert analysis.analysed_s == pytest.approx(sum(r[1] - r[0] for r in analysis.segments), abs=0.05)
    assert not done_analyses(patient=patient, variant=analysis.model_variant).filter(pk=analysis.pk).exists()

    page = web.get(reverse("ser:session", args=[recording.session_id])).content.decode()
    assert "Which voice is yours?" in page and "not yet the patient" in page
    assert 'name="therapist_voice" value="A"' in page and 'value="neither"' in page
    assert reverse("ser:voice_profile") in page  # the help text and the question link to it
    assert 'class="speaker unnamed">voice ' in page  # the segment table's Speaker column

    # The therapist's voice is the one that covers most of the therapist's true speech.
    voices = [row[1] for row in sp["segments"]]
    share = {v: _truth_share(conv, analysis.segments, voices, "therapist", v) for v in "AB"}
    mine = max(share, key=share.get)  # type: ignore[arg-type]
    other = "B" if mine == "A" else "A"
    print(
        f"\nclustering without a profile: therapist voice {mine} holds {share[mine]:.0%} "
        "of the therapist's speech"
    )
    assert share[mine] >= 0.8
    before = list(analysis.scores)

    response = web.post(reverse("ser:speakers", args=[analysis.pk]), {"therapist_voice": mine})
    assert response.status_code == 302
    analysis.refresh_from_db()
    sp = analysis.speakers
    assert sp["named"] is True and sp["therapist_voice"] == mine and sp["named_at"]
    assert {row[0] for row in sp["segments"]} <= {"patient", "therapist", "uncertain"}
    scores, seconds = _patient_aggregate(analysis)
    assert analysis.analysed_s == pytest.approx(seconds) == pytest.approx(sp["seconds"]["patient"], abs=0.02)
    assert np.allclose(analysis.scores, scores, atol=1e-6) and not np.allclose(
        analysis.scores, before, atol=1e-6
    )
    patient_share = _truth_share(
        conv, analysis.segments, [r[0] for r in sp["segments"]], "patient", "patient"
    )
    print(f"named: {patient_share:.0%} of the patient's speech attributed to the patient")
    assert patient_share >= 0.8
    doc = json.loads(analysis.result_file.read())
    assert doc["speakers"]["named"] is True and doc["speech_s"] == pytest.approx(
        analysis.analysed_s, abs=1e-3
    )
    assert doc["scores"]["neutral"] == pytest.approx(analysis.score_map["neutral"], abs=1e-6)
    assert [s["speaker"] for s in doc["segments"]] == [r[0] for r in sp["segments"]]
    with analysis.embedding_file.open("rb") as f:
        assert np.allclose(np.load(f), analysis.embedding_array())
    assert len(analysis.voice["segments"]) == len(analysis.segments)  # spread over all segments
    assert AuditEvent.objects.filter(object_id=str(analysis.pk), detail__startswith="speakers named").exists()
    assert done_analyses(patient=patient, variant=analysis.model_variant).filter(pk=analysis.pk).exists()
    page = web.get(reverse("ser:session", args=[recording.session_id])).content.decode()
    assert "Which voice is yours?" not in page and "Say again which voice is yours" in page
    assert "s therapist" in page and 'class="speaker patient">patient' in page

    # "That was not me": corrected through the API.
    response = api.post(
        reverse("api:analysis-speakers", args=[analysis.pk]), {"therapist_voice": other}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["speakers"]["therapist_voice"] == other and body["speakers"]["named"] is True
    assert body["analysed_s"] == pytest.approx(body["speakers"]["seconds"]["patient"], abs=0.02)
    assert {s["speaker_voice"] for s in body["timeline"]} == {"A", "B"}
    assert all(s["speaker"] != "patient" or s["speaker_voice"] == mine for s in body["timeline"])
    assert (
        api.post(reverse("api:analysis-speakers", args=[analysis.pk]), {"therapist_voice": "C"}).status_code
        == 400
    )


def test_with_a_voice_profile_the_analysis_is_named_at_once(
    upload, web, api, therapist, conv, conv_wav, enrolment
) -> None:  # type: ignore[no-untyped-def]
    VoiceProfile.objects.create(
        user=therapist,
        embedding=np.ascontiguousarray(enrolment.embedding, "<f4").tobytes(),
        speech_s=enrolment.speech_s,
        model_name=enrolment.model.name,
        model_revision=enrolment.model.revision,
        source=VoiceProfile.Source.SAMPLE,
        consented_at=timezone.now(),
    )
    recording = upload(conv_wav, name="conv.wav", channel=Recording.Channel.VOICE)
    analysis = services.analysis_run(recording_id=str(recording.pk))
    assert analysis is not None
    sp = analysis.speakers
    assert sp["named"] is True and sp["method"] == "profile" and sp["therapist_voice"] in ("A", "B")
    assert sp["profile"]["user"] == therapist.pk and sp["profile"]["speech_s"] == enrolment.speech_s
    labels = [row[0] for row in sp["segments"]]
    patient_share = _truth_share(conv, analysis.segments, labels, "patient", "patient")
    leak = _truth_share(conv, analysis.segments, labels, "therapist", "patient")
    print(
        f"\nwith a profile: {patient_share:.0%} of patient speech to the patient, "
        f"{leak:.0%} of therapist speech leaked in"
    )
    assert patient_share >= 0.8 and leak <= 0.2
    assert analysis.analysed_s == pytest.approx(_patient_aggregate(analysis)[1])
    assert analysis.timings["speakers_s"] > 0

    page = web.get(reverse("ser:session", args=[recording.session_id])).content.decode()
    assert "Which voice is yours?" not in page
    assert "by similarity to the therapist&#x27;s voice profile" in page and "s patient" in page
    assert 'class="speaker therapist">therapist' in page and "speaker-legend" in page
    svg = web.get(reverse("reports:analysis_plot", args=[analysis.pk, "timeline"])).content.decode()
    assert ">therapist<" in svg.replace("<!-- ", ">").replace(" -->", "<") and ">patient<" in svg.replace(
        "<!-- ", ">"
    ).replace(" -->", "<")
    body = api.get(reverse("api:analysis", args=[analysis.pk])).json()
    assert body["speakers"]["method"] == "profile" and body["timeline"][0]["similarity"] is not None


def test_a_missing_speaker_model_fails_the_job_in_words(upload, web, conv_wav, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(runtime, "_speakers", None)
    # As if Resemblyzer's wheel were not installed: its weights file cannot be found.
    monkeypatch.setattr(engine_speakers, "importlib_util", SimpleNamespace(find_spec=lambda name: None))
    recording = upload(conv_wav, name="conv.wav", channel=Recording.Channel.VOICE)
    assert services.analysis_run(recording_id=str(recording.pk)) is None
    job = AnalysisJob.objects.get(recording=recording)
    assert job.status == AnalysisJob.Status.FAILED
    assert "speaker model" in job.error and "pip install --no-deps Resemblyzer" in job.error
    assert not recording.analyses.exists()


def test_a_mono_recording_may_be_reanalysed_patient_only_by_voice(upload, web) -> None:  # type: ignore[no-untyped-def]
    recording = upload()
    AnalysisJob.objects.filter(recording=recording).update(status=AnalysisJob.Status.FAILED)
    page = web.get(reverse("ser:session", args=[recording.session_id])).content.decode()
    assert '<option value="voice">Patient only (voice)</option>' in page
    response = web.post(
        reverse("ser:reanalyse", args=[recording.pk]), {"channel": "voice", "granularity": "utterance"}
    )
    assert response.status_code == 302
    recording.refresh_from_db()
    assert recording.channel == "voice"
