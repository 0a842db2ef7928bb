"""Prompt drift for the arranger: within one mood, the scheduler's `drift` (energy 0..1 and a
leading instrument) rebalances the voices bar by bar, so an hour has an arc instead of one mix.

Drift is a function of the bar, like everything else here: a history of (from_bar, energy,
emphasis) travels in the segment state, a new drift takes effect at the first bar after the head
overlap, and the head therefore re-renders exactly what its predecessor played.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lofi_worker.backends.procedural.clock import Timeline, control_curve

VOICES = ("keys", "melody", "pad", "bass", "drums")
NEUTRAL = 0.5
LEAD_DB = 3.0
# Which voices a leading instrument brings forward.
LEADS: dict[str, tuple[str, ...]] = {
    "keys": ("keys", "melody"),
    "piano": ("keys", "melody"),
    "guitar": ("keys", "melody"),
    "pads": ("pad",),
    "bass": ("bass",),
    "drums": ("drums",),
}
MAX_HISTORY = 6

DriftHistory = list[tuple[int, float, str]]


def extend(history: DriftHistory, from_bar: int, drift: dict[str, Any] | None) -> DriftHistory:
    """The history with the job's drift starting at `from_bar` (unchanged without a drift)."""
    if not drift:
        return history[-MAX_HISTORY:]
    point = (from_bar, float(drift["energy"]), str(drift["emphasis"]))
    kept = [p for p in history if p[0] < from_bar]
    return [*kept, point][-MAX_HISTORY:]


def from_state(raw: Any) -> DriftHistory:
    if not isinstance(raw, list):
        return []
    out: DriftHistory = []
    for item in raw:
        if isinstance(item, list | tuple) and len(item) == 3:
            out.append((int(item[0]), float(item[1]), str(item[2])))
    return out


def gains_at(history: DriftHistory, bar: int) -> dict[str, float]:
    """Linear gain of each voice in `bar`: 1.0 everywhere at neutral energy and no lead."""
    energy, lead = NEUTRAL, ""
    for from_bar, e, emphasis in history:
        if bar >= from_bar:
            energy, lead = e, emphasis
    g = {
        # Drums carry the energy most (a breakdown pulls them back), the melody follows, the pad
        # fills in when the rest is sparse. Each is 1.0 at neutral energy.
        "keys": 1.0,
        "melody": (0.7 + 0.6 * energy) / (0.7 + 0.6 * NEUTRAL),
        "pad": (1.2 - 0.4 * energy) / (1.2 - 0.4 * NEUTRAL),
        "bass": (0.85 + 0.3 * energy) / (0.85 + 0.3 * NEUTRAL),
        "drums": (0.35 + 0.9 * energy) / (0.35 + 0.9 * NEUTRAL),
    }
    boost = 10 ** (LEAD_DB / 20)
    for voice in LEADS.get(lead, ()):
        g[voice] *= boost
    return g


def gain_curves(tl: Timeline, history: DriftHistory) -> dict[str, np.ndarray | float]:
    """Per-voice gain over the buffer: a scalar where it is constant (no drift: all 1.0), else a
    control-rate curve that moves to each bar's gains over the bar's first beat."""
    first = math.floor(tl.beat_at(0) / 4) - 1
    last = math.floor(tl.beat_at(tl.total) / 4) + 1
    per_bar = {b: gains_at(history, b) for b in range(first, last + 1)}
    out: dict[str, np.ndarray | float] = {}
    for voice in VOICES:
        values = {b: g[voice] for b, g in per_bar.items()}
        if len(set(values.values())) == 1:
            out[voice] = float(next(iter(values.values())))
            continue

        def curve(t: np.ndarray, values: dict[int, float] = values) -> np.ndarray:
            beat = tl.start_beat + (t * tl.sr - tl.start_sample) / tl.spb
            bar = np.floor(beat / 4).astype(np.int64)
            clipped = np.clip(bar, first + 1, last)
            now = np.array([values[int(b)] for b in range(first + 1, last + 1)])[
                clipped - first - 1
            ]
            before = np.array([values[int(b)] for b in range(first, last)])[clipped - first - 1]
            ramp = np.clip(beat - bar * 4, 0.0, 1.0)  # the first beat of a bar moves to its gain
            return before + (now - before) * ramp

        out[voice] = control_curve(tl, curve)
    return out
