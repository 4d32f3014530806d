"""The one module that touches FunASR's internals (conventions, item 14); the engine calls only this.

emotion2vec+ is built, and its weights loaded, by FunASR's own code. For memory and speed three
things are changed inside it, and a few attributes of what it builds are read:
- lean loading: FunASR's checkpoint loader sees a `torch` whose `load` memory-maps and unpickles
  weights only, and a `copy` that does not duplicate the checkpoint; parameters are created in the
  dtype they run in (torch's default dtype, changed only while loading); and each module's weights
  are copied out of the mapped file one module at a time, the file's pages released as soon as
  they are copied, so the file (1.26 GB for plus_large) is never resident as a whole;
- fused attention: `AltAttention.forward` replaced by torch's scaled_dot_product_attention;
- int8: dynamic quantisation of the encoder's Linear layers.

Each patch checks at load that what it patches has the shape it was written against (funasr==1.4.16).
If not, ONE warning names the FunASR version and what did not match, the patch is left off and the
model runs in fp32: a slower worker, not a dead one. What scoring cannot do without (extract_features,
the head `proj`, the tokenizer's token list, cfg.normalize) raises FunASRIncompatibleError instead.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import threading
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .messages import Explained, gettext_noop

log = logging.getLogger(__name__)

TESTED_VERSION = "1.4.16"  # the funasr pinned in requirements.txt
LOADER_MODULE = "funasr.train_utils.load_pretrained_model"
ATTENTION_MODULE = "funasr.models.emotion2vec.modules"
# What fused_attention_forward reads from an AltAttention module, and the call it must accept.
ATTENTION_ATTRIBUTES = ("num_heads", "qkv", "scale", "proj", "proj_drop", "cosine_attention")
ATTENTION_PARAMETERS = ("x", "padding_mask", "alibi_bias")
_load_lock = threading.Lock()


class ModelUnavailableError(Explained, RuntimeError):
    """The configured model cannot be loaded. The message says what to fix."""


class FunASRIncompatibleError(ModelUnavailableError):
    """The installed FunASR lacks what scoring needs: a software problem, not a setting to fix."""


@dataclass
class LoadReport:
    """How the model was actually loaded; kept on the model for tests and the processing log."""

    funasr_version: str
    lean_loader_used: bool = False  # FunASR's loader read the checkpoint through the lean torch.load
    weights_only: bool = False  # ...and the weights-only unpickler accepted it
    mapped: bool = False  # ...memory-mapped, so its pages could be released as they were copied
    released_mb: float = 0.0  # mapped checkpoint released module by module while loading
    fused_attention_modules: int = 0
    fallbacks: list[str] = field(default_factory=list)  # what was not done as planned, and why


@dataclass
class LoadedModel:
    """What the engine needs from FunASR's AutoModel, read once at load."""

    auto: Any  # FunASR's AutoModel; its own generate() is the tests' oracle
    network: Any  # FunASR's Emotion2vec module
    model_dir: Path | None  # where FunASR found the files (a hub download lands in a cache)
    tokens: list[str]  # the classifier's labels, in output order
    device: str
    normalize: bool  # layer-norm the waveform first, as FunASR's inference does
    precision: str  # the numeric path actually set up: fp32, bf16, fp16 (GPU) or int8
    report: LoadReport

    @property
    def has_classifier(self) -> bool:
        return self.network.proj is not None

    @property
    def embedding_dim(self) -> int:
        return int(self.network.proj.in_features)

    def head(self) -> tuple[Any, Any]:
        """The classifier's weight and bias in fp32, to apply to pooled and per-frame features."""
        return self.network.proj.weight.float(), self.network.proj.bias.float()

    def extract(self, source: Any, padding_mask: Any) -> tuple[Any, Any]:
        """Frame features (B, T, D) and the frames' padding mask (None without padding)."""
        out = self.network.extract_features(source, padding_mask=padding_mask)
        return out["x"], out.get("padding_mask")


def funasr_version() -> str:
    try:
        import funasr
    except ImportError:
        return "(not installed)"
    return str(getattr(funasr, "__version__", "(unknown version)"))


def _incompatible(what: str) -> FunASRIncompatibleError:
    return FunASRIncompatibleError(
        gettext_noop(
            "FunASR %(version)s is not compatible with this product: %(what)s. It was tested with "
            "funasr==%(tested)s, the version pinned in requirements.txt; install that version and "
            "restart the worker."
        ),
        version=funasr_version(),
        what=what,  # technical detail, kept as it is
        tested=TESTED_VERSION,
    )


def _loader_module() -> Any:
    return importlib.import_module(LOADER_MODULE)


def _alt_attention_class() -> Any:  # the class, or None
    try:
        cls = getattr(importlib.import_module(ATTENTION_MODULE), "AltAttention", None)
    except ImportError:
        return None
    return cls if isinstance(cls, type) else None


def lean_loader_problems() -> list[str]:
    """What keeps the lean-loading patch from applying to the installed FunASR (empty: it applies)."""
    try:
        lpm = _loader_module()
    except ImportError as exc:
        return [f"{LOADER_MODULE} cannot be imported ({exc})"]
    problems = [f"{LOADER_MODULE} has no {name!r}" for name in ("torch", "copy") if not hasattr(lpm, name)]
    fn = getattr(lpm, "load_pretrained_model", None)
    if not callable(fn) or not hasattr(fn, "__code__"):
        return [*problems, f"{LOADER_MODULE}.load_pretrained_model is missing"]
    # Swapping the module's `torch` and `copy` only works while the loader looks up torch.load and
    # copy.deepcopy in its own module's globals at call time.
    if fn.__globals__ is not vars(lpm) or not {"torch", "load", "copy", "deepcopy"} <= set(
        fn.__code__.co_names
    ):
        problems.append("load_pretrained_model no longer calls torch.load and copy.deepcopy")
    auto_model = importlib.import_module("funasr.auto.auto_model")  # imported by `funasr` itself
    if getattr(auto_model, "load_pretrained_model", None) is not fn:
        problems.append("AutoModel no longer loads weights through load_pretrained_model")
    return problems


def _missing_attributes(module: Any) -> list[str]:
    return [name for name in ATTENTION_ATTRIBUTES if not hasattr(module, name)]


def fused_attention_problems() -> list[str]:
    """What keeps the fused attention from replacing AltAttention.forward (empty: it applies)."""
    cls = _alt_attention_class()
    if cls is None:
        return [f"{ATTENTION_MODULE}.AltAttention is missing"]
    problems = []
    params = tuple(inspect.signature(cls.forward).parameters)[1:]
    if params != ATTENTION_PARAMETERS:
        problems.append(
            f"AltAttention.forward takes ({', '.join(params)}), not ({', '.join(ATTENTION_PARAMETERS)})"
        )
    try:  # the attributes are set in __init__: look at a throw-away instance
        missing = _missing_attributes(cls(8, num_heads=2))
    except Exception as exc:
        return [*problems, f"AltAttention(8, num_heads=2) fails ({type(exc).__name__}: {exc})"]
    if missing:
        problems.append(f"AltAttention lacks {', '.join(missing)}")
    return problems


def check_compatibility(precision: str = "bf16") -> list[str]:
    """Everything that keeps the patches for `precision` from applying; empty when all apply."""
    return lean_loader_problems() + (fused_attention_problems() if precision != "fp32" else [])


class _LeanTorch:
    """torch as FunASR's checkpoint loader sees it, with a memory-mapped, weights-only `load`."""

    def __init__(self, torch: Any, report: LoadReport) -> None:
        self._torch = torch
        self._report = report

    def __getattr__(self, name: str) -> Any:
        return getattr(self._torch, name)

    def load(self, f: Any, *args: Any, **kwargs: Any) -> Any:
        self._report.lean_loader_used = True
        error: Exception | None = None
        for mmap in (True, False):  # an old-format (non-zip) file cannot be memory-mapped
            try:
                obj = self._torch.load(f, *args, **{**kwargs, "mmap": mmap, "weights_only": True})
            except OSError:
                raise  # a missing or unreadable file: the full unpickler would not help
            except Exception as exc:
                error = exc
                continue
            self._report.weights_only = True
            self._report.mapped = mmap
            return obj
        # A checkpoint that pickles more than tensors needs the full unpickler, which runs code
        # named in the file: allowed (the released checkpoints must load), never silently.
        reason = _reason(error)
        log.warning(
            "%s could not be loaded weights-only (%s); loading it with the full unpickler, "
            "which trusts the file's contents",
            f,
            reason,
        )
        self._report.fallbacks.append(f"full unpickler for {f}: {reason}")
        return self._torch.load(f, *args, **{**kwargs, "weights_only": False})


def _reason(exc: Exception | None) -> str:
    """The line of torch's (long) weights-only error that says what the file holds."""
    text = str(exc).split("WeightsUnpickler error:", 1)[-1].strip()
    line = text.splitlines()[0].split(". Please")[0] if text else ""
    return f"{type(exc).__name__}: {line[:240]}"


class _NoDeepCopy:
    # FunASR deep-copies the loaded checkpoint only to keep the original untouched; nothing uses
    # the original afterwards, and the copy doubles peak memory (1.25 GB for plus_large).
    @staticmethod
    def deepcopy(obj: Any) -> Any:
        return obj


_MADV_DONTNEED = 4  # Linux <sys/mman.h>


def _release_pages(tensor: Any) -> int:
    """Drop the whole memory pages of a CPU tensor's bytes from this process (madvise DONTNEED):
    for a read-only memory-mapped checkpoint they stay in the page cache and would be read back
    from the file if touched again, but no longer count in the process's resident memory. Returns
    the bytes released (0 where the platform has no madvise)."""
    import ctypes
    import mmap

    from .host import libc

    page = mmap.PAGESIZE
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    first, last = -(-start // page) * page, end // page * page
    if last <= first:
        return 0
    c = libc()
    madvise = getattr(c, "madvise", None)
    if madvise is None or madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), _MADV_DONTNEED) != 0:
        return 0
    return last - first


def _copy_and_release(report: LoadReport) -> Any:
    """A load_state_dict pre-hook for every module of the network being loaded: copy the module's
    own parameters and buffers out of the memory-mapped checkpoint (converting to the parameter's
    dtype), release the checkpoint's pages, and hand load_state_dict the parameter itself, which it
    then copies onto itself (a no-op). Peak memory: the network plus one module's weights, instead
    of the network plus the whole mapped file."""
    import torch

    def hook(module: Any, state_dict: Any, prefix: str, *_: Any) -> None:
        with torch.no_grad():
            for name, target in [*module._parameters.items(), *module._buffers.items()]:
                key = prefix + name
                source = state_dict.get(key)
                if (
                    target is None
                    or not isinstance(source, torch.Tensor)
                    or source.device.type != "cpu"
                    or target.device.type != "cpu"
                    or source.shape != target.shape
                    or source.untyped_storage().data_ptr() == target.untyped_storage().data_ptr()
                ):
                    continue  # load_state_dict reports (or copies) it as it would have
                target.copy_(source)
                state_dict[key] = target.detach()
                if report.mapped:  # never from heap memory: releasing that would zero it
                    report.released_mb += _release_pages(source) / 2**20

    return hook


def _releasing(load_pretrained_model: Any, report: LoadReport) -> Any:
    """FunASR's load_pretrained_model with the copy-and-release hook on every module of its model."""

    def load(*args: Any, **kwargs: Any) -> Any:
        model = kwargs.get("model")
        if model is None:
            return load_pretrained_model(*args, **kwargs)
        hook = _copy_and_release(report)
        handles = [m.register_load_state_dict_pre_hook(hook) for m in model.modules()]
        try:
            return load_pretrained_model(*args, **kwargs)
        finally:
            for handle in handles:
                handle.remove()

    return load


@contextlib.contextmanager
def lean_loading(dtype: Any, report: LoadReport | None = None) -> Iterator[LoadReport]:
    """Inside: FunASR builds parameters in `dtype` and loads weights without a second copy, module
    by module out of the mapped file (load peak of a plus_large bf16 worker: the network plus the
    imports, see the README's figures). Outside, nothing of it remains."""
    import torch

    if report is None:
        report = LoadReport(funasr_version())
    lpm = _loader_module()
    auto_model: Any = importlib.import_module("funasr.auto.auto_model")
    # The default dtype is process-wide: the lock keeps two loads from interleaving, and it is
    # restored however the load ends.
    with _load_lock:
        saved = (lpm.torch, lpm.copy, torch.get_default_dtype(), auto_model.load_pretrained_model)
        try:
            lpm.torch, lpm.copy = _LeanTorch(torch, report), _NoDeepCopy()
            auto_model.load_pretrained_model = _releasing(saved[3], report)
            torch.set_default_dtype(dtype)
            yield report
        finally:
            lpm.torch, lpm.copy = saved[0], saved[1]
            auto_model.load_pretrained_model = saved[3]
            torch.set_default_dtype(saved[2])


def fused_attention_forward(self: Any, x: Any, padding_mask: Any = None, alibi_bias: Any = None) -> Any:
    """FunASR's AltAttention.forward (q·kᵀ·scale + ALiBi bias, key padding masked, softmax, ·v)
    computed by torch's fused scaled_dot_product_attention: the same function without materialising
    the B×H×N×N score tensor in three dtypes. Its agreement with FunASR's fp32 path is tested."""
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


def install_fused_attention(net: Any) -> int:
    """Use the fused forward on every non-cosine AltAttention of `net`; returns how many. Patches
    none when any of them lacks what the replacement reads."""
    cls = _alt_attention_class()
    modules = [m for m in net.modules() if cls is not None and isinstance(m, cls)]
    if not modules or any(_missing_attributes(m) for m in modules):
        return 0
    targets = [m for m in modules if not m.cosine_attention]  # cosine attention is not what it computes
    for module in targets:
        module.forward = types.MethodType(fused_attention_forward, module)
    return len(targets)


def quantize_linear_layers(net: Any) -> None:
    """int8 dynamic quantisation of the encoder's Linear layers; the classifier head stays fp32."""
    import torch

    qconfig = torch.ao.quantization.default_dynamic_qconfig
    spec = {name: qconfig for name, _ in net.named_children() if name != "proj"}
    torch.ao.quantization.quantize_dynamic(net, spec, dtype=torch.qint8, inplace=True)


def _auto_model(source: str, **options: Any) -> Any:
    from funasr import AutoModel

    return AutoModel(model=source, disable_update=True, disable_pbar=True, log_level="ERROR", **options)


def _read(auto: Any, precision: str, report: LoadReport, device: str) -> LoadedModel:
    """Check that the built AutoModel has what scoring reads, and read it."""
    import torch

    kwargs = getattr(auto, "kwargs", None)
    if not isinstance(kwargs, Mapping) or "tokenizer" not in kwargs:
        raise _incompatible("AutoModel has no kwargs['tokenizer']")
    tokenizer = kwargs["tokenizer"]  # None when config.yaml names none: the labels check says so
    if tokenizer is not None and not hasattr(tokenizer, "token_list"):
        raise _incompatible(f"its tokenizer {type(tokenizer).__name__} has no token_list")
    net = getattr(auto, "model", None)
    if net is None:
        raise _incompatible("AutoModel built no network (no .model)")
    if not callable(getattr(net, "extract_features", None)):
        raise _incompatible(f"{type(net).__name__} has no extract_features")
    if not hasattr(net, "proj"):  # present but None: the checkpoint has no head (a model problem)
        raise _incompatible(f"{type(net).__name__} has no classifier head attribute 'proj'")
    if net.proj is not None and not isinstance(net.proj, torch.nn.Linear):
        raise _incompatible(f"its classifier head is a {type(net.proj).__name__}, not a Linear layer")
    normalize = getattr(getattr(net, "cfg", None), "normalize", None)
    if not isinstance(normalize, bool):
        raise _incompatible(f"{type(net).__name__} has no cfg.normalize")
    model_path = getattr(auto, "model_path", None)
    return LoadedModel(
        auto=auto,
        network=net,
        model_dir=Path(model_path) if model_path else None,
        tokens=[str(t) for t in (getattr(tokenizer, "token_list", None) or [])],
        device=str(kwargs.get("device", device)),
        normalize=normalize,
        precision=precision,
        report=report,
    )


def _build(source: str, precision: str, report: LoadReport, *, lean: bool, **options: Any) -> LoadedModel:
    import torch

    if not lean:
        return _read(_auto_model(source, **options), precision, report, options["device"])
    with lean_loading(torch.bfloat16 if precision == "bf16" else torch.float32, report):
        auto = _auto_model(source, **options)
    return _read(auto, precision, report, options["device"])


def load(
    source: str, *, precision: str, device: str = "cpu", threads: int = 1, hub: str = "ms"
) -> LoadedModel:
    """Build the model with FunASR and set up the `precision` path (fp32, bf16, fp16 or int8): patched
    where the installed FunASR has the expected shape, else unpatched in fp32."""
    options = {"device": device, "ncpu": threads, "hub": hub}
    report = LoadReport(funasr_version())
    loader_problems = lean_loader_problems()
    problems = loader_problems + (fused_attention_problems() if precision != "fp32" else [])
    if problems:
        precision = "fp32"
    lean = not loader_problems
    loaded = _build(source, precision, report, lean=lean, **options)
    # Checks that only the loaded model can answer: did FunASR go through the lean loader, and
    # does the network hold AltAttention modules that take the fused forward?
    if lean and not report.lean_loader_used:
        problems.append("FunASR loaded the weights without load_pretrained_model's torch.load")
    if precision != "fp32" and not problems:
        report.fused_attention_modules = install_fused_attention(loaded.network)
        if report.fused_attention_modules == 0:
            problems.append("no AltAttention module of the loaded network could take the fused attention")
    if not problems:
        if precision == "int8":
            quantize_linear_layers(loaded.network)
        return loaded
    log.warning(
        "FunASR %s does not have the shape this product patches (tested with funasr==%s): %s. "
        "The worker continues on the unpatched fp32 path: slower, not less accurate.",
        report.funasr_version,
        TESTED_VERSION,
        "; ".join(problems),
    )
    report.fallbacks.extend(problems)
    if precision == "fp32":
        return loaded
    # Built in bf16, or meant for int8 with the fused attention: build again in fp32.
    del loaded
    lean = lean and report.lean_loader_used
    report = LoadReport(report.funasr_version, fallbacks=report.fallbacks)
    return _build(source, "fp32", report, lean=lean, **options)
