"""Renders longer than one job: the CLI chains continuations through the job path into one file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lofi_worker import quality
from lofi_worker.chain import TrackPlanner, _crossfade, render_chain
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


def test_track_planner_arc_and_lengths() -> None:
    planner = TrackPlanner(seed=9, segment_seconds=8.0)
    now, tracks = 0.0, []
    while now < 1800:
        tracks.append(planner.next(now, 1800.0))
        now += 8.0
    by_index: dict[int, list[dict[str, object]]] = {}
    for t in tracks:
        by_index.setdefault(int(t["index"]), []).append(t)
    lengths = [8.0 * len(ts) for ts in by_index.values()]
    assert len(lengths) >= 7
    assert all(112 <= s <= 248 for s in lengths[:-1]), lengths  # 2-4 minutes, in whole segments
    assert len(set(lengths)) > 2  # drawn, not fixed
    for ts in by_index.values():
        assert [t["position"] for t in ts] == list(range(len(ts)))
        parts = [t["part"] for t in ts]
        assert parts[0] == "intro" and parts[-1] == "outro" and "development" in parts
    again = TrackPlanner(seed=9, segment_seconds=8.0)
    assert [again.next(8.0 * i, 1800.0) for i in range(len(tracks))] == tracks
