"""Procedural lo-fi backend: a CPU arranger and synthesiser, no model weights.

Continuation model: the music is a pure function of beat position for a given (seed, mood, key),
so the head overlap of a segment re-renders the bars that ended the previous one. With tracks
(the job's `track`), each track is an epoch with its own clock, key and arrangement
(tracks.py); a new track of the same mood starts after a ring-out bar of the old one, inside
one segment, under gains fixed in global samples (epochs.py), so the invariant holds across it.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from lofi_worker.backends.base import GenerationRequest, RenderedAudio
from lofi_worker.backends.procedural import drift as drift_mod
from lofi_worker.backends.procedural import drums as drum_mod
from lofi_worker.backends.procedural.arrange import _bar_events
from lofi_worker.backends.procedural.clock import BLOCK, PRE_SECONDS, Timeline
from lofi_worker.backends.procedural.epochs import (
    NO_TRACK,
    Epoch,
    current_from_state,
    hand_over,
)
from lofi_worker.backends.procedural.harmony import NOTE_NAMES, chords_in_bar, pick_key, section_at
from lofi_worker.backends.procedural.mood import NO_BAR, Mood, parse_mood
from lofi_worker.backends.procedural.render import LOOKBACK_SECONDS, render
from lofi_worker.backends.procedural.tracks import plan

MODEL = "procedural-v1"
STATE_VERSION = 1
FOREVER = -(1 << 30)  # "from the beginning" in a seed history
MAX_EPOCHS = 3  # tracks that can still sound in a buffer (two changes within one pre-roll)
SECTION_LABEL = {
    "intro": "Intro",
    "A": "A section",
    "B": "B section",
    "breakdown": "Breakdown",
    "variation": "Variation",
}
_REQUIRED = (
    "tempo",
    "key",
    "startBeat",
    "startSample",
    "sampleRate",
    "moodHash",
    "seedHistory",
    "textureSeed",
)


def _usable(state: Any, sr: int) -> bool:
    return (
        isinstance(state, dict)
        and all(k in state for k in _REQUIRED)
        and state.get("version") == STATE_VERSION
        and state["sampleRate"] == sr
    )


def retry_seed(seed: int, attempt: int) -> int:
    return (seed * 1_000_003 + attempt * 7_919 + 12_345) & 0xFFFFFFFF


class ProceduralBackend:
    name = "procedural"

    def load(self) -> None:
        parse_mood("lofi")  # reads moods.json once; a broken table fails at start, not mid-job

    def generate(self, request: GenerationRequest) -> RenderedAudio:
        sr = request.sample_rate
        base = parse_mood(request.prompt)
        head = round(request.overlap_seconds * sr)
        prev = request.continue_from
        prev_state = prev.get("state") if prev else None
        track = request.track
        want = int(track["index"]) if track else None
        older: list[Epoch] = []
        if prev and _usable(prev_state, sr):
            assert isinstance(prev_state, dict)
            # The new file starts `at` samples into the predecessor (sample-exact).
            at = round(float(prev["atSeconds"]) * sr)
            start_sample = int(prev_state["startSample"]) + at
            start_beat = float(prev_state["startBeat"]) + at * float(prev_state["tempo"]) / (
                60 * sr
            )
            texture_seed = int(prev_state["textureSeed"])
            same_mood = prev_state["moodHash"] == base.hash
            track_seed = int(prev_state.get("trackSeed", texture_seed))
        else:
            # First segment, or a predecessor we cannot continue musically (other backend):
            # start fresh; the streamer's crossfade makes it a transition.
            start_sample, start_beat, texture_seed, same_mood = 0, 0.0, request.seed, False
            track_seed = request.seed
        if same_mood:
            assert isinstance(prev_state, dict)
            cur = current_from_state(prev_state, start_sample, start_beat)
            older = [Epoch.from_state(e) for e in prev_state.get("epochs", [])]
            if want is not None and want != cur.index:
                # A new track of the same mood: the current one rings out at its next bar line
                # after the head, so the head is still the predecessor's music.
                ending, cur = hand_over(cur, want, base, track_seed, start_sample + head, sr)
                older = [*older, ending][-MAX_EPOCHS:]
        elif want is None:
            cur = Epoch(
                NO_TRACK,
                float(base.tempo),
                pick_key(request.seed, base),
                start_sample,
                start_beat,
                [(FOREVER, request.seed)],
                [],
                texture_seed,
            )
        else:
            # A new mood (or a fresh start) begins a new track at once, from its first bar: the
            # streamer's crossfade over the head carries the old mood into the new intro. After
            # a mood change one of the intro's first bar lines falls on the old music's next
            # one, so the crossfade keeps one pulse.
            p = plan(base, track_seed, want)
            beat = 0.0
            if prev_state is not None and start_beat > 0:
                to_next = (4.0 - start_beat % 4.0) % 4.0 / float(prev_state["tempo"]) * p.tempo
                beat = -to_next % 4.0
            cur = Epoch(
                want, p.tempo, p.key, start_sample, beat, [(FOREVER, p.seed)], [], p.texture_seed
            )
        tempo = cur.tempo
        start_beat = cur.beat_at(start_sample, sr)
        spb = 60.0 * sr / tempo
        # The body starts after the head, or on the new track's first downbeat.
        body_start = max(start_sample + head, cur.fade_in[1] if cur.fade_in else 0)
        body_beat = cur.beat_at(body_start, sr)
        new_seconds = request.duration_seconds - (body_start - start_sample - head) / sr
        body_bars = max(1, round(new_seconds * tempo / 240.0))
        # End on the global sample nearest the bar line, so rounding never accumulates.
        end_sample = round(start_sample + (body_beat + 4 * body_bars - start_beat) * spb)
        frames = end_sample - start_sample
        first_free_bar = math.ceil(body_beat / 4 - 1e-9)
        if request.attempt > 0:
            # A quality retry re-draws only bars that start after the head, so the head still
            # matches the predecessor and the next segment inherits the new seed.
            cur.history.append((first_free_bar, retry_seed(cur.history[-1][1], request.attempt)))
        cur.history = cur.history[-6:]
        # A new drift starts at the first bar after the head, so the head stays the same music.
        cur.drifts = drift_mod.extend(cur.drifts, first_free_bar, request.drift)
        if track and track.get("part") == "outro" and cur.outro_bar == NO_BAR:
            cur.outro_bar = max(first_free_bar, 0)

        tl = Timeline.build(sr, tempo, start_beat, start_sample, frames)
        audio: np.ndarray | None = None
        for ep in [*older, cur]:
            gain = ep.gain(tl.buf_start, tl.total)
            if gain is not None and not gain.any():
                continue
            etl = (
                tl
                if ep is cur
                else Timeline.build(
                    sr, ep.tempo, ep.beat_at(start_sample, sr), start_sample, frames
                )
            )
            # A track's music starts at its bar 0 (a station without tracks has a past).
            seed_of_bar = {
                b: _seed_at(ep.history, b)
                for b in etl.bars(LOOKBACK_SECONDS)
                if ep.index == NO_TRACK or b >= 0
            }
            layer = render(
                etl,
                ep.mood(base, track_seed),
                ep.key,
                seed_of_bar,
                ep.texture_seed,
                drift_mod.gain_curves(etl, ep.drifts),
            )
            if gain is not None:
                layer *= gain
            audio = layer if audio is None else audio + layer
        assert audio is not None  # the current epoch is audible by the end of its buffer
        # Epochs whose fade is over before any later buffer can start are forgotten.
        horizon = start_sample - int(PRE_SECONDS * sr) - 2 * BLOCK
        older = [ep for ep in older if ep.silent_from() > horizon]

        mood = cur.mood(base, track_seed)
        body_bar = math.floor(body_beat / 4 + 1e-9)
        end_beat = start_beat + frames / tl.spb
        section = section_at(body_bar).name
        chord = chords_in_bar(_seed_at(cur.history, body_bar), mood, cur.key, body_bar)[0]
        history = cur.history
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "seed": history[-1][1],
            "seedHistory": [[b, s] for b, s in history],
            "driftHistory": [[b, e, lead] for b, e, lead in cur.drifts],
            "textureSeed": cur.texture_seed,
            "tempo": tempo,
            "key": cur.key,
            "keyName": NOTE_NAMES[cur.key],
            "mode": mood.mode,
            "startBeat": start_beat,
            "startSample": start_sample,
            "sampleRate": sr,
            "bodyBars": body_bars,
            "bar": body_bar,
            "section": section,
            "chord": chord.name,
            "nextBar": math.floor(end_beat / 4 + 1e-9),
            "nextSection": section_at(math.floor(end_beat / 4 + 1e-9)).name,
            "moodHash": base.hash,
            "moodWords": list(base.words),
            "trackSeed": track_seed,
            "trackIndex": cur.index,
            # The head re-renders the predecessor's music (job.py keeps its mastering gain).
            "headContinues": same_mood,
            "instruments": {
                "keys": mood.keysInstrument,
                "lead": mood.lead or ("lead" if mood.pad > 0.45 else mood.keysInstrument),
                "bass": mood.bassStyle,
                "drums": mood.drumStyle if mood.drums > 0.01 else "none",
            },
        }
        if cur.outro_bar != NO_BAR:
            state["outroBar"] = cur.outro_bar
        if cur.fade_in is not None:
            state["fadeIn"] = list(cur.fade_in)
        if older:
            state["epochs"] = [ep.to_state() for ep in older]
        title = f"{base.title} · {chord.name} · {SECTION_LABEL[section]}"
        state["detail"] = title
        return RenderedAudio(
            audio=audio,
            sample_rate=sr,
            pre=tl.pre,
            post=tl.post,
            head_overlap_frames=head,
            state=state,
            title=title[:200],
            model=MODEL,
            mood=mood_summary(base),
        )


def bar_fingerprints(prompt: str, state: dict[str, Any]) -> list[tuple[int, int, str]]:
    """(track index, bar, fingerprint) for each bar of a segment's body, from its result
    state: every note (voice, pitch, onset on the 16th grid) and drum hit of the bar. Two bars
    with the same fingerprint are the same music note for note (humanisation aside)."""
    base = parse_mood(prompt)
    start = int(state["startSample"])
    cur = current_from_state(state, start, float(state["startBeat"]))
    mood = cur.mood(base, int(state.get("trackSeed", state["textureSeed"])))
    out = []
    for bar in range(int(state["bar"]), int(state["nextBar"])):
        seed = _seed_at(cur.history, bar)
        items: list[tuple[str, int, int]] = []
        for voice, notes in _bar_events(seed, mood, cur.key, bar).items():
            onsets = zip(notes.onset, notes.midi, strict=True)
            items += [(voice, m, round((t - 4 * bar) * 4)) for t, m in onsets]
        for piece, hits in drum_mod.drum_bar(seed, mood, bar).items():
            items += [(piece, 0, round((t - 4 * bar) * 4)) for t, _ in hits]
        blob = repr(sorted(items)).encode()
        out.append((cur.index, bar, hashlib.sha1(blob).hexdigest()[:16]))
    return out


def _seed_at(history: list[tuple[int, int]], bar: int) -> int:
    seed = history[0][1]
    for from_bar, s in history:
        if bar >= from_bar:
            seed = s
    return seed


def mood_summary(mood: Mood) -> dict[str, Any]:
    return {"title": mood.title, "hash": mood.hash, "tempo": mood.tempo, "words": list(mood.words)}
