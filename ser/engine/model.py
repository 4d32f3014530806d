"""emotion2vec+ through FunASR's AutoModel: loading, label mapping and scoring one input.

The model is loaded with FunASR's own code (`AutoModel(model=<hub id or dir>)`), from a hub id or a
local directory holding config.yaml, model.pt and tokens.txt. Loading is slow (seconds to tens of
seconds for the large model), so callers keep one EmotionModel per process.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import TEST_MARKER
from .labels import EMOTIONS, LabelError, reorder_indices

log = logging.getLogger(__name__)

REQUIRED_FILES = ("config.yaml", "model.pt", "tokens.txt")
KNOWN_VARIANTS = ("emotion2vec_plus_seed", "emotion2vec_plus_base", "emotion2vec_plus_large")


class ModelUnavailableError(RuntimeError):
    """The configured model cannot be loaded. The message names the setting to fix."""


@dataclass(frozen=True)
class ModelInfo:
    """Provenance recorded with every result."""

    model_id: str  # SER_MODEL as given: a hub id or a directory
    revision: str  # content hash of model.pt: "sha256:<16 hex>"
    variant: str  # embeddings are comparable only within one variant
    embedding_dim: int
    precision: str  # the numeric path that produced the scores, e.g. "fp32"
    device: str
    is_test_model: bool  # a random-initialised checkpoint: outputs are meaningless


@dataclass(frozen=True)
class Scores:
    """One input's output: nine probabilities in EMOTIONS order and its embedding."""

    probabilities: np.ndarray  # (9,) float64, sums to 1
    embedding: np.ndarray  # (D,) float32, mean of frame features
    frames: np.ndarray | None = None  # (T, D) float32 frame features when asked for

    @property
    def dominant(self) -> str:
        return EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))


def _missing_message(source: str, detail: str) -> str:
    return (
        f"The emotion model could not be loaded from SER_MODEL={source!r}: {detail}. "
        "Set SER_MODEL to a hub id (e.g. iic/emotion2vec_plus_large, needs internet on first use) "
        "or to a local directory containing config.yaml, model.pt and tokens.txt "
        "(e.g. a downloaded copy of emotion2vec_plus_large), then restart the worker."
    )


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(4 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _variant(source: str, model_dir: Path, dim: int, is_test: bool) -> str:
    for name in KNOWN_VARIANTS:
        if name in source or name in model_dir.name:
            return f"{name}-test" if is_test else name
    prefix = "test-checkpoint" if is_test else f"emotion2vec-{model_dir.name}"
    return f"{prefix}-{dim}d"


class EmotionModel:
    """A loaded emotion2vec+ model. Thread-safe for sequential calls (one lock)."""

    def __init__(self, auto_model: Any, info: ModelInfo, order: list[int]) -> None:
        self._auto = auto_model
        self.info = info
        self._order = order
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, source: str, *, device: str = "cpu", threads: int | None = None, hub: str = "ms"
    ) -> EmotionModel:
        source = (source or "").strip()
        if not source:
            raise ModelUnavailableError(_missing_message(source, "the setting is empty"))
        path = Path(source).expanduser()
        looks_local = source.startswith(("/", ".", "~")) or path.exists()
        if path.is_dir() or looks_local:
            missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
            if missing:
                where = (
                    "the directory does not exist"
                    if not path.is_dir()
                    else (f"the directory lacks {', '.join(missing)}")
                )
                raise ModelUnavailableError(_missing_message(source, where))
        threads = threads or os.cpu_count() or 1
        try:
            from funasr import AutoModel

            auto = AutoModel(
                model=str(path) if path.is_dir() else source,
                hub=hub,
                device=device,
                ncpu=threads,
                disable_update=True,
                disable_pbar=True,
                log_level="ERROR",
            )
        except Exception as exc:
            raise ModelUnavailableError(_missing_message(source, f"{type(exc).__name__}: {exc}")) from exc
        model_dir = Path(getattr(auto, "model_path", "") or source)
        weights = model_dir / "model.pt"
        if getattr(auto, "model", None) is None or not weights.is_file():
            raise ModelUnavailableError(_missing_message(source, "no model files were found"))
        tokenizer = auto.kwargs.get("tokenizer")
        tokens = list(getattr(tokenizer, "token_list", None) or [])
        try:
            order = reorder_indices(tokens)
        except LabelError as exc:
            raise ModelUnavailableError(_missing_message(source, str(exc))) from exc
        proj = getattr(auto.model, "proj", None)
        if proj is None:
            raise ModelUnavailableError(
                _missing_message(source, "the checkpoint has no emotion classifier head")
            )
        dim = int(proj.in_features)
        is_test = (model_dir / TEST_MARKER).exists()
        info = ModelInfo(
            model_id=source,
            revision="sha256:" + _file_digest(weights)[:16],
            variant=_variant(source, model_dir, dim, is_test),
            embedding_dim=dim,
            precision="fp32",
            device=str(auto.kwargs.get("device", device)),
            is_test_model=is_test,
        )
        log.info("loaded emotion model %s (%s, %d-d)", info.variant, info.revision, dim)
        return cls(auto, info, order)

    def score(self, wav16k: np.ndarray, *, frames: bool = False) -> Scores:
        """Score one 16 kHz mono input with FunASR's inference (one label per input)."""
        x = np.ascontiguousarray(wav16k, dtype=np.float32)
        if x.ndim != 1 or x.size < 400:
            raise ValueError("input must be mono audio of at least 25 ms at 16 kHz")
        with self._lock:
            res = self._auto.generate(
                x,
                granularity="frame",
                extract_embedding=True,
                disable_pbar=True,
            )[0]
        probs = np.asarray(res["scores"], dtype=np.float64)[self._order]
        probs = probs / probs.sum()
        feats = np.asarray(res["feats"], dtype=np.float32)
        return Scores(
            probabilities=probs,
            embedding=feats.mean(axis=0).astype(np.float32),
            frames=feats if frames else None,
        )
