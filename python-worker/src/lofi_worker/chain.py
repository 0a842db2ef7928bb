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
# The scheduler's track length rule (services/scheduler/src/tracks.ts), in the same numbers: a
# track ends by the seconds it has played, with the segment that brings it nearest its target.
MAX_TRACK_SEGMENTS = 200
MAX_BAR_SECONDS = 4.0  # a bar at 60 BPM, the slowest tempo of the procedural moods
ROUNDING_SECONDS = MAX_BAR_SECONDS / 2  # a segment is whole bars: up to half a bar off


def job_seed(seed: int, seq: int) -> int:
    """Per-segment seed, as the scheduler derives it from the station's seed."""
    return (seed + (seq + 1) * 0x9E3779B1) & 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    """JavaScript's Math.imul, as an unsigned 32-bit result."""
    return (a * b) & 0xFFFFFFFF


def unit(seed: int, index: int) -> float:
    """The scheduler's draw in [0, 1) for track `index` (tracks.ts `unit`), bit for bit."""
    h = _imul((seed ^ 0x5BD1E995) & 0xFFFFFFFF, 0x27D4EB2D) ^ _imul(index + 1, 0x165667B1)
    h ^= h >> 15
    h = _imul(h, 0x85EBCA77)
    h ^= h >> 13
    return h / 2**32


def track_start_seconds(result: dict[str, Any]) -> float:
    """Seconds into a track's first segment at which the track begins (after the procedural
    ring-out bar of the track before): the contract's rule (packages/contracts tracks.ts)."""
    track = result.get("track")
    if not track or track.get("position") != 0:
        return 0.0
    s = result.get("state") or {}
    at = 0.0
    if isinstance(s.get("trackStartSeconds"), (int, float)):
        at = float(s["trackStartSeconds"])
    elif isinstance(s.get("fadeIn"), list) and "startSample" in s and s.get("sampleRate"):
        at = (float(s["fadeIn"][1]) - float(s["startSample"])) / float(s["sampleRate"])
    limit = float(result["durationSeconds"]) - float(result["headOverlapSeconds"])
    return at if math.isfinite(at) and 0 < at < limit else 0.0


def _played(result: dict[str, Any]) -> float:
    return max(0.0, float(result["durationSeconds"]) - float(result["headOverlapSeconds"]))


def part_of(position: int, segments: int) -> str:
    if segments <= 1:
        return "development"
    if position >= segments - 1:
        return "outro"
    return "intro" if position < (2 if segments >= 12 else 1) else "development"


class TrackPlanner:
    """Which track each segment belongs to, by the scheduler's rule: a target length drawn in
    TRACK_SECONDS from the seed and the track index, the seconds played counted from the results
    the chain continues (segments are whole bars, so their length varies with the tempo), and the
    outro planned on the segment that brings the track nearest its target. A mood change starts
    a new track at once; a track that would leave less than half a track before the end of its
    stretch goes on to that end instead."""

    def __init__(
        self,
        seed: int,
        segment_seconds: float,
        overlap_seconds: float = 1.5,
        artist: str = "lofi-worker",
        track_seconds: tuple[float, float] = TRACK_SECONDS,
    ) -> None:
        self.seed = seed
        self.segment_seconds = segment_seconds
        self.overlap_seconds = overlap_seconds
        self.artist = artist
        self.track_seconds = track_seconds
        self.last_index = -1

    def _tail(self) -> float:
        """The tail the end rule expects of the next track's first segment (the middle of what
        the procedural ring-out can add: the head, the way to the bar line, the ring-out bar)."""
        return (self.overlap_seconds + 2 * MAX_BAR_SECONDS) / 2

    def planned_seconds(self, index: int) -> float:
        lo, hi = self.track_seconds
        hi = max(lo, hi)
        half = (max(0.5, self.segment_seconds) + ROUNDING_SECONDS) / 2
        under = half + ROUNDING_SECONDS + self._tail()
        over = half + 2 * ROUNDING_SECONDS + self._tail()
        a, b = lo + under, hi - over
        seconds = a + (b - a) * unit(self.seed, index) if a <= b else (a + b) / 2
        return round(max(0.5, seconds), 3)

    def _segments(self, position: int, played: float, planned: float, expected: float) -> int:
        left = max(1, _round_js((planned - self._tail() - played) / max(0.5, expected)))
        return min(MAX_TRACK_SEGMENTS, position + left)

    def next(
        self,
        join: tuple[dict[str, Any], float] | None,
        new_track: bool = False,
        stretch_left: float = math.inf,
    ) -> dict[str, Any]:
        """The track of the segment that continues `join` = (result, atSeconds) (None: the
        first); `new_track`: start one now (a mood change); `stretch_left`: seconds of the
        stretch (one mood) from this segment's file start to its end."""
        prev = join[0].get("track") if join else None
        if join and prev and not new_track and prev["position"] + 1 < prev["segments"]:
            result, at = join
            position = prev["position"] + 1
            before = prev.get("startSeconds", prev["position"] * _played(result))
            played = round(max(0.0, before + at - track_start_seconds(result)), 3)
            planned = float(prev.get("plannedSeconds", self.planned_seconds(prev["index"])))
            expected = _played(result) if prev["position"] >= 1 else self.segment_seconds
            segments = self._segments(position, played, planned, expected)
            if segments == position + 1 and position + 1 < MAX_TRACK_SEGMENTS:
                rest = stretch_left - expected - self._tail()
                if rest < 0.5 * self.track_seconds[0]:
                    segments = position + 2  # too little left for a track: this one goes on
            track = dict(prev)
            track.update(
                position=position,
                segments=segments,
                part=part_of(position, segments),
                startSeconds=played,
                plannedSeconds=planned,
            )
            return track
        self.last_index = max(self.last_index, prev["index"] if prev else -1) + 1
        index = self.last_index
        planned = self.planned_seconds(index)
        segments = self._segments(0, 0.0, planned, self.segment_seconds)
        return {
            "index": index,
            "name": f"Track {index + 1}",
            "artist": self.artist,
            "position": 0,
            "segments": segments,
            "part": part_of(0, segments),
            "startSeconds": 0.0,
            "plannedSeconds": planned,
        }


def _round_js(x: float) -> int:
    """JavaScript's Math.round (half up), which the scheduler's rule uses."""
    return math.floor(x + 0.5)


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
    planner = TrackPlanner(seed, segment_seconds, overlap_seconds)
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
                join = None if prev is None else (prev, job["continueFrom"]["atSeconds"])
                # The new file starts one overlap before the output produced so far ends.
                left = (target - produced) / sr + overlap_seconds
                job["track"] = planner.next(join, new_track=first, stretch_left=left)
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
