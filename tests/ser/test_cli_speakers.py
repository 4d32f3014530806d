"""The batch CLI's "patient only (voice)": `--therapist-voice SAMPLE` enrols the therapist from a
sample and names the speakers of a mono conversation of two espeak-ng voices (real speech
detector, speaker encoder and pipeline on the test checkpoint); without a sample the voices stay
unnamed and the command says the scores are over all speech."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
import soundfile as sf
from django.core.management import call_command
from django.core.management.base import CommandError

from ser.testkit.synth import ENROLMENT_TEXT, Voice, conversation

THERAPIST = Voice("en-us+f3", 70)
PATIENT = Voice("en-us+m3", 40)


@pytest.fixture(scope="module")
def files(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("cli-speakers")
    sf.write(folder / "conv.wav", conversation(THERAPIST, PATIENT, turns=3).mix, 16000)
    sf.write(folder / "me.wav", THERAPIST.say(ENROLMENT_TEXT), 16000)
    return folder


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("analyze_audio", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_names_the_speakers_from_the_therapists_sample(files, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out, err = _run(
        str(files / "conv.wav"), "--out", str(tmp_path), "--therapist-voice", str(files / "me.wav")
    )
    assert "Therapist's voice enrolled from" in err
    line = next(x for x in out.splitlines() if x.startswith("conv.wav: speech attributed:"))
    seconds = {w: float(line.split(f"{w} ")[1].split(" s")[0]) for w in ("patient", "therapist", "uncertain")}
    assert seconds["patient"] > 5 and seconds["therapist"] > 5, line

    (result_json,) = tmp_path.glob("outputs_*_conv/result.json")
    doc = json.loads(result_json.read_text())
    assert doc["channel"] == "voice" and doc["speakers"]["named"] is True
    assert {s["speaker"] for s in doc["segments"]} >= {"patient", "therapist"}
    assert all(isinstance(s["similarity"], float) for s in doc["segments"])
    therapist = [s["similarity"] for s in doc["segments"] if s["speaker"] == "therapist"]
    patient = [s["similarity"] for s in doc["segments"] if s["speaker"] == "patient"]
    assert min(therapist) > max(patient)  # the therapist's pieces are the ones like the sample
    assert doc["speakers"]["seconds"]["patient"] == pytest.approx(seconds["patient"], abs=0.06)


def test_without_a_sample_the_voices_stay_unnamed_and_it_says_so(files, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out, err = _run(str(files / "conv.wav"), "--out", str(tmp_path), "--channel", "voice")
    assert "scores are over all speech until the therapist's voice is given" in err
    assert "voice A" in out and "(not named)" in out
    (result_json,) = tmp_path.glob("outputs_*_conv/result.json")
    doc = json.loads(result_json.read_text())
    assert doc["speakers"]["named"] is False and all(s["speaker"] is None for s in doc["segments"])


def test_a_sample_cannot_be_combined_with_a_channel(files, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="cannot be combined with --channel left"):
        _run(
            str(files / "conv.wav"),
            "--out",
            str(tmp_path),
            "--channel",
            "left",
            "--therapist-voice",
            str(files / "me.wav"),
        )
    assert not list(Path(tmp_path).glob("outputs_*"))
