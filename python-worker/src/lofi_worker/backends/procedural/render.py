"""Render a window of the music: events -> voices -> mix -> tape -> texture.

The buffer covers the file plus pre/post margins. Everything stateful (reverb, filters, tape
delay) has settled by the end of the pre-roll, so the file part is a pure function of position.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
from scipy import signal

from lofi_worker.backends.procedural import drums as drum_mod
from lofi_worker.backends.procedural.arrange import arrange
from lofi_worker.backends.procedural.clock import Timeline, control_curve
from lofi_worker.backends.procedural.dsp import duck_envelope, pan_gains, reverb
from lofi_worker.backends.procedural.mood import Mood
from lofi_worker.backends.procedural.texture import add_texture, wow_flutter
from lofi_worker.backends.procedural.voices import render_notes
from lofi_worker.quality import sosfilt_audio

LOOKBACK_SECONDS = 7.0  # longest one-shot + release: notes that ring into the window


def render(
    tl: Timeline,
    mood: Mood,
    key: int,
    seed_of_bar: dict[int, int],
    texture_seed: int,
    gains: Mapping[str, np.ndarray | float] | None = None,
) -> np.ndarray:
    """Stereo float32 buffer of tl.total frames; `gains` (drift) rebalance the voices."""
    voices = arrange(seed_of_bar, mood, key)
    sr = tl.sr
    keys_kind = mood.keysInstrument
    keys = _gained(render_notes(voices["keys"], keys_kind, tl), gains, "keys")
    bass = _gained(render_notes(voices["bass"], mood.bassStyle, tl), gains, "bass")
    melody_kind = mood.lead or ("lead" if mood.pad > 0.45 else keys_kind)
    melody = _gained(render_notes(voices["melody"], melody_kind, tl), gains, "melody")
    pad_bus = _gained(render_notes(voices["pad"], "pad", tl), gains, "pad")

    drum_mix, snare_send, kicks = _drums(tl, mood, seed_of_bar)
    drum_mix = _gained(drum_mix, gains, "drums")
    snare_send = _gained(snare_send, gains, "drums")

    # Mixed in place into one stereo buffer: every full-length temporary costs as much as a
    # mixing step, so gains are folded into as few passes as possible.
    c = np.float32(np.cos(np.pi / 4))  # centre pan
    duck = duck_envelope(kicks, tl, 0.35 if mood.drums > 0.3 else 0.0)
    music = np.empty((2, tl.total), dtype=np.float32)
    if keys_kind == "ep":
        # Rhodes-style stereo tremolo, phase-locked to global time so overlaps match.
        lfo = control_curve(tl, lambda t: 0.22 * np.sin(2 * np.pi * 4.2 * t))
        wobble = keys * lfo
        np.add(keys, wobble, out=music[0])
        np.subtract(keys, wobble, out=music[1])
        music *= np.float32(0.707)
    else:
        gl, gr = pan_gains(-0.18)
        np.multiply(keys, gl, out=music[0])
        np.multiply(keys, gr, out=music[1])
    shift = int(0.013 * sr)  # Haas offset gives the pad width without phasey modulation
    pad_gain = np.float32(0.707)
    music[0] += pad_bus * pad_gain
    music[1, shift:] += pad_bus[:-shift] * pad_gain
    music *= duck
    music += (bass * c) * (np.float32(0.5) + np.float32(0.5) * duck)
    gl, gr = pan_gains(0.22)
    music[0] += melody * (gl * np.float32(1.1))
    music[1] += melody * (gr * np.float32(1.1))
    send = keys * np.float32(0.6)
    send += melody * np.float32(0.8)
    send += pad_bus * np.float32(0.5)
    send += snare_send * np.float32(0.25)
    music += reverb(send, sr, gain=0.5 * (0.25 + 0.9 * mood.reverb))
    music += drum_mix

    # Tape: wobble, gentle saturation, then the dark tone that makes it lo-fi.
    # The 0.5 headroom (the tape stage should warm the mix, not crush it) rides on the drive.
    music = wow_flutter(music, tl, mood.wow, texture_seed)
    music *= np.float32(1.4 * 0.5)
    np.tanh(music, out=music)
    music *= np.float32(1 / np.tanh(1.4))
    music = tape_tone(music, mood.tone, sr)
    add_texture(music, tl, texture_seed, mood.hiss, mood.crackle, mood.rain, mood.cafe)
    return music


def _gained(
    x: np.ndarray, gains: Mapping[str, np.ndarray | float] | None, voice: str
) -> np.ndarray:
    """x scaled in place by the voice's drift gain (nothing to do at 1.0, the common case)."""
    g = 1.0 if gains is None else gains.get(voice, 1.0)
    if isinstance(g, float):
        if g != 1.0:
            x *= np.float32(g)
        return x
    x *= g  # broadcasts over the channels of a stereo bus
    return x


def _drums(
    tl: Timeline, mood: Mood, seed_of_bar: dict[int, int]
) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """Stereo drum bus, the mono snare/rim reverb send, and the kick hits (for the ducking)."""
    kit = drum_mod.one_shots(tl.sr, mood.drumStyle)
    panned = drum_mod.panned_shots(tl.sr, mood.drumStyle)
    drum_mix = np.zeros((2, tl.total), dtype=np.float32)
    snare_send = np.zeros(tl.total, dtype=np.float32)
    kicks: list[tuple[float, float]] = []
    for bar, seed in seed_of_bar.items():
        for piece, lst in drum_mod.drum_bar(seed, mood, bar).items():
            if not lst:
                continue
            shot, st = kit[piece], panned[piece]
            send = piece in ("snare", "rim", "brush")
            if piece == "kick":
                kicks += lst
            for beat, vel in lst:
                i0 = tl.index_of(beat)
                a, b = max(0, i0), min(tl.total, i0 + len(shot))
                if a >= b:
                    continue
                v = np.float32(vel)
                drum_mix[:, a:b] += st[:, a - i0 : b - i0] * v
                if send:
                    snare_send[a:b] += shot[a - i0 : b - i0] * v
    return drum_mix, snare_send, kicks


@lru_cache(maxsize=32)
def _tone_sos(tone: float, sr: int) -> np.ndarray:
    low = signal.butter(2, min(tone, 0.45 * sr), "lowpass", fs=sr, output="sos")
    high = signal.butter(1, 32.0, "highpass", fs=sr, output="sos")
    return np.concatenate([low, high]).astype(np.float32)


def tape_tone(x: np.ndarray, tone: float, sr: int) -> np.ndarray:
    """The dark tape tone plus a DC/rumble high-pass, in one filter pass."""
    return sosfilt_audio(_tone_sos(round(tone), sr), x)
