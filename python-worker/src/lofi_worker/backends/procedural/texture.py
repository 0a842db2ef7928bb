"""Tape and vinyl texture: hiss, crackle, rain, wow and flutter.

All of it is keyed to the global sample counter (noise blocks seeded by block index), so texture
is as repeatable as the notes: the head overlap hears the same crackle as the tail it replaces.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

from lofi_worker.backends.procedural.clock import Timeline, control_curve
from lofi_worker.backends.procedural.harmony import rng_for

NOISE_BLOCK = 1 << 15
TABLE = 1 << 18  # ~5.5 s of pre-filtered noise per kind, read at a random offset per block
TAG_HISS, TAG_CRACKLE, TAG_RAIN, TAG_DROPS = 31, 32, 33, 34


def _blocks(tl: Timeline) -> list[tuple[int, int]]:
    first = tl.buf_start // NOISE_BLOCK
    last = (tl.buf_start + tl.total - 1) // NOISE_BLOCK
    return [(k, k * NOISE_BLOCK - tl.buf_start) for k in range(first, last + 1)]


@lru_cache(maxsize=16)
def _sos(kind: str, f: float | tuple[float, float], sr: int, order: int = 2) -> np.ndarray:
    return np.asarray(signal.butter(order, f, btype=kind, fs=sr, output="sos"), dtype=np.float32)


def filt(x: np.ndarray, kind: str, f: float | tuple[float, float], sr: int) -> np.ndarray:
    return np.asarray(signal.sosfilt(_sos(kind, f, sr), x, axis=-1), dtype=np.float32)


@lru_cache(maxsize=16)
def _noise_table(sr: int, kind: str) -> np.ndarray:
    """Stationary filtered noise, filtered once: filtering per render was the slowest step."""
    noise = np.random.default_rng(777 + len(kind)).standard_normal((2, TABLE)).astype(np.float32)
    band = (400.0, min(9000.0, 0.45 * sr)) if kind == "hiss" else (500.0, 5000.0)
    table = filt(np.concatenate([noise, noise], axis=1), "bandpass", band, sr)[:, TABLE:]
    table.setflags(write=False)
    return table  # the second pass is the steady state of a periodic input: it loops seamlessly


def block_noise(tl: Timeline, seed: int, tag: int, kind: str) -> np.ndarray:
    table = _noise_table(tl.sr, kind)
    out = np.empty((2, tl.total), dtype=np.float32)
    for k, off in _blocks(tl):
        a, b = max(0, off), min(tl.total, off + NOISE_BLOCK)
        start = int(rng_for(seed, k, tag).integers(TABLE))
        i, n = (start + a - off) % TABLE, b - a
        first = min(n, TABLE - i)  # NOISE_BLOCK < TABLE: at most one wrap
        out[:, a : a + first] = table[:, i : i + first]
        out[:, a + first : b] = table[:, : n - first]
    return out


@lru_cache(maxsize=16)
def _click(sr: int, kind: str) -> np.ndarray:
    n = int(0.004 * sr)
    x = np.zeros(n, dtype=np.float32)
    x[0] = 1.0
    band = (1500.0, 7000.0) if kind == "crackle" else (1800.0, 6000.0)
    return filt(x, "bandpass", band, sr)


def clicks(
    tl: Timeline, seed: int, tag: int, rate_hz: float, shape: float, kind: str
) -> np.ndarray:
    """Sparse random clicks (Poisson), each a short filtered burst with its own stereo balance."""
    kernel = _click(tl.sr, kind)
    grid = np.arange(len(kernel))
    where: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for k, off in _blocks(tl):
        rng = rng_for(seed, k, tag)
        n = int(rng.poisson(rate_hz * NOISE_BLOCK / tl.sr))
        pos = rng.integers(0, NOISE_BLOCK, n) + off
        amp = (rng.pareto(shape, n) + 1.0) * rng.choice([-1.0, 1.0], n)
        bal = rng.uniform(0.2, 0.8, n)
        keep = (pos >= 0) & (pos < tl.total)
        where.append((pos[keep, None] + grid).ravel())
        weights.append(
            np.stack(
                [
                    np.outer(amp * bal, kernel)[keep].ravel(),
                    np.outer(amp * (1 - bal), kernel)[keep].ravel(),
                ]
            )
        )
    idx = np.concatenate(where)
    w = np.concatenate(weights, axis=1)
    size = tl.total + len(kernel)
    return np.stack([np.bincount(idx, w[c], size)[: tl.total] for c in range(2)]).astype(np.float32)


def texture(tl: Timeline, seed: int, hiss: float, crackle: float, rain: float) -> np.ndarray:
    out = np.zeros((2, tl.total), dtype=np.float32)
    if hiss > 0:
        # A floor that never drops to digital silence; also keeps the silence gate honest.
        out += np.float32(0.0025 + 0.006 * hiss) * block_noise(tl, seed, TAG_HISS, "hiss")
    if crackle > 0:
        out += np.float32(0.01 + 0.03 * crackle) * clicks(
            tl, seed, TAG_CRACKLE, 3 + 14 * crackle, 2.5, "crackle"
        )
    if rain > 0:
        swell = control_curve(
            tl,
            lambda t: (
                0.75 + 0.15 * np.sin(2 * np.pi * 0.05 * t) + 0.1 * np.sin(2 * np.pi * 0.13 * t + 1)
            ),
        )
        wash = block_noise(tl, seed, TAG_RAIN, "rain") * swell.astype(np.float32)
        drops = clicks(tl, seed, TAG_DROPS, 60.0, 3.0, "drops")
        out += np.float32(rain) * (np.float32(0.035) * wash + np.float32(0.02) * drops)
    return out


def wow_flutter(x: np.ndarray, tl: Timeline, depth: float, seed: int) -> np.ndarray:
    """Tape speed wobble as a time-varying delay driven by global time."""
    if depth <= 0:
        return x
    rng = np.random.default_rng(seed & 0xFFFF)
    p1, p2, p3 = rng.uniform(0, 2 * np.pi, 3)

    def delay(t: np.ndarray) -> np.ndarray:
        wow = 0.0022 * np.sin(2 * np.pi * 0.43 * t + p1) + 0.0012 * np.sin(
            2 * np.pi * 0.17 * t + p2
        )
        return 0.006 + depth * wow + 0.00004 * np.sin(2 * np.pi * 7.3 * t + p3)

    pos = np.arange(tl.total, dtype=np.float64) - control_curve(tl, delay) * tl.sr
    np.clip(pos, 0, tl.total - 1.001, out=pos)
    i0 = pos.astype(np.int64)
    frac = (pos - i0).astype(np.float32)
    out = np.empty_like(x)
    for c in range(x.shape[0]):
        a = x[c].take(i0)
        out[c] = a + (x[c].take(i0 + 1) - a) * frac
    return out
