"""Epochs: the stretch of a station's music that one track (one clock, key and arrangement) plays.

A station's audio is a pure function of the global sample: the sum of its epochs, each a pure
function of position, under a gain that is fixed in global samples (a fade in when the epoch
starts, a fade out over the ring-out when the next one starts). Any buffer that touches a fade
renders both epochs, so a head overlap re-renders exactly what the predecessor's tail played,
across a track boundary too.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lofi_worker.backends.procedural import drift as drift_mod
from lofi_worker.backends.procedural.mood import NO_BAR, Mood
from lofi_worker.backends.procedural.tracks import plan

NO_TRACK = -1  # an epoch of a scheduler that assigns no tracks: the mood's own music


@dataclass
class Epoch:
    index: int  # track index
    tempo: float
    key: int
    anchor_sample: int  # the beat clock: beat `anchor_beat` falls on global sample `anchor_sample`
    anchor_beat: float
    history: list[tuple[int, int]]  # (from bar, seed)
    drifts: drift_mod.DriftHistory
    texture_seed: int
    outro_bar: int = NO_BAR
    end_bar: int = NO_BAR
    next_key: int = -1
    fade_in: tuple[int, int] | None = None  # global samples [start, end)
    fade_out: tuple[int, int] | None = None

    def spb(self, sr: int) -> float:
        return 60.0 * sr / self.tempo

    def beat_at(self, sample: int, sr: int) -> float:
        return self.anchor_beat + (sample - self.anchor_sample) / self.spb(sr)

    def sample_of(self, beat: float, sr: int) -> int:
        return round(self.anchor_sample + (beat - self.anchor_beat) * self.spb(sr))

    def mood(self, base: Mood, track_seed: int) -> Mood:
        m = base if self.index == NO_TRACK else plan(base, track_seed, self.index).mood
        if (m.outroBar, m.endBar, m.nextKey) == (self.outro_bar, self.end_bar, self.next_key):
            return m
        return dataclasses.replace(
            m, outroBar=self.outro_bar, endBar=self.end_bar, nextKey=self.next_key
        )

    def gain(self, first: int, n: int) -> np.ndarray | None:
        """Gain over global samples [first, first + n): None where it is 1 throughout."""
        g: np.ndarray | None = None
        pos = np.arange(first, first + n, dtype=np.float64)
        if self.fade_in is not None and first < self.fade_in[1]:
            a, b = self.fade_in
            g = np.sin(0.5 * np.pi * np.clip((pos - a) / max(1, b - a), 0.0, 1.0))
        if self.fade_out is not None and first + n > self.fade_out[0]:
            a, b = self.fade_out
            out = np.cos(0.5 * np.pi * np.clip((pos - a) / max(1, b - a), 0.0, 1.0))
            g = out if g is None else g * out
        return None if g is None else g.astype(np.float32)

    def silent_from(self) -> float:
        return math.inf if self.fade_out is None else self.fade_out[1]

    def to_state(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "index": self.index,
            "tempo": self.tempo,
            "key": self.key,
            "anchorSample": self.anchor_sample,
            "anchorBeat": self.anchor_beat,
            "seedHistory": [[b, s] for b, s in self.history],
            "driftHistory": [[b, e, lead] for b, e, lead in self.drifts],
            "textureSeed": self.texture_seed,
            "nextKey": self.next_key,
        }
        for name, bar in (("outroBar", self.outro_bar), ("endBar", self.end_bar)):
            if bar != NO_BAR:
                d[name] = bar
        if self.fade_in is not None:
            d["fadeIn"] = list(self.fade_in)
        if self.fade_out is not None:
            d["fadeOut"] = list(self.fade_out)
        return d

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> Epoch:
        return cls(
            index=int(d["index"]),
            tempo=float(d["tempo"]),
            key=int(d["key"]),
            anchor_sample=int(d["anchorSample"]),
            anchor_beat=float(d["anchorBeat"]),
            history=[(int(b), int(s)) for b, s in d["seedHistory"]],
            drifts=drift_mod.from_state(d.get("driftHistory")),
            texture_seed=int(d["textureSeed"]),
            outro_bar=int(d.get("outroBar", NO_BAR)),
            end_bar=int(d.get("endBar", NO_BAR)),
            next_key=int(d.get("nextKey", -1)),
            fade_in=_pair(d.get("fadeIn")),
            fade_out=_pair(d.get("fadeOut")),
        )


def _pair(v: Any) -> tuple[int, int] | None:
    return None if v is None else (int(v[0]), int(v[1]))


def current_from_state(state: dict[str, Any], start_sample: int, start_beat: float) -> Epoch:
    """The epoch a continuation carries on, anchored at its own file start (as the state of
    a station without tracks always was)."""
    return Epoch(
        index=int(state.get("trackIndex", NO_TRACK)),
        tempo=float(state["tempo"]),
        key=int(state["key"]),
        anchor_sample=start_sample,
        anchor_beat=start_beat,
        history=[(int(b), int(s)) for b, s in state["seedHistory"]],
        drifts=drift_mod.from_state(state.get("driftHistory")),
        texture_seed=int(state["textureSeed"]),
        outro_bar=int(state.get("outroBar", NO_BAR)),
        next_key=-1,
        fade_in=_pair(state.get("fadeIn")),
    )


def hand_over(
    cur: Epoch, new_plan_index: int, base: Mood, track_seed: int, from_sample: int, sr: int
) -> tuple[Epoch, Epoch]:
    """The current epoch ends at its first bar line at or after `from_sample` with a ring-out
    bar; the next track starts on the downbeat after it. Returns (ending, starting)."""
    p = plan(base, track_seed, new_plan_index)
    end_bar = math.ceil(cur.beat_at(from_sample, sr) / 4 - 1e-9)
    ring = cur.sample_of(4 * end_bar, sr)
    downbeat = cur.sample_of(4 * end_bar + 4, sr)
    bar = downbeat - ring
    ending = dataclasses.replace(
        cur,
        end_bar=end_bar,
        next_key=p.key,
        # The ring-out's first chord at full level, its dominant fading under the new downbeat.
        fade_out=(ring + bar // 2, downbeat + bar // 4),
    )
    starting = Epoch(
        index=new_plan_index,
        tempo=p.tempo,
        key=p.key,
        anchor_sample=downbeat,
        anchor_beat=0.0,
        history=[(-(1 << 30), p.seed)],
        drifts=[],
        texture_seed=p.texture_seed,
        fade_in=(ring, downbeat),  # its texture comes up under the ring-out; bar 0 is the intro
    )
    return ending, starting
