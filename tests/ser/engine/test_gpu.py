"""The GPU path: bf16/fp16 autocast on CUDA, batches sized to a memory budget. Skipped without a
GPU (the build machines have none); run it on a GPU host with `pytest tests/ser/engine/test_gpu.py`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ser.engine.model import EmotionModel
from ser.testkit.oracle import cosine
from tests.audio import speech_like

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_the_gpu_path_agrees_with_the_cpu_fp32_path(test_model_dir: Path) -> None:
    cpu = EmotionModel.load(str(test_model_dir), threads=2, precision="fp32")
    gpu = EmotionModel.load(str(test_model_dir), device="cuda", precision="auto")
    assert gpu.info.precision in ("bf16", "fp16") and gpu.info.device.startswith("cuda")
    wavs = [speech_like(s, seed=k) for s, k in [(3.0, 1), (2.8, 2), (6.0, 3)]]
    for expected, got in zip(cpu.score_many(wavs), gpu.score_many(wavs), strict=True):
        assert cosine(got.embedding, expected.embedding) >= 0.999
        np.testing.assert_allclose(got.probabilities, expected.probabilities, atol=0.02)


def test_batches_are_sized_to_the_memory_budget(test_model_dir: Path) -> None:
    gpu = EmotionModel.load(str(test_model_dir), device="cuda", precision="auto")
    budget = 256 * 2**20
    seconds = gpu.fit_batches_to_memory(budget)
    assert 10.0 <= seconds <= 600.0
    wavs = [speech_like(5.0, seed=k) for k in range(int(seconds // 5) + 4)]
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    gpu.score_many(wavs)
    # The budget holds, unless it is below what one 10 s batch needs (then one batch is the floor).
    assert torch.cuda.max_memory_allocated() - before <= 1.5 * budget or seconds == 10.0
