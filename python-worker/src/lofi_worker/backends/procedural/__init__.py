"""Procedural lo-fi backend: a CPU arranger and synthesiser, no model weights.

Continuation model: the music is a pure function of beat position for a given (seed, mood, key),
so the head overlap of a segment re-renders the bars that ended the previous one.
"""

from __future__ import annotations

import math
from typing import Any

from lofi_worker.backends.base import GenerationRequest, RenderedAudio
from lofi_worker.backends.procedural import drift as drift_mod
from lofi_worker.backends.procedural.clock import Timeline
from lofi_worker.backends.procedural.harmony import NOTE_NAMES, chords_in_bar, pick_key, section_at
from lofi_worker.backends.procedural.mood import Mood, parse_mood
from lofi_worker.backends.procedural.render import LOOKBACK_SECONDS, render

MODEL = "procedural-v1"
STATE_VERSION = 1
FOREVER = -(1 << 30)  # "from the beginning" in a seed history
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
        mood = parse_mood(request.prompt)
        head = round(request.overlap_seconds * sr)
        prev = request.continue_from
        prev_state = prev.get("state") if prev else None
        if prev and _usable(prev_state, sr):
            assert isinstance(prev_state, dict)
            # The new file starts `at` samples into the predecessor (sample-exact).
            at = round(float(prev["atSeconds"]) * sr)
            start_sample = int(prev_state["startSample"]) + at
            start_beat = float(prev_state["startBeat"]) + at * float(prev_state["tempo"]) / (
                60 * sr
            )
            texture_seed = int(prev_state["textureSeed"])
            same_mood = prev_state["moodHash"] == mood.hash
        else:
            # First segment, or a predecessor we cannot continue musically (other backend):
            # start fresh; the streamer's crossfade makes it a transition.
            start_sample, start_beat, texture_seed, same_mood = 0, 0.0, request.seed, False
        if same_mood:
            assert isinstance(prev_state, dict)
            tempo, key = float(prev_state["tempo"]), int(prev_state["key"])
            history = [(int(b), int(s)) for b, s in prev_state["seedHistory"]]
            drifts = drift_mod.from_state(prev_state.get("driftHistory"))
        else:
            drifts = []
            tempo, key = float(mood.tempo), pick_key(request.seed, mood)
            history = [(FOREVER, request.seed)]

        body_bars = max(1, round(request.duration_seconds * tempo / 240.0))
        spb = 60.0 * sr / tempo
        body_beat = start_beat + head / spb
        # End on the global sample nearest the bar line, so rounding never accumulates.
        end_sample = round(start_sample + (body_beat + 4 * body_bars - start_beat) * spb)
        frames = end_sample - start_sample
        tl = Timeline.build(sr, tempo, start_beat, start_sample, frames)
        if request.attempt > 0:
            # A quality retry re-draws only bars that start after the head, so the head still
            # matches the predecessor and the next segment inherits the new seed.
            first_free_bar = math.ceil(body_beat / 4 - 1e-9)
            history.append((first_free_bar, retry_seed(history[-1][1], request.attempt)))
        history = history[-6:]
        # A new drift starts at the first bar after the head, so the head stays the same music.
        drifts = drift_mod.extend(drifts, math.ceil(body_beat / 4 - 1e-9), request.drift)

        bars = tl.bars(LOOKBACK_SECONDS)
        seed_of_bar = {b: _seed_at(history, b) for b in bars}
        audio = render(tl, mood, key, seed_of_bar, texture_seed, drift_mod.gain_curves(tl, drifts))

        body_bar = math.floor(body_beat / 4 + 1e-9)
        end_beat = start_beat + frames / tl.spb
        section = section_at(body_bar).name
        chord = chords_in_bar(seed_of_bar.get(body_bar, history[-1][1]), mood, key, body_bar)[0]
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "seed": history[-1][1],
            "seedHistory": [[b, s] for b, s in history],
            "driftHistory": [[b, e, lead] for b, e, lead in drifts],
            "textureSeed": texture_seed,
            "tempo": tempo,
            "key": key,
            "keyName": NOTE_NAMES[key],
            "mode": mood.mode,
            "startBeat": start_beat,
            "startSample": start_sample,
            "sampleRate": sr,
            "bodyBars": body_bars,
            "bar": body_bar,
            "section": section,
            "nextBar": math.floor(end_beat / 4 + 1e-9),
            "nextSection": section_at(math.floor(end_beat / 4 + 1e-9)).name,
            "moodHash": mood.hash,
            "moodWords": list(mood.words),
            "instruments": {
                "keys": mood.keysInstrument,
                "bass": mood.bassStyle,
                "drums": mood.drumStyle if mood.drums > 0.01 else "none",
            },
        }
        title = f"{mood.title} · {chord.name} · {SECTION_LABEL[section]}"
        return RenderedAudio(
            audio=audio,
            sample_rate=sr,
            pre=tl.pre,
            post=tl.post,
            head_overlap_frames=head,
            state=state,
            title=title[:200],
            model=MODEL,
            mood=mood_summary(mood),
        )


def _seed_at(history: list[tuple[int, int]], bar: int) -> int:
    seed = history[0][1]
    for from_bar, s in history:
        if bar >= from_bar:
            seed = s
    return seed


def mood_summary(mood: Mood) -> dict[str, Any]:
    return {"title": mood.title, "hash": mood.hash, "tempo": mood.tempo, "words": list(mood.words)}
