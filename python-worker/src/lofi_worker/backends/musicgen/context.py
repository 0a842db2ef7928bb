"""What a MusicGen segment continues from: its predecessor's tokens, or its re-encoded audio.

Timeline: every position is a sample index at the job's rate in the predecessor's file. A segment's
tokens file holds the frames that cover its file; `state.tokensStartSeconds` (<= 0) says where
frame 0 starts relative to the file's first sample. The new segment's head overlap begins at
`join = round(atSeconds * sr)`, and the context is the run of the predecessor's frames that ends
with the frame holding `join + overlap` (at most MUSICGEN_CONTEXT_SECONDS long, but always
reaching back to `join`). Decoding the context then reproduces the predecessor's music at the join.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import signal

from lofi_worker.store import Store, StoreKeyError


@dataclass
class Context:
    codes: np.ndarray | None  # (K, C) tokens, when the predecessor's tokens were usable
    audio: np.ndarray | None  # mono audio at the engine's rate to encode, C frames long
    frames: int  # C
    start: int  # predecessor sample where context frame 0 starts
    join: int  # predecessor sample where the new file (its head overlap) starts
    source: str  # "tokens" | "audio" | "none"
    fallback_reason: str | None = None


NO_CONTEXT = Context(None, None, 0, 0, 0, "none")


def tokens_from_bytes(data: bytes, codebooks: int, cardinality: int) -> np.ndarray:
    arr = np.load(io.BytesIO(data), allow_pickle=False)
    if arr.ndim != 2 or arr.shape[0] != codebooks or arr.shape[1] == 0:
        raise ValueError(f"tokens have shape {arr.shape}, want ({codebooks}, frames)")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"tokens have dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= cardinality:
        raise ValueError(f"tokens outside 0..{cardinality - 1}")
    return arr.astype(np.int64)


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return np.asarray(x, dtype=np.float64)
    g = math.gcd(src, dst)
    return np.asarray(signal.resample_poly(x, dst // g, src // g, axis=-1), dtype=np.float64)


def plan_context(
    cont: dict[str, Any],
    store: Store,
    *,
    sr: int,
    overlap_s: float,
    engine_rate: int,
    frame_rate: int,
    codebooks: int,
    cardinality: int,
    max_frames: int,
) -> Context:
    hop = sr // frame_rate
    join = round(float(cont["atSeconds"]) * sr)
    end = join + round(overlap_s * sr)  # first predecessor sample of the new music
    reason = "the job's continueFrom has no tokensKey"
    if cont.get("tokensKey"):
        try:
            return _from_tokens(cont, store, hop, join, end, sr, codebooks, cardinality, max_frames)
        except (OSError, ValueError, KeyError, TypeError, StoreKeyError) as err:
            reason = f"tokens unusable: {err}"
    return _from_audio(cont, store, hop, join, end, sr, engine_rate, max_frames, reason)


def _from_tokens(
    cont: dict[str, Any],
    store: Store,
    hop: int,
    join: int,
    end: int,
    sr: int,
    codebooks: int,
    cardinality: int,
    max_frames: int,
) -> Context:
    tokens = tokens_from_bytes(store.read_bytes(cont["tokensKey"]), codebooks, cardinality)
    t0 = round(float(cont["state"]["tokensStartSeconds"]) * sr)
    if t0 > join:
        raise ValueError("tokens start after the join")
    last = -(-(end - t0) // hop)  # frames needed to reach `end`, rounded up
    if last > tokens.shape[1]:
        raise ValueError(f"tokens end at frame {tokens.shape[1]}, the join needs {last}")
    first = min(max(0, last - max_frames), (join - t0) // hop)
    return Context(tokens[:, first:last], None, last - first, t0 + first * hop, join, "tokens")


def _from_audio(
    cont: dict[str, Any],
    store: Store,
    hop: int,
    join: int,
    end: int,
    sr: int,
    engine_rate: int,
    max_frames: int,
    reason: str,
) -> Context:
    audio, file_sr = store.read_flac(cont["audioKey"])
    if file_sr != sr:
        audio = resample(audio, file_sr, sr)
    mono = audio.mean(axis=0)
    # Whole frames ending exactly at `end`, reaching back to the join (and further for context).
    frames = max(min(max_frames, end // hop), -(-(end - join) // hop))
    if frames <= 0:
        return Context(None, None, 0, 0, join, "none", reason)
    start = end - frames * hop  # negative only when the join is within a frame of the file start
    seg = mono[max(start, 0) : end]
    seg = np.pad(seg, (max(0, -start), 0))
    if seg.shape[0] < frames * hop:  # predecessor shorter than the contract promised
        seg = np.pad(seg, (0, frames * hop - seg.shape[0]))
    enc = resample(seg, sr, engine_rate).astype(np.float32)
    return Context(None, enc, frames, start, join, "audio", reason)
