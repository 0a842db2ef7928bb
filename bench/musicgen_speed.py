"""MusicGen generation speed for 1, 4 and 16 concurrent stations (one batched call each).

Builds the published architectures with random weights (no download): the decoder of
facebook/musicgen-small (d_model 1024, 24 layers, 16 heads, ffn 4096) or -medium (1536, 48, 24,
6144), a T5-base text encoder and the 32 kHz EnCodec, and runs the worker's own code path
(`run_group`: context of real tokens, sampling with guidance, EnCodec decode). Speed does not
depend on the weights' values. Prints a markdown table on stderr and one JSON line on stdout.

Both engines: `--engines transformers,audiocraft` also builds the same architecture with
AudioCraft's own builders (its LMModel and 32 kHz EnCodec from a config; a lookup-table text
conditioner in place of T5-base, which runs once per call and costs little next to the decoder)
and times the AudioCraft engine on the same path. AudioCraft lives in
python-worker/.venv-audiocraft, which also has transformers, so both engines run in one process
on one torch.

    python-worker/.venv/bin/python bench/musicgen_speed.py                 # small, medium on CUDA
    python-worker/.venv/bin/python bench/musicgen_speed.py --quick         # tiny model, CPU check
    python-worker/.venv/bin/python bench/musicgen_speed.py --sizes small --batches 1,8 --seconds 20
    # the CPU row of docs/BENCHMARKS.md: small, both engines, 1 and 4 stations, 2 s + 2 s context
    python-worker/.venv-audiocraft/bin/python bench/musicgen_speed.py --device cpu \
        --engines transformers,audiocraft --sizes small --batches 1,4 \
        --seconds 2 --context-seconds 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np
import torch
from lofi_worker.backends.musicgen.engine import GenItem, run_group
from lofi_worker.backends.musicgen.hf_engine import TransformersEngine
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    EncodecConfig,
    MusicgenConfig,
    MusicgenDecoderConfig,
    MusicgenForConditionalGeneration,
    PreTrainedTokenizerFast,
    T5Config,
)

DECODERS = {  # hidden, layers, heads, ffn
    "tiny": (32, 2, 2, 64),
    "small": (1024, 24, 16, 4096),
    "medium": (1536, 48, 24, 6144),
}
T5_BASE = {"vocab_size": 32128, "d_model": 768, "d_kv": 64, "d_ff": 3072, "num_layers": 12}
T5_TINY = {"vocab_size": 64, "d_model": 16, "d_kv": 8, "d_ff": 32, "num_layers": 1}
ENCODEC_32K = {"num_filters": 64, "codebook_dim": 128, "hidden_size": 128, "num_lstm_layers": 2}
ENCODEC_TINY = {"num_filters": 4, "codebook_dim": 8, "hidden_size": 8, "num_lstm_layers": 1}
PROMPT = "lofi hip hop beat with soft piano rain and vinyl crackle"


def build(size: str, device: str) -> TransformersEngine:
    hidden, layers, heads, ffn = DECODERS[size]
    tiny = size == "tiny"
    t5 = T5_TINY if tiny else T5_BASE
    text = T5Config(**t5, num_heads=2 if tiny else 12)
    codec = EncodecConfig(
        sampling_rate=32000, audio_channels=1, upsampling_ratios=[8, 5, 4, 4], codebook_size=2048,
        use_causal_conv=False, normalize=False, target_bandwidths=[2.2], chunk_length_s=None,
        use_conv_shortcut=False, **(ENCODEC_TINY if tiny else ENCODEC_32K),
    )  # fmt: skip
    decoder = MusicgenDecoderConfig(
        vocab_size=2048, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        ffn_dim=ffn, num_codebooks=4, max_position_embeddings=2048, pad_token_id=2048,
        bos_token_id=2048,
    )  # fmt: skip
    # Sub-configs as dicts: transformers 4.x (AudioCraft's environment) takes only those, 5.x both.
    config = MusicgenConfig(
        text_encoder=text.to_dict(), audio_encoder=codec.to_dict(), decoder=decoder.to_dict()
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = MusicgenForConditionalGeneration(config)
    model.generation_config.decoder_start_token_id = 2048
    model.generation_config.pad_token_id = 2048
    words = sorted(set(PROMPT.split()))
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2} | {w: i + 3 for i, w in enumerate(words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    return TransformersEngine.from_model(model, fast, f"random-{size}")


def build_audiocraft(size: str, device: str) -> Any:
    """The same decoder and codec through AudioCraft's builders (what get_pretrained would load)."""
    from audiocraft.models import MusicGen, builders
    from lofi_worker.backends.musicgen.audiocraft_engine import AudioCraftEngine
    from omegaconf import OmegaConf

    hidden, layers, heads, ffn = DECODERS[size]
    tiny = size == "tiny"
    seanet = {
        "dimension": 8 if tiny else 128, "channels": 1, "causal": False,
        "n_filters": 4 if tiny else 64, "n_residual_layers": 1, "ratios": [8, 5, 4, 4],
        "activation": "ELU", "activation_params": {"alpha": 1.0}, "norm": "weight_norm",
        "norm_params": {}, "kernel_size": 7, "residual_kernel_size": 3, "last_kernel_size": 7,
        "dilation_base": 2, "pad_mode": "constant", "true_skip": True, "compress": 2,
        "lstm": 1 if tiny else 2, "disable_norm_outer_blocks": 0, "encoder": {},
        "decoder": {"trim_right_ratio": 1.0, "final_activation": None,
                    "final_activation_params": None},
    }  # fmt: skip
    lm = {  # config/model/lm/default.yaml + musicgen_lm.yaml + model_scale
        "dim": hidden, "num_heads": heads, "num_layers": layers, "hidden_scale": ffn // hidden,
        "n_q": 4, "card": 2048, "dropout": 0.0, "emb_lr": None, "activation": "gelu",
        "norm_first": True, "bias_ff": False, "bias_attn": False, "bias_proj": False,
        "past_context": None, "causal": True, "custom": False, "memory_efficient": True,
        "attention_as_float32": False, "layer_scale": None, "positional_embedding": "sin",
        "xpos": False, "checkpointing": "none", "weight_init": "gaussian",
        "depthwise_init": "current", "zero_bias_init": True, "norm": "layer_norm",
        "cross_attention": False, "qk_layer_norm": False, "qk_layer_norm_cross": False,
        "attention_dropout": None, "kv_repeat": 1, "two_step_cfg": False,
    }  # fmt: skip
    cfg = OmegaConf.create({
        "device": device, "dtype": "float32", "sample_rate": 32000, "channels": 1,
        "compression_model": "encodec",
        "encodec": {"autoencoder": "seanet", "quantizer": "rvq", "sample_rate": 32000,
                    "channels": 1, "causal": False, "renormalize": False},
        "seanet": seanet,
        "rvq": {"n_q": 4, "q_dropout": False, "bins": 2048, "decay": 0.99, "kmeans_init": True,
                "kmeans_iters": 50, "threshold_ema_dead_code": 2, "orthogonal_reg_weight": 0.0,
                "orthogonal_reg_active_codes_only": False},
        "lm_model": "transformer_lm", "transformer_lm": lm,
        "codebooks_pattern": {"modeling": "delay",
                              "delay": {"delays": [0, 1, 2, 3], "flatten_first": 0,
                                        "empty_initial": 0}},
        "classifier_free_guidance": {"training_dropout": 0.2, "inference_coef": 3.0},
        "attribute_dropout": {},
        "fuser": {"cross_attention_pos_emb": False, "cross_attention_pos_emb_scale": 1,
                  "sum": [], "prepend": [], "cross": ["description"], "input_interpolate": []},
        # "noop" hashes the text; "whitespace" would load (download) spaCy's en_core_web_sm
        "conditioners": {"description": {"model": "lut", "lut": {
            "n_bins": 512, "dim": 64, "tokenizer": "noop"}}},
        "dataset": {"segment_duration": 30.0},
    })  # fmt: skip
    torch.manual_seed(0)
    codec = builders.get_compression_model(cfg).eval()
    model = builders.get_lm_model(cfg).eval()
    return AudioCraftEngine.from_model(
        MusicGen(f"random-{size}", codec, model, max_duration=30.0), f"random-{size}-audiocraft"
    )


def measure(engine: Any, batch: int, context: int, new: int) -> dict[str, Any]:
    rng = np.random.default_rng(batch)
    items = [
        GenItem(
            model=engine.model_id,
            prompt=PROMPT,
            context=rng.integers(0, 2048, (4, context)),
            context_audio=None,
            context_frames=context,
            new_frames=new,
            top_k=250,
            top_p=0.0,
            temperature=1.0,
            cfg_coef=3.0,
            seed=i,
        )
        for i in range(batch)
    ]
    sync()
    started, cpu = time.perf_counter(), time.process_time()
    run_group(engine, items, context)
    sync()
    seconds = time.perf_counter() - started
    # CPU seconds of this process (all threads): on a shared machine wall time also counts the
    # other tenants; audio / CPU seconds is the real-time factor per dedicated core.
    cpu_seconds = time.process_time() - cpu
    audio = new / engine.frame_rate
    return {
        "batch": batch,
        "audioSecondsPerStation": audio,
        "computeSeconds": round(seconds, 3),
        "cpuSeconds": round(cpu_seconds, 3),
        "realtimeFactorPerCore": round(batch * audio / max(cpu_seconds, 1e-9), 4),
        "realtimeFactorPerStation": round(audio / seconds, 3),
        "realtimeFactorTotal": round(batch * audio / seconds, 3),
        "tokensPerSecond": round(batch * new * engine.num_codebooks / seconds, 1),
    }


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny model on the CPU: checks it runs")
    p.add_argument("--sizes", default=None, help="comma list of tiny, small, medium")
    p.add_argument("--batches", default="1,4,16")
    p.add_argument("--seconds", type=float, default=None, help="new audio per station")
    p.add_argument("--context-seconds", type=float, default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--engines", default="transformers", help="comma list: transformers,audiocraft")
    args = p.parse_args(argv)
    device = "cpu" if args.quick else args.device
    sizes = (args.sizes or ("tiny" if args.quick else "small,medium")).split(",")
    seconds = args.seconds or (1.0 if args.quick else 10.0)
    context_s = args.context_seconds
    if context_s is None:
        context_s = 2.0 if args.quick else 10.0
    batches = [int(b) for b in args.batches.split(",")]
    name = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    rows = []
    runs = [(s, e) for s in sizes for e in args.engines.split(",")]
    for size, engine_name in runs:
        builder = build_audiocraft if engine_name == "audiocraft" else build
        engine = builder(size, device)
        context, new = round(context_s * 50), round(seconds * 50)
        measure(engine, 1, context, new)  # warm-up at the real shape: kernels, allocator, caches
        for b in batches:
            row = {"size": size, "engine": engine_name, "device": name,
                   "torch": torch.__version__, "contextSeconds": context_s,
                   **measure(engine, b, context, new)}  # fmt: skip
            rows.append(row)
            print(
                f"| {size} | {engine_name} | {b} | {row['realtimeFactorPerStation']:.2f}x | "
                f"{row['realtimeFactorTotal']:.2f}x | {row['tokensPerSecond']:.0f} |",
                file=sys.stderr,
            )
        del engine
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    print(
        "\n| size | engine | stations (batch) | real time per station | total real time "
        "| tokens/s |\n|---|---|---|---|---|---|\n"
        + "\n".join(
            f"| {r['size']} | {r['engine']} | {r['batch']} | "
            f"{r['realtimeFactorPerStation']:.2f}x | {r['realtimeFactorTotal']:.2f}x | "
            f"{r['tokensPerSecond']:.0f} |"
            for r in rows
        ),
        file=sys.stderr,
    )
    print(json.dumps({"device": name, "seconds": seconds, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
