"""The AudioCraft engine: `MusicGen.get_pretrained(name)` and its language model's own sampler.

AudioCraft samples a whole batch with one set of parameters and the global random generator, so
requests are only batched together when their top-k/top-p/temperature/guidance are equal, and the
batch is seeded from its members' seeds. Token continuation goes through the same call that
AudioCraft's `generate_continuation` makes once it has encoded the audio prompt
(`_generate_tokens` with `prompt_tokens`), so no audio is re-encoded between segments; when a
group has only audio prompts (the predecessor's tokens are unusable) `generate_continuation`
itself runs. AudioCraft pins old packages, so it lives in an environment of its own
(python-worker/.venv-audiocraft, from requirements-audiocraft.txt; see docs/MUSICGEN.md).
"""

from __future__ import annotations

import os
import random
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np

from lofi_worker.backends.base import BackendUnavailable
from lofi_worker.backends.musicgen.engine import GenItem, _fit
from lofi_worker.backends.musicgen.hf_engine import resolve_device

LAYOUT = ("state_dict.bin", "compression_state_dict.bin")  # what get_pretrained reads in a folder


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
                f"musicgen backend (audiocraft engine) needs audiocraft and torch ({err}): run "
                "the worker from python-worker/.venv-audiocraft (`npm run test:audiocraft` "
                "creates it; `npm start` uses it when MUSICGEN_ENGINE=audiocraft)"
            ) from err
        self.torch = torch
        self.model_id = model_id
        self.device = resolve_device(torch, device)
        _check_layout(model_id)
        try:
            model = MusicGen.get_pretrained(model_id, device=self.device)
        except Exception as err:  # AudioCraft raises hub, OS and key errors alike here
            raise BackendUnavailable(
                f"AudioCraft could not load MusicGen {model_id!r} from the local cache or a "
                f"folder (nothing is downloaded): {_first_line(err)}"
            ) from err
        self._setup(model)

    @classmethod
    def from_model(cls, model: Any, model_id: str) -> AudioCraftEngine:
        """An engine around a MusicGen already in memory (the benchmark's random real sizes)."""
        import torch

        engine = cls.__new__(cls)
        engine.torch = torch
        engine.model_id = model_id
        engine.device = str(next(model.lm.parameters()).device)
        engine._setup(model)
        return engine

    def _setup(self, model: Any) -> None:
        self.model: Any = model
        model_id = self.model_id
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
        # musicgen-melody: a chroma conditioner on the model's own audio ("self_wav").
        self.melody = "self_wav" in self.model.lm.condition_provider.conditioners

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

    def _set_params(self, item: GenItem, frames: int) -> None:
        self.model.set_generation_params(
            use_sampling=True,
            top_k=int(item.top_k),
            top_p=float(item.top_p),
            temperature=float(item.temperature),
            cfg_coef=float(item.cfg_coef),
            # AudioCraft truncates duration * frame_rate; half a frame more lands on the count.
            duration=(frames + 0.5) / self.frame_rate,
        )

    def generate(
        self, items: list[GenItem], contexts: np.ndarray, new_frames: int, seeds: list[int]
    ) -> np.ndarray:
        torch = self.torch
        c = contexts.shape[2]
        self._set_params(items[0], c + new_frames)
        torch.manual_seed(_mix(seeds))
        # musicgen-melody's Demucs stem separation draws its time shift from Python's generator.
        random.seed(_mix(seeds))
        attributes, _ = self.model._prepare_tokens_and_attributes(
            [it.prompt for it in items], None, melody_wavs=self._melodies(items)
        )
        prompt = torch.from_numpy(contexts).to(self.device) if c > 0 else None
        with torch.inference_mode():
            tokens = self.model._generate_tokens(attributes, prompt, progress=False)
        return tokens.cpu().numpy()[:, :, : c + new_frames]

    def continue_audio(
        self, items: list[GenItem], audio: np.ndarray, new_frames: int, seeds: list[int]
    ) -> np.ndarray:
        """One pass from audio prompts, (B, C * hop) at sample_rate: AudioCraft's own
        `generate_continuation` (it encodes the prompt; its duration includes the prompt)."""
        torch = self.torch
        c = items[0].context_frames
        if self._melodies(items) is not None:
            # generate_continuation takes no melody: encode the prompts as it does, then the
            # token path conditions on the chroma (what generate_with_chroma does, plus a prompt).
            codes = np.stack([_fit(self.encode(a), c) for a in audio])
            return self.generate(items, codes, new_frames, seeds)
        self._set_params(items[0], c + new_frames)
        torch.manual_seed(_mix(seeds))
        prompt = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[:, None]
        with torch.inference_mode():
            _audio, tokens = self.model.generate_continuation(
                prompt.to(self.device),
                self.sample_rate,
                [it.prompt for it in items],
                progress=False,
                return_tokens=True,
            )
        out = tokens.cpu().numpy()
        if out.shape[2] < c + new_frames:
            raise RuntimeError(f"generate_continuation returned {out.shape[2]} frames")
        return out[:, :, : c + new_frames]

    def _melodies(self, items: list[GenItem]) -> list[Any] | None:
        """AudioCraft's melody_wavs: one (1, T) tensor per row (None: no melody for that row)."""
        if all(it.melody is None for it in items):
            return None
        torch = self.torch
        return [
            None if it.melody is None else torch.from_numpy(it.melody.astype(np.float32))[None]
            for it in items
        ]


def _check_layout(model_id: str) -> None:
    """A folder must hold AudioCraft's two checkpoint files: say so before torch.load does."""
    path = Path(model_id)
    if not (model_id.startswith(("/", ".", "~")) or path.is_dir()):
        return  # a repo id: the hub cache decides
    path = path.expanduser()
    if not path.is_dir():
        raise BackendUnavailable(f"MusicGen folder {model_id!r} does not exist")
    missing = [f for f in LAYOUT if not (path / f).is_file()]
    if missing:
        found = sorted(p.name for p in path.iterdir())[:8]
        hint = (
            " (a transformers layout: use MUSICGEN_ENGINE=transformers)"
            if (path / "config.json").is_file()
            else ""
        )
        raise BackendUnavailable(
            f"MusicGen folder {model_id!r} is not in AudioCraft's layout: it lacks "
            f"{', '.join(missing)} (found {', '.join(found) or 'nothing'}){hint}"
        )


def _first_line(err: BaseException) -> str:
    text = str(err)
    return text.splitlines()[0] if text else repr(err)


def _mix(seeds: list[int]) -> int:
    h = 1469598103934665603
    for s in seeds:
        h = ((h ^ s) * 1099511628211) % 2**63
    return h
