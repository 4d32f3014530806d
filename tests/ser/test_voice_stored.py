"""Voice measures through the app: computed with the analysis on the same segments and stored with
it (JSON, voice.npz, result.json), a failure of the measures never costs the emotion result, and
`manage.py voice_recompute` fills in analyses made before the measures existed. Real pipeline on
the real test checkpoint, real PostgreSQL."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from ser import services
from ser.engine import voice
from ser.engine.voice import MEASURE_KEYS
from ser.models import EmotionAnalysis

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_model")]


@pytest.fixture
def analysis(upload):  # type: ignore[no-untyped-def]
    recording = upload()
    result = services.analysis_run(recording_id=str(recording.pk))
    assert result is not None
    return result


def test_the_analysis_stores_its_voice_measures_with_their_provenance(analysis) -> None:  # type: ignore[no-untyped-def]
    v = analysis.voice
    assert set(v["values"]) == set(MEASURE_KEYS)
    assert 60 < v["values"]["f0_median_hz"] < 400  # espeak-ng voices of the upload fixture
    assert v["values"]["speech_rate"] > 0 and 0 <= v["values"]["pause_ratio"] < 100
    assert v["provenance"]["library"] == "praat-parselmouth" and v["provenance"]["version"]
    # One row per segment the model scored.
    assert len(v["segments"]) == len(analysis.segments)
    assert analysis.timings["voice_s"] > 0
    # The contours in voice.npz, and the measures in result.json.
    with analysis.voice_file.open("rb") as f, np.load(f) as npz:
        assert npz["times_s"].shape == npz["f0_hz"].shape == npz["intensity_db"].shape
        assert npz["pauses_s"].shape == (len(v["pauses"]), 2)
    doc = json.loads(analysis.result_file.read())
    assert doc["voice"]["measures"]["f0_median_hz"]["value"] == v["values"]["f0_median_hz"]
    assert doc["voice"]["measures"]["f0_median_hz"]["unit"] == "Hz"


def test_a_failure_of_the_voice_measures_keeps_the_emotion_result(upload, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("Praat refused the signal")

    monkeypatch.setattr(voice, "measure", broken)
    recording = upload()
    analysis = services.analysis_run(recording_id=str(recording.pk))
    assert analysis is not None and len(analysis.scores) == 9
    assert all(value is None for value in analysis.voice["values"].values())
    assert "Praat refused the signal" in analysis.voice["reasons"]["f0_median_hz"]
    assert not analysis.voice_file
    assert "Praat refused the signal" in json.loads(analysis.result_file.read())["voice"]["error"]


def test_voice_off_stores_no_measures(upload, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SER_VOICE = False
    analysis = services.analysis_run(recording_id=str(upload().pk))
    assert analysis is not None and analysis.voice == {} and not analysis.voice_file


def test_the_recompute_command_fills_in_an_older_analysis_the_same_way(analysis) -> None:  # type: ignore[no-untyped-def]
    before = analysis.voice
    # As an analysis made before the measures existed.
    analysis.voice_file.delete(save=False)
    EmotionAnalysis.objects.filter(pk=analysis.pk).update(voice={}, voice_file="")
    out = io.StringIO()
    call_command("voice_recompute", stdout=out)
    assert "1 recomputed, 0 not recomputed" in out.getvalue()
    analysis.refresh_from_db()
    after = analysis.voice
    # The same measures from the stored processed audio and segments as from the original run
    # (the processed audio is 16-bit, the original run's samples too: the same numbers).
    for key in MEASURE_KEYS:
        if before["values"][key] is None:
            assert after["values"][key] is None
        else:
            assert after["values"][key] == pytest.approx(before["values"][key], rel=1e-3, abs=1e-3), key
    assert after["pauses"] == before["pauses"]
    assert analysis.voice_file
    assert (
        json.loads(analysis.result_file.read())["voice"]["measures"]["speech_rate"]["value"]
        == (after["values"]["speech_rate"])
    )
    assert AuditEvent.objects.filter(
        object_id=str(analysis.pk), detail="voice measures recomputed", path="manage.py voice_recompute"
    ).exists()
    # Nothing left to do the second time; --all does them again.
    out = io.StringIO()
    call_command("voice_recompute", stdout=out)
    assert "0 recomputed" in out.getvalue()
    call_command("voice_recompute", "--all", stdout=out)
    assert "1 recomputed" in out.getvalue()


def test_the_recompute_command_says_why_it_could_not(analysis) -> None:  # type: ignore[no-untyped-def]
    analysis.audio_file.delete(save=False)
    EmotionAnalysis.objects.filter(pk=analysis.pk).update(voice={})
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 analysis"):
        call_command("voice_recompute", stdout=io.StringIO(), stderr=err)
    assert "processed audio" in err.getvalue()
    analysis.refresh_from_db()
    assert analysis.voice == {} and len(analysis.scores) == 9  # nothing else touched
