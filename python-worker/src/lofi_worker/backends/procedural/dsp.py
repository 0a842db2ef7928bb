"""Mixing helpers: panning, reverb, side-chain ducking."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

from lofi_worker.backends.procedural.clock import Timeline


def pan(mono: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan, position in [-1, 1]."""
    angle = (position + 1.0) * np.pi / 4.0
    return np.stack([mono * np.float32(np.cos(angle)), mono * np.float32(np.sin(angle))])


@lru_cache(maxsize=8)
def reverb_ir(sr: int, seconds: float) -> np.ndarray:
    """A dark, diffuse room: decaying stereo noise with a pre-delay and a few early reflections.
    Finite length on purpose: the pre-roll covers it, so overlaps render identically."""
    n = int(seconds * sr)
    rng = np.random.default_rng(4242)
    t = np.arange(n) / sr
    ir = rng.standard_normal((2, n)) * np.exp(-t * 6.9 / (0.8 * seconds))
    ir = signal.sosfilt(signal.butter(1, 3500, "lowpass", fs=sr, output="sos"), ir, axis=-1)
    pre = int(0.018 * sr)
    ir = np.concatenate([np.zeros((2, pre)), ir[:, : n - pre]], axis=1)
    for ms, g in ((7, 0.5), (13, 0.35), (23, 0.25)):
        ir[0, int(ms * sr / 1000)] += g
        ir[1, int((ms + 3) * sr / 1000)] += g
    ir /= np.sqrt(np.sum(ir**2, axis=1, keepdims=True))
    return ir.astype(np.float32)


def reverb(send: np.ndarray, sr: int, seconds: float = 1.6) -> np.ndarray:
    """Convolution reverb at half rate: the room is dark (3.5 kHz), so nothing audible is lost
    and the convolution costs a quarter. Buffers start on even global samples, so the
    decimation phase is the same in every segment."""
    ir = reverb_ir(sr // 2, seconds)
    n = len(send)
    half = send[: n - n % 2].reshape(-1, 2).mean(axis=1)
    wet = np.stack([signal.oaconvolve(half, ir[c])[: len(half)] for c in range(2)])
    up = np.empty((2, 2 * len(half)), dtype=np.float32)
    up[:, 0::2] = wet
    up[:, 1::2] = 0.5 * (wet + np.concatenate([wet[:, 1:], wet[:, -1:]], axis=1))
    if n % 2:
        up = np.concatenate([up, up[:, -1:]], axis=1)
    return up


def duck_envelope(kicks: list[tuple[float, float]], tl: Timeline, depth: float) -> np.ndarray:
    """Gain curve that dips under each kick: the side-chain pump of a lo-fi beat."""
    env = np.zeros(tl.total, dtype=np.float32)
    if depth <= 0 or not kicks:
        return np.ones(tl.total, dtype=np.float32)
    n = int(0.35 * tl.sr)
    t = np.arange(n) / tl.sr
    shape = (np.minimum(1.0, t / 0.006) * np.exp(-t / 0.09)).astype(np.float32)
    for beat, vel in kicks:
        i0 = tl.index_of(beat)
        a, b = max(0, i0), min(tl.total, i0 + n)
        if a < b:
            np.maximum(env[a:b], vel * shape[a - i0 : b - i0], out=env[a:b])
    return 1.0 - depth * env
