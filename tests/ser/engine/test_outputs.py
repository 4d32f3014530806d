"""The files of one analysis (result.json, embedding.npy, processed_audio.wav, frames.npz,
segments.npz), made from real analyses of espeak-ng speech on the test checkpoint. No Django."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser.engine.labels import EMOTIONS
from ser.engine.model import EmotionModel
from ser.engine.notices import TEST_MODEL_WARNING
from ser.engine.outputs import SEED_FILES, artifacts, result_document, sha256_file, write_outputs
from ser.engine.pipeline import Analysis, analyse_waveform
from tests.audio import conversation

SR = 16000
SHA = "ab" * 32
ALL = (*SEED_FILES, "frames.npz", "segments.npz", "voice.npz")


@pytest.fixture(scope="module")
def model(test_model_dir):  # type: ignore[no-untyped-def]
    return EmotionModel.load(str(test_model_dir), threads=2, precision="fp32")


@pytest.fixture(scope="module")
def wav() -> np.ndarray:
    audio, _ = conversation(
        [("left", "I slept badly again this week."), ("right", "What kept you awake at night?")],
        pause_s=1.5,
        lead_s=0.5,
    )
    return audio.mean(axis=1)


@pytest.fixture(scope="module")
def utterance(model, wav, tmp_path_factory) -> Analysis:  # type: ignore[no-untyped-def]
    audio = tmp_path_factory.mktemp("utterance") / "processed_audio.wav"
    result = analyse_waveform(wav, model, granularity="utterance", audio_out=audio)
    assert len(result.segments) >= 2  # so that (S, D) and the segment times say something
    return result


@pytest.fixture(scope="module")
def frame(model, wav, tmp_path_factory) -> Analysis:  # type: ignore[no-untyped-def]
    audio = tmp_path_factory.mktemp("frame") / "processed_audio.wav"
    result = analyse_waveform(wav, model, granularity="frame", audio_out=audio)
    assert result.frames is not None
    return result


def _bytes(content: bytes | Path) -> bytes:
    assert isinstance(content, bytes)  # every file but the processed audio
    return content


def _npz(content: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(content)) as data:
        return {k: data[k] for k in data.files}


def test_it_makes_every_file_that_applies(frame) -> None:  # type: ignore[no-untyped-def]
    files = artifacts(frame, input_sha256=SHA)
    assert set(files) == set(ALL)
    # The processed audio is the kept file itself (never read into memory); the rest are bytes.
    assert files["processed_audio.wav"] == frame.audio_path
    assert all(isinstance(v, bytes) and v for k, v in files.items() if k != "processed_audio.wav")


def test_it_makes_only_the_files_asked_for(frame) -> None:  # type: ignore[no-untyped-def]
    assert set(artifacts(frame, input_sha256=SHA, names=("segments.npz", "result.json"))) == {
        "segments.npz",
        "result.json",
    }
    assert artifacts(frame, input_sha256=SHA, names=()) == {}


def test_it_leaves_out_the_audio_when_it_was_not_kept(frame) -> None:  # type: ignore[no-untyped-def]
    files = artifacts(replace(frame, audio_path=None), input_sha256=SHA)
    assert set(files) == set(ALL) - {"processed_audio.wav"}


def test_it_leaves_out_the_frame_track_at_utterance_granularity(utterance) -> None:  # type: ignore[no-untyped-def]
    files = artifacts(utterance, input_sha256=SHA)
    assert set(files) == set(ALL) - {"frames.npz"}
    assert "frames" not in json.loads(_bytes(files["result.json"]))


@pytest.mark.parametrize("which", ["utterance", "frame"])
def test_it_writes_the_seed_webui_fields_in_result_json(which, request) -> None:  # type: ignore[no-untyped-def]
    analysis: Analysis = request.getfixturevalue(which)
    doc = json.loads(_bytes(artifacts(analysis, input_sha256=SHA, names=("result.json",))["result.json"]))
    assert doc["emotion"] == analysis.dominant
    assert doc["emotion"] == max(doc["scores"], key=doc["scores"].get)
    assert doc["confidence"] == pytest.approx(analysis.confidence, abs=1e-6)
    assert list(doc["scores"]) == list(EMOTIONS)
    np.testing.assert_allclose(list(doc["scores"].values()), analysis.probabilities, atol=1e-6)
    assert sum(doc["scores"].values()) == pytest.approx(1.0, abs=1e-5)
    assert doc["granularity"] == which
    stamp = datetime.fromisoformat(doc["timestamp"])
    assert stamp.tzinfo is not None
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=10)


def test_it_records_provenance_and_marks_the_test_checkpoint_in_result_json(utterance, model) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(
        _bytes(
            artifacts(utterance, input_sha256=SHA, source_name="session 3.m4a", names=("result.json",))[
                "result.json"
            ]
        )
    )
    assert doc["model"] == model.info.model_id
    assert doc["model_revision"] == model.info.revision and doc["model_revision"].startswith("sha256:")
    assert doc["model_variant"] == model.info.variant
    assert doc["precision"] == "fp32"
    assert doc["test_checkpoint"] is True
    assert doc["input"] == {"name": "session 3.m4a", "sha256": SHA}
    assert doc["notice"] == TEST_MODEL_WARNING
    assert "test checkpoint" in doc["notice"]
    assert doc["embedding_dim"] == model.info.embedding_dim
    assert doc["channel"] == "mix"


def test_it_says_the_scores_are_decision_support_for_a_real_model(utterance) -> None:  # type: ignore[no-untyped-def]
    real = replace(utterance, model=replace(utterance.model, is_test_model=False))
    doc = result_document(real, input_sha256=SHA)
    assert doc["test_checkpoint"] is False
    assert "test checkpoint" not in doc["notice"] and "not a diagnosis" in doc["notice"]


@pytest.mark.parametrize("which", ["utterance", "frame"])
def test_it_lists_the_analysis_segments_in_result_json(which, request) -> None:  # type: ignore[no-untyped-def]
    analysis: Analysis = request.getfixturevalue(which)
    doc = result_document(analysis, input_sha256=SHA)
    assert doc["segment_count"] == len(doc["segments"]) == len(analysis.segments)
    for entry, seg in zip(doc["segments"], analysis.segments, strict=True):
        assert entry["start_s"] == pytest.approx(seg.start_s, abs=1e-3)
        assert entry["end_s"] == pytest.approx(seg.end_s, abs=1e-3)
        assert entry["emotion"] == EMOTIONS[int(np.argmax(seg.probabilities))]
        np.testing.assert_allclose(list(entry["scores"].values()), seg.probabilities, atol=1e-6)
    assert doc["speech_s"] == pytest.approx(sum(s.duration_s for s in analysis.segments), abs=1e-3)
    assert doc["duration_s"] == pytest.approx(analysis.duration_s, abs=1e-3)


def test_it_names_the_emotions_in_both_languages_in_result_json(utterance) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(json.dumps(result_document(utterance, input_sha256=SHA), ensure_ascii=False))
    assert list(doc["labels"]) == list(EMOTIONS)
    assert doc["labels"]["sad"] == {"en": "sad", "zh-Hans": "难过"}


def test_it_says_where_the_frame_track_is_in_result_json(frame) -> None:  # type: ignore[no-untyped-def]
    doc = result_document(frame, input_sha256=SHA)
    assert doc["frames"]["count"] == frame.frames.times_s.shape[0] > 0
    assert doc["frames"]["rate_hz"] == 50


def test_it_exports_the_recording_embedding_at_utterance_granularity(utterance, model) -> None:  # type: ignore[no-untyped-def]
    emb = np.load(io.BytesIO(_bytes(artifacts(utterance, input_sha256=SHA)["embedding.npy"])))
    assert emb.shape == (model.info.embedding_dim,)
    assert emb.dtype == np.float32
    np.testing.assert_array_equal(emb, utterance.embedding)


def test_it_exports_the_frame_embeddings_at_frame_granularity(frame, model) -> None:  # type: ignore[no-untyped-def]
    emb = np.load(io.BytesIO(_bytes(artifacts(frame, input_sha256=SHA)["embedding.npy"])))
    assert frame.frames is not None
    assert emb.shape == (frame.frames.times_s.shape[0], model.info.embedding_dim)
    assert emb.dtype == np.float32
    np.testing.assert_array_equal(emb, frame.frames.embeddings.astype(np.float32))


@pytest.mark.parametrize("which", ["utterance", "frame"])
def test_it_exports_each_segment_times_and_embedding(which, request, model) -> None:  # type: ignore[no-untyped-def]
    analysis: Analysis = request.getfixturevalue(which)
    data = _npz(_bytes(artifacts(analysis, input_sha256=SHA)["segments.npz"]))
    assert data["embeddings"].shape == (len(analysis.segments), model.info.embedding_dim)
    np.testing.assert_allclose(data["embeddings"], np.stack([s.embedding for s in analysis.segments]))
    np.testing.assert_allclose(data["start_s"], [s.start_s for s in analysis.segments], atol=1e-5)
    np.testing.assert_allclose(data["end_s"], [s.end_s for s in analysis.segments], atol=1e-5)


def test_it_exports_the_frame_track(frame, model) -> None:  # type: ignore[no-untyped-def]
    assert frame.frames is not None
    data = _npz(_bytes(artifacts(frame, input_sha256=SHA)["frames.npz"]))
    t = frame.frames.times_s.shape[0]
    assert list(data["classes"]) == list(EMOTIONS)
    assert data["scores"].shape == (t, 9)
    assert data["embeddings"].shape == (t, model.info.embedding_dim)
    np.testing.assert_allclose(data["times_s"], frame.frames.times_s, atol=1e-5)
    np.testing.assert_array_equal(data["scores"], frame.frames.probabilities)


def test_it_exports_the_processed_audio_as_16k_mono(utterance, wav) -> None:  # type: ignore[no-untyped-def]
    path = artifacts(utterance, input_sha256=SHA)["processed_audio.wav"]
    assert isinstance(path, Path)
    assert sf.info(str(path)).subtype == "PCM_16"
    audio, sr = sf.read(path)
    assert sr == SR
    assert audio.ndim == 1
    assert audio.shape[0] / sr == pytest.approx(utterance.duration_s, abs=1 / SR)
    np.testing.assert_allclose(audio, wav, atol=1.5 / 32768)  # PCM16 rounding


def test_it_writes_only_the_seed_files_by_default(frame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The frame analysis with its audio kept: all five files would apply.
    folder = write_outputs(tmp_path / "out" / "r1", frame, input_sha256=SHA, source_name="r1.wav")
    assert folder == tmp_path / "out" / "r1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(SEED_FILES)
    expected = artifacts(frame, input_sha256=SHA, source_name="r1.wav")
    assert (folder / "embedding.npy").read_bytes() == expected["embedding.npy"]
    kept = expected["processed_audio.wav"]
    assert isinstance(kept, Path)
    assert (folder / "processed_audio.wav").read_bytes() == kept.read_bytes()
    assert kept.exists()  # copied, not moved: the kept file is still the caller's
    doc = json.loads((folder / "result.json").read_text("utf-8"))
    assert doc["input"] == {"name": "r1.wav", "sha256": SHA}


def test_it_writes_the_files_named(utterance, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write_outputs(
        tmp_path / "out", utterance, input_sha256=SHA, names=("segments.npz", "frames.npz")
    )
    assert [p.name for p in folder.iterdir()] == ["segments.npz"]  # no frame track to write


def test_it_hashes_a_file_with_sha256(tmp_path) -> None:  # type: ignore[no-untyped-def]
    content = np.random.default_rng(0).bytes(3 << 20)
    path = tmp_path / "input.bin"
    path.write_bytes(content)
    assert sha256_file(path) == hashlib.sha256(content).hexdigest()
    path.write_bytes(content[:-1])
    assert sha256_file(str(path)) == hashlib.sha256(content[:-1]).hexdigest()
