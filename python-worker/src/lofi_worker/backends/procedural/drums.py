"""Drums: swung, humanised patterns and the synthesised one-shots that play them."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
from scipy import signal

from lofi_worker.backends.procedural.harmony import rng_for, section_at
from lofi_worker.backends.procedural.mood import NO_BAR, Mood

TAG_DRUMS = 21
PIECES = ("kick", "snare", "rim", "hat", "ohat", "shaker", "brush")

# 16 steps per bar; (step, velocity). Variations are drawn per bar.
KICKS = (
    ((0, 1.0), (10, 0.85)),
    ((0, 1.0), (7, 0.6), (10, 0.85)),
    ((0, 1.0), (3, 0.55), (10, 0.9)),
    ((0, 1.0), (8, 0.7), (11, 0.6)),
)
SNARE = ((4, 0.9), (12, 0.95))
# Per-track grooves: (kick patterns drawn per bar, hat step in 16ths, backbeat steps, open-hat
# step or -1). Each track of a mood plays one, so tracks differ in feel, not only in notes.
GROOVES: tuple[
    tuple[tuple[tuple[tuple[int, float], ...], ...], int, tuple[tuple[int, float], ...], int], ...
] = (
    ((((0, 1.0), (10, 0.85)), ((0, 1.0), (7, 0.6), (10, 0.85))), 2, SNARE, 14),
    ((((0, 1.0), (6, 0.7), (10, 0.85)), ((0, 1.0), (6, 0.7), (9, 0.55), (11, 0.7))), 1, SNARE, -1),
    ((((0, 1.0), (3, 0.55), (8, 0.8)), ((0, 1.0), (11, 0.7))), 2, SNARE, 6),
    ((((0, 1.0),), ((0, 1.0), (11, 0.6), (14, 0.5))), 2, ((8, 0.95),), -1),  # half time
    ((((0, 1.0), (8, 0.7), (11, 0.6)), ((0, 1.0), (2, 0.5), (10, 0.85))), 4, SNARE, 10),
)


def swing16(step: float, swing: float) -> float:
    beat, r = divmod(step, 4)
    pair, off = divmod(r, 2)
    return beat + 0.5 * pair + off * swing * 0.5


@lru_cache(maxsize=1024)
def drum_bar(seed: int, mood: Mood, bar: int) -> dict[str, list[tuple[float, float]]]:
    """(onset in absolute beats, velocity) per piece for one bar. Cached: callers must not
    mutate the result."""
    hits: dict[str, list[tuple[float, float]]] = {p: [] for p in PIECES}
    if bar == mood.endBar and mood.drums > 0.01:
        # The ring-out bar is drumless (the next track may take another tempo), but for hits
        # humanised to just before its line: the predecessor's tail already played them.
        played = drum_bar(seed, dataclasses.replace(mood, endBar=NO_BAR), bar)
        return {p: [h for h in lst if h[0] < 4 * bar] for p, lst in played.items()}
    if mood.drums <= 0.01 or bar > mood.endBar:
        return hits
    sec = section_at(bar)
    rng = rng_for(seed, bar, TAG_DRUMS)
    style = mood.drumStyle
    outro = bar >= mood.outroBar
    groove = GROOVES[mood.groove] if mood.groove >= 0 else None
    fill = sec.bar_in_section == sec.length - 1 and sec.name != "intro" and not outro
    plays_kick = sec.name not in ("intro", "breakdown") and style != "brush"
    plays_back = sec.name != "breakdown" and (sec.name != "intro" or sec.bar_in_section >= 2)

    if plays_kick:
        kicks = groove[0] if groove else KICKS
        pattern = (
            kicks[int(rng.integers(len(kicks)))] if mood.density > 0.4 and not outro else kicks[0]
        )
        hits["kick"] = [(s, v) for s, v in pattern]
    elif style == "brush" and sec.name != "intro":
        hits["kick"] = [(0, 0.55), (8, 0.45)]
    if plays_back:
        back = "snare" if style == "boombap" else "rim" if style == "soft" else "brush"
        hits[back] = [(s, v) for s, v in (groove[2] if groove else SNARE)]
        if style == "boombap" and rng.random() < 0.5 * mood.density:
            hits["rim"].append((float(rng.choice([7, 15, 9])), 0.3))  # ghost note
    if fill and plays_back:
        for s in (13, 14, 15) if rng.random() < 0.5 else (14, 15):
            hits["snare" if style == "boombap" else "rim"].append((s, 0.35 + 0.1 * (s - 13)))
    hat = "shaker" if style == "brush" else "hat"
    sixteenths = mood.density > 0.6 and sec.name in ("B", "variation") and not outro
    hat_step = 1 if sixteenths else 2
    if groove and not outro:
        hat_step = min(hat_step, groove[1]) if groove[1] < 4 else 4
    for s in range(0, 16, hat_step):
        if sec.name == "intro" and sec.bar_in_section < 2 and s % 4:
            continue
        accent = 0.75 if s % 4 == 0 else 0.55 if s % 2 == 0 else 0.35
        if rng.random() < 0.06:
            continue  # a lazy drummer skips one now and then
        hits[hat].append((s, accent))
    open_step = groove[3] if groove else 14
    if style == "boombap" and plays_kick and open_step >= 0 and rng.random() < 0.35:
        hits["hat"] = [h for h in hits["hat"] if h[0] != open_step]
        hits["ohat"].append((open_step, 0.55))

    out: dict[str, list[tuple[float, float]]] = {p: [] for p in PIECES}
    ms = mood.tempo / 60000.0
    for piece, lst in hits.items():
        late = 9.0 if piece in ("snare", "rim", "brush") else 0.0  # laid-back backbeat
        for step, vel in lst:
            t = 4 * bar + swing16(step, mood.swing) + (late + rng.normal(0, 5)) * ms
            v = float(np.clip(vel * (1 + rng.normal(0, 0.1)), 0.1, 1.0)) * mood.drums
            out[piece].append((t, v))
    return out


def _env(n: int, sr: int, attack: float, decay: float) -> np.ndarray:
    t = np.arange(n) / sr
    return np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-t / decay)


def _noise(n: int, tag: int) -> np.ndarray:
    # Fixed seeds: a drum kit is an instrument, it must sound the same in every segment.
    return np.random.default_rng(1000 + tag).standard_normal(n)


@lru_cache(maxsize=16)
def one_shots(sr: int, style: str) -> dict[str, np.ndarray]:
    def bp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
        sos = signal.butter(2, [lo, hi], btype="bandpass", fs=sr, output="sos")
        return np.asarray(signal.sosfilt(sos, x))

    def hp(x: np.ndarray, f: float) -> np.ndarray:
        return np.asarray(signal.sosfilt(signal.butter(2, f, "highpass", fs=sr, output="sos"), x))

    n = int(0.5 * sr)
    t = np.arange(n) / sr
    freq = 48 + 70 * np.exp(-t / 0.03)  # pitch sweep gives the kick its punch
    kick = np.sin(2 * np.pi * np.cumsum(freq) / sr) * _env(n, sr, 0.002, 0.22)
    kick += 0.15 * bp(_noise(n, 1), 1500, 5000) * _env(n, sr, 0.0005, 0.004)
    kick = np.tanh(1.6 * kick) / np.tanh(1.6)

    ns = int(0.35 * sr)
    body = np.sin(2 * np.pi * 185 * np.arange(ns) / sr) * _env(ns, sr, 0.001, 0.05)
    snare = 0.5 * body + 0.7 * bp(_noise(ns, 2), 900, 7000) * _env(ns, sr, 0.001, 0.09)
    nr = int(0.12 * sr)
    rim = bp(_noise(nr, 3), 1200, 4500) * _env(nr, sr, 0.0003, 0.012)
    rim += 0.6 * np.sin(2 * np.pi * 820 * np.arange(nr) / sr) * _env(nr, sr, 0.0003, 0.02)
    nh = int(0.1 * sr)
    hat = hp(_noise(nh, 4), 7000) * _env(nh, sr, 0.0005, 0.018)
    no = int(0.5 * sr)
    ohat = hp(_noise(no, 5), 6500) * _env(no, sr, 0.002, 0.16)
    shaker = bp(_noise(nh, 6), 4000, 11000) * _env(nh, sr, 0.012, 0.03)
    nb = int(0.4 * sr)
    brush = bp(_noise(nb, 7), 1500, 9000) * _env(nb, sr, 0.03, 0.12)
    shots = {
        "kick": kick,
        "snare": snare,
        "rim": rim,
        "hat": hat,
        "ohat": ohat,
        "shaker": shaker,
        "brush": brush,
    }
    gains = {
        "kick": 0.9,
        "snare": 0.55,
        "rim": 0.45,
        "hat": 0.22,
        "ohat": 0.16,
        "shaker": 0.2,
        "brush": 0.35,
    }
    if style == "soft":
        gains.update(kick=0.75, hat=0.16)
    out = {}
    for k, x in shots.items():
        x = x / (np.max(np.abs(x)) + 1e-12) * gains[k]
        fade = min(len(x), int(0.005 * sr))
        x[-fade:] *= np.linspace(1, 0, fade)
        out[k] = x.astype(np.float32)
    return out


PAN = {
    "kick": 0.0,
    "snare": 0.05,
    "rim": -0.15,
    "hat": 0.25,
    "ohat": 0.3,
    "shaker": 0.3,
    "brush": -0.1,
}


@lru_cache(maxsize=16)
def panned_shots(sr: int, style: str) -> dict[str, np.ndarray]:
    """The kit as stereo one-shots at their pan positions (constant power)."""
    out = {}
    for piece, shot in one_shots(sr, style).items():
        angle = (PAN[piece] + 1.0) * np.pi / 4.0
        st = np.stack([shot * np.float32(np.cos(angle)), shot * np.float32(np.sin(angle))])
        st.setflags(write=False)
        out[piece] = st
    return out
