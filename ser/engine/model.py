"""emotion2vec+ through FunASR's AutoModel: loading, the fast numeric path, batched scoring.

The model is built and its weights loaded by FunASR's own code (`AutoModel(model=<hub id or dir>)`)
from a hub id or a directory holding config.yaml, model.pt and tokens.txt. Scoring calls the loaded
FunASR `Emotion2vec` module's `extract_features` with a padding mask, several segments of similar
length at a time, then applies its classifier head `proj` exactly as FunASR's `inference` does
(mean of frame features → proj → softmax), and per frame for the frame timeline.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .labels import EMOTIONS, LabelError, reorder_indices

log = logging.getLogger(__name__)

REQUIRED_FILES = ("config.yaml", "model.pt", "tokens.txt")
KNOWN_VARIANTS = ("emotion2vec_plus_seed", "emotion2vec_plus_base", "emotion2vec_plus_large")
PRECISIONS = ("auto", "fp32", "bf16", "int8")
# A file present in random-initialised test checkpoints (ser/testkit writes it): such a model's
# outputs are meaningless and every result made with it says so.
TEST_MARKER = "SER_TEST_CHECKPOINT"
FRAME_RATE = 50  # output frames per second (20 ms)
_load_lock = threading.Lock()


class ModelUnavailableError(RuntimeError):
    """The configured model cannot be loaded. The message names the setting to fix."""


@dataclass(frozen=True)
class ModelInfo:
    """Provenance recorded with every result."""

    model_id: str  # SER_MODEL as given: a hub id or a directory
    revision: str  # content hash of model.pt: "sha256:<16 hex>"
    variant: str  # embeddings are comparable only within one variant
    embedding_dim: int
    precision: str  # the numeric path that produced the scores: fp32, bf16 or int8
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
    if requested != "auto":
        return requested
    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    flags = cpu_flags()
    if flags & {"avx512_bf16", "amx_bf16"}:
        return "bf16"
    if {"avx2", "fma"} <= flags and torch.backends.quantized.supported_engines:
        return "int8"
    return "fp32"


class _TorchForLoading:
    """torch as FunASR's checkpoint loader sees it, with a lean `load`: memory-mapped and
    weights-only (no pickled code runs). Falls back to a plain load for old-format files."""

    def __init__(self, torch: Any) -> None:
        self._torch = torch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._torch, name)

    def load(self, path: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._torch.load(path, *args, mmap=True, weights_only=True, **kwargs)
        except Exception:
            return self._torch.load(path, *args, **kwargs)


class _NoDeepCopy:
    # FunASR deep-copies the loaded checkpoint only to keep the original untouched; nothing uses
    # the original afterwards, and the copy doubles peak memory (1.25 GB for plus_large).
    @staticmethod
    def deepcopy(obj: Any) -> Any:
        return obj


@contextlib.contextmanager
def _lean_loading(dtype: Any) -> Iterator[None]:
    """Build the FunASR model with parameters in `dtype` and load its weights without a second
    in-memory copy. Keeps peak RSS of a plus_large worker near 2.3 GB instead of 4.1 GB."""
    import funasr.train_utils.load_pretrained_model as lpm
    import torch

    with _load_lock:
        saved = (lpm.torch, lpm.copy, torch.get_default_dtype())
        lpm.torch, lpm.copy = _TorchForLoading(torch), _NoDeepCopy()  # type: ignore[assignment]
        torch.set_default_dtype(dtype)
        try:
            yield
        finally:
            lpm.torch, lpm.copy = saved[0], saved[1]
            torch.set_default_dtype(saved[2])


class EmotionModel:
    """A loaded emotion2vec+ model. Calls are serialised by a lock."""

    def __init__(
        self, auto_model: Any, info: ModelInfo, order: list[int], *, batch_seconds: float = 10.0
    ) -> None:
        self._auto = auto_model
        self.info = info
        self._order = order
        self._lock = threading.Lock()
        self.batch_seconds = batch_seconds

    @property
    def network(self) -> Any:
        """FunASR's Emotion2vec module."""
        return self._auto.model

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

        source = (source or "").strip()
        if not source:
            raise ModelUnavailableError(_missing_message(source, "the setting is empty"))
        path = Path(source).expanduser()
        looks_local = source.startswith(("/", ".", "~")) or path.exists()
        if looks_local:
            missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
            if missing:
                where = (
                    "the directory does not exist"
                    if not path.is_dir()
                    else f"the directory lacks {', '.join(missing)}"
                )
                raise ModelUnavailableError(_missing_message(source, where))
        threads = threads or os.cpu_count() or 1
        chosen = choose_precision(precision, device)
        try:
            from funasr import AutoModel

            with _lean_loading(torch.bfloat16 if chosen == "bf16" else torch.float32):
                auto = AutoModel(
                    model=str(path) if looks_local else source,
                    hub=hub,
                    device=device,
                    ncpu=threads,
                    disable_update=True,
                    disable_pbar=True,
                    log_level="ERROR",
                )
        except Exception as exc:
            raise ModelUnavailableError(_missing_message(source, f"{type(exc).__name__}: {exc}")) from exc
        torch.set_num_threads(threads)
        model_dir = Path(getattr(auto, "model_path", "") or source)
        weights = model_dir / "model.pt"
        if getattr(auto, "model", None) is None or not weights.is_file():
            raise ModelUnavailableError(_missing_message(source, "no model files were found"))
        tokens = list(getattr(auto.kwargs.get("tokenizer"), "token_list", None) or [])
        try:
            order = reorder_indices(tokens)
        except LabelError as exc:
            raise ModelUnavailableError(_missing_message(source, str(exc))) from exc
        proj = getattr(auto.model, "proj", None)
        if proj is None:
            raise ModelUnavailableError(
                _missing_message(source, "the checkpoint has no emotion classifier head")
            )
        if chosen == "int8":
            _quantize_linear_layers(auto.model)
        if chosen != "fp32":
            _use_fused_attention(auto.model)
        dim = int(proj.in_features)
        is_test = (model_dir / TEST_MARKER).exists()
        info = ModelInfo(
            model_id=source,
            revision="sha256:" + _file_digest(weights)[:16],
            variant=_variant(source, model_dir, dim, is_test),
            embedding_dim=dim,
            precision=chosen,
            device=str(auto.kwargs.get("device", device)),
            is_test_model=is_test,
        )
        log.info("loaded emotion model %s (%s, %d-d, %s)", info.variant, info.revision, dim, chosen)
        return cls(auto, info, order, batch_seconds=batch_seconds)

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

    def _autocast(self) -> Any:
        import torch

        if self.info.precision == "bf16":
            return torch.autocast(device_type=self.info.device.split(":")[0], dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _run(self, wavs: list[np.ndarray], *, frames: bool) -> list[Scores]:
        import torch

        with torch.inference_mode():
            return self._run_inference(wavs, frames=frames)

    def _run_inference(self, wavs: list[np.ndarray], *, frames: bool) -> list[Scores]:
        import torch
        import torch.nn.functional as F

        net = self.network
        device = self.info.device
        longest = max(w.size for w in wavs)
        source = torch.zeros(len(wavs), longest, dtype=torch.float32)
        pad = torch.zeros(len(wavs), longest, dtype=torch.bool)
        for b, w in enumerate(wavs):
            x = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
            if net.cfg.normalize:  # as FunASR's inference: layer norm over the whole input
                x = F.layer_norm(x, x.shape)
            source[b, : w.size] = x
            pad[b, w.size :] = True
        with self._autocast():
            out = net.extract_features(source.to(device), padding_mask=pad.to(device) if pad.any() else None)
        feats = out["x"].float()
        frame_pad = out.get("padding_mask")
        weight = net.proj.weight.float()
        bias = net.proj.bias.float()
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


def _quantize_linear_layers(net: Any) -> None:
    """int8 dynamic quantisation of the encoder's Linear layers; the classifier head stays fp32."""
    import torch

    qconfig = torch.ao.quantization.default_dynamic_qconfig
    spec = {name: qconfig for name, _ in net.named_children() if name != "proj"}
    torch.ao.quantization.quantize_dynamic(net, spec, dtype=torch.qint8, inplace=True)


def _fused_attention_forward(self: Any, x: Any, padding_mask: Any = None, alibi_bias: Any = None) -> Any:
    """FunASR's AltAttention.forward (q·kᵀ·scale + ALiBi bias, key padding masked, softmax, ·v)
    computed by torch's fused scaled_dot_product_attention: the same function without
    materialising the B×H×N×N score tensor in three dtypes. Used on the fast path only; its
    agreement with the fp32 FunASR path is measured (bench/, tests)."""
    import torch
    import torch.nn.functional as F

    B, N, C = x.shape
    heads = self.num_heads
    qkv = self.qkv(x).reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    mask = None
    if alibi_bias is not None:
        mask = alibi_bias.to(q.dtype)
        if mask.size(1) < heads:  # FunASR adds the bias to the first heads only
            mask = F.pad(mask, (0, 0, 0, 0, 0, heads - mask.size(1)))
    if padding_mask is not None and padding_mask.any():
        keys = padding_mask[:, None, None, :].to(torch.bool)
        base = mask if mask is not None else torch.zeros(B, 1, 1, N, dtype=q.dtype, device=q.device)
        mask = base.masked_fill(keys, float("-inf"))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=self.scale)
    return self.proj_drop(self.proj(out.transpose(1, 2).reshape(B, N, C)))


def _use_fused_attention(net: Any) -> None:
    import types

    from funasr.models.emotion2vec.modules import AltAttention

    for module in net.modules():
        if isinstance(module, AltAttention) and not module.cosine_attention:
            module.forward = types.MethodType(_fused_attention_forward, module)
