"""The arranger: note events for keys, bass, pad and melody, bar by bar.

Events for bar b depend only on (seed, mood, key, b) -- never on which segment is asking -- so a
window of the music renders the same wherever it is cut.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from lofi_worker.backends.procedural.harmony import (
    Chord,
    bass_note,
    chords_in_bar,
    pentatonic,
    ring_out_chords,
    rng_for,
    section_at,
    upper_voicing,
)
from lofi_worker.backends.procedural.mood import NO_BAR, Mood

TAG_KEYS, TAG_BASS, TAG_MEL, TAG_PUSH, TAG_PAD = 11, 12, 13, 14, 15

# (density threshold, ((position in 8ths, length in 8ths), ...)) for a one-chord bar.
KEYS_PATTERNS: tuple[tuple[float, tuple[tuple[float, float], ...]], ...] = (
    (0.0, ((0, 8),)),
    (0.3, ((0, 3), (3, 5))),
    (0.35, ((0, 4), (4, 4))),
    (0.5, ((0, 2), (3, 3), (6, 2))),
    (0.6, ((0, 1.5), (3, 1), (4, 2), (7, 1))),
    (0.7, ((1, 2), (3, 1), (5, 3))),
)
HALF_PATTERNS = (((0, 4),), ((0, 2), (3, 1)), ((0, 3),))
MELODY_RHYTHMS = (
    (0, 3, 4, 6, 8),
    (1, 3, 6, 9, 11),
    (0, 2, 3, 7, 10, 12),
    (2, 3, 4, 8, 14),
    (0, 4, 6, 7, 11),
)


@dataclass
class Notes:
    onset: list[float] = field(default_factory=list)  # absolute beats
    dur: list[float] = field(default_factory=list)  # beats
    midi: list[int] = field(default_factory=list)
    vel: list[float] = field(default_factory=list)

    def add(self, onset: float, dur: float, midi: int, vel: float) -> None:
        self.onset.append(onset)
        self.dur.append(dur)
        self.midi.append(midi)
        self.vel.append(vel)

    def extend(self, other: Notes) -> None:
        self.onset += other.onset
        self.dur += other.dur
        self.midi += other.midi
        self.vel += other.vel


def swing8(pos8: float, swing: float) -> float:
    """Position in 8ths -> beats, with the off-beat 8th delayed to `swing` of the beat."""
    beat, frac = divmod(pos8 / 2.0, 1.0)
    if frac < 0.5:
        return beat + frac * 2.0 * swing
    return beat + swing + (frac - 0.5) * 2.0 * (1.0 - swing)


@lru_cache(maxsize=1024)
def pushes(seed: int, mood: Mood, bar: int) -> bool:
    """Does bar `bar` anticipate the next bar's chord on the 'and' of 4?"""
    sec = section_at(bar)
    if sec.name in ("intro", "breakdown") or mood.density < 0.3:
        return False
    return bool(rng_for(seed, bar, TAG_PUSH).random() < 0.3 * mood.density)


def _ms_to_beats(ms: float, tempo: float) -> float:
    return ms * tempo / 60000.0


def keys_bar(seed: int, mood: Mood, key: int, bar: int, out: Notes) -> None:
    rng = rng_for(seed, bar, TAG_KEYS)
    sec = section_at(bar)
    chords = chords_in_bar(seed, mood, key, bar)
    density = mood.density * (0.6 if sec.name in ("intro", "breakdown") else 1.0)
    if bar >= mood.outroBar:
        density *= 0.75  # the outro thins out towards the ring-out
    hits: list[tuple[float, float, Chord]] = []  # (pos8 within bar, len8, chord)
    if len(chords) == 1:
        pool = [p for thr, p in KEYS_PATTERNS if thr <= density + 0.1]
        pattern = pool[int(rng.integers(max(1, len(pool) - 3), len(pool) + 1)) - 1]
        hits = [(p, n, chords[0]) for p, n in pattern]
    else:
        for i, ch in enumerate(chords):
            half = HALF_PATTERNS[int(rng.integers(len(HALF_PATTERNS)))]
            hits += [(4 * i + p, n, ch) for p, n in half]
    if pushes(seed, mood, bar - 1):
        hits = [h for h in hits if h[0] > 0.5]
    if pushes(seed, mood, bar):
        nxt = chords_in_bar(seed, mood, key, bar + 1)[0]
        hits = [(p, min(n, 7 - p), c) for p, n, c in hits if p < 7] + [(7, 5, nxt)]
    center = 62 if mood.keysInstrument == "guitar" else 65
    for i, (pos8, len8, chord) in enumerate(hits):
        onset = 4 * bar + swing8(pos8, mood.swing)
        dur = max(0.25, swing8(pos8 + len8, mood.swing) - swing8(pos8, mood.swing) - 0.05)
        voicing = list(upper_voicing(chord.root, chord.quality, center))
        if mood.keysInstrument == "guitar":
            voicing = [bass_note(chord.root, 43), *voicing]
        elif mood.keysInstrument == "piano" and (i == 0 or pos8 == 0):
            voicing = [bass_note(chord.root, 43), *voicing]  # left hand anchors the harmony
        vel = float(np.clip(0.62 + 0.1 * (pos8 == 0) + rng.normal(0, 0.06), 0.3, 0.95))
        step_ms = 14.0 if mood.keysInstrument == "guitar" else 7.0  # strum vs. piano roll
        jitter = _ms_to_beats(float(rng.normal(0, 5)), mood.tempo)
        for j, note in enumerate(voicing):
            roll = _ms_to_beats(step_ms * j + abs(rng.normal(0, 3)), mood.tempo)
            out.add(onset + jitter + roll, dur, note, vel * (0.85 if j == 0 else 1.0))


def bass_bar(seed: int, mood: Mood, key: int, bar: int, out: Notes) -> None:
    sec = section_at(bar)
    if sec.name == "intro" and sec.bar_in_section < 2:
        return
    rng = rng_for(seed, bar, TAG_BASS)
    chords = chords_in_bar(seed, mood, key, bar)
    next_root = chords_in_bar(seed, mood, key, bar + 1)[0].root
    sparse = sec.name in ("intro", "breakdown") or mood.bassStyle == "sub"
    for i, ch in enumerate(chords):
        start = 4 * bar + ch.start_beat
        root = bass_note(ch.root, 36)
        last = i == len(chords) - 1
        vel = float(np.clip(0.8 + rng.normal(0, 0.05), 0.5, 1.0))
        if sparse or ch.length_beats < 4:
            out.add(start, ch.length_beats - 0.3, root, vel)
            continue
        out.add(start, 1.6, root, vel)
        if rng.random() < 0.35 + 0.5 * mood.density:
            fifth = root + 7 if rng.random() < 0.6 else root + 12
            out.add(start + 2.0, 1.2, fifth, vel * 0.8)
        if last and rng.random() < 0.2 + 0.6 * mood.density:
            # Chromatic or scale approach into the next bar's root: the walking-bass cue.
            target = bass_note(next_root, 36)
            approach = target + (1 if rng.random() < 0.5 else -1)
            if rng.random() < 0.4:
                approach = target - 2 if target - 2 >= 33 else target + 2
            out.add(start + swing8(7, mood.swing), 0.45, approach, vel * 0.75)
        elif rng.random() < 0.3 * mood.density:
            out.add(start + swing8(3, mood.swing), 0.4, root, vel * 0.6)  # ghost on the and-of-2


def pad_bar(seed: int, mood: Mood, key: int, bar: int, out: Notes) -> None:
    sec = section_at(bar)
    level = mood.pad + (0.3 if sec.name == "breakdown" else 0.0)
    if level < 0.05:
        return
    for ch in chords_in_bar(seed, mood, key, bar):
        start = 4 * bar + ch.start_beat
        for note in upper_voicing(ch.root, ch.quality, 58):
            out.add(start, ch.length_beats + 0.3, note, min(1.0, level))


def melody_plays(mood: Mood, section: str, bar_in_section: int) -> bool:
    if section == "intro":
        return False
    if section in ("B", "variation"):
        return mood.melody > 0.25
    if section == "breakdown":
        return mood.melody > 0.45 and bar_in_section >= 4
    return mood.melody > 0.65 or (mood.melody > 0.4 and bar_in_section >= 4)


def melody_bar(seed: int, mood: Mood, key: int, bar: int, out: Notes) -> None:
    sec = section_at(bar)
    if bar >= mood.outroBar or not melody_plays(mood, sec.name, sec.bar_in_section):
        return
    # The phrase (2 bars) is drawn from the section's coordinates, not the bar's, so the motif
    # comes back when the section repeats: melody with memory, still a pure function of position.
    family = {"A": 0, "variation": 0, "B": 1, "breakdown": 2}[sec.name]
    phrase = (sec.bar_in_section // 2) % 2
    rng = rng_for(seed, max(sec.cycle, 0), family, phrase, TAG_MEL)
    rhythm = MELODY_RHYTHMS[int(rng.integers(len(MELODY_RHYTHMS)))]
    steps = rng.integers(-2, 3, size=len(rhythm))
    scale_pcs = sorted((key + p) % 12 for p in pentatonic(mood.mode))
    ladder = [m for m in range(64, 86) if m % 12 in scale_pcs]
    idx = int(np.argmin([abs(m - 72) for m in ladder])) + int(rng.integers(-2, 3))
    first_half = sec.bar_in_section % 2 == 0
    vary = rng_for(seed, bar, TAG_MEL)  # bar-level ornament: a dropped note now and then
    for n, pos in enumerate(rhythm):
        idx = int(np.clip(idx + int(steps[n]), 0, len(ladder) - 1))
        in_this_bar = (pos < 8) == first_half
        if not in_this_bar:
            continue
        pos8 = pos % 8
        pitch = ladder[idx]
        chord = [c for c in chords_in_bar(seed, mood, key, bar) if c.start_beat <= pos8 / 2][-1]
        if pos8 in (0, 4):  # strong beats land on chord tones
            tones = [(chord.root + i) % 12 for i in chord.intervals]
            pitch = min(
                (m for m in range(pitch - 3, pitch + 4) if m % 12 in tones),
                key=lambda m: abs(m - pitch),
                default=pitch,
            )
        if vary.random() < 0.12:
            continue
        nxt = rhythm[n + 1] if n + 1 < len(rhythm) else pos + 4
        len8 = min(3.0, float(nxt - pos))
        onset = (
            4 * bar + swing8(pos8, mood.swing) + _ms_to_beats(float(vary.normal(0, 6)), mood.tempo)
        )
        vel = float(np.clip(0.7 + vary.normal(0, 0.07), 0.4, 1.0))
        out.add(onset, max(0.3, len8 / 2 - 0.05), pitch, vel)


def ring_out_bar(seed: int, mood: Mood, key: int, bar: int, voices: dict[str, Notes]) -> None:
    """A track's last bar: held chords, no melody or drums, into the next track's key."""
    rng = rng_for(seed, bar, TAG_KEYS)
    chords = ring_out_chords(seed, mood, key, bar)
    center = 62 if mood.keysInstrument == "guitar" else 65
    step_ms = 14.0 if mood.keysInstrument == "guitar" else 7.0
    for i, ch in enumerate(chords):
        start = 4 * bar + ch.start_beat
        last = i == len(chords) - 1
        # The last chord rings on under the next track's first bar, while the crossfade ends.
        held = ch.length_beats + (3.0 if last else -0.1)
        if not (i == 0 and pushes(seed, mood, bar - 1)):  # already struck on the and-of-4
            voicing = [bass_note(ch.root, 43), *upper_voicing(ch.root, ch.quality, center)]
            vel = float(np.clip(0.6 + rng.normal(0, 0.04), 0.4, 0.8))
            for j, note in enumerate(voicing):
                roll = _ms_to_beats(step_ms * j + abs(rng.normal(0, 3)), mood.tempo)
                voices["keys"].add(start + roll, held, note, vel * (0.85 if j == 0 else 1.0))
        voices["bass"].add(start, held, bass_note(ch.root, 36), 0.75)
        for note in upper_voicing(ch.root, ch.quality, 58):
            voices["pad"].add(start, held + 0.3, note, min(1.0, max(mood.pad, 0.35)))


VOICES = ("keys", "bass", "pad", "melody")


@lru_cache(maxsize=1024)
def _bar_events(seed: int, mood: Mood, key: int, bar: int) -> dict[str, Notes]:
    # Consecutive segments share half their bars (pre-roll, head, ringing notes): drawing a bar
    # once per worker instead of once per segment. Callers must not mutate the result.
    voices = {v: Notes() for v in VOICES}
    if bar >= mood.endBar:
        if bar == mood.endBar:
            # Humanised notes of this bar that start just before its line were heard at the end
            # of the predecessor's tail: they stay, so the head still re-renders that tail.
            played = _bar_events(seed, dataclasses.replace(mood, endBar=NO_BAR), key, bar)
            for name, notes in played.items():
                for i, onset in enumerate(notes.onset):
                    if onset < 4 * bar:
                        voices[name].add(onset, notes.dur[i], notes.midi[i], notes.vel[i])
            ring_out_bar(seed, mood, key, bar, voices)
        return voices
    keys_bar(seed, mood, key, bar, voices["keys"])
    bass_bar(seed, mood, key, bar, voices["bass"])
    pad_bar(seed, mood, key, bar, voices["pad"])
    melody_bar(seed, mood, key, bar, voices["melody"])
    return voices


def arrange(seed_of_bar: dict[int, int], mood: Mood, key: int) -> dict[str, Notes]:
    """Events for every bar in `seed_of_bar` (bar -> seed in force for that bar)."""
    voices = {v: Notes() for v in VOICES}
    for bar, seed in seed_of_bar.items():
        for name, notes in _bar_events(seed, mood, key, bar).items():
            voices[name].extend(notes)
    return voices
