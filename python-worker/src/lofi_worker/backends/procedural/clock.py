"""Musical time <-> samples for one rendering.

Two clocks run side by side: the beat clock (music is a function of beat position) and a global
sample counter that continues across a station's segments as an exact integer, so everything
keyed to wall-clock-like time (tape wow, hiss, crackle) lines up to the sample between the head
of segment k and the tail of segment k-1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Longest memory of any stateful process: the mastering leveler's 3 s window (+ one block), then
# 0.25 s for its K-filter to settle; the reverb tail (1.6 s) fits inside. Every second of pre-roll
# is rendered and mastered in every segment, so it is no longer than that.
PRE_SECONDS = 3.3
POST_SECONDS = 0.1  # limiter look-ahead
BLOCK = 1024  # buffers start on a global multiple of this, so block-wise processing aligns


@dataclass(frozen=True)
class Timeline:
    sr: int
    tempo: float
    start_beat: float  # beat at the file's first sample
    start_sample: int  # global sample index of the file's first sample
    frames: int  # file length
    pre: int
    post: int

    @classmethod
    def build(
        cls, sr: int, tempo: float, start_beat: float, start_sample: int, frames: int
    ) -> Timeline:
        buf_start = ((start_sample - int(PRE_SECONDS * sr)) // BLOCK) * BLOCK
        return cls(
            sr,
            tempo,
            start_beat,
            start_sample,
            frames,
            start_sample - buf_start,
            int(POST_SECONDS * sr),
        )

    @property
    def spb(self) -> float:
        """Samples per beat."""
        return 60.0 * self.sr / self.tempo

    @property
    def total(self) -> int:
        return self.pre + self.frames + self.post

    @property
    def buf_start(self) -> int:
        return self.start_sample - self.pre

    def index_of(self, beat: float) -> int:
        """Buffer index of a beat. Rounded in global samples, so every segment rounds alike."""
        g = self.start_sample + (beat - self.start_beat) * self.spb
        return int(np.rint(g)) - self.buf_start

    def beat_at(self, index: int) -> float:
        return self.start_beat + (index - self.pre) / self.spb

    def bars(self, lookback_seconds: float) -> range:
        """Every bar whose notes can sound in the buffer, including long notes ringing in."""
        first = math.floor((self.beat_at(0) - lookback_seconds * self.tempo / 60.0) / 4.0)
        last = math.floor(self.beat_at(self.total) / 4.0)
        return range(first, last + 1)

    def global_time(self) -> np.ndarray:
        """Seconds since the station's first sample, for each buffer sample."""
        return (np.arange(self.total, dtype=np.int64) + self.buf_start) / float(self.sr)


CONTROL = 64  # control-rate step for slow curves (LFOs): 750 Hz at 48 kHz, smooth enough


def control_curve(tl: Timeline, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """fn(global seconds) evaluated every CONTROL samples and linearly interpolated (float32).

    Control points sit on global multiples of CONTROL (buffers start on BLOCK multiples), so the
    curve is identical wherever a buffer is cut.
    """
    n_ctrl = tl.total // CONTROL + 2
    t_ctrl = (np.arange(n_ctrl, dtype=np.int64) * CONTROL + tl.buf_start) / float(tl.sr)
    v = np.asarray(fn(t_ctrl), dtype=np.float32)
    frac = np.arange(CONTROL, dtype=np.float32) / np.float32(CONTROL)
    fine = (v[1:] - v[:-1])[:, None] * frac
    fine += v[:-1, None]
    return fine.reshape(-1)[: tl.total]
