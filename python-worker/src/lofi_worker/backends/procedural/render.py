"""Render a window of the music: events -> voices -> mix -> tape -> texture.

The buffer covers the file plus pre/post margins. Everything stateful (reverb, filters, tape
delay) has settled by the end of the pre-roll, so the file part is a pure function of position.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

from lofi_worker.backends.procedural import drums as drum_mod
from lofi_worker.backends.procedural.arrange import arrange
from lofi_worker.backends.procedural.clock import Timeline, control_curve
from lofi_worker.backends.procedural.dsp import duck_envelope, pan, reverb
from lofi_worker.backends.procedural.mood import Mood
from lofi_worker.backends.procedural.texture import texture, wow_flutter
from lofi_worker.backends.procedural.voices import render_notes

LOOKBACK_SECONDS = 7.0  # longest one-shot + release: notes that ring into the window


def render(
    tl: Timeline, mood: Mood, key: int, seed_of_bar: dict[int, int], texture_seed: int
) -> np.ndarray:
    """Stereo float32 buffer of tl.total frames."""
    voices = arrange(seed_of_bar, mood, key)
    sr = tl.sr
    keys_kind = mood.keysInstrument
    keys = render_notes(voices["keys"], keys_kind, tl)
    bass = render_notes(voices["bass"], mood.bassStyle, tl)
    melody_kind = "lead" if mood.pad > 0.45 else keys_kind
    melody = render_notes(voices["melody"], melody_kind, tl)
    pad_bus = render_notes(voices["pad"], "pad", tl)

    kit = drum_mod.one_shots(sr, mood.drumStyle)
    drum_mix = np.zeros((2, tl.total), dtype=np.float32)
    snare_send = np.zeros(tl.total, dtype=np.float32)
    kicks: list[tuple[float, float]] = []
    hits: dict[str, list[tuple[float, float]]] = {p: [] for p in drum_mod.PIECES}
    for bar, seed in seed_of_bar.items():
        for piece, lst in drum_mod.drum_bar(seed, mood, bar).items():
            hits[piece] += lst
    for piece, lst in hits.items():
        bus = np.zeros(tl.total, dtype=np.float32)
        shot = kit[piece]
        for beat, vel in lst:
            i0 = tl.index_of(beat)
            a, b = max(0, i0), min(tl.total, i0 + len(shot))
            if a < b:
                bus[a:b] += np.float32(vel) * shot[a - i0 : b - i0]
        drum_mix += pan(bus, drum_mod.PAN[piece])
        if piece in ("snare", "rim", "brush"):
            snare_send += bus
        if piece == "kick":
            kicks = lst

    if keys_kind == "ep":
        # Rhodes-style stereo tremolo, phase-locked to global time so overlaps match.
        lfo = control_curve(tl, lambda t: 0.22 * np.sin(2 * np.pi * 4.2 * t)).astype(np.float32)
        keys_st = np.stack([keys * (1 + lfo), keys * (1 - lfo)]) * np.float32(0.707)
    else:
        keys_st = pan(keys, -0.18)
    shift = int(0.013 * sr)  # Haas offset gives the pad width without phasey modulation
    pad_st = np.stack([pad_bus, np.concatenate([np.zeros(shift, np.float32), pad_bus[:-shift]])])
    pad_st *= np.float32(0.707)

    duck = duck_envelope(kicks, tl, 0.35 if mood.drums > 0.3 else 0.0)
    music = (keys_st + pad_st) * duck + pan(bass, 0.0) * (0.5 + 0.5 * duck)
    music += pan(melody, 0.22) * np.float32(1.1)
    send = (0.6 * keys + 0.8 * melody + 0.5 * pad_bus + 0.25 * snare_send) * np.float32(
        0.25 + 0.9 * mood.reverb
    )
    music += reverb(send, sr) * np.float32(0.5)
    music += drum_mix

    # Tape: wobble, gentle saturation, then the dark tone that makes it lo-fi.
    music *= np.float32(0.5)  # headroom: the tape stage should warm the mix, not crush it
    music = wow_flutter(music, tl, mood.wow, texture_seed)
    music = np.tanh(1.4 * music) / np.float32(np.tanh(1.4))
    music = tape_tone(music, mood.tone, sr)
    music += texture(tl, texture_seed, mood.hiss, mood.crackle, mood.rain)
    return np.asarray(music, dtype=np.float32)


@lru_cache(maxsize=32)
def _tone_sos(tone: float, sr: int) -> np.ndarray:
    low = signal.butter(2, min(tone, 0.45 * sr), "lowpass", fs=sr, output="sos")
    high = signal.butter(1, 32.0, "highpass", fs=sr, output="sos")
    return np.concatenate([low, high]).astype(np.float32)


def tape_tone(x: np.ndarray, tone: float, sr: int) -> np.ndarray:
    """The dark tape tone plus a DC/rumble high-pass, in one filter pass."""
    return np.asarray(signal.sosfilt(_tone_sos(round(tone), sr), x, axis=-1), dtype=np.float32)
