"""The transformers engine: MusicgenForConditionalGeneration with our own sampling loop.

transformers' own `generate` returns decoded audio only (the codebook tokens stay inside it), and
its sampling parameters are one per call. The loop here runs the same model forward with a key/value
cache, MusicGen's delay pattern and classifier-free guidance (a conditional and an unconditional
half, as `guidance_scale` does), returns the tokens, and samples every row with its own station's
top-k/top-p/temperature/guidance and seed. Weights come from the local Hugging Face cache or a
path, never from the network (`local_files_only`).
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable
from typing import Any

import numpy as np

from lofi_worker.backends.base import BackendUnavailable
from lofi_worker.backends.musicgen.engine import GenItem
from lofi_worker.logs import get_logger

log = get_logger("lofi_worker.musicgen")
TRAINING_WINDOW_FRAMES = 1500  # MusicGen was trained on 30 s windows at 50 frames/s


def resolve_device(torch: Any, wanted: str) -> str:
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        raise BackendUnavailable(f"MUSICGEN_DEVICE={wanted} but torch sees no CUDA device")
    return wanted


class TransformersEngine:
    engine_name = "transformers"

    def __init__(self, model_id: str, device: str) -> None:
        try:
            import torch
            from transformers import AutoTokenizer, MusicgenForConditionalGeneration
            from transformers.utils import logging as hf_logging
        except ImportError as err:
            raise BackendUnavailable(
                "musicgen backend (transformers engine) needs torch and transformers: "
                f"pip install -e 'python-worker[musicgen]' ({err})"
            ) from err
        hf_logging.disable_progress_bar()
        self.torch = torch
        self.model_id = model_id
        self.device = resolve_device(torch, device)
        try:
            model: Any = MusicgenForConditionalGeneration.from_pretrained(
                model_id, local_files_only=True
            )
            tokenizer = AutoTokenizer.from_pretrained(model_id, local_files_only=True)
        except (OSError, ValueError) as err:
            raise BackendUnavailable(
                f"MusicGen weights {model_id!r} not found locally (Hugging Face cache or a "
                f"folder; nothing is downloaded): {str(err).splitlines()[0]}"
            ) from err
        self._setup(model.to(self.device), tokenizer)

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, model_id: str) -> TransformersEngine:
        """An engine around a model already in memory (the benchmark's random real-size models)."""
        import torch

        engine = cls.__new__(cls)
        engine.torch = torch
        engine.model_id = model_id
        engine.device = str(next(model.parameters()).device)
        engine._setup(model, tokenizer)
        return engine

    def _setup(self, model: Any, tokenizer: Any) -> None:
        self.model: Any = model.eval()
        self.tokenizer = tokenizer
        dec = model.config.decoder
        codec = model.config.audio_encoder
        if dec.audio_channels != 1:
            raise BackendUnavailable(f"{self.model_id}: stereo MusicGen models are not supported")
        self.num_codebooks = int(dec.num_codebooks)
        self.codebook_size = int(dec.vocab_size)
        self.pad = int(model.generation_config.pad_token_id or dec.pad_token_id)
        self.start = int(model.generation_config.decoder_start_token_id or self.pad)
        self.sample_rate = int(codec.sampling_rate)
        self.frame_rate = int(codec.frame_rate)
        self.hop = self.sample_rate // self.frame_rate
        positions = int(dec.max_position_embeddings) - self.num_codebooks - 1
        self.max_frames = min(TRAINING_WINDOW_FRAMES, positions)
        # transformers 5 renamed past_key_values to cache; accept either.
        params = inspect.signature(self.model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"

    def param_key(self, item: GenItem) -> Hashable:
        return ()  # every row samples with its own parameters

    def encode(self, audio: np.ndarray) -> np.ndarray:
        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None, None]
        with torch.inference_mode():
            out = self.model.audio_encoder.encode(x.to(self.device), bandwidth=None)
        return out.audio_codes[0, 0].cpu().numpy().astype(np.int64)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        torch = self.torch
        c = torch.from_numpy(codes.astype(np.int64)).to(self.device)
        with torch.inference_mode():
            audio = self.model.audio_encoder.decode(c[None], [None] * c.shape[0]).audio_values
        out = audio[:, 0].float().cpu().numpy()
        return out[:, : codes.shape[2] * self.hop]

    def generate(
        self, items: list[GenItem], contexts: np.ndarray, new_frames: int, seeds: list[int]
    ) -> np.ndarray:
        torch = self.torch
        from lofi_worker.backends.musicgen.sampling import (
            RowSampler,
            delayed_layout,
            guide,
            undelay,
        )

        dev = torch.device(self.device)
        b, k, c = contexts.shape
        with torch.inference_mode():
            # T5 in float32 (it is known to overflow in float16); it runs once per pass.
            text = self.tokenizer(
                [it.prompt for it in items], padding=True, return_tensors="pt"
            ).to(dev)
            hidden = self.model.text_encoder(
                input_ids=text["input_ids"], attention_mask=text["attention_mask"]
            ).last_hidden_state
        with torch.inference_mode(), self._autocast():
            # The unconditional half sees no text: zero states and a zero mask, as transformers'
            # guidance_scale path builds it.
            hidden = torch.cat([hidden, torch.zeros_like(hidden)], dim=0)
            mask = torch.cat([text["attention_mask"], torch.zeros_like(text["attention_mask"])])
            cfg = torch.tensor([float(it.cfg_coef) for it in items], device=dev)
            sampler = RowSampler([it.params() for it in items], seeds, dev)
            seq = delayed_layout(torch.from_numpy(contexts).to(dev), new_frames, self.pad)
            seq[:, :, 0] = self.start
            first = 1 + c  # first position where codebook 0 is unknown
            cache = None
            feed = seq[:, :, :first]
            for pos in range(first, seq.shape[2]):
                ids = feed.reshape(b * k, -1).repeat(2, 1)
                out = self.model(
                    encoder_outputs=(hidden,),
                    attention_mask=mask,
                    decoder_input_ids=ids,
                    use_cache=True,
                    **{self._cache_arg: cache},
                )
                cache = getattr(out, self._cache_arg, None)
                logits = out.logits[:, -1].reshape(2 * b, k, -1)
                token = sampler.sample(guide(logits.float(), cfg))
                known = seq[:, :, pos] != -1
                seq[:, :, pos] = torch.where(known, seq[:, :, pos], token)
                feed = seq[:, :, pos : pos + 1]
            frames = undelay(seq, c + new_frames)
        return frames.cpu().numpy()

    def _autocast(self) -> Any:
        torch = self.torch
        if self.device.startswith("cuda"):
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return torch.autocast(device_type="cpu", enabled=False)
