"""MusicGen generation speed for 1, 4 and 16 concurrent stations (one batched call each).

Builds the published architectures with random weights (no download): the decoder of
facebook/musicgen-small (d_model 1024, 24 layers, 16 heads, ffn 4096) or -medium (1536, 48, 24,
6144), a T5-base text encoder and the 32 kHz EnCodec, and runs the worker's own code path
(`run_group`: context of real tokens, sampling with guidance, EnCodec decode). Speed does not
depend on the weights' values. Prints a markdown table on stderr and one JSON line on stdout.

    python-worker/.venv/bin/python bench/musicgen_speed.py                 # small, medium on CUDA
    python-worker/.venv/bin/python bench/musicgen_speed.py --quick         # tiny model, CPU check
    python-worker/.venv/bin/python bench/musicgen_speed.py --sizes small --batches 1,8 --seconds 20
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
    config = MusicgenConfig(text_encoder=text, audio_encoder=codec, decoder=decoder)
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


def measure(engine: TransformersEngine, batch: int, context: int, new: int) -> dict[str, Any]:
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
    started = time.perf_counter()
    run_group(engine, items, context)
    sync()
    seconds = time.perf_counter() - started
    audio = new / engine.frame_rate
    return {
        "batch": batch,
        "audioSecondsPerStation": audio,
        "computeSeconds": round(seconds, 3),
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
    for size in sizes:
        engine = build(size, device)
        context, new = round(context_s * 50), round(seconds * 50)
        measure(engine, 1, context, 5)  # warm-up: kernels, allocator
        for b in batches:
            row = {"size": size, "device": name, "contextSeconds": context_s, **measure(
                engine, b, context, new
            )}  # fmt: skip
            rows.append(row)
            print(
                f"| {size} | {b} | {row['realtimeFactorPerStation']:.2f}x | "
                f"{row['realtimeFactorTotal']:.2f}x | {row['tokensPerSecond']:.0f} |",
                file=sys.stderr,
            )
        del engine
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    print(
        "\n| size | stations (batch) | real time per station | total real time | tokens/s |\n"
        "|---|---|---|---|---|\n"
        + "\n".join(
            f"| {r['size']} | {r['batch']} | {r['realtimeFactorPerStation']:.2f}x | "
            f"{r['realtimeFactorTotal']:.2f}x | {r['tokensPerSecond']:.0f} |"
            for r in rows
        ),
        file=sys.stderr,
    )
    print(json.dumps({"device": name, "seconds": seconds, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
