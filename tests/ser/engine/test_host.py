"""Threads per worker process, GPU batch sizing and precision choice: the arithmetic, on this
machine's CPU. The GPU path itself runs in test_gpu.py, skipped where there is no GPU."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ser.engine import host
from ser.engine.model import batch_seconds_for, choose_precision


@pytest.mark.parametrize(
    "cores, concurrency, threads", [(2, 1, 2), (2, 2, 1), (2, 4, 1), (16, 4, 4), (16, 3, 5), (1, 1, 1)]
)
def test_threads_are_cores_over_concurrency_at_least_one(cores: int, concurrency: int, threads: int) -> None:
    assert host.threads_per_process(concurrency, cores) == threads


def test_a_cgroup_quota_caps_the_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # docker --cpus 1.5
    assert host._cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert host._cgroup_quota(tmp_path) is None
    monkeypatch.setattr(host, "_cgroup_quota", lambda: 1.5)
    assert host.available_cores() == min(2, len(os.sched_getaffinity(0)))


def test_gpu_batches_fill_the_budget_within_bounds() -> None:
    mb = 2**20
    assert batch_seconds_for(4096 * mb, 20 * mb) == pytest.approx(204.8)
    assert batch_seconds_for(100 * mb, 20 * mb) == 10.0  # one longest segment always fits
    assert batch_seconds_for(10**12, 1.0) == 600.0


def test_fp16_is_for_gpus_and_auto_on_a_cpu_never_picks_it() -> None:
    with pytest.raises(ValueError, match="GPU only"):
        choose_precision("fp16", "cpu")
    assert choose_precision("auto", "cpu") in ("bf16", "int8", "fp32")
    import torch

    if not torch.cuda.is_available():
        assert choose_precision("auto", "cuda") == "fp32"  # asked for a GPU that is not there


def test_loading_caps_onednns_primitive_cache_unless_the_operator_set_it(
    test_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ser.engine.model import ONEDNN_CACHE_CAPACITY, EmotionModel

    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    EmotionModel.load(str(test_model_dir), threads=1, precision="fp32")
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == ONEDNN_CACHE_CAPACITY
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "512")
    EmotionModel.load(str(test_model_dir), threads=1, precision="fp32")
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "512"
