"""Speaker attribution ("patient only (voice)") on known answers: conversations of two espeak-ng
voices mixed to one channel with pauses and overlaps, where it is known to the 10 ms frame who
speaks. The real speaker model (Resemblyzer's weights from its wheel) and the real speech
detector; the rates are printed (`pytest -s`) and asserted against the issue's targets. No Django.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser.engine import speakers as S
from ser.engine.model import EmotionModel
from ser.engine.pipeline import SpeakerSetup, analyse_file
from ser.engine.vad import VadConfig, shape_segments, speech_regions
from ser.testkit.synth import ENROLMENT_TEXT, Conversation, Voice, conversation, frame_mask

REFERENCE = Path(__file__).with_name("data") / "resemblyzer_reference.npz"
# Two different voices, and the harder case: one voice at another pitch and speed.
CASES = {
    "two voices": (Voice("en-us+f3", pitch=70), Voice("en-us+m3", pitch=40)),
    "pitch/speed variant of one voice": (Voice("en-us+m3", pitch=40), Voice("en-us+m3", pitch=60, speed=185)),
}


@pytest.fixture(scope="module")
def encoder() -> S.SpeakerEncoder:
    return S.SpeakerEncoder.load()


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return {k: data[k] for k in data.files}


# --- the encoder is Resemblyzer's -----------------------------------------------------------------


def test_the_mel_front_end_is_resemblyzers(reference) -> None:  # type: ignore[no-untyped-def]
    wav = reference["wav_int16"].astype(np.float32) / 32768.0
    mel = S.mel_spectrogram(wav)
    assert mel.shape == reference["mel"].shape
    assert np.abs(mel - reference["mel"]).max() <= 1e-5 * reference["mel"].max()
    # full-level signal at both ends: the STFT pads with zeros, as librosa >= 0.10 does
    tone = (0.5 * np.sin(2 * np.pi * 220.0 * np.arange(8000) / 16000.0)).astype(np.float32)
    edge = S.mel_spectrogram(tone)
    assert np.abs(edge - reference["mel_edge"]).max() <= 1e-5 * reference["mel_edge"].max()


def test_the_embeddings_are_resemblyzers(encoder, reference) -> None:  # type: ignore[no-untyped-def]
    wav = reference["wav_int16"].astype(np.float32) / 32768.0
    assert S.partial_starts(len(wav)) == reference["slice_starts"].tolist()
    mels = np.stack(
        [reference["mel"][s // S.HOP : s // S.HOP + S.WINDOW_FRAMES] for s in reference["slice_starts"]]
    )
    partials = encoder.embed_mels(mels)
    assert np.all(np.sum(partials * reference["partials"], axis=1) > 0.9999)
    assert float(encoder.embed_utterance(wav) @ reference["embed"]) > 0.9999
    # the power mel is not scale-free: a quieter copy is another point, and it matches too
    assert float(encoder.embed_utterance(wav * 0.25) @ reference["embed_quiet"]) > 0.9999
    assert encoder.info.revision == "sha256:" + str(reference["pretrained_sha256"])[:16]


def test_a_missing_speaker_model_says_what_to_install(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(S.importlib_util, "find_spec", lambda name: None)
    with pytest.raises(S.SpeakerModelUnavailableError, match="pip install --no-deps Resemblyzer==0.1.4"):
        S.SpeakerEncoder.load()


def test_too_short_a_sample_makes_no_profile(encoder) -> None:  # type: ignore[no-untyped-def]
    short = Voice("en-us+f3", pitch=70).say("Hello, this is my voice.")
    with pytest.raises(S.EnrolmentError, match="at least 15 s"):
        S.enrol([short], encoder)


# --- known answers ---------------------------------------------------------------------------------


def _attribute(conv: Conversation, encoder, profile: S.Enrolment | None) -> S.Attribution:  # type: ignore[no-untyped-def]
    cfg = VadConfig()
    regions = speech_regions(conv.mix, cfg)
    bounds = shape_segments(regions, conv.mix.size, cfg)
    return S.attribute(
        [conv.mix[a:b] for a, b in bounds],
        bounds,
        regions,
        encoder,
        profile=None if profile is None else profile.embedding,
        profile_pitch_hz=None if profile is None else profile.pitch_hz,
    )


def _mask(att: S.Attribution, labels: list[str], label: str, frames: int) -> np.ndarray:
    return frame_mask(
        [(a / 16000, b / 16000) for (a, b), x in zip(att.bounds, labels, strict=True) if x == label], frames
    )


def _own(conv: Conversation) -> tuple[np.ndarray, np.ndarray]:
    """Frames where only the patient / only the therapist speaks (overlaps belong to neither)."""
    both = conv.active["patient"] & conv.active["therapist"]
    return conv.active["patient"] & ~both, conv.active["therapist"] & ~both


@pytest.fixture(scope="module", params=list(CASES))
def case(request, encoder):  # type: ignore[no-untyped-def]
    therapist, patient = CASES[request.param]
    conv = conversation(therapist, patient, turns=8, overlaps=2, seed=1)
    profile = S.enrol([therapist.say(ENROLMENT_TEXT)], encoder)  # a separate sample
    return request.param, conv, profile


def test_with_the_therapist_enrolled_the_patients_speech_is_the_patients(case, encoder) -> None:  # type: ignore[no-untyped-def]
    name, conv, profile = case
    att = _attribute(conv, encoder, profile)
    frames = conv.active["patient"].size
    patient_said, therapist_said = _own(conv)
    taken = _mask(att, att.speakers, S.PATIENT, frames)
    kept = (taken & patient_said).sum() / patient_said.sum()
    leaked = (taken & therapist_said).sum() / therapist_said.sum()
    print(
        f"\n[{name}, enrolled] patient speech attributed to the patient {kept:.1%} (target ≥ 95 %), "
        f"therapist speech leaking in {leaked:.1%} (target ≤ 5 %); "
        f"{conv.seconds('patient'):.0f} s patient, {conv.seconds('therapist'):.0f} s therapist, "
        f"{conv.overlaps_s:.1f} s overlapping; profile similarity {att.profile_similarity}"
    )
    assert att.method == "profile" and att.named and att.therapist_voice
    assert kept >= 0.95
    assert leaked <= 0.05
    # segments were split at turns: none holds much of both speakers
    assert len(att.bounds) > 8


def test_without_enrolment_two_voices_are_found(case, encoder) -> None:  # type: ignore[no-untyped-def]
    name, conv, _ = case
    att = _attribute(conv, encoder, None)
    frames = conv.active["patient"].size
    patient_said, therapist_said = _own(conv)
    a, b = _mask(att, att.voices, "A", frames), _mask(att, att.voices, "B", frames)
    same = max(
        (a & patient_said).sum() + (b & therapist_said).sum(),
        (b & patient_said).sum() + (a & therapist_said).sum(),
    )
    agreement = same / (patient_said.sum() + therapist_said.sum())
    print(
        f"\n[{name}, not enrolled] two-voice split agrees with who spoke on {agreement:.1%} of speech "
        "(target ≥ 90 %)"
    )
    assert att.method == "voices" and not att.named and not att.one_voice
    assert agreement >= 0.90
    # naming a voice afterwards labels every piece
    named = S.name_speakers(
        att.voices, S.unsure_of(att.margin, [(x / 16000, y / 16000) for x, y in att.bounds]), "A"
    )
    assert set(named) <= {S.PATIENT, S.THERAPIST, S.UNCERTAIN} and S.THERAPIST in named


def test_one_voice_alone_is_all_the_patients(encoder) -> None:  # type: ignore[no-untyped-def]
    therapist, patient = CASES["two voices"]
    conv = conversation(patient, patient, turns=3, overlaps=0, seed=2)  # a monologue in turns
    att = _attribute(conv, encoder, S.enrol([therapist.say(ENROLMENT_TEXT)], encoder))
    assert att.therapist_voice == ""  # the therapist's voice is not there
    assert set(att.speakers) <= {S.PATIENT, S.UNCERTAIN}
    assert att.seconds_of(S.PATIENT) > 0.9 * sum((b - a) / 16000 for a, b in att.bounds)


def test_two_channels_mixed_agree_with_the_patients_own_channel(tmp_path, encoder, test_model_dir) -> None:  # type: ignore[no-untyped-def]
    """A two-channel recording (patient left, therapist right): "patient only (voice)" on the mixed
    channels against the left-channel restriction, over the speech of the mix."""
    therapist, patient = CASES["two voices"]
    conv = conversation(therapist, patient, turns=6, overlaps=2, seed=3)
    path = tmp_path / "two.wav"
    sf.write(path, conv.channels, 16000, subtype="PCM_16")
    model = EmotionModel.load(str(test_model_dir), threads=2, precision="fp32")
    profile = S.enrol([therapist.say(ENROLMENT_TEXT)], encoder)
    voice = analyse_file(
        path, model, channel="voice", speakers=SpeakerSetup(encoder, profile.embedding, profile.pitch_hz)
    )
    left = analyse_file(path, model, channel="left", voice=False)
    frames = conv.active["patient"].size
    assert voice.speakers is not None
    patient_v = frame_mask(
        [
            (s.start_s, s.end_s)
            for s, who in zip(voice.segments, voice.speakers.speakers, strict=True)
            if who == S.PATIENT
        ],
        frames,
    )
    on_left = frame_mask([(s.start_s, s.end_s) for s in left.segments], frames)
    speech = frame_mask([(s.start_s, s.end_s) for s in voice.segments], frames)
    agreement = float(((patient_v == on_left) & speech).sum() / speech.sum())
    print(
        f"\n[two channels] voice attribution agrees with the left channel on {agreement:.1%} of speech "
        "(target ≥ 90 %)"
    )
    assert agreement >= 0.90
    # the scores are the patient's segments' alone
    assert voice.analysed_s == pytest.approx(voice.speakers.seconds_of(S.PATIENT), abs=0.01)
    assert voice.analysed_s < sum(s.duration_s for s in voice.segments) - 5
    # and the voice measures count the therapist's turns as turns, not as the patient's pauses
    assert voice.voice is not None and voice.voice.provenance.get("speaker_turns") is True
    assert voice.voice.counts["breaks"] >= 4
