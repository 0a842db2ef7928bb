"""Token sampling for the transformers engine: delay pattern, guidance, per-row top-k/top-p.

Every row of a batch keeps its own station's parameters and its own random stream, so a station's
segment does not depend on which other stations shared its batch (up to float rounding).
"""

from __future__ import annotations

from typing import Any

import torch

NOISE_BLOCK = 64  # steps of Gumbel noise drawn per row at a time: fewer small kernel launches


def delayed_layout(context: torch.Tensor, new_frames: int, pad: int) -> torch.Tensor:
    """(B, K, C) codes -> (B, K, 1 + C + new + K - 1) decoder sequence in MusicGen's delay pattern.

    Position 0 is the start token; frame j of codebook k sits at position 1 + j + k. Positions
    before a codebook's first frame and after its last hold `pad`; positions to sample hold -1.
    """
    b, k, c = context.shape
    n = c + new_frames
    seq = torch.full((b, k, n + k), -1, dtype=torch.long, device=context.device)
    for q in range(k):
        seq[:, q, : q + 1] = pad
        seq[:, q, 1 + q : 1 + q + c] = context[:, q]
        seq[:, q, 1 + q + n :] = pad
    return seq


def undelay(seq: torch.Tensor, frames: int) -> torch.Tensor:
    """Inverse of delayed_layout: (B, K, L) -> (B, K, frames)."""
    k = seq.shape[1]
    return torch.stack([seq[:, q, 1 + q : 1 + q + frames] for q in range(k)], dim=1)


class RowSampler:
    """Samples (B, K) tokens from (B, K, V) logits with per-row temperature, top-k, top-p, seed.

    AudioCraft's rule: top_p > 0 selects nucleus sampling, else top_k > 0 selects top-k, else
    the full distribution. Sampling is the Gumbel-max trick over the filtered logits, which draws
    exactly from the filtered softmax and lets each row use its own generator.
    """

    def __init__(self, params: list[dict[str, Any]], seeds: list[int], device: torch.device):
        self.device = device
        self.temp = torch.tensor([p["temperature"] for p in params], device=device)
        self.top_k = torch.tensor([p["top_k"] for p in params], device=device)
        self.top_p = torch.tensor([p["top_p"] for p in params], device=device)
        self.gens = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
        self._noise: torch.Tensor | None = None
        self._used = NOISE_BLOCK

    def _gumbel(self, k: int, v: int) -> torch.Tensor:
        if self._noise is None or self._used >= NOISE_BLOCK:
            u = torch.stack(
                [
                    torch.rand((NOISE_BLOCK, k, v), generator=g, device=self.device)
                    for g in self.gens
                ],
                dim=1,
            )
            self._noise = -torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
            self._used = 0
        out = self._noise[self._used]
        self._used += 1
        return out

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        _, k, v = logits.shape
        scaled = logits.float() / self.temp[:, None, None]
        ordered, index = scaled.sort(dim=-1, descending=True)
        rank = torch.arange(v, device=self.device)[None, None, :]
        k_eff = torch.where(self.top_k > 0, self.top_k, torch.full_like(self.top_k, v))
        keep_k = rank < k_eff[:, None, None]
        probs = ordered.softmax(dim=-1)
        keep_p = (probs.cumsum(dim=-1) - probs) < self.top_p[:, None, None]
        keep = torch.where((self.top_p > 0)[:, None, None], keep_p, keep_k)
        keep[..., 0] = True
        filtered = ordered.masked_fill(~keep, float("-inf"))
        choice = (filtered + self._gumbel(k, v)).argmax(dim=-1, keepdim=True)
        return index.gather(-1, choice).squeeze(-1)


def guide(logits: torch.Tensor, cfg: torch.Tensor) -> torch.Tensor:
    """Classifier-free guidance over (2B, K, V) logits (conditional rows first), per-row scale."""
    cond, uncond = logits.chunk(2, dim=0)
    return uncond + (cond - uncond) * cfg[:, None, None]
