"""Mood words (English and Chinese) -> musical parameters, driven by moods.json."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

MODES = ("major", "minor", "dorian")
KEYS_INSTRUMENTS = ("ep", "piano", "guitar")
DRUM_STYLES = ("boombap", "soft", "brush")
BASS_STYLES = ("upright", "sub")
LEAD_VOICES = ("", "ep", "piano", "guitar", "lead")
NO_BAR = 1 << 40  # "never": an arc marker that is not set
# Per-track arrangement choices and arc markers: they count in the hash only when set (so a
# station without tracks keeps its music), the arc markers never (they change bars after them
# only, and the hash picks progressions for every bar).
_OPTIONAL = {"lead": "", "groove": -1}
_ARC = ("outroBar", "endBar", "nextKey")


@dataclass(frozen=True)
class Mood:
    tempo: float
    mode: str
    keys: tuple[int, ...]
    swing: float
    density: float
    jazz: float
    keysInstrument: str
    pad: float
    melody: float
    drums: float
    drumStyle: str
    bassStyle: str
    crackle: float
    hiss: float
    rain: float
    cafe: float
    wow: float
    tone: float
    reverb: float
    title: str
    words: tuple[str, ...] = ()
    lead: str = ""  # the melody's voice ("": the mood's own choice)
    groove: int = -1  # drum pattern family (drums.GROOVES; -1: the mood's own)
    outroBar: int = NO_BAR  # first bar of the track's outro
    endBar: int = NO_BAR  # the track's ring-out bar (the next track follows it)
    nextKey: int = -1  # the next track's tonic, which the ring-out leads into

    @cached_property  # asked for on every bar's chord lookup; a frozen Mood never changes it
    def hash(self) -> str:
        """Identity of the sound: same hash, same music at the same position."""
        params = asdict(self)
        params.pop("title")
        params.pop("words")
        # Parameters added later count only when used, so a station's music (and its place in
        # the chain) is unchanged by an upgrade that adds them.
        for added in ("cafe",):
            if not params[added]:
                params.pop(added)
        for name, default in _OPTIONAL.items():
            if params[name] == default:
                params.pop(name)
        for name in _ARC:
            params.pop(name)
        blob = json.dumps(params, sort_keys=True, separators=(",", ":"))
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["keys"] = list(self.keys)
        d["words"] = list(self.words)
        return d


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("moods.json").read_text(encoding="utf-8")
    table: dict[str, Any] = json.loads(text)
    return table


def _matcher(word: str) -> re.Pattern[str]:
    if word.isascii():
        return re.compile(rf"(?<![a-z0-9]){re.escape(word.lower())}(?![a-z0-9])")
    return re.compile(re.escape(word))


@lru_cache(maxsize=512)
def parse_mood(prompt: str) -> Mood:
    table = _table()
    params: dict[str, Any] = dict(table["defaults"])
    text = prompt.lower()
    matched: list[str] = []
    title: str | None = None
    for entry in table["words"]:
        if not any(_matcher(w).search(text) for w in entry["match"]):
            continue
        matched.append(entry["name"])
        if title is None and "title" in entry:
            title = entry["title"]
        params.update(entry.get("set", {}))
        for key, delta in entry.get("add", {}).items():
            params[key] = float(params[key]) + float(delta)
    for key, (lo, hi) in table["limits"].items():
        params[key] = min(max(float(params[key]), float(lo)), float(hi))
    params["title"] = title or params["title"]
    params["tempo"] = round(params["tempo"])  # whole BPM: readable and exact in the state
    params["keys"] = tuple(int(k) % 12 for k in params["keys"])
    if params["mode"] not in MODES or params["keysInstrument"] not in KEYS_INSTRUMENTS:
        raise ValueError(f"moods.json produced an unknown mode/instrument: {params}")
    if params["drumStyle"] not in DRUM_STYLES or params["bassStyle"] not in BASS_STYLES:
        raise ValueError(f"moods.json produced an unknown drum/bass style: {params}")
    return Mood(words=tuple(matched), **params)
