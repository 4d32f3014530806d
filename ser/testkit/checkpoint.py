"""Write a random-initialised emotion2vec+ checkpoint in the real FunASR format.

The machines that build and test this project have no internet, so the released weights cannot be
fetched. This writes `config.yaml`, `model.pt` (`{"model": state_dict}`) and `tokens.txt` exactly as
the released model directories have them, so FunASR's own loading and inference code runs on it.
Its outputs are meaningless: the directory carries a marker file and every analysis made with it is
labelled as made by a test checkpoint.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ser.engine.labels import MODEL_TOKENS
from ser.engine.model import TEST_MARKER  # present in every directory written here

# Architecture sizes. "large" matches emotion2vec_plus_large (1024-d, 16 + 8 pre-net blocks,
# 16 heads, ≈314 M parameters); "base" the 768-d seed/base variants; "tiny" is for tests.
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"embed_dim": 64, "depth": 2, "prenet_depth": 1, "heads": 4, "conv_dim": 64},
    "base": {"embed_dim": 768, "depth": 8, "prenet_depth": 4, "heads": 12, "conv_dim": 512},
    "large": {"embed_dim": 1024, "depth": 16, "prenet_depth": 8, "heads": 16, "conv_dim": 512},
}


def make_config(size: str = "tiny") -> dict[str, Any]:
    """The config.yaml content for an emotion2vec+ model of the given size."""
    s = SIZES[size]
    c = s["conv_dim"]
    # Total stride 320 samples at 16 kHz → 50 frames per second, as in the released models.
    spec = f"[({c}, 10, 5)] + [({c}, 3, 2)] * 4 + [({c}, 2, 2)] + [({c}, 2, 2)]"
    return {
        "model": "Emotion2vec",
        "model_conf": {
            "loss_beta": 0.0,
            "loss_scale": None,
            "depth": s["depth"],
            "start_drop_path_rate": 0.0,
            "end_drop_path_rate": 0.0,
            "num_heads": s["heads"],
            "norm_eps": 1e-05,
            "norm_affine": True,
            "encoder_dropout": 0.1,
            "post_mlp_drop": 0.1,
            "attention_dropout": 0.1,
            "activation_dropout": 0.0,
            "dropout_input": 0.0,
            "layerdrop": 0.0,
            "embed_dim": s["embed_dim"],
            "mlp_ratio": 4.0,
            "layer_norm_first": False,
            "average_top_k_layers": s["depth"],
            "end_of_block_targets": False,
            "clone_batch": 8,
            "layer_norm_target_layer": False,
            "batch_norm_target_layer": False,
            "instance_norm_target_layer": True,
            "instance_norm_targets": False,
            "layer_norm_targets": False,
            "ema_decay": 0.999,
            "ema_same_dtype": True,
            "log_norms": True,
            "ema_end_decay": 0.99999,
            "ema_anneal_end_step": 20000,
            "ema_encoder_only": False,
            "max_update": 100000,
            "extractor_mode": "layer_norm",
            "shared_decoder": None,
            "min_target_var": 0.1,
            "min_pred_var": 0.01,
            "supported_modality": "AUDIO",
            "mae_init": False,
            "seed": 1,
            "skip_ema": False,
            "cls_loss": 1.0,
            "recon_loss": 0.0,
            "d2v_loss": 1.0,
            "decoder_group": False,
            "normalize": True,
            "modalities": {
                "image": None,
                "text": None,
                "audio": {
                    "type": "AUDIO",
                    "prenet_depth": s["prenet_depth"],
                    "prenet_layerdrop": 0.0,
                    "prenet_dropout": 0.1,
                    "start_drop_path_rate": 0.0,
                    "end_drop_path_rate": 0.0,
                    "num_extra_tokens": 10,
                    "init_extra_token_zero": False,
                    "mask_noise_std": 0.01,
                    "mask_prob_min": None,
                    "mask_prob": 0.5,
                    "inverse_mask": False,
                    "mask_prob_adjust": 0.05,
                    "keep_masked_pct": 0.0,
                    "mask_length": 5,
                    "add_masks": False,
                    "remove_masks": False,
                    "mask_dropout": 0.0,
                    "encoder_zero_mask": True,
                    "mask_channel_prob": 0.0,
                    "mask_channel_length": 64,
                    "ema_local_encoder": False,
                    "local_grad_mult": 1.0,
                    "use_alibi_encoder": True,
                    "alibi_scale": 1.0,
                    "learned_alibi": False,
                    "alibi_max_pos": None,
                    "learned_alibi_scale": True,
                    "learned_alibi_scale_per_head": True,
                    "learned_alibi_scale_per_layer": False,
                    "num_alibi_heads": s["heads"],
                    "model_depth": s["depth"],
                    # The fine-tuned plus checkpoints ship without the pre-training decoder.
                    "decoder": None,
                    "extractor_mode": "layer_norm",
                    "feature_encoder_spec": spec,
                    "conv_pos_width": 95,
                    "conv_pos_depth": 5,
                    "conv_pos_groups": 16,
                    "conv_pos_pre_ln": False,
                },
            },
        },
        "tokenizer": "CharTokenizer",
        "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True},
    }


def write_test_checkpoint(directory: str | Path, *, size: str = "tiny", seed: int = 0) -> Path:
    """Write a random-initialised checkpoint to `directory` and return its path.

    Reuses the directory when it already holds a complete checkpoint of the same size.
    """
    import torch
    import yaml
    from funasr.models.emotion2vec.model import Emotion2vec

    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, not {size!r}")
    out = Path(directory)
    marker = out / TEST_MARKER
    if marker.exists() and marker.read_text().strip() == f"size={size} seed={seed}":
        if all((out / f).exists() for f in ("config.yaml", "model.pt", "tokens.txt")):
            return out
    out.mkdir(parents=True, exist_ok=True)

    config = make_config(size)
    torch.manual_seed(seed)
    model_conf = copy.deepcopy(config["model_conf"])
    model = Emotion2vec(model_conf=model_conf, vocab_size=len(MODEL_TOKENS))
    _spread_classifier(model, torch)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    (out / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    tmp = out / "model.pt.tmp"
    torch.save({"model": state}, tmp)
    tmp.replace(out / "model.pt")
    (out / "tokens.txt").write_text("\n".join(MODEL_TOKENS) + "\n", encoding="utf-8")
    marker.write_text(f"size={size} seed={seed}\n")
    return out


def _spread_classifier(model: Any, torch: Any) -> None:
    # Default Linear init gives near-uniform softmax outputs; a larger head makes the random
    # model's scores vary with the input, so tests can tell inputs apart. Still meaningless.
    with torch.no_grad():
        model.proj.weight.normal_(0.0, 0.5)
        model.proj.bias.zero_()
