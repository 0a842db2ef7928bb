"""Mixing helpers: panning, reverb, side-chain ducking."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import fft, signal

from lofi_worker.backends.procedural.clock import Timeline


def pan_gains(position: float) -> tuple[np.float32, np.float32]:
    """Constant-power pan gains (left, right), position in [-1, 1]."""
    angle = (position + 1.0) * np.pi / 4.0
    return np.float32(np.cos(angle)), np.float32(np.sin(angle))


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


@lru_cache(maxsize=8)
def _ir_spectrum(sr: int, seconds: float, nfft: int) -> np.ndarray:
    spec = fft.rfft(reverb_ir(sr, seconds), nfft, axis=-1)
    spec.setflags(write=False)
    return spec


def _fft_size(n: int) -> int:
    """Smallest 2^k or 3 * 2^k >= n: next_fast_len may pick sizes with factors of 5, 7 or 11,
    which pocketfft runs two to three times slower per point at this length."""
    p2 = 1 << (n - 1).bit_length()
    p3 = 3 << max(0, (-(-n // 3) - 1).bit_length())
    return min(p2, p3)


def reverb(send: np.ndarray, sr: int, seconds: float = 1.6, gain: float = 1.0) -> np.ndarray:
    """Stereo convolution reverb of a mono send, scaled by `gain`.

    Runs at half rate: the room is dark (3.5 kHz), so nothing audible is lost and the
    convolution costs a quarter. Buffers start on even global samples, so the decimation phase
    is the same in every segment. One FFT of the send serves both channels, and the room's
    spectrum is kept per transform size (segments of a station share it)."""
    n = len(send)
    m = n - n % 2
    half = send[0:m:2] + send[1:m:2]
    half *= np.float32(0.5 * gain)
    ir_len = int(seconds * (sr // 2))
    nfft = _fft_size(len(half) + ir_len - 1)
    spec = fft.rfft(half, nfft)
    wet = fft.irfft(spec * _ir_spectrum(sr // 2, seconds, nfft), nfft, axis=-1)
    wet = wet[:, : len(half)]
    up = np.empty((2, n), dtype=np.float32)
    up[:, 0:m:2] = wet
    odd = up[:, 1:m:2]
    np.add(wet[:, :-1], wet[:, 1:], out=odd[:, :-1])
    odd[:, :-1] *= np.float32(0.5)
    odd[:, -1] = wet[:, -1]
    if n % 2:
        up[:, -1] = wet[:, -1]
    return up


def duck_envelope(kicks: list[tuple[float, float]], tl: Timeline, depth: float) -> np.ndarray:
    """Gain curve that dips under each kick: the side-chain pump of a lo-fi beat."""
    if depth <= 0 or not kicks:
        return np.ones(tl.total, dtype=np.float32)
    env = np.zeros(tl.total, dtype=np.float32)
    n = int(0.35 * tl.sr)
    t = np.arange(n) / tl.sr
    shape = (np.minimum(1.0, t / 0.006) * np.exp(-t / 0.09)).astype(np.float32)
    for beat, vel in kicks:
        i0 = tl.index_of(beat)
        a, b = max(0, i0), min(tl.total, i0 + n)
        if a < b:
            np.maximum(env[a:b], np.float32(vel) * shape[a - i0 : b - i0], out=env[a:b])
    env *= np.float32(-depth)
    env += np.float32(1.0)
    return env
