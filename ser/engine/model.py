"""emotion2vec+ for the engine: loading with provenance, the numeric path, batched scoring.

The model is built and its weights loaded by FunASR's own code (`AutoModel(model=<hub id or dir>)`)
from a hub id or a directory holding config.yaml, model.pt and tokens.txt, through `funasr_adapter`,
the one module that touches FunASR's internals. Scoring runs the network's feature extractor with a
padding mask, several segments of similar length at a time, then applies its classifier head exactly
as FunASR's `inference` does (mean of frame features → head → softmax), and per frame for the
frame timeline.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import funasr_adapter
from .funasr_adapter import FunASRIncompatibleError, LoadedModel, LoadReport, ModelUnavailableError
from .host import libc
from .labels import EMOTIONS, LabelError, reorder_indices
from .messages import gettext_noop, said

log = logging.getLogger(__name__)

REQUIRED_FILES = ("config.yaml", "model.pt", "tokens.txt")
KNOWN_VARIANTS = ("emotion2vec_plus_seed", "emotion2vec_plus_base", "emotion2vec_plus_large")
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
# A file present in random-initialised test checkpoints (ser/testkit writes it): such a model's
# outputs are meaningless and every result made with it says so.
TEST_MARKER = "SER_TEST_CHECKPOINT"
FRAME_RATE = 50  # output frames per second (20 ms)
# oneDNN (torch's CPU kernels) keeps a cache of compiled primitives, one per input shape, 1024 by
# default; segments of every length make every entry a new shape, and the cache grew a plus_large
# bf16 process by ~800 MB over one 10-minute recording. 64 entries (measured: 40 segments of 1-10 s,
# peak 1995 -> 1663 MB, same time) keep what repeats. Read by oneDNN at first use: set at load,
# unless the operator set it.
ONEDNN_CACHE_CAPACITY = "64"

__all__ = [
    "FRAME_RATE",
    "PRECISIONS",
    "REQUIRED_FILES",
    "TEST_MARKER",
    "EmotionModel",
    "FunASRIncompatibleError",
    "LoadReport",
    "ModelInfo",
    "ModelUnavailableError",
    "Scores",
    "choose_precision",
    "cpu_flags",
]


@dataclass(frozen=True)
class ModelInfo:
    """Provenance recorded with every result."""

    model_id: str  # SER_MODEL as given: a hub id or a directory
    revision: str  # content hash of model.pt: "sha256:<16 hex>"
    variant: str  # embeddings are comparable only within one variant
    embedding_dim: int
    precision: str  # the numeric path that produced the scores: fp32, bf16 or int8 (after fallbacks)
    device: str
    is_test_model: bool  # a random-initialised checkpoint: outputs are meaningless


@dataclass(frozen=True)
class Scores:
    """One input's output: nine probabilities in EMOTIONS order and its embedding."""

    probabilities: np.ndarray  # (9,) float64, sums to 1
    embedding: np.ndarray  # (D,) float32, mean of frame features
    frames: np.ndarray | None = None  # (T, D) float32 frame features, when asked for
    frame_probabilities: np.ndarray | None = None  # (T, 9) per-frame head outputs, when asked for

    @property
    def dominant(self) -> str:
        return EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))


def _missing_message(source: str, detail: str | dict[str, Any]) -> ModelUnavailableError:
    """`detail`: a message (`said(...)`, translated where shown) or raw library text (kept as is)."""
    return ModelUnavailableError(
        gettext_noop(
            "The emotion model could not be loaded from SER_MODEL=%(source)s: %(detail)s. "
            "Set SER_MODEL to a hub id (e.g. iic/emotion2vec_plus_large, needs internet on first use) "
            "or to a local directory containing config.yaml, model.pt and tokens.txt "
            "(e.g. a downloaded copy of emotion2vec_plus_large), then restart the worker."
        ),
        source=repr(source),
        detail=detail,
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


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def choose_precision(requested: str, device: str) -> str:
    """`auto` picks the fastest path this machine runs well; fp32 is always the fallback."""
    import torch

    if requested not in PRECISIONS:
        raise ValueError(f"SER_PRECISION must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    if requested == "fp16" and not device.startswith("cuda"):
        raise ValueError("SER_PRECISION=fp16 runs on a GPU only (SER_DEVICE=cuda); on a CPU use auto")
    if requested != "auto":
        return requested
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    flags = cpu_flags()
    if flags & {"avx512_bf16", "amx_bf16"}:
        return "bf16"
    if {"avx2", "fma"} <= flags and torch.backends.quantized.supported_engines:
        return "int8"
    return "fp32"


def _return_freed_memory() -> None:
    """Hand the activations' freed heap back to the system (glibc keeps it otherwise): a worker
    idles between recordings at its loaded size, not at its busiest."""
    trim = getattr(libc(), "malloc_trim", None)  # glibc only
    if trim is not None:
        trim(0)


def batch_seconds_for(
    budget_bytes: float, bytes_per_second: float, *, floor: float = 10.0, cap: float = 600.0
) -> float:
    """Seconds of audio per batch that fit `budget_bytes` at `bytes_per_second`: at least `floor`
    (one longest segment must always fit, and the budget is a target, not a guard), at most `cap`."""
    return float(min(cap, max(floor, budget_bytes / max(bytes_per_second, 1.0))))


class EmotionModel:
    """A loaded emotion2vec+ model. Calls are serialised by a lock."""

    def __init__(
        self,
        loaded: LoadedModel,
        info: ModelInfo,
        order: list[int],
        *,
        batch_seconds: float = 10.0,
        threads: int = 1,
    ) -> None:
        self._loaded = loaded
        self.info = info
        self.threads = threads  # torch intra-op threads this process runs the model on
        self.load_report: LoadReport = loaded.report  # how FunASR was patched, or why not
        self._order = order
        self._lock = threading.Lock()
        self.batch_seconds = batch_seconds

    @property
    def network(self) -> Any:
        """FunASR's Emotion2vec module."""
        return self._loaded.network

    @property
    def _auto(self) -> Any:
        # FunASR's AutoModel, for tests that compare with its own generate().
        return self._loaded.auto

    @classmethod
    def load(
        cls,
        source: str,
        *,
        device: str = "cpu",
        threads: int | None = None,
        hub: str = "ms",
        precision: str = "fp32",
        batch_seconds: float = 10.0,
    ) -> EmotionModel:
        import torch

        os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", ONEDNN_CACHE_CAPACITY)
        source = (source or "").strip()
        if not source:
            raise _missing_message(source, said(gettext_noop("the setting is empty")))
        path = Path(source).expanduser()
        looks_local = source.startswith(("/", ".", "~")) or path.exists()
        if looks_local:
            missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
            if missing:
                where = (
                    said(gettext_noop("the directory does not exist"))
                    if not path.is_dir()
                    else said(gettext_noop("the directory lacks %(files)s"), files=", ".join(missing))
                )
                raise _missing_message(source, where)
        threads = threads or os.cpu_count() or 1
        chosen = choose_precision(precision, device)
        try:
            loaded = funasr_adapter.load(
                str(path) if looks_local else source,
                precision=chosen,
                device=device,
                threads=threads,
                hub=hub,
            )
        except FunASRIncompatibleError:
            raise  # a software problem: SER_MODEL is not what needs fixing
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"  # the library's own words, not translated
            detail: str | dict[str, Any] = error
            if looks_local:  # the three files are there (checked above): FunASR could not read them
                detail = said(
                    gettext_noop("the files could not be loaded by FunASR %(version)s (%(error)s)"),
                    version=funasr_adapter.funasr_version(),
                    error=error,
                )
            raise _missing_message(source, detail) from exc
        torch.set_num_threads(threads)
        model_dir = loaded.model_dir or path
        weights = model_dir / "model.pt"
        if not weights.is_file():
            raise _missing_message(source, said(gettext_noop("no model files were found")))
        try:
            order = reorder_indices(loaded.tokens)
        except LabelError as exc:
            raise _missing_message(source, exc.stored()) from exc
        if not loaded.has_classifier:
            raise _missing_message(
                source, said(gettext_noop("the checkpoint has no emotion classifier head"))
            )
        dim = loaded.embedding_dim
        is_test = (model_dir / TEST_MARKER).exists()
        info = ModelInfo(
            model_id=source,
            revision="sha256:" + _file_digest(weights)[:16],
            variant=_variant(source, model_dir, dim, is_test),
            embedding_dim=dim,
            precision=loaded.precision,
            device=loaded.device,
            is_test_model=is_test,
        )
        log.info(
            "loaded emotion model %s (%s, %d-d, %s; %s)",
            info.variant,
            info.revision,
            dim,
            info.precision,
            loaded.report,
        )
        return cls(loaded, info, order, batch_seconds=batch_seconds, threads=threads)

    # -- scoring ---------------------------------------------------------------------------

    def score(self, wav16k: np.ndarray, *, frames: bool = False) -> Scores:
        """One input, as FunASR's inference scores it (one label per input)."""
        return self.score_many([wav16k], frames=frames)[0]

    def score_many(
        self,
        wavs: Sequence[np.ndarray],
        *,
        frames: bool = False,
        on_batch: Callable[[int], None] | None = None,
    ) -> list[Scores]:
        """Score several inputs, batching those of similar length; results in input order."""
        for w in wavs:
            if w.ndim != 1 or w.size < 400:
                raise ValueError("each input must be mono audio of at least 25 ms at 16 kHz")
        results: list[Scores | None] = [None] * len(wavs)
        for batch in self._batches([int(w.size) for w in wavs]):
            with self._lock:
                out = self._run([wavs[i] for i in batch], frames=frames)
            for i, scores in zip(batch, out, strict=True):
                results[i] = scores
            if on_batch is not None:
                on_batch(len(batch))
        _return_freed_memory()
        return [r for r in results if r is not None]

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Group by similar length (≤ 15 % padding), at most `batch_seconds` of audio per batch."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__, reverse=True)
        budget = int(self.batch_seconds * 16000)
        batches: list[list[int]] = []
        for i in order:
            if batches:
                current = batches[-1]
                longest = lengths[current[0]]
                if longest * (len(current) + 1) <= budget and lengths[i] >= longest / 1.15:
                    current.append(i)
                    continue
            batches.append([i])
        return batches

    def fit_batches_to_memory(self, budget_bytes: int, *, probe_s: float = 10.0) -> float:
        """On a GPU: measure what a second of audio costs in device memory beyond the weights (one
        probe batch), and batch up to `budget_bytes` of it from then on. Returns batch_seconds."""
        import torch

        device = torch.device(self.info.device)
        probe = np.zeros(int(probe_s * 16000), np.float32)
        probe[::97] = 0.01  # not all-zero: layer norm of a constant input is degenerate
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        with self._lock:
            self._run([probe], frames=True)
        torch.cuda.synchronize(device)
        per_second = max(1.0, (torch.cuda.max_memory_allocated(device) - before) / probe_s)
        self.batch_seconds = batch_seconds_for(budget_bytes, per_second)
        log.info(
            "GPU batches: %.1f MB per audio second, up to %.0f s per batch (budget %d MB)",
            per_second / 2**20,
            self.batch_seconds,
            budget_bytes // 2**20,
        )
        return self.batch_seconds

    def _autocast(self) -> Any:
        import torch

        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.info.precision)
        if dtype is not None:
            return torch.autocast(device_type=self.info.device.split(":")[0], dtype=dtype)
        return contextlib.nullcontext()

    def _run(self, wavs: list[np.ndarray], *, frames: bool) -> list[Scores]:
        import torch

        with torch.inference_mode():
            return self._run_inference(wavs, frames=frames)

    def _run_inference(self, wavs: list[np.ndarray], *, frames: bool) -> list[Scores]:
        import torch
        import torch.nn.functional as F

        model = self._loaded
        device = self.info.device
        longest = max(w.size for w in wavs)
        source = torch.zeros(len(wavs), longest, dtype=torch.float32)
        pad = torch.zeros(len(wavs), longest, dtype=torch.bool)
        for b, w in enumerate(wavs):
            x = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
            if model.normalize:  # as FunASR's inference: layer norm over the whole input
                x = F.layer_norm(x, x.shape)
            source[b, : w.size] = x
            pad[b, w.size :] = True
        with self._autocast():
            feats, frame_pad = model.extract(source.to(device), pad.to(device) if pad.any() else None)
        feats = feats.float()
        weight, bias = model.head()
        results = []
        for b in range(len(wavs)):
            f = feats[b] if frame_pad is None else feats[b][~frame_pad[b].bool()]
            emb = f.mean(dim=0)
            probs = torch.softmax(F.linear(emb, weight, bias), dim=-1).double().cpu().numpy()[self._order]
            frame_probs = None
            frame_feats = None
            if frames:
                fp = torch.softmax(F.linear(f, weight, bias), dim=-1).cpu().numpy()[:, self._order]
                frame_probs = fp.astype(np.float32)
                frame_feats = f.cpu().numpy().astype(np.float32)
            results.append(
                Scores(
                    probabilities=probs / probs.sum(),
                    embedding=emb.cpu().numpy().astype(np.float32),
                    frames=frame_feats,
                    frame_probabilities=frame_probs,
                )
            )
        return results
