"""The AudioCraft engine: `MusicGen.get_pretrained(name)` and its language model's own sampler.

AudioCraft samples a whole batch with one set of parameters and the global random generator, so
requests are only batched together when their top-k/top-p/temperature/guidance are equal, and the
batch is seeded from its members' seeds. Token continuation goes through the same call that
AudioCraft's `generate_continuation` makes once it has encoded the audio prompt
(`_generate_tokens` with `prompt_tokens`), so no audio is re-encoded between segments.
AudioCraft itself cannot be installed from the `musicgen` extra (its pins are old): see
docs/MUSICGEN.md and infra/worker.Dockerfile for the recipe.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from typing import Any

import numpy as np

from lofi_worker.backends.base import BackendUnavailable
from lofi_worker.backends.musicgen.engine import GenItem
from lofi_worker.backends.musicgen.hf_engine import resolve_device


class AudioCraftEngine:
    engine_name = "audiocraft"

    def __init__(self, model_id: str, device: str) -> None:
        # AudioCraft resolves repo ids through huggingface_hub; offline it reads only the cache.
        # The hub library reads this when it is first imported, so set it before the import.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from audiocraft.models import MusicGen
        except ImportError as err:
            raise BackendUnavailable(
                f"musicgen backend (audiocraft engine) needs audiocraft and torch ({err})"
            ) from err
        self.torch = torch
        self.model_id = model_id
        self.device = resolve_device(torch, device)
        try:
            self.model: Any = MusicGen.get_pretrained(model_id, device=self.device)
        except Exception as err:  # AudioCraft raises hub, OS and key errors alike here
            raise BackendUnavailable(
                f"AudioCraft could not load MusicGen {model_id!r} from the local cache or a "
                f"folder (nothing is downloaded): {str(err).splitlines()[0] if str(err) else err!r}"
            ) from err
        if self.model.audio_channels != 1:
            raise BackendUnavailable(f"{model_id}: stereo MusicGen models are not supported yet")
        self.sample_rate = int(self.model.sample_rate)
        self.frame_rate = round(self.model.frame_rate)
        self.hop = self.sample_rate // self.frame_rate
        self.num_codebooks = int(self.model.compression_model.num_codebooks)
        self.codebook_size = int(self.model.compression_model.cardinality)
        # One frame under the window, so the half-frame rounding below never crosses into
        # AudioCraft's own sliding (run_group slides, keeping our context length).
        self.max_frames = int(self.model.max_duration * self.frame_rate) - 1

    def param_key(self, item: GenItem) -> Hashable:
        return (item.top_k, item.top_p, item.temperature, item.cfg_coef)

    def encode(self, audio: np.ndarray) -> np.ndarray:
        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None, None]
        with torch.inference_mode():
            codes, _scale = self.model.compression_model.encode(x.to(self.device))
        return codes[0].cpu().numpy().astype(np.int64)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        torch = self.torch
        c = torch.from_numpy(codes.astype(np.int64)).to(self.device)
        with torch.inference_mode():
            audio = self.model.compression_model.decode(c, None)
        return audio[:, 0].float().cpu().numpy()[:, : codes.shape[2] * self.hop]

    def generate(
        self, items: list[GenItem], contexts: np.ndarray, new_frames: int, seeds: list[int]
    ) -> np.ndarray:
        torch = self.torch
        first = items[0]
        c = contexts.shape[2]
        self.model.set_generation_params(
            use_sampling=True,
            top_k=int(first.top_k),
            top_p=float(first.top_p),
            temperature=float(first.temperature),
            cfg_coef=float(first.cfg_coef),
            # AudioCraft truncates duration * frame_rate; half a frame more lands on the count.
            duration=(c + new_frames + 0.5) / self.frame_rate,
        )
        torch.manual_seed(_mix(seeds))
        attributes, _ = self.model._prepare_tokens_and_attributes([it.prompt for it in items], None)
        prompt = torch.from_numpy(contexts).to(self.device) if c > 0 else None
        with torch.inference_mode():
            tokens = self.model._generate_tokens(attributes, prompt, progress=False)
        return tokens.cpu().numpy()[:, :, : c + new_frames]


def _mix(seeds: list[int]) -> int:
    h = 1469598103934665603
    for s in seeds:
        h = ((h ^ s) * 1099511628211) % 2**63
    return h
