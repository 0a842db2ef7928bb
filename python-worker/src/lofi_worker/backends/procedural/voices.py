"""Pitched synth voices as cached one-shots, and the note renderer that places them.

Each (instrument, pitch, velocity layer) is synthesised once per process; a note is a slice of
its one-shot with a release applied at note-off. That keeps rendering far faster than real time:
after the first segment almost every note is a cache hit.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lofi_worker.backends.procedural.arrange import Notes
from lofi_worker.backends.procedural.clock import Timeline

LENGTH_S = {
    "ep": 3.5,
    "piano": 3.5,
    "guitar": 3.0,
    "pad": 6.0,
    "upright": 2.5,
    "sub": 4.0,
    "lead": 3.0,
}
RELEASE_S = {
    "ep": 0.12,
    "piano": 0.15,
    "guitar": 0.1,
    "pad": 0.7,
    "upright": 0.07,
    "sub": 0.09,
    "lead": 0.12,
}
GAIN = {
    "ep": 0.22,
    "piano": 0.2,
    "guitar": 0.2,
    "pad": 0.06,
    "upright": 0.4,
    "sub": 0.45,
    "lead": 0.12,
}


def hz(midi: int) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


def _attack(t: np.ndarray, seconds: float) -> np.ndarray:
    return np.minimum(1.0, t / seconds).astype(np.float32)


def _additive(
    f: float, sr: int, n: int, amps: np.ndarray, taus: np.ndarray, stretch: float
) -> np.ndarray:
    """Sum of decaying partials; each partial is only computed while it is audible."""
    out = np.zeros(n, dtype=np.float32)
    t_full = np.arange(n, dtype=np.float32) / np.float32(sr)
    wave = np.empty(n, dtype=np.float32)
    env = np.empty(n, dtype=np.float32)
    for k in range(1, len(amps) + 1):
        fk = k * f * np.sqrt(1.0 + stretch * k * k)
        if fk > 0.45 * sr or amps[k - 1] < 1e-4:
            continue
        m = min(n, int(7.0 * taus[k - 1] * sr) + 1)
        t = t_full[:m]
        ph, e = wave[:m], env[:m]
        np.multiply(t, np.float32(2 * np.pi * fk), out=ph)
        ph += np.float32(k * 0.7)
        np.sin(ph, out=ph)
        np.multiply(t, np.float32(-1 / taus[k - 1]), out=e)
        np.exp(e, out=e)
        e *= np.float32(amps[k - 1])
        ph *= e
        out[:m] += ph
    return out


def _ep(f: float, sr: int, n: int, layer: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    index = (1.0 + 1.6 * layer) * np.exp(-t / 0.3) + 0.2  # FM brightness falls as the tine settles
    w = np.float32(2 * np.pi * f) * t
    tone = np.sin(w + index * np.sin(w))
    tau = float(np.clip(1.8 * (220.0 / f) ** 0.4, 0.5, 3.0))
    env = 0.75 * np.exp(-t / tau) + 0.25 * np.exp(-t / (0.2 * tau))
    bark = (0.05 + 0.08 * layer) * np.sin(7 * w) * np.exp(-t / 0.012)  # the tine's attack
    return ((tone * env + bark) * _attack(t, 0.003)).astype(np.float32)


def _piano(f: float, sr: int, n: int, layer: int) -> np.ndarray:
    k = np.arange(1, 9)
    bright = 0.45 + 0.25 * layer
    amps = (1.0 / k**1.2) * bright ** (k - 1)
    tau1 = float(np.clip(2.6 * (220.0 / f) ** 0.5, 0.7, 5.0))
    x = _additive(f, sr, n, amps, tau1 / (1 + 0.55 * (k - 1)), 0.0003)
    x += 0.3 * _additive(f * 1.0012, sr, n, amps[:3], np.full(3, tau1 * 1.6), 0.0003)  # 2nd string
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    return (x * _attack(t, 0.002)).astype(np.float32)


def _guitar(f: float, sr: int, n: int) -> np.ndarray:
    k = np.arange(1, 9)
    amps = np.abs(np.sin(np.pi * k * 0.2)) / k**1.1  # plucked near the bridge
    tau1 = float(np.clip(1.5 * (196.0 / f) ** 0.3, 0.5, 2.5))
    x = _additive(f, sr, n, amps, tau1 / (1 + 0.35 * (k - 1) ** 1.3), 0.0001)
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    return (x * _attack(t, 0.001)).astype(np.float32)


def _bass(f: float, sr: int, n: int, style: str) -> np.ndarray:
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    if style == "sub":
        w = np.float32(2 * np.pi * f) * t
        x = np.sin(w) + 0.25 * np.sin(2 * w) + 0.08 * np.sin(3 * w)
        x = np.tanh(1.3 * x * np.exp(-t / 4.0)) * _attack(t, 0.008)
        return x.astype(np.float32)
    amps = np.array([1.0, 0.55, 0.25, 0.12, 0.06])
    taus = np.array([1.1, 0.7, 0.4, 0.25, 0.15])
    x = _additive(f, sr, n, amps, taus, 0.0)
    return (np.tanh(1.5 * x) * _attack(t, 0.006)).astype(np.float32)


def _lead(f: float, sr: int, n: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    vib = np.minimum(1.0, t / 0.4) * (0.009 * f / 5.0) * np.sin(2 * np.pi * 5.0 * t)
    w = np.float32(2 * np.pi * f) * t + vib
    x = (np.sin(w) + 0.18 * np.sin(3 * w) + 0.06 * np.sin(2 * w)) * np.exp(-t / 3.0)
    return (x * _attack(t, 0.04)).astype(np.float32)


@lru_cache(maxsize=4)
def _pad_table(size: int = 4096) -> np.ndarray:
    ph = np.arange(size) / size
    table = np.zeros(size)
    for k in range(1, 7):
        table += np.sin(2 * np.pi * k * ph) / k
    return table.astype(np.float32)


def _pad(f: float, sr: int, n: int) -> np.ndarray:
    table = _pad_table()
    bits = int(np.log2(len(table)))
    # Phase accumulators in 32-bit fixed point: the index is the top bits, wrap-around is free.
    count = np.arange(n, dtype=np.uint32)
    x = np.zeros(n, dtype=np.float32)
    for cents, phase0 in ((-7.0, 0.1), (0.0, 0.5), (7.0, 0.8)):  # detuned unison
        inc = np.uint32(round(f * 2 ** (cents / 1200) / sr * 2**32) % 2**32)
        ph = count * inc
        ph += np.uint32(round(phase0 * 2**32))
        ph >>= np.uint32(32 - bits)
        x += table[ph]
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    return (x * _attack(t, 0.6) * np.exp(t * np.float32(-0.1))).astype(np.float32)


@lru_cache(maxsize=384)
def one_shot(kind: str, midi: int, layer: int, sr: int) -> np.ndarray:
    n = int(LENGTH_S[kind] * sr)
    f = hz(midi)
    if kind == "ep":
        x = _ep(f, sr, n, layer)
    elif kind == "piano":
        x = _piano(f, sr, n, layer)
    elif kind == "guitar":
        x = _guitar(f, sr, n)
    elif kind in ("upright", "sub"):
        x = _bass(f, sr, n, kind)
    elif kind == "lead":
        x = _lead(f, sr, n)
    elif kind == "pad":
        x = _pad(f, sr, n)
    else:
        raise ValueError(f"unknown voice {kind!r}")
    fade = int(0.03 * sr)
    x[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)  # notes longer than the shot
    x *= np.float32(GAIN[kind])
    x.setflags(write=False)
    return x


@lru_cache(maxsize=32)
def _release(kind: str, sr: int) -> np.ndarray:
    r = RELEASE_S[kind] * sr
    return np.exp(-np.arange(int(6 * r)) / r).astype(np.float32)


def render_notes(notes: Notes, kind: str, tl: Timeline) -> np.ndarray:
    """Mono bus with every note that sounds anywhere in the timeline's buffer."""
    bus = np.zeros(tl.total, dtype=np.float32)
    if not notes.onset:
        return bus
    rel = _release(kind, tl.sr)
    # Same arithmetic as Timeline.index_of, for all notes at once.
    onsets = np.asarray(notes.onset, dtype=np.float64)
    starts = np.rint(tl.start_sample + (onsets - tl.start_beat) * tl.spb).astype(np.int64)
    starts -= tl.buf_start
    held_all = np.maximum(1, np.rint(np.asarray(notes.dur, dtype=np.float64) * tl.spb))
    for i0, held_f, midi, vel in zip(
        starts.tolist(), held_all.tolist(), notes.midi, notes.vel, strict=True
    ):
        layer = 1 if vel > 0.75 and kind in ("ep", "piano") else 0
        shot = one_shot(kind, midi, layer, tl.sr)
        held = int(held_f)
        length = min(len(shot), held + len(rel))
        # Only the part of the note inside the buffer is computed: notes ringing in from the
        # look-back and notes cut by the end cost what they contribute, not their full length.
        s0, s1 = max(0, -i0), min(length, tl.total - i0)
        if s0 >= s1:
            continue
        v = np.float32(vel)
        h = min(max(held, s0), s1)  # note-off, clamped to the visible part
        if h > s0:
            bus[i0 + s0 : i0 + h] += shot[s0:h] * v
        if s1 > h:
            bus[i0 + h : i0 + s1] += shot[h:s1] * (rel[h - held : s1 - held] * v)
    return bus
