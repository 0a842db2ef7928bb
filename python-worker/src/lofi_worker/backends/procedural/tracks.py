"""Tracks: within one mood, each track gets its own tempo, key, lead voice, groove and texture.

A track's plan is a pure function of (mood, the station's track seed, track index), so the outro
of track n knows the key of track n + 1 before it is rendered, and any worker renders the same
track the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

from lofi_worker.backends.procedural.drums import GROOVES
from lofi_worker.backends.procedural.harmony import rng_for
from lofi_worker.backends.procedural.mood import Mood

TAG_TRACK = 41
# Tempo offsets (BPM) around the mood's tempo; stepping through them two at a time makes
# consecutive tracks differ by at least 2 BPM.
TEMPO_OFFSETS = (-6, -3, 0, 3, 6)
LEADS = ("lead", "ep", "piano", "guitar")
TEMPO_LIMITS = (60, 95)  # moods.json limits


@dataclass(frozen=True)
class TrackPlan:
    index: int
    mood: Mood  # the mood with this track's tempo, swing, density, lead, groove and texture
    key: int
    seed: int  # the arrangement's seed (progressions, patterns, melody)
    texture_seed: int

    @property
    def tempo(self) -> float:
        return float(self.mood.tempo)


def _q(x: float, step: float = 0.05) -> float:
    """Texture levels on a coarse grid: each distinct level builds its noise tables once."""
    return round(round(x / step) * step, 4)


def _clip(x: float, lo: float, hi: float) -> float:
    return round(min(hi, max(lo, x)), 3)


@lru_cache(maxsize=256)
def plan(base: Mood, track_seed: int, index: int) -> TrackPlan:
    mood_tag = int(base.hash[:6], 16)
    # Choices that must differ between neighbours walk a per-station rotation; the rest are drawn.
    station = rng_for(track_seed, TAG_TRACK, mood_tag)
    t0, k0, l0, g0 = (int(v) for v in station.integers(0, 1 << 16, size=4))
    rng = rng_for(track_seed, index, TAG_TRACK, mood_tag)
    keys = base.keys
    if len(keys) >= 2:
        # A step coprime to the number of keys visits all of them before repeating.
        step = next(s for s in (2, 3, 1) if len(keys) % s or s == 1)
        key = int(keys[(k0 + index * step) % len(keys)])
    else:
        key = (int(keys[0]) + (0, 5, 7, 2)[index % 4]) % 12
    offset = TEMPO_OFFSETS[(t0 + 2 * index) % len(TEMPO_OFFSETS)] + int(rng.integers(-1, 2))
    tempo = min(max(round(base.tempo + offset), TEMPO_LIMITS[0]), TEMPO_LIMITS[1])
    drum_style = base.drumStyle
    if drum_style == "boombap" and rng.random() < 0.3:
        drum_style = "soft"
    mood = dataclasses.replace(
        base,
        tempo=float(tempo),
        swing=_clip(base.swing + rng.uniform(-0.035, 0.035), 0.5, 0.66),
        density=_clip(base.density + rng.uniform(-0.1, 0.1), 0.1, 1.0),
        jazz=_clip(base.jazz + rng.uniform(-0.12, 0.12), 0.0, 1.0),
        pad=_clip(base.pad + rng.uniform(-0.1, 0.15), 0.0, 1.0),
        melody=_clip(base.melody + rng.uniform(-0.1, 0.25), 0.0, 1.0),
        drumStyle=drum_style,
        crackle=_q(base.crackle * rng.uniform(0.6, 1.4)) if base.crackle > 0 else 0.0,
        hiss=_q(base.hiss * rng.uniform(0.7, 1.3)),
        rain=_q(base.rain * rng.uniform(0.8, 1.2)) if base.rain > 0 else 0.0,
        wow=_clip(base.wow + rng.uniform(-0.12, 0.12), 0.0, 1.0),
        tone=float(round(min(12000, max(2500, base.tone + rng.uniform(-900, 900))), -2)),
        reverb=_clip(base.reverb + rng.uniform(-0.1, 0.1), 0.0, 1.0),
        lead=LEADS[(l0 + index) % len(LEADS)],
        groove=(g0 + index) % len(GROOVES),
    )
    seed = int(rng.integers(0, 1 << 32))
    return TrackPlan(index, mood, key, seed, int(rng.integers(0, 1 << 32)))
