"""A tiny, randomly initialised MusicGen saved as a local folder: the real model classes and the
real loading path (from_pretrained on a path), small enough to generate seconds of audio on a CPU.
The codec keeps the published geometry (32 kHz, 640-sample hop, 4 codebooks of 2048)."""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    EncodecConfig,
    MusicgenConfig,
    MusicgenDecoderConfig,
    MusicgenForConditionalGeneration,
    PreTrainedTokenizerFast,
    T5Config,
)

WORDS = [
    "rainy",
    "day",
    "slow",
    "jazz",
    "soft",
    "piano",
    "lo-fi",
    "chill",
    "night",
    "city",
    "guitar",
]


def build_tiny_musicgen(folder: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    text = T5Config(
        vocab_size=32, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
        relative_attention_num_buckets=8,
    )  # fmt: skip
    codec = EncodecConfig(
        sampling_rate=32000, audio_channels=1, num_filters=4, upsampling_ratios=[8, 5, 4, 4],
        codebook_size=2048, codebook_dim=8, hidden_size=8, use_causal_conv=False,
        normalize=False, num_lstm_layers=1, target_bandwidths=[2.2], chunk_length_s=None,
        use_conv_shortcut=False,
    )  # fmt: skip
    decoder = MusicgenDecoderConfig(
        vocab_size=2048, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, ffn_dim=64,
        num_codebooks=4, max_position_embeddings=2048, pad_token_id=2048, bos_token_id=2048,
    )  # fmt: skip
    # Sub-configs as dicts: transformers 4.x (the AudioCraft environment's) takes only those.
    config = MusicgenConfig(
        text_encoder=text.to_dict(), audio_encoder=codec.to_dict(), decoder=decoder.to_dict()
    )
    model = MusicgenForConditionalGeneration(config)
    model.generation_config.decoder_start_token_id = 2048
    model.generation_config.pad_token_id = 2048
    model.save_pretrained(folder)
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2} | {w: i + 3 for i, w in enumerate(WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    ).save_pretrained(folder)
    return folder
