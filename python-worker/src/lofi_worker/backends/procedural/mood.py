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
