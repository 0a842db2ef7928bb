"""What a MusicGen engine offers, and the engine-independent work of one batched call.

An engine wraps one loaded model (AudioCraft's or transformers'). `run_group` takes requests that
share a shape (same model, context length and new length) and makes one batched model call per
pass of the sliding window, then decodes every row's tokens to audio in one codec call.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from lofi_worker.logs import get_logger

log = get_logger("lofi_worker.musicgen")


@dataclass
class GenItem:
    """One station's request: continue `context` (or encode `context_audio` first) by new frames."""

    model: str
    prompt: str
    context: np.ndarray | None  # (K, C) codebook tokens, or None with context_audio / no context
    context_audio: np.ndarray | None  # mono float32 at the engine's rate, C whole frames long
    context_frames: int  # C, known before any encoding so requests can be grouped
    new_frames: int
    top_k: int
    top_p: float
    temperature: float
    cfg_coef: float
    seed: int
    # musicgen-melody: mono float32 at the engine's rate whose chroma conditions the music
    melody: np.ndarray | None = None

    def params(self) -> dict[str, float | int]:
        return {
            "top_k": self.top_k,
            "top_p": self.top_p,
            "temperature": self.temperature,
            "cfg_coef": self.cfg_coef,
        }


@dataclass
class GenResult:
    codes: np.ndarray  # (K, C + new) int16: the context followed by the generated frames
    audio: np.ndarray  # mono float32 at the engine's rate, (C + new) * hop samples


class Engine(Protocol):
    engine_name: str  # "transformers" | "audiocraft"
    model_id: str
    device: str
    sample_rate: int  # 32000 for the published models
    frame_rate: int  # 50
    num_codebooks: int
    codebook_size: int
    max_frames: int  # prompt + new frames one pass may hold (the 30 s training window)

    def param_key(self, item: GenItem) -> Hashable:
        """Parameters that must be equal inside one model call (engines without per-row ones)."""

    def encode(self, audio: np.ndarray) -> np.ndarray:
        """Mono float32 audio at sample_rate -> (K, frames) tokens."""

    def generate(
        self, items: list[GenItem], contexts: np.ndarray, new_frames: int, seeds: list[int]
    ) -> np.ndarray:
        """One pass: contexts (B, K, C) -> (B, K, C + new_frames), context included."""

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """(B, K, T) tokens -> (B, T * hop) mono float32 audio."""


def group_key(engine: Engine, item: GenItem) -> Hashable:
    return (item.model, item.context_frames, item.new_frames, engine.param_key(item))


def run_group(engine: Engine, items: list[GenItem], context_frames: int) -> list[GenResult]:
    """Generate and decode a group of same-shaped requests; logs real-time factor and tokens/s.

    Longer than one window, generation slides as AudioCraft does: each further pass keeps the last
    `context_frames` frames as its prompt and adds at most `max_frames - context_frames` frames.
    """
    started = time.perf_counter()
    k = engine.num_codebooks
    c = items[0].context_frames
    remaining = items[0].new_frames
    passes = 0
    continue_audio = getattr(engine, "continue_audio", None)
    prompts = [it.context_audio for it in items if it.context_audio is not None]
    if continue_audio is not None and c > 0 and len(prompts) == len(items):
        # Only audio prompts (no usable tokens): the engine's own audio continuation encodes them.
        step = min(remaining, engine.max_frames - c)
        audio_prompts = np.stack(prompts)
        codes = continue_audio(items, audio_prompts, step, [it.seed for it in items])
        remaining -= step
        passes = 1
    else:
        rows = []
        for item in items:
            if item.context is not None:
                ctx = item.context
            elif item.context_audio is not None:
                ctx = _fit(engine.encode(item.context_audio), c)
            else:
                ctx = np.zeros((k, 0), dtype=np.int64)
            rows.append(ctx.astype(np.int64))
        codes = np.stack(rows)  # (B, K, C)
    while remaining > 0:
        prompt = codes[:, :, -context_frames:] if codes.shape[2] > context_frames else codes
        step = min(remaining, engine.max_frames - prompt.shape[2])
        seeds = [(it.seed + 7919 * passes) % 2**32 for it in items]
        out = engine.generate(items, prompt, step, seeds)
        codes = np.concatenate([codes, out[:, :, prompt.shape[2] :]], axis=2)
        remaining -= step
        passes += 1
    generated = time.perf_counter() - started
    audio = engine.decode(codes)
    total = time.perf_counter() - started
    new_seconds = sum(it.new_frames for it in items) / engine.frame_rate
    log.info(
        "musicgen batch",
        extra={
            "engine": engine.engine_name,
            "model": engine.model_id,
            "device": engine.device,
            "batchSize": len(items),
            "contextFrames": c,
            "newFrames": items[0].new_frames,
            "passes": passes,
            "audioSeconds": round(new_seconds, 3),
            "generateSeconds": round(generated, 3),
            "computeSeconds": round(total, 3),
            "realtimeFactor": round(new_seconds / max(total, 1e-9), 3),
            "tokensPerSecond": round(new_seconds * engine.frame_rate * k / max(generated, 1e-9), 1),
        },
    )
    return [GenResult(codes[i].astype(np.int16), audio[i]) for i in range(len(items))]


def _fit(codes: np.ndarray, frames: int) -> np.ndarray:
    """Encoders may round the frame count; the plan promised exactly `frames` frames."""
    if codes.shape[1] >= frames:
        return codes[:, codes.shape[1] - frames :]
    pad = np.repeat(codes[:, :1], frames - codes.shape[1], axis=1)
    return np.concatenate([pad, codes], axis=1)
