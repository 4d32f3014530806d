"""The engine on the test checkpoint, through FunASR's real loading and inference code. No Django.

Outputs are checked against FunASR's own `generate` on a plainly loaded AutoModel (fp32), never
against the function under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from ser.engine.labels import DISPLAY_NAMES, EMOTIONS, MODEL_TOKENS, LabelError, english_name, reorder_indices
from ser.engine.messages import render
from ser.engine.model import EmotionModel, ModelUnavailableError
from ser.testkit.oracle import cosine, funasr_generate, plain_funasr
from tests.audio import speech_like


@pytest.fixture(scope="module")
def model(test_model_dir):  # type: ignore[no-untyped-def]
    return EmotionModel.load(str(test_model_dir), threads=2)


@pytest.fixture(scope="module")
def oracle(test_model_dir):  # type: ignore[no-untyped-def]
    return plain_funasr(test_model_dir)


def test_it_maps_the_model_tokens_to_the_nine_english_names() -> None:
    assert [english_name(t) for t in MODEL_TOKENS] == list(EMOTIONS)
    # A checkpoint listing the classes in another order is reordered, not mislabelled.
    shuffled = list(reversed(MODEL_TOKENS))
    assert [shuffled[i] for i in reorder_indices(shuffled)] == list(MODEL_TOKENS)


def test_it_rejects_labels_that_are_not_the_nine_classes() -> None:
    with pytest.raises(LabelError):
        reorder_indices(["happy", "sad"])


def test_the_display_names_are_the_model_tokens_in_both_languages() -> None:
    assert list(DISPLAY_NAMES) == list(EMOTIONS)
    assert DISPLAY_NAMES["angry"] == {"en": "angry", "zh-Hans": "生气"}
    assert DISPLAY_NAMES["unknown"] == {"en": "unknown", "zh-Hans": "未知"}
    assert [f"{n['zh-Hans']}/{n['en']}" for n in DISPLAY_NAMES.values()][:-1] == list(MODEL_TOKENS[:-1])


def test_a_missing_model_keeps_its_detail_as_a_message_to_translate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelUnavailableError) as err:
        EmotionModel.load(str(tmp_path / "nowhere"))
    stored = err.value.stored()
    assert stored["params"]["detail"] == {"msgid": "the directory does not exist", "params": {}}
    assert render(stored) == str(err.value) and "SER_MODEL=" in str(err.value)


def test_it_returns_nine_scores_summing_to_one_and_an_embedding_of_the_model_dimension(model, oracle) -> None:  # type: ignore[no-untyped-def]
    wav = speech_like(3.0, seed=1)
    scores = model.score(wav)
    expected_scores, expected_embedding = funasr_generate(oracle, wav)
    np.testing.assert_allclose(scores.probabilities, expected_scores, atol=1e-4)
    assert cosine(scores.embedding, expected_embedding) >= 0.99999
    assert scores.probabilities.shape == (9,)
    assert scores.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    assert (scores.probabilities >= 0).all()
    assert scores.embedding.shape == (model.info.embedding_dim,) == (64,)
    assert scores.embedding.dtype == np.float32
    assert scores.dominant == EMOTIONS[int(np.argmax(scores.probabilities))]


def test_it_is_deterministic_for_the_same_input_and_differs_for_another(model) -> None:  # type: ignore[no-untyped-def]
    x = speech_like(2.0, seed=3)
    a, b = model.score(x), model.score(x.copy())
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    np.testing.assert_array_equal(a.embedding, b.embedding)
    c = model.score(speech_like(2.0, seed=4, f0=220.0))
    assert not np.allclose(a.embedding, c.embedding)


def test_it_records_provenance_and_marks_the_test_checkpoint(model, test_model_dir) -> None:  # type: ignore[no-untyped-def]
    info = model.info
    assert info.model_id == str(test_model_dir)
    assert info.revision.startswith("sha256:") and len(info.revision) == 7 + 16
    assert info.is_test_model is True
    assert info.precision == "fp32"
    assert info.variant == "test-checkpoint-64d"


def test_it_frames_are_50_per_second_and_match_funasr_frame_features(model, oracle) -> None:  # type: ignore[no-untyped-def]
    wav = speech_like(2.0, seed=5)
    scores = model.score(wav, frames=True)
    _, expected_frames = funasr_generate(oracle, wav, granularity="frame")
    assert scores.frames is not None and scores.frame_probabilities is not None
    assert abs(scores.frames.shape[0] - 100) <= 1
    assert scores.frames.shape == expected_frames.shape
    np.testing.assert_allclose(scores.frames, expected_frames, rtol=1e-4, atol=1e-4)
    assert scores.frame_probabilities.shape == (scores.frames.shape[0], 9)
    np.testing.assert_allclose(scores.frame_probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("source", ["/nonexistent/emotion2vec_plus_large", "./missing-model-dir", ""])
def test_it_names_the_setting_when_the_model_is_missing(source: str) -> None:
    with pytest.raises(ModelUnavailableError) as err:
        EmotionModel.load(source)
    message = str(err.value)
    assert "SER_MODEL" in message
    assert "config.yaml, model.pt and tokens.txt" in message


def test_it_says_which_files_a_model_directory_lacks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "config.yaml").write_text("model: Emotion2vec\n")
    with pytest.raises(ModelUnavailableError, match="lacks model.pt, tokens.txt"):
        EmotionModel.load(str(tmp_path))
