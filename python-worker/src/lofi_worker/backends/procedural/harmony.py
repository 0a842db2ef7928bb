"""Jazz-inflected lo-fi harmony: chord qualities, progressions, form, voicings.

Everything here is a pure function of (seed, mood, bar): the same bar always gets the same chord,
which is what lets two segments render identical overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lofi_worker.backends.procedural.mood import Mood

NOTE_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")

# Intervals above the root; the upper structure (what the keys play) excludes the root.
QUALITIES: dict[str, tuple[int, ...]] = {
    "maj7": (0, 4, 7, 11),
    "maj9": (0, 4, 7, 11, 14),
    "6/9": (0, 4, 9, 14),
    "m7": (0, 3, 7, 10),
    "m9": (0, 3, 7, 10, 14),
    "m11": (0, 3, 10, 14, 17),
    "m6": (0, 3, 7, 9),
    "7": (0, 4, 7, 10),
    "9": (0, 4, 10, 14),
    "13": (0, 4, 10, 14, 21),
    "7b9": (0, 4, 10, 13),
    "9sus4": (0, 5, 10, 14),
    "m7b5": (0, 3, 6, 10),
}
# Plainer stand-ins when the mood asks for little jazz colour.
SIMPLER = {
    "maj9": "maj7",
    "6/9": "maj7",
    "m9": "m7",
    "m11": "m9",
    "9": "7",
    "13": "9",
    "7b9": "7",
    "9sus4": "9",
}

Bar = tuple[tuple[int, str], ...]  # one or two (root offset from tonic, quality) per bar
Progression = tuple[Bar, Bar, Bar, Bar]


def _p(*bars: tuple[tuple[int, str], ...]) -> Progression:
    assert len(bars) == 4
    return (bars[0], bars[1], bars[2], bars[3])


PROGRESSIONS: dict[str, tuple[Progression, ...]] = {
    "major": (
        _p(((2, "m9"),), ((7, "13"),), ((0, "maj9"),), ((0, "6/9"),)),  # ii-V-I
        _p(((0, "maj9"),), ((9, "m9"),), ((2, "m9"),), ((7, "13"), (7, "7b9"))),  # I-vi-ii-V
        _p(((5, "maj9"),), ((4, "m7"),), ((2, "m9"),), ((0, "maj9"),)),  # IV-iii-ii-I
        _p(((5, "maj9"),), ((5, "m6"),), ((0, "maj9"),), ((9, "m9"),)),  # IV-iv (borrowed)
        _p(((4, "m9"),), ((9, "7b9"),), ((2, "m9"),), ((7, "9sus4"), (7, "13"))),  # iii-VI-ii-V
        _p(((0, "maj9"),), ((10, "9"),), ((5, "maj9"),), ((5, "m6"),)),  # I-bVII-IV-iv
    ),
    "minor": (
        _p(((0, "m9"),), ((5, "m9"),), ((10, "13"),), ((3, "maj9"),)),  # i-iv-bVII-bIII
        _p(((2, "m7b5"),), ((7, "7b9"),), ((0, "m9"),), ((0, "m11"),)),  # minor ii-V-i
        _p(((0, "m9"),), ((8, "maj9"),), ((10, "9"),), ((0, "m9"),)),  # i-bVI-bVII-i
        _p(((0, "m9"),), ((3, "maj9"),), ((8, "maj9"),), ((7, "7b9"),)),  # i-bIII-bVI-V
        _p(((5, "m9"),), ((10, "13"),), ((3, "maj9"),), ((8, "maj9"), (7, "7b9"))),  # iv-bVII-bIII
        _p(((0, "m11"),), ((5, "9"),), ((0, "m11"),), ((8, "maj7"), (7, "7b9"))),  # i-IV dorian-ish
    ),
    "dorian": (
        _p(((0, "m9"),), ((5, "13"),), ((0, "m9"),), ((5, "13"),)),  # i-IV vamp
        _p(((0, "m11"),), ((10, "maj9"),), ((5, "9"),), ((0, "m9"),)),
        _p(((0, "m9"),), ((2, "m7"),), ((3, "maj9"),), ((5, "13"),)),
    ),
}

INTRO_BARS = 4
# After the intro the form cycles; each cycle re-draws its progressions, so an hour never loops.
CYCLE: tuple[tuple[str, int], ...] = (
    ("A", 8),
    ("B", 8),
    ("A", 8),
    ("breakdown", 8),
    ("variation", 8),
    ("B", 8),
)
CYCLE_BARS = sum(n for _, n in CYCLE)


@dataclass(frozen=True)
class Section:
    name: str
    bar_in_section: int
    length: int
    cycle: int


def section_at(bar: int) -> Section:
    if bar < INTRO_BARS:
        return Section("intro", bar % INTRO_BARS, INTRO_BARS, -1)
    cycle, pos = divmod(bar - INTRO_BARS, CYCLE_BARS)
    for name, length in CYCLE:
        if pos < length:
            return Section(name, pos, length, cycle)
        pos -= length
    raise AssertionError("unreachable")


def rng_for(seed: int, *parts: int) -> np.random.Generator:
    """Deterministic generator for a musical coordinate (parts may be negative)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, *[(p + (1 << 40)) for p in parts]])


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class
    quality: str
    start_beat: float  # within the bar
    length_beats: float

    @property
    def intervals(self) -> tuple[int, ...]:
        return QUALITIES[self.quality]

    @property
    def name(self) -> str:
        return NOTE_NAMES[self.root] + ("" if self.quality == "7" else self.quality)


@lru_cache(maxsize=4096)
def _progression(seed: int, mood_hash: str, mode: str, cycle: int, section: str) -> Progression:
    pool = PROGRESSIONS[mode]
    # A and the variation share a progression (form = repetition); B and the breakdown share one.
    family = {"intro": 0, "A": 0, "variation": 0, "B": 1, "breakdown": 1}[section]
    # The intro borrows the first cycle's A.
    rng = rng_for(seed, max(cycle, 0), family, int(mood_hash[:6], 16))
    order = rng.permutation(len(pool))
    return pool[int(order[0])] if family == 0 else pool[int(order[1 % len(order)])]


def chords_in_bar(seed: int, mood: Mood, key: int, bar: int) -> tuple[Chord, ...]:
    sec = section_at(bar)
    prog = _progression(seed, mood.hash, mood.mode, sec.cycle, sec.name)
    bar_spec = prog[sec.bar_in_section % 4]
    out = []
    n = len(bar_spec)
    for i, (offset, quality) in enumerate(bar_spec):
        q = quality
        if mood.jazz < 0.35:
            q = SIMPLER.get(q, q)
        elif sec.name == "variation" and q in ("7", "9", "13", "7b9") and mood.jazz > 0.7:
            # Tritone substitution: same guide tones, chromatic bass walk into the next chord.
            offset, q = offset + 6, "9"
        out.append(Chord((key + offset) % 12, q, 4.0 * i / n, 4.0 / n))
    return tuple(out)


def ring_out_chords(seed: int, mood: Mood, key: int, bar: int) -> tuple[Chord, ...]:
    """The ring-out bar that ends a track: its own chord for two beats (what the bar before
    anticipated), then the next track's dominant (V9sus4, which resolves to any chord of that
    key), held into the next track's first downbeat."""
    first = chords_in_bar(seed, mood, key, bar)[0]
    if mood.nextKey < 0:
        return (Chord(first.root, first.quality, 0.0, 4.0),)
    return (
        Chord(first.root, first.quality, 0.0, 2.0),
        Chord((mood.nextKey + 7) % 12, "9sus4", 2.0, 2.0),
    )


@lru_cache(maxsize=2048)
def upper_voicing(root: int, quality: str, center: int) -> tuple[int, ...]:
    """Rootless voicing (3-7-9-5/13 family) around `center`; the nearest inversion to a fixed
    centre gives smooth voice leading without remembering the previous chord."""
    tones = [i % 12 for i in QUALITIES[quality] if i % 12 != 0]
    if len(tones) > 4:
        tones = [t for t in tones if t != 7][:4]  # drop the fifth first: it adds the least colour
    # Stack in order of interval size so each inversion keeps a thirds/fourths shape.
    tones = sorted(dict.fromkeys(tones))
    best: tuple[float, tuple[int, ...]] | None = None
    for r in range(len(tones)):
        order = tones[r:] + tones[:r]
        notes = [(root + order[0]) % 12]
        for t in order[1:]:
            pc = (root + t) % 12
            nxt = notes[-1] + ((pc - notes[-1]) % 12 or 12)
            notes.append(nxt)
        mean = float(np.mean(notes))
        shift = round((center - mean) / 12) * 12
        voiced = tuple(n + shift for n in notes)
        cost = abs(float(np.mean(voiced)) - center) + 0.5 * max(0, voiced[-1] - voiced[0] - 12)
        if best is None or cost < best[0]:
            best = (cost, voiced)
    assert best is not None
    return best[1]


def bass_note(pc: int, low: int = 36) -> int:
    return low + (pc - low) % 12


def scale(mode: str) -> tuple[int, ...]:
    return {
        "major": (0, 2, 4, 5, 7, 9, 11),
        "minor": (0, 2, 3, 5, 7, 8, 10),
        "dorian": (0, 2, 3, 5, 7, 9, 10),
    }[mode]


def pentatonic(mode: str) -> tuple[int, ...]:
    return (0, 2, 4, 7, 9) if mode == "major" else (0, 3, 5, 7, 10)


def pick_key(seed: int, mood: Mood) -> int:
    rng = rng_for(seed, 7, int(mood.hash[:6], 16))
    return int(mood.keys[int(rng.integers(len(mood.keys)))])
