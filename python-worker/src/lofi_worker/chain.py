"""Renders of any length: a chain of segment jobs, joined the way the playout joins them.

Each segment is a real SegmentJob through `process_job` (validation, backend, mastering, quality
gate, FLAC in a store), continuing its predecessor at its end minus the overlap, as the scheduler
chains them. The files are then read back and crossfaded over each head overlap with the
streamer's gain law (equal power, normalised by the correlation of the two renderings: a head
that re-renders its predecessor's tail splices without a swell). Tracks are assigned as the
scheduler does, in a simple local form: 2-4 minute tracks labelled by index, a mood change starts
a new track at once.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lofi_worker.contract import Contract
from lofi_worker.job import process_job
from lofi_worker.store import SegmentStore

STATION = "cli"
TRACK_SECONDS = (120.0, 240.0)
ARC_SHARE = 0.15  # of a track's segments: the intro at its start, the outro at its end


def job_seed(seed: int, seq: int) -> int:
    """Per-segment seed, as the scheduler derives it from the station's seed."""
    return (seed + (seq + 1) * 0x9E3779B1) & 0xFFFFFFFF


class TrackPlanner:
    """Which track each segment belongs to, planned in output time (segments are whole bars,
    so their length varies with the tempo): track lengths drawn in TRACK_SECONDS from the seed
    and the track index; the last track of a stretch is stretched to end with it."""

    def __init__(self, seed: int, segment_seconds: float, artist: str = "lofi-worker") -> None:
        self.seed = seed
        self.segment_seconds = segment_seconds
        self.artist = artist
        self.index = -1
        self.position = 0
        self.start = 0.0
        self.end = 0.0

    def _seconds(self, index: int) -> float:
        lo, hi = TRACK_SECONDS
        return lo + (hi - lo) * float(np.random.default_rng([self.seed, index, 17]).random())

    def next(self, now: float, stretch_end: float, new_track: bool = False) -> dict[str, Any]:
        """The track of the segment whose new music starts at output second `now`; a stretch
        (one mood) ends at `stretch_end`; `new_track`: start a new track now (a mood change)."""
        due = now >= self.end - 0.5 * self.segment_seconds
        if due and stretch_end - now < 0.5 * TRACK_SECONDS[0]:
            due, self.end = False, stretch_end  # too little left for a track: this one goes on
        if new_track or self.index < 0 or due:
            self.index += 1
            self.position = 0
            self.start = now
            length = self._seconds(self.index)
            if stretch_end - (now + length) < 0.5 * self._seconds(self.index + 1):
                length = max(stretch_end - now, self.segment_seconds)
            self.end = now + length
        length = self.end - self.start
        arc = max(self.segment_seconds, ARC_SHARE * length)
        part = (
            "intro"
            if now - self.start < arc
            else "outro"
            if self.end - now <= arc
            else "development"
        )
        planned = max(self.position + 1, round(length / self.segment_seconds))
        track = {
            "index": self.index,
            "name": f"Track {self.index + 1}",
            "artist": self.artist,
            "position": self.position,
            "segments": min(200, planned),
            "part": part,
        }
        self.position += 1
        return track


@dataclass
class Step:
    """One segment of the chain and the stretch of output it completed."""

    result: dict[str, Any]
    chunk: np.ndarray  # (channels, n) float32: output frames [start, start + n)
    start: int
    seam: int | None  # output frame where this segment's crossfade began (None: the first)
    seam_frames: int
    final: bool = False  # the last segment's remainder (its result was yielded before)


def continuation_job(
    station: str,
    seq: int,
    prompt: str,
    backend: str,
    seed: int,
    duration_seconds: float,
    overlap_seconds: float,
    sample_rate: int,
    channels: int,
    prev: dict[str, Any] | None,
) -> dict[str, Any]:
    """The job the queue would send for segment `seq`, continuing `prev` (a result) at its end
    minus the overlap, in token space where the predecessor kept tokens."""
    job: dict[str, Any] = {
        "stationId": station,
        "seq": seq,
        "promptVersion": 0,
        "prompt": prompt,
        "backend": backend,
        "seed": seed,
        "durationSeconds": duration_seconds,
        "overlapSeconds": overlap_seconds,
        "sampleRate": sample_rate,
        "channels": channels,
        "audioKey": f"stations/{station}/segments/{seq:08d}-v0.flac",
        "continueFrom": None,
    }
    if prev is not None:
        job["continueFrom"] = {
            "seq": prev["seq"],
            "audioKey": prev["audioKey"],
            "atSeconds": max(0.0, prev["durationSeconds"] - overlap_seconds),
            "state": prev["state"],
        }
        if "tokensKey" in prev:
            job["continueFrom"]["tokensKey"] = prev["tokensKey"]
    return job


def _crossfade(tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """The playout's gain law (packages/audio crossfade.ts) over interleaved-equivalent data."""
    ab = float(np.sum(tail * head, dtype=np.float64))
    aa = float(np.sum(tail * tail, dtype=np.float64))
    bb = float(np.sum(head * head, dtype=np.float64))
    r = 0.0 if aa == 0 or bb == 0 else min(1.0, max(0.0, ab / math.sqrt(aa * bb)))
    n = tail.shape[1]
    theta = 0.5 * math.pi * (np.arange(n, dtype=np.float64) + 0.5) / n
    a, b = np.cos(theta), np.sin(theta)
    norm = np.sqrt(a * a + b * b + 2 * r * a * b)
    return (tail * (a / norm) + head * (b / norm)).astype(np.float32)


def render_chain(
    stretches: Sequence[tuple[str, float]],
    *,
    store: SegmentStore,
    contract: Contract,
    seed: int,
    backend: str = "procedural",
    segment_seconds: float = 8.0,
    overlap_seconds: float = 1.5,
    sample_rate: int = 48000,
    channels: int = 2,
    tracks: bool = True,
    keep_files: bool = False,
) -> Generator[Step, None, None]:
    """Render `stretches` ((prompt, seconds), one after another: a mood change between them)
    and yield each segment with the output it completes. The output runs on past the total by
    less than one segment; the caller trims it."""
    planner = TrackPlanner(seed, segment_seconds)
    sr = sample_rate
    prev: dict[str, Any] | None = None
    cur: np.ndarray | None = None
    cur_pos = 0
    out_pos = 0
    seq = 0
    target = 0
    for prompt, seconds in stretches:
        target += round(seconds * sr)
        first = True
        # Segments are whole bars, so their count follows the output, not a fixed plan.
        while (out_pos + (cur.shape[1] - cur_pos if cur is not None else 0)) < target:
            produced = out_pos + (cur.shape[1] - cur_pos if cur is not None else 0)
            job = continuation_job(
                STATION,
                seq,
                prompt,
                backend,
                job_seed(seed, seq),
                segment_seconds,
                overlap_seconds,
                sr,
                channels,
                prev,
            )
            if tracks:
                job["track"] = planner.next(produced / sr, target / sr, new_track=first)
            first = False
            result = process_job(job, store=store, contract=contract, job_id=f"chain-{seq}")
            audio, _ = store.read_flac(result["audioKey"])
            audio = np.asarray(audio, dtype=np.float32)
            if cur is None:
                cur, cur_pos = audio, 0
                step = Step(result, np.zeros((channels, 0), np.float32), 0, None, 0)
            else:
                at = round(float(result["joinAtSeconds"]) * sr)
                length = min(round(float(result["headOverlapSeconds"]) * sr), cur.shape[1] - at)
                fade = _crossfade(cur[:, at : at + length], audio[:, :length])
                chunk = np.concatenate([cur[:, cur_pos:at], fade], axis=1)
                step = Step(result, chunk, out_pos, out_pos + (at - cur_pos), length)
                out_pos += chunk.shape[1]
                cur, cur_pos = audio, length
            if prev is not None and not keep_files:
                _drop(store, prev)
            prev = result
            seq += 1
            yield step
    if cur is not None and prev is not None:
        yield Step(prev, cur[:, cur_pos:], out_pos, None, 0, final=True)
        if not keep_files:
            _drop(store, prev)


def _drop(store: SegmentStore, result: dict[str, Any]) -> None:
    """A long render keeps only what it is writing: each file goes once its successor joined."""
    for key in (result["audioKey"], result.get("tokensKey")):
        if key:
            store.path(key).unlink(missing_ok=True)
