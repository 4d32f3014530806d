"""Contract tests for the FunASR adapter, on the tiny test checkpoint and the installed FunASR.

They fail when a patch no longer applies (fused attention not installed, lean loader bypassed), when
the fast paths drift from FunASR's own fp32 `generate` (the oracle, loaded plainly), and when a FunASR
of another shape does anything but give a slower worker with one clear warning, or a clear error.
No Django, no database.
"""

from __future__ import annotations

import copy
import importlib
import logging
import shutil
import types
from pathlib import Path
from typing import Any

import funasr
import numpy as np
import pytest
import torch

from ser.engine import funasr_adapter
from ser.engine.funasr_adapter import FunASRIncompatibleError, fused_attention_forward
from ser.engine.model import EmotionModel, ModelUnavailableError
from ser.testkit.oracle import cosine, funasr_generate, plain_funasr
from tests.audio import speech_like

INPUTS = [(2.0, 11), (3.0, 12), (4.0, 13)]  # (seconds, seed): one label per input, no padding
LOADER = importlib.import_module("funasr.train_utils.load_pretrained_model")


def alt_attention_modules(net: Any) -> list[Any]:
    from funasr.models.emotion2vec.modules import AltAttention

    return [m for m in net.modules() if isinstance(m, AltAttention)]


def fused(module: Any) -> bool:
    return getattr(module.forward, "__func__", None) is fused_attention_forward


def adapter_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("ser.")
    ]


@pytest.fixture(scope="module")
def oracle(test_model_dir: Path) -> Any:
    return plain_funasr(test_model_dir)


class CheckpointNote:
    """A non-tensor object pickled into a checkpoint: the weights-only unpickler refuses it."""

    def __init__(self, text: str) -> None:
        self.text = text


class RenamedAttention(torch.nn.Module):
    """AltAttention as another FunASR might have it: other parameter and attribute names."""

    def __init__(self, dim: int, heads: int = 8) -> None:
        super().__init__()
        self.heads = heads

    def forward(self, x: Any, key_padding_mask: Any = None, bias: Any = None) -> Any:
        return x


def copy_of_test_model(test_model_dir: Path, to: Path) -> Path:
    to.mkdir()
    for name in ("config.yaml", "tokens.txt", "SER_TEST_CHECKPOINT"):
        shutil.copy(test_model_dir / name, to / name)
    return to


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_it_installs_the_fused_attention_on_the_fast_paths_only(test_model_dir: Path, precision: str) -> None:
    from funasr.models.emotion2vec.modules import AltAttention

    original = AltAttention.forward
    model = EmotionModel.load(str(test_model_dir), threads=2, precision=precision)
    modules = alt_attention_modules(model.network)
    assert modules and not any(m.cosine_attention for m in modules)
    assert model.info.precision == precision
    if precision == "fp32":
        assert not any(fused(m) for m in modules)
        assert model.load_report.fused_attention_modules == 0
    else:
        assert all(fused(m) for m in modules)
        assert model.load_report.fused_attention_modules == len(modules) > 0
    quantized = [m for m in model.network.modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    assert bool(quantized) == (precision == "int8")
    assert AltAttention.forward is original  # patched per module: FunASR's own class is untouched
    assert model.load_report.fallbacks == []


def test_it_loads_the_weights_through_the_lean_loader(monkeypatch, test_model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    loads: list[tuple[str, dict[str, Any], torch.dtype]] = []
    checkpoint_copies: list[Any] = []
    real_load, real_deepcopy = torch.load, copy.deepcopy

    def spy_load(f: Any, *args: Any, **kwargs: Any) -> Any:
        loads.append((str(f), kwargs, torch.get_default_dtype()))
        return real_load(f, *args, **kwargs)

    def spy_deepcopy(obj: Any, *args: Any, **kwargs: Any) -> Any:
        state = obj.get("model") if isinstance(obj, dict) else None
        if isinstance(state, dict) and any(isinstance(v, torch.Tensor) for v in state.values()):
            checkpoint_copies.append(obj)  # FunASR's copy of the whole checkpoint
        return real_deepcopy(obj, *args, **kwargs)

    monkeypatch.setattr(torch, "load", spy_load)
    monkeypatch.setattr(copy, "deepcopy", spy_deepcopy)
    model = EmotionModel.load(str(test_model_dir), threads=2, precision="bf16")

    weights = [(kwargs, dtype) for f, kwargs, dtype in loads if f.endswith("model.pt")]
    assert len(weights) == 1
    kwargs, dtype = weights[0]
    assert kwargs["mmap"] is True and kwargs["weights_only"] is True
    assert dtype == torch.bfloat16  # parameters are built in the dtype they run in
    assert checkpoint_copies == []
    assert model.load_report.lean_loader_used and model.load_report.weights_only
    assert model.info.precision == "bf16"


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_each_module_is_copied_out_of_the_mapped_checkpoint_which_is_then_released(
    test_model_dir: Path, precision: str
) -> None:
    model = EmotionModel.load(str(test_model_dir), threads=2, precision=precision)
    report = model.load_report
    assert report.mapped
    checkpoint = torch.load(test_model_dir / "model.pt", weights_only=True)["model"]
    # Released pages are those of the file: what the network holds is every weight, in its dtype.
    state = model.network.state_dict()
    assert set(state) == set(checkpoint)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    for name, tensor in state.items():  # (a few small tensors FunASR makes fp32 explicitly)
        torch.testing.assert_close(tensor, checkpoint[name].to(tensor.dtype), rtol=0, atol=0, msg=name)
    weights = [t for t in state.values() if t.is_floating_point() and t.numel() > 4096]
    assert weights and all(t.dtype == dtype for t in weights)
    file_mb = (test_model_dir / "model.pt").stat().st_size / 2**20
    # Tensors smaller than a memory page share pages with their neighbours and are not released.
    assert 0 < report.released_mb <= file_mb


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_the_fast_paths_agree_with_funasr_generate_in_fp32(
    test_model_dir: Path, oracle: Any, precision: str
) -> None:
    model = EmotionModel.load(str(test_model_dir), threads=2, precision=precision)
    for seconds, seed in INPUTS:
        wav = speech_like(seconds, seed=seed)
        expected_scores, expected_embedding = funasr_generate(oracle, wav)
        got = model.score(wav)
        if precision == "fp32":
            assert cosine(got.embedding, expected_embedding) >= 0.99999
            np.testing.assert_allclose(got.probabilities, expected_scores, atol=1e-4)
        else:
            assert cosine(got.embedding, expected_embedding) >= 0.999, (precision, seconds)
            np.testing.assert_allclose(got.probabilities, expected_scores, atol=0.02)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_padded_batches_stay_close_to_funasr_generate(
    test_model_dir: Path, oracle: Any, precision: str
) -> None:
    # Inputs of similar length run as one padded batch; the padding mask reaches the attention.
    wavs = [speech_like(s, seed=k) for s, k in [(3.0, 21), (2.8, 22), (2.7, 23)]]
    model = EmotionModel.load(str(test_model_dir), threads=2, precision=precision)
    assert model._batches([w.size for w in wavs]) == [[0, 1, 2]]
    for wav, got in zip(wavs, model.score_many(wavs), strict=True):
        expected_scores, expected_embedding = funasr_generate(oracle, wav)
        assert cosine(got.embedding, expected_embedding) >= 0.999
        np.testing.assert_allclose(got.probabilities, expected_scores, atol=0.01)


def test_it_falls_back_to_fp32_with_one_warning_when_alt_attention_changed(  # type: ignore[no-untyped-def]
    monkeypatch, caplog, test_model_dir: Path, oracle: Any
) -> None:
    monkeypatch.setattr(funasr_adapter, "_alt_attention_class", lambda: RenamedAttention)
    with caplog.at_level(logging.WARNING):
        model = EmotionModel.load(str(test_model_dir), threads=2, precision="bf16")
    warnings = adapter_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert f"FunASR {funasr.__version__}" in warnings[0]
    assert "key_padding_mask" in warnings[0] and "unpatched fp32" in warnings[0]
    assert model.info.precision == "fp32"
    assert model.load_report.fused_attention_modules == 0 and model.load_report.fallbacks
    assert not any(fused(m) for m in alt_attention_modules(model.network))
    wav = speech_like(3.0, seed=31)
    np.testing.assert_allclose(model.score(wav).probabilities, funasr_generate(oracle, wav)[0], atol=1e-4)


def test_it_falls_back_to_fp32_with_one_warning_when_the_checkpoint_loader_changed(  # type: ignore[no-untyped-def]
    monkeypatch, caplog, test_model_dir: Path, oracle: Any
) -> None:
    # A loader module without `copy` and whose function reads other globals: nothing to swap.
    renamed = types.SimpleNamespace(torch=torch, load_pretrained_model=LOADER.load_pretrained_model)
    monkeypatch.setattr(funasr_adapter, "_loader_module", lambda: renamed)
    with caplog.at_level(logging.WARNING):
        model = EmotionModel.load(str(test_model_dir), threads=2, precision="int8")
    warnings = adapter_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert f"FunASR {funasr.__version__}" in warnings[0] and "'copy'" in warnings[0]
    assert model.info.precision == "fp32"
    assert not model.load_report.lean_loader_used
    wav = speech_like(3.0, seed=32)
    np.testing.assert_allclose(model.score(wav).probabilities, funasr_generate(oracle, wav)[0], atol=1e-4)


def test_it_loads_a_checkpoint_holding_pickled_objects_with_a_warning_naming_the_file(  # type: ignore[no-untyped-def]
    caplog, tmp_path: Path, test_model_dir: Path
) -> None:
    directory = copy_of_test_model(test_model_dir, tmp_path / "with-objects")
    state = torch.load(test_model_dir / "model.pt", weights_only=True)
    torch.save({**state, "note": CheckpointNote("exported by other training code")}, directory / "model.pt")
    with caplog.at_level(logging.WARNING):
        model = EmotionModel.load(str(directory), threads=2)
    warnings = adapter_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert str(directory / "model.pt") in warnings[0] and "CheckpointNote" in warnings[0]
    assert model.load_report.lean_loader_used and not model.load_report.weights_only
    reference = EmotionModel.load(str(test_model_dir), threads=2)
    wav = speech_like(2.0, seed=33)
    np.testing.assert_allclose(model.score(wav).probabilities, reference.score(wav).probabilities, atol=1e-7)


def test_it_restores_the_default_dtype_and_funasr_loader_after_a_load_and_a_failed_one(  # type: ignore[no-untyped-def]
    monkeypatch, tmp_path: Path, test_model_dir: Path
) -> None:
    auto_model = importlib.import_module("funasr.auto.auto_model")
    EmotionModel.load(str(test_model_dir), threads=2, precision="bf16")
    assert torch.get_default_dtype() == torch.float32
    assert LOADER.torch is torch and LOADER.copy is copy
    assert auto_model.load_pretrained_model is LOADER.load_pretrained_model

    broken = copy_of_test_model(test_model_dir, tmp_path / "broken")
    (broken / "model.pt").write_bytes(b"not a checkpoint")
    dtypes: list[torch.dtype] = []
    real_load = torch.load

    def spy_load(*args: Any, **kwargs: Any) -> Any:
        dtypes.append(torch.get_default_dtype())
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy_load)
    with pytest.raises(ModelUnavailableError) as err:
        EmotionModel.load(str(broken), threads=2, precision="bf16")
    assert dtypes and set(dtypes) == {torch.bfloat16}  # it failed inside the loading context
    assert torch.get_default_dtype() == torch.float32
    assert LOADER.torch is torch and LOADER.copy is copy
    assert auto_model.load_pretrained_model is LOADER.load_pretrained_model
    message = str(err.value)
    assert f"could not be loaded by FunASR {funasr.__version__}" in message and "SER_MODEL" in message


def _without_tokenizer(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    build = funasr_adapter._auto_model

    def auto_model(source: str, **options: Any) -> Any:
        auto = build(source, **options)
        del auto.kwargs["tokenizer"]
        return auto

    monkeypatch.setattr(funasr_adapter, "_auto_model", auto_model)


def _without_extract_features(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from funasr.models.emotion2vec.model import Emotion2vec

    monkeypatch.delattr(Emotion2vec, "extract_features")


@pytest.mark.parametrize(
    "break_funasr, missing",
    [(_without_extract_features, "extract_features"), (_without_tokenizer, "tokenizer")],
)
def test_it_says_funasr_is_incompatible_when_scoring_needs_are_missing(  # type: ignore[no-untyped-def]
    monkeypatch, test_model_dir: Path, break_funasr, missing: str
) -> None:
    break_funasr(monkeypatch)
    with pytest.raises(FunASRIncompatibleError) as err:
        EmotionModel.load(str(test_model_dir), threads=2, precision="bf16")
    message = str(err.value)
    assert f"FunASR {funasr.__version__} is not compatible" in message and missing in message
    assert "funasr==1.4.16" in message
    assert "SER_MODEL" not in message
    assert isinstance(err.value, ModelUnavailableError)  # callers that catch the base still do
    assert torch.get_default_dtype() == torch.float32
