"""Tape and vinyl texture: hiss, crackle, rain, café murmur, wow and flutter.

All of it is keyed to the global sample counter (table offsets drawn per block index), so texture
is as repeatable as the notes: the head overlap hears the same crackle as the tail it replaces.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import fft, signal

from lofi_worker.backends.procedural.clock import Timeline, control_curve

NOISE_BLOCK = 1 << 15
TABLE = 1 << 18  # ~5.5 s of pre-filtered noise per kind, read at a random offset per block
CLICK_TABLE = 1 << 20  # ~22 s of clicks: a pop recurs in a block with chance 1/32 only
TAG_HISS, TAG_RAIN, TAG_CAFE = 31, 33, 35
CAFE_TALKERS = 7


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


@lru_cache(maxsize=16)
def _click(sr: int, kind: str) -> np.ndarray:
    n = int(0.004 * sr)
    x = np.zeros(n, dtype=np.float32)
    x[0] = 1.0
    band = (1500.0, 7000.0) if kind == "crackle" else (1800.0, 6000.0)
    return filt(x, "bandpass", band, sr)


@lru_cache(maxsize=16)
def _click_table(sr: int, kind: str, rate_hz: float, shape: float) -> np.ndarray:
    """Sparse random clicks (Poisson), each a short filtered burst with its own stereo balance
    and a heavy-tailed (Pareto) level, rendered once into a table that loops seamlessly (the
    bursts are placed by circular convolution). Placing them per render cost more than all the
    instruments together."""
    rng = np.random.default_rng([991, len(kind), round(rate_hz * 1000), round(shape * 1000)])
    n = int(rng.poisson(rate_hz * CLICK_TABLE / sr))
    pos = rng.integers(0, CLICK_TABLE, n)
    amp = (rng.pareto(shape, n) + 1.0) * rng.choice([-1.0, 1.0], n)
    bal = rng.uniform(0.2, 0.8, n)
    impulses = np.zeros((2, CLICK_TABLE))
    np.add.at(impulses[0], pos, amp * bal)
    np.add.at(impulses[1], pos, amp * (1 - bal))
    kernel = fft.rfft(_click(sr, kind).astype(np.float64), CLICK_TABLE)
    table = fft.irfft(fft.rfft(impulses, axis=-1) * kernel, CLICK_TABLE, axis=-1)
    table = np.ascontiguousarray(table, dtype=np.float32)
    table.setflags(write=False)
    return table


def _offset(seed: int, block: int, tag: int, size: int) -> int:
    """Where block `block` reads its table: a splitmix64-style hash of the coordinates (a
    seeded numpy Generator per block cost more than the copy it positions)."""
    z = (seed * 0x9E3779B97F4A7C15 + block * 0xBF58476D1CE4E5B9 + tag * 0x94D049BB133111EB) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return (z ^ (z >> 31)) % size


_M64 = (1 << 64) - 1


def _add_blocks(
    out: np.ndarray,
    tl: Timeline,
    table: np.ndarray,
    seed: int,
    tag: int,
    gain: float,
    env: np.ndarray | None = None,
) -> None:
    """out += gain * env * the table, read at a random offset per global block (a stationary
    texture is any window of itself, so the result is as random as fresh noise and costs a
    copy)."""
    size = table.shape[1]
    g = np.float32(gain)
    for k, off in _blocks(tl):
        a, b = max(0, off), min(tl.total, off + NOISE_BLOCK)
        i, n = (_offset(seed, k, tag, size) + a - off) % size, b - a
        first = min(n, size - i)  # NOISE_BLOCK < size: at most one wrap
        for dst, src in (
            (slice(a, a + first), slice(i, i + first)),
            (slice(a + first, b), slice(0, n - first)),
        ):
            if dst.start == dst.stop:
                continue
            scale = g if env is None else env[dst] * g
            out[:, dst] += table[:, src] * scale


@lru_cache(maxsize=8)
def _texture_table(sr: int, hiss: float, crackle: float, drops: float) -> np.ndarray:
    """Hiss, crackle and rain drops premixed at a mood's levels: one read per block for all
    the stationary texture."""
    table = np.zeros((2, CLICK_TABLE), dtype=np.float32)
    if hiss > 0:
        # A floor that never drops to digital silence; also keeps the silence gate honest.
        noise = _noise_table(sr, "hiss")
        table += np.tile(noise, CLICK_TABLE // TABLE) * np.float32(0.0025 + 0.006 * hiss)
    if crackle > 0:
        clicks = _click_table(sr, "crackle", round(3 + 14 * crackle, 3), 2.5)
        table += clicks * np.float32(0.01 + 0.03 * crackle)
    if drops > 0:
        table += _click_table(sr, "drops", 60.0, 3.0) * np.float32(0.02 * drops)
    table.setflags(write=False)
    return table


@lru_cache(maxsize=4)
def _cafe_table(sr: int) -> np.ndarray:
    """A café room, made once: several talkers (speech-band noise with syllable-rate and phrase
    envelopes, each at its own place in the stereo field) and the odd cup or spoon clink (a
    short ringing partial). Built circularly over CLICK_TABLE samples so it loops seamlessly."""
    rng = np.random.default_rng(4242)
    n = CLICK_TABLE
    table = np.zeros((2, n), dtype=np.float64)
    for _ in range(CAFE_TALKERS):
        noise = rng.standard_normal(n)
        spec = fft.rfft(noise)
        f = fft.rfftfreq(n, 1 / sr)
        low, high = rng.uniform(180, 320), rng.uniform(1600, 2600)
        spec *= (f > low) & (f < high)
        voice = fft.irfft(spec, n)
        # Syllables (4-6 Hz) inside phrases (a few seconds on, a few off): integer cycles per
        # table length keep the envelopes periodic, so the loop has no seam.
        syl = round(rng.uniform(4.0, 6.0) * n / sr)
        phr = round(rng.uniform(0.15, 0.35) * n / sr)
        env = (0.55 + 0.45 * np.sin(2 * np.pi * syl * np.arange(n) / n + rng.uniform(0, 6.3))) ** 2
        env *= np.clip(1.2 * np.sin(2 * np.pi * phr * np.arange(n) / n + rng.uniform(0, 6.3)), 0, 1)
        pan = rng.uniform(0.2, 0.8)
        table[0] += voice * env * np.sqrt(1 - pan)
        table[1] += voice * env * np.sqrt(pan)
    table /= np.max(np.abs(table)) + 1e-9
    for _ in range(rng.poisson(0.35 * n / sr)):
        at, freq = int(rng.integers(0, n)), rng.uniform(2500, 5200)
        length = int(0.12 * sr)
        k = np.arange(length)
        ring = np.sin(2 * np.pi * freq * k / sr) * np.exp(-k / (0.025 * sr)) * rng.uniform(0.3, 0.8)
        pan = rng.uniform(0.2, 0.8)
        idx = (at + k) % n
        table[0, idx] += ring * np.sqrt(1 - pan)
        table[1, idx] += ring * np.sqrt(pan)
    out = np.ascontiguousarray(table, dtype=np.float32)
    out.setflags(write=False)
    return out


def add_texture(
    out: np.ndarray,
    tl: Timeline,
    seed: int,
    hiss: float,
    crackle: float,
    rain: float,
    cafe: float = 0.0,
) -> None:
    """Adds hiss, vinyl crackle, rain and café ambience to the stereo buffer `out` in place."""
    if hiss > 0 or crackle > 0 or rain > 0:
        table = _texture_table(tl.sr, hiss, crackle, rain)
        _add_blocks(out, tl, table, seed, TAG_HISS, 1.0)
    if rain > 0:
        # The wash swells slowly with global time, so it is read and shaped on its own.
        swell = control_curve(
            tl,
            lambda t: (
                0.75 + 0.15 * np.sin(2 * np.pi * 0.05 * t) + 0.1 * np.sin(2 * np.pi * 0.13 * t + 1)
            ),
        )
        _add_blocks(out, tl, _noise_table(tl.sr, "rain"), seed, TAG_RAIN, 0.035 * rain, swell)
    if cafe > 0:
        _add_blocks(out, tl, _cafe_table(tl.sr), seed, TAG_CAFE, 0.03 * cafe)


@lru_cache(maxsize=4)
def _ramp(n: int) -> np.ndarray:
    ramp = np.arange(-1, n - 1, dtype=np.int64)
    ramp.setflags(write=False)
    return ramp


def wow_flutter(x: np.ndarray, tl: Timeline, depth: float, seed: int) -> np.ndarray:
    """Tape speed wobble as a time-varying delay driven by global time."""
    if depth <= 0:
        return x
    rng = np.random.default_rng(seed & 0xFFFF)
    p1, p2, p3 = rng.uniform(0, 2 * np.pi, 3)
    sr = tl.sr

    def delay(t: np.ndarray) -> np.ndarray:  # in samples
        wow = 0.0022 * np.sin(2 * np.pi * 0.43 * t + p1) + 0.0012 * np.sin(
            2 * np.pi * 0.17 * t + p2
        )
        return (0.006 + depth * wow + 0.00004 * np.sin(2 * np.pi * 7.3 * t + p3)) * sr

    # Read position n - d = (n - floor(d) - 1) + (1 - frac(d)): the integer and fractional
    # parts come from the small delay, never from a large float position, so float32 is exact
    # enough and the same global sample gets the same weights in every segment.
    d = control_curve(tl, delay)
    whole = np.floor(d)
    w = whole - d
    w += np.float32(1.0)
    i0 = _ramp(tl.total) - whole.astype(np.int64)
    # The delay is positive and under 10 ms: only the first samples can read before the buffer.
    head = i0[: int(0.02 * sr)]
    np.maximum(head, 0, out=head)
    a = x.take(i0, axis=1)
    i0 += 1
    out = x.take(i0, axis=1)
    out -= a
    out *= w
    out += a
    return out
