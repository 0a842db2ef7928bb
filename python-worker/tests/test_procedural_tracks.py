"""Tracks in the procedural backend: each track its own sound, an arc, and a seamless hand-over."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from lofi_worker import quality
from lofi_worker.backends.base import GenerationRequest, RenderedAudio
from lofi_worker.backends.procedural import ProceduralBackend, bar_fingerprints
from lofi_worker.backends.procedural.drums import drum_bar
from lofi_worker.backends.procedural.mood import parse_mood
from lofi_worker.backends.procedural.tracks import plan

SR = 48000
PROMPT = "rainy day slow jazz with soft piano"


def track(index: int, position: int, segments: int) -> dict[str, Any]:
    part = "intro" if position == 0 else "outro" if position == segments - 1 else "development"
    return {
        "index": index,
        "name": f"Track {index}",
        "artist": "Test FM",
        "position": position,
        "segments": segments,
        "part": part,
    }


def render_chain(
    plan_of: list[tuple[str, dict[str, Any] | None]],
    seconds: float = 8.0,
    overlap: float = 1.5,
) -> list[tuple[RenderedAudio, int]]:
    """Each (prompt, track) continues the previous segment at its end minus the overlap, as the
    scheduler chains them. Returns (segment, the predecessor's join frame)."""
    backend = ProceduralBackend()
    out: list[tuple[RenderedAudio, int]] = []
    prev: RenderedAudio | None = None
    for seq, (prompt, tr) in enumerate(plan_of):
        cont, at = None, 0
        if prev is not None:
            at = prev.file_frames - round(overlap * SR)
            cont = {
                "seq": seq - 1,
                "audioKey": "stations/s/segments/prev.flac",
                "atSeconds": at / SR,
                "state": prev.state,
            }
        r = backend.generate(
            GenerationRequest(prompt, 1000 + seq, seconds, overlap, SR, cont, track=tr)
        )
        out.append((r, at))
        prev = r
    return out


def tracks_plan(n_tracks: int, per_track: int, prompt: str = PROMPT) -> list[tuple[str, Any]]:
    return [(prompt, track(i, p, per_track)) for i in range(n_tracks) for p in range(per_track)]


def head_errors(chain: list[tuple[RenderedAudio, int]]) -> list[float]:
    errs = []
    for (prev, _), (nxt, at) in itertools.pairwise(chain):
        head = nxt.head_overlap_frames
        tail = prev.file_audio()[:, at : at + head]
        errs.append(float(np.max(np.abs(tail - nxt.file_audio()[:, :head]))))
    return errs


def test_tracks_of_one_mood_differ_in_tempo_key_lead_and_groove() -> None:
    base = parse_mood(PROMPT)
    plans = [plan(base, 1234, i) for i in range(8)]
    for a, b in itertools.pairwise(plans):
        assert a.key != b.key
        assert abs(a.tempo - b.tempo) >= 2
        assert a.mood.lead != b.mood.lead
        assert a.mood.groove != b.mood.groove
        assert a.seed != b.seed
    assert all(abs(p.tempo - base.tempo) <= 7 for p in plans)  # within the mood's range
    assert all(p.key in base.keys for p in plans)
    # Deterministic from (mood, station seed, index); another station plays other tracks.
    assert plan(base, 1234, 3) == plans[3]
    assert [plan(base, 99, i).key for i in range(8)] != [p.key for p in plans]


def test_head_re_renders_the_tail_across_track_boundaries() -> None:
    chain = render_chain(tracks_plan(4, 3))
    errs = head_errors(chain)
    assert max(errs) < 1e-4, errs
    indices = [r.state["trackIndex"] for r, _ in chain]
    assert indices == [i for i in range(4) for _ in range(3)]
    # Each new track plays at its own tempo and key from its first segment on.
    for r, _ in chain:
        p = plan(parse_mood(PROMPT), r.state["trackSeed"], r.state["trackIndex"])
        assert r.state["tempo"] == p.tempo and r.state["key"] == p.key


def test_one_segment_tracks_and_short_segments_keep_the_invariant() -> None:
    # Every segment starts a track: two hand-overs within one pre-roll, three epochs at once.
    chain = render_chain(tracks_plan(6, 1), seconds=2.0, overlap=1.0)
    assert max(head_errors(chain)) < 1e-4
    assert max(len(r.state.get("epochs", [])) for r, _ in chain) >= 2


def test_the_chain_is_deterministic() -> None:
    a = render_chain(tracks_plan(2, 3))
    b = render_chain(tracks_plan(2, 3))
    for (x, _), (y, _) in zip(a, b, strict=True):
        assert np.array_equal(x.audio, y.audio)
        assert x.state == y.state


def test_the_hand_over_rings_out_without_a_gap() -> None:
    chain = render_chain(tracks_plan(2, 3))
    handover, _ = chain[3]
    ending = handover.state["epochs"][-1]
    assert ending["index"] == 0 and ending["nextKey"] == handover.state["key"]
    # The last segment of the first track was its outro: no melody there, and the ring-out
    # bar that follows is drumless (the tempo may change under it).
    assert chain[2][0].state["outroBar"] <= ending["endBar"]
    old = plan(parse_mood(PROMPT), handover.state["trackSeed"], 0).mood
    import dataclasses

    ring = dataclasses.replace(old, endBar=ending["endBar"], nextKey=ending["nextKey"])
    hits = drum_bar(ending["seedHistory"][-1][1], ring, ending["endBar"])
    assert all(t < 4 * ending["endBar"] for lst in hits.values() for t, _ in lst)
    # After the head: the ring-out bar at the old tempo, then whole bars of the new track.
    ring, downbeat = handover.state["fadeIn"]
    start = handover.state["startSample"]
    assert start + handover.head_overlap_frames <= ring
    assert abs(downbeat - ring - 240.0 / ending["tempo"] * SR) <= 1
    new_bar = 240.0 / handover.state["tempo"] * SR
    bars = (start + handover.file_frames - downbeat) / new_bar
    assert abs(bars - round(bars)) * new_bar <= 2 and round(bars) >= 1
    # Music all the way through: the joined audio never drops to silence.
    joined = np.concatenate([r.file_audio()[:, : at or None] for r, at in chain[1:]], axis=1)
    assert quality.longest_silence_s(joined, SR) < 0.01
    level = [float(np.sqrt(np.mean(x**2))) for x in np.array_split(handover.file_audio(), 8, 1)]
    assert min(level) > 0.2 * max(level), level


def test_a_mood_change_starts_a_new_track_at_once() -> None:
    plan_of = [*tracks_plan(1, 3)[:2], ("sunny summer morning with guitar", track(1, 0, 3))]
    chain = render_chain(plan_of)
    new, _ = chain[2]
    assert new.state["trackIndex"] == 1 and new.state["headContinues"] is False
    assert new.state["section"] == "intro" and 0 <= new.state["startBeat"] < 4
    # The intro's bar lines meet the old music's: the old next downbeat is a new bar line.
    old, at = chain[1][0], chain[2][1]
    old_beat = old.state["startBeat"] + at * old.state["tempo"] / (60 * SR)
    seconds = (4 - old_beat % 4) % 4 * 60 / old.state["tempo"]
    new_beat = new.state["startBeat"] + seconds * new.state["tempo"] / 60
    assert min(new_beat % 4, 4 - new_beat % 4) < 1e-6
    assert "epochs" not in new.state  # the streamer's crossfade carries the old mood out
    p = plan(parse_mood("sunny summer morning with guitar"), new.state["trackSeed"], 1)
    assert new.state["tempo"] == p.tempo
    # The intro is sparse but never silent, from its first sample.
    assert quality.longest_silence_s(new.file_audio(), SR) < 0.01
    head = new.file_audio()[:, : new.head_overlap_frames]
    assert float(np.sqrt(np.mean(head**2))) > 0.005
    # ...and the new track carries on seamlessly.
    more = render_chain([*plan_of, ("sunny summer morning with guitar", track(1, 1, 3))])
    assert max(head_errors(more)[2:]) < 1e-4


def test_no_four_bar_passage_repeats_across_six_tracks() -> None:
    chain = render_chain(tracks_plan(6, 4))
    bars: dict[int, list[str]] = {}
    for r, _ in chain:
        for index, _bar, fp in bar_fingerprints(PROMPT, r.state):
            bars.setdefault(index, []).append(fp)
    assert sorted(bars) == list(range(6))
    seen: dict[tuple[str, ...], int] = {}
    for index, fps in bars.items():
        assert len(fps) >= 6
        for i in range(len(fps) - 3):
            passage = tuple(fps[i : i + 4])
            assert seen.setdefault(passage, index) == index, f"track {index} repeats a passage"


def test_a_job_without_a_track_plays_the_mood_as_before() -> None:
    chain = render_chain([(PROMPT, None)] * 3)
    assert max(head_errors(chain)) < 1e-4
    assert {r.state["trackIndex"] for r, _ in chain} == {-1}
    base = parse_mood(PROMPT)
    assert all(r.state["tempo"] == base.tempo for r, _ in chain)
    assert all("epochs" not in r.state for r, _ in chain)


def test_a_quality_retry_at_a_hand_over_keeps_the_head_and_the_next_key() -> None:
    chain = render_chain(tracks_plan(1, 2))
    prev, _ = chain[-1]
    at = prev.file_frames - round(1.5 * SR)
    cont = {"seq": 1, "audioKey": "stations/s/segments/1.flac", "atSeconds": at / SR}
    backend = ProceduralBackend()

    def attempt(n: int) -> RenderedAudio:
        req = GenerationRequest(
            PROMPT, 5, 8.0, 1.5, SR, {**cont, "state": prev.state}, attempt=n, track=track(1, 0, 2)
        )
        return backend.generate(req)

    first, retry = attempt(0), attempt(1)
    head = first.head_overlap_frames
    tail = prev.file_audio()[:, at : at + head]
    for r in (first, retry):
        assert np.max(np.abs(r.file_audio()[:, :head] - tail)) < 1e-4
    assert retry.state["key"] == first.state["key"] == retry.state["epochs"][-1]["nextKey"]
    assert retry.state["seed"] != first.state["seed"]
    assert not np.allclose(first.file_audio()[:, head:], retry.file_audio()[:, head:])
