"""Renders longer than one job: the CLI chains continuations through the job path into one file."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from lofi_worker import quality
from lofi_worker.chain import TrackPlanner, _crossfade, render_chain, track_start_seconds
from lofi_worker.cli import main
from lofi_worker.contract import Contract
from lofi_worker.store import SegmentStore

SR = 48000
PROMPT = "rainy day slow jazz with soft piano"


def test_cli_renders_150_seconds_as_one_file_at_target_loudness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "long.flac"
    rc = main(["render", "--prompt", PROMPT, "--seconds", "150", "--seed", "3", "--out", str(out)])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.frames) == (SR, 2, 150 * SR)
    audio, _ = sf.read(str(out), dtype="float32", always_2d=True)
    x = np.ascontiguousarray(audio.T)
    # Measured here on the file itself, not taken from the summary.
    assert abs(quality.integrated_loudness(x, SR) - quality.TARGET_LUFS) <= quality.TOLERANCE_LU
    assert quality.true_peak_dbtp(x) <= quality.MAX_TRUE_PEAK_DBTP
    assert quality.longest_silence_s(x, SR) < quality.MAX_SILENCE_S
    assert summary["segments"] >= 150 / 10  # a chain of continuations, not one stretched job
    assert abs(summary["loudnessLufs"] - quality.integrated_loudness(x, SR)) < 0.05
    tracks = summary["tracks"]
    assert (tracks[0]["index"], tracks[0]["name"], tracks[0]["startSeconds"]) == (0, "Track 1", 0)
    assert sum(t["seconds"] for t in tracks) == pytest.approx(150, abs=0.01)


def test_long_render_with_continue_from_is_refused(tmp_path: Path) -> None:
    prev = tmp_path / "prev.flac"
    args = ["render", "--prompt", PROMPT, "--seconds", "90", "--out", str(tmp_path / "x.flac")]
    assert main([*args, "--continue-from", str(prev)]) == 1
    assert not (tmp_path / "x.flac").exists()


def test_chain_joins_each_segment_over_its_head_like_the_playout(
    tmp_path: Path, contract: Contract
) -> None:
    store = SegmentStore(tmp_path)
    steps = list(
        render_chain(
            [(PROMPT, 30.0), ("sunny morning guitar", 20.0)],
            store=store,
            contract=contract,
            seed=5,
            keep_files=True,
        )
    )
    results = [s.result for s in steps if not s.final]
    out = np.concatenate([s.chunk for s in steps], axis=1)
    # The output is every segment's file minus the head its successor overlapped.
    expected = sum(r["durationSeconds"] for r in results) - sum(
        r["headOverlapSeconds"] for r in results[1:]
    )
    assert out.shape[1] == pytest.approx(expected * SR, abs=len(results))
    assert out.shape[1] >= 50 * SR
    # Around each seam the output is the crossfade of the two files, sample for sample.
    for step in steps[1:-1]:
        r = step.result
        prev = next(p for p in results if p["seq"] == r["continuesSeq"])
        a, _ = store.read_flac(prev["audioKey"])
        b, _ = store.read_flac(r["audioKey"])
        at, n = round(r["joinAtSeconds"] * SR), step.seam_frames
        assert step.seam is not None
        mixed = _crossfade(a[:, at : at + n].astype(np.float32), b[:, :n].astype(np.float32))
        assert np.array_equal(out[:, step.seam : step.seam + n], mixed)
    # A mood change starts a new track at once; the tracks are consecutive.
    tracks = [r["track"] for r in results]
    first_sunny = next(i for i, r in enumerate(results) if r["prompt"].startswith("sunny"))
    assert tracks[first_sunny]["position"] == 0
    assert tracks[first_sunny]["index"] == tracks[first_sunny - 1]["index"] + 1
    assert all(r["title"] == r["track"]["name"] for r in results)


def _planner_chain(
    planner: TrackPlanner, count: int, tempo_of: Any, seed: int = 0
) -> list[dict[str, Any]]:
    """Results as long as the procedural backend makes them: whole bars (round half to even, as
    Python does) after a 1.5 s head; a new track's first segment first plays the old track on to
    a bar line (this one or the next) and rings it out for a bar (trackStartSeconds)."""
    results: list[dict[str, Any]] = []
    for seq in range(count):
        prev = results[-1] if results else None
        join = None if prev is None else (prev, prev["durationSeconds"] - 1.5)
        track = planner.next(join)
        bar = 240 / tempo_of(track["index"])
        state: dict[str, Any] = {}
        duration = 1.5 + max(1, round(8 * tempo_of(track["index"]) / 240)) * bar
        if prev is not None and track["position"] == 0:
            old_bar = 240 / tempo_of(prev["track"]["index"])
            start = 1.5 + old_bar * (1 + (seq * 2654435761 + seed) % 2)
            state["trackStartSeconds"] = start
            duration = start + max(1, round((8 - start + 1.5) / bar)) * bar
        results.append(
            {
                "seq": seq,
                "durationSeconds": duration,
                "headOverlapSeconds": 1.5,
                "state": state,
                "track": track,
            }
        )
    return results


def _played_lengths(results: list[dict[str, Any]]) -> list[float]:
    """Each track from its first audio to the next one's, as the streamer titles them."""
    at, starts = 0.0, []
    for i, r in enumerate(results):
        if i > 0:
            at += results[i - 1]["durationSeconds"] - 1.5
        if r["track"]["position"] == 0:
            starts.append(at + (track_start_seconds(r) if i > 0 else 0.0))
    return [b - a for a, b in itertools.pairwise(starts)]


def test_track_planner_ends_tracks_by_played_seconds_at_every_tempo() -> None:
    lengths: list[float] = []
    for tempo in range(60, 96):
        results = _planner_chain(
            TrackPlanner(seed=tempo, segment_seconds=8.0), 600, lambda _, t=tempo: t
        )
        played = _played_lengths(results)
        assert len(played) >= 15
        assert all(120 <= s <= 240 for s in played), (tempo, played)
        lengths += played
    assert min(lengths) < 140 and max(lengths) > 220  # drawn over the range, not one length
    results = _planner_chain(TrackPlanner(seed=9, segment_seconds=8.0), 300, lambda i: 60 + i % 36)
    by_index: dict[int, list[dict[str, Any]]] = {}
    for r in results:
        by_index.setdefault(int(r["track"]["index"]), []).append(r["track"])
    for ts in list(by_index.values())[:-1]:
        assert [t["position"] for t in ts] == list(range(len(ts)))
        parts = [t["part"] for t in ts]
        assert parts[0] == "intro" and parts[-1] == "outro" and "development" in parts
        assert "outro" not in parts[:-1]
        assert ts[-1]["segments"] == len(ts)
    again = _planner_chain(TrackPlanner(seed=9, segment_seconds=8.0), 300, lambda i: 60 + i % 36)
    assert [r["track"] for r in again] == [r["track"] for r in results]


def test_track_planner_draws_the_scheduler_targets() -> None:
    # The same numbers as services/scheduler/src/tracks.ts plannedSeconds (node, same inputs).
    planner = TrackPlanner(seed=9, segment_seconds=8.0, overlap_seconds=1.5)
    assert [planner.planned_seconds(i) for i in (0, 1, 2, 3, 50, 1000)] == [
        136.835,
        139.075,
        163.791,
        155.679,
        174.585,
        216.323,
    ]
    wide = TrackPlanner(4_000_000_000, 4.0, 1.0, track_seconds=(60.0, 300.0))
    assert [wide.planned_seconds(i) for i in (0, 7)] == [279.286, 142.049]
