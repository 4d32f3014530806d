"""FunASR's emotion2vec+ exactly as FunASR ships it, as the oracle the fast path is held against
(contract tests, the benchmark's fidelity figures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ser.engine.labels import reorder_indices


def plain_funasr(model_dir: Path) -> Any:
    """FunASR's AutoModel exactly as FunASR ships it: the oracle."""
    from funasr import AutoModel

    return AutoModel(
        model=str(model_dir), disable_update=True, disable_pbar=True, log_level="ERROR", device="cpu", ncpu=2
    )


def funasr_generate(
    auto: Any, wav: np.ndarray, granularity: str = "utterance"
) -> tuple[np.ndarray, np.ndarray]:
    """FunASR's own scores (in EMOTIONS order) and features (utterance mean or per frame)."""
    res = auto.generate(wav, granularity=granularity, extract_embedding=True, disable_pbar=True)[0]
    scores = np.asarray(res["scores"], dtype=np.float64)[reorder_indices(res["labels"])]
    return scores, np.asarray(res["feats"], dtype=np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))
