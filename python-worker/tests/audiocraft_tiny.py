"""A tiny, randomly initialised MusicGen built by AudioCraft's own builders and saved in the folder
layout `MusicGen.get_pretrained(folder)` loads: `state_dict.bin` (the LM) and
`compression_state_dict.bin` (EnCodec), each a torch-saved dict with its `xp.cfg` (the Hydra
config the builders read) and `best_state`. The configs follow AudioCraft's musicgen_lm and
encodec_large_nq4_s640 (the published 32 kHz geometry: 640-sample hop, 50 frames/s, 4 codebooks of
2048), scaled down. The text conditioner is AudioCraft's lookup table with its `noop` tokenizer
(a hash of the whole description), so nothing is downloaded (T5 and spaCy's model would be).

Importing this module needs audiocraft (the AudioCraft environment only).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch
from audiocraft.models import builders

SMALL = {"dim": 1024, "num_heads": 16, "num_layers": 24}  # facebook/musicgen-small's LM
TINY = {"dim": 32, "num_heads": 2, "num_layers": 2}
CODEC_PUBLISHED = {"dimension": 128, "n_filters": 64, "lstm": 2}
CODEC_TINY = {"dimension": 16, "n_filters": 4, "lstm": 1}


def compression_cfg(codec: dict[str, int]) -> dict[str, Any]:
    return {
        "compression_model": "encodec",
        "device": "cpu",
        "encodec": {
            "autoencoder": "seanet", "quantizer": "rvq", "sample_rate": 32000, "channels": 1,
            "causal": False, "renormalize": False,
        },
        "seanet": {
            "channels": 1, "causal": False, "n_residual_layers": 1, "ratios": [8, 5, 4, 4],
            "activation": "ELU", "activation_params": {"alpha": 1.0}, "norm": "weight_norm",
            "norm_params": {}, "kernel_size": 7, "residual_kernel_size": 3, "last_kernel_size": 7,
            "dilation_base": 2, "pad_mode": "constant", "true_skip": True, "compress": 2,
            "disable_norm_outer_blocks": 0, "encoder": {},
            "decoder": {
                "trim_right_ratio": 1.0, "final_activation": None, "final_activation_params": None,
            },
            **codec,
        },
        # kmeans_init off: the codebooks start random (kaiming-uniform) instead of waiting for
        # training data, so every code decodes to something.
        "rvq": {
            "n_q": 4, "q_dropout": False, "bins": 2048, "decay": 0.99, "kmeans_init": False,
            "kmeans_iters": 50, "threshold_ema_dead_code": 2, "orthogonal_reg_weight": 0.0,
            "orthogonal_reg_active_codes_only": False,
        },
    }  # fmt: skip


def lm_cfg(scale: dict[str, int], *, melody: bool = False) -> dict[str, Any]:
    conditioners: dict[str, Any] = {
        "description": {"model": "lut", "lut": {"n_bins": 256, "dim": 16, "tokenizer": "noop"}},
    }
    return {
        "lm_model": "transformer_lm",
        "device": "cpu",
        "dtype": "float32",
        "dataset": {"segment_duration": 30.0},  # MusicGen's window: max_duration
        "codebooks_pattern": {"modeling": "delay", "delay": {"delays": [0, 1, 2, 3]}},
        "transformer_lm": {
            "n_q": 4, "card": 2048, "hidden_scale": 4, "dropout": 0.0, "activation": "gelu",
            "norm_first": True, "bias_ff": False, "bias_attn": False, "bias_proj": False,
            "past_context": None, "causal": True, "custom": False, "memory_efficient": False,
            "attention_as_float32": False, "layer_scale": None, "positional_embedding": "sin",
            "xpos": False, "checkpointing": "none", "weight_init": "gaussian",
            "depthwise_init": "current", "zero_bias_init": True, "norm": "layer_norm",
            "cross_attention": False, "qk_layer_norm": False, "qk_layer_norm_cross": False,
            "attention_dropout": None, "kv_repeat": 1, "two_step_cfg": False, **scale,
        },
        "attribute_dropout": {},
        "classifier_free_guidance": {"training_dropout": 0.0, "inference_coef": 3.0},
        "fuser": {
            "cross_attention_pos_emb": False, "cross_attention_pos_emb_scale": 1,
            "sum": [], "prepend": [], "cross": ["description"], "input_interpolate": [],
        },
        "conditioners": conditioners,
    }  # fmt: skip


def _omegaconf(cfg: dict[str, Any]) -> Any:
    return importlib.import_module("omegaconf").OmegaConf.create(cfg)


def build_models(scale: dict[str, int], codec: dict[str, int], seed: int = 0) -> tuple[Any, Any]:
    """(compression model, LM), random weights, through AudioCraft's builders."""
    torch.manual_seed(seed)
    compression = builders.get_compression_model(_omegaconf(compression_cfg(codec))).eval()
    lm = builders.get_lm_model(_omegaconf(lm_cfg(scale))).eval()
    return compression, lm


def save_audiocraft_musicgen(folder: Path, compression: Any, lm: Any, codec: dict[str, int],
                             scale: dict[str, int]) -> Path:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"xp.cfg": compression_cfg(codec), "best_state": compression.state_dict()},
        folder / "compression_state_dict.bin",
    )
    torch.save({"xp.cfg": lm_cfg(scale), "best_state": lm.state_dict()}, folder / "state_dict.bin")
    return folder


def build_tiny_audiocraft_musicgen(folder: Path, seed: int = 0) -> Path:
    compression, lm = build_models(TINY, CODEC_TINY, seed)
    return save_audiocraft_musicgen(folder, compression, lm, CODEC_TINY, TINY)
