"""Mastering and the quality gate.

Loudness is ITU-R BS.1770-4 (K-weighting, 400 ms blocks with 75 % overlap, absolute gate
-70 LUFS, relative gate -10 LU); true peak is measured on a 4x oversampled signal.

The master chain: slow leveler (so quiet sections sit near the same loudness), static gain, a
look-ahead peak limiter, and a soft-knee clipper as the last safety. The leveler and limiter have
memory, so they run over the backend's pre/post margins; the file part then sees the same state a
neighbouring segment saw at the same music.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import ndimage, signal

TARGET_LUFS = -16.0
TOLERANCE_LU = 1.0
MAX_TRUE_PEAK_DBTP = -1.0
SILENCE_DBFS = -60.0
MAX_SILENCE_S = 0.3
MAX_GAIN_STEP_DB = 0.5  # between consecutive segments of one mood: keeps the seam level
DEFAULT_GAIN_DB = 2.9  # what the leveler's output usually needs; refined by measurement
LEVELER_TARGET_LUFS = -20.0
LEVELER_WINDOW_S = 3.0
LEVELER_RANGE_DB = 6.0
LEVELER_STRENGTH = 0.6
LIMITER_CEILING_DBFS = -2.0
CLIP_CEILING_DBFS = -1.4
LEVELER_BLOCK = 1024


class QualityError(Exception):
    """The audio fails the gate; the message says why."""


@dataclass
class Mastered:
    audio: np.ndarray  # (channels, frames) float32, the file
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float
    notes: list[str] = field(default_factory=list)


def _k_sos(sr: float) -> np.ndarray:
    """K-weighting (pre-filter shelf + RLB high-pass) for any sample rate, as in libebur128."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sr)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2 * (k * k - 1) / a0,
        (1 - k / q + k * k) / a0,
    ]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sr)
    a0 = 1 + k / q + k * k
    hp = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, hp])


def integrated_loudness(x: np.ndarray, sr: int) -> float:
    """BS.1770-4 integrated loudness of (channels, frames) audio, in LUFS (-inf when silent)."""
    y = signal.sosfilt(_k_sos(sr).astype(np.float32), np.asarray(x, dtype=np.float32), axis=-1)
    hop = int(0.1 * sr)  # 400 ms blocks at 75 % overlap = 4 consecutive 100 ms sub-blocks
    n_sub = y.shape[1] // hop
    if n_sub < 4:
        return -math.inf
    sub = (y[:, : n_sub * hop] ** 2).reshape(y.shape[0], n_sub, hop).sum(-1, dtype=np.float64)
    sub = sub.sum(axis=0)  # channel weights are 1 for L/R (and mono)
    zsum = (sub[:-3] + sub[1:-2] + sub[2:-1] + sub[3:]) / (4 * hop)
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10 * np.log10(zsum)
    gated = zsum[lk > -70.0]
    if gated.size == 0:
        return -math.inf
    rel = -0.691 + 10 * np.log10(gated.mean()) - 10.0
    final = gated[-0.691 + 10 * np.log10(gated) > rel]
    return float(-0.691 + 10 * np.log10(final.mean()))


@lru_cache(maxsize=1)
def _tp_filter() -> np.ndarray:
    # ~48-tap interpolator (12 per phase), the size BS.1770-4 Annex 2 describes for 4x;
    # resample_poly scales it by the up factor itself.
    return np.asarray(signal.firwin(49, 0.25 * 0.9, window=("kaiser", 8.0)), dtype=np.float64)


def true_peak_dbtp(x: np.ndarray, margin_db: float = 4.0) -> float:
    """4x oversampled peak. Only 4096-sample chunks whose sample peak is within `margin_db` of
    the loudest sample are oversampled: an inter-sample over of more than ~3 dB needs
    pathological, near-Nyquist full-scale content, which tape-filtered music does not have."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    chunk, pad = 4096, 16
    n = x.shape[1]
    if n == 0:
        return -math.inf
    n_chunks = -(-n // chunk)
    padded = np.zeros((x.shape[0], n_chunks * chunk), dtype=np.float32)
    padded[:, :n] = x
    peaks = np.abs(padded).reshape(x.shape[0], n_chunks, chunk).max(axis=(0, 2))
    top = float(peaks.max())
    if top <= 0:
        return -math.inf
    best = top
    for c in np.flatnonzero(peaks >= top * 10 ** (-margin_db / 20)):
        a, b = max(0, c * chunk - pad), min(n, (c + 1) * chunk + pad)
        up = signal.resample_poly(x[:, a:b], 4, 1, axis=-1, window=_tp_filter())
        best = max(best, float(np.max(np.abs(up))))
    return 20 * math.log10(best)


def level(x: np.ndarray, sr: int) -> np.ndarray:
    """Slow leveler: causal 3 s loudness window on a globally aligned block grid."""
    dec = 4
    xd = x[:, ::dec]
    y = signal.sosfilt(_k_sos(sr / dec), xd, axis=-1)
    nb = y.shape[1] // (LEVELER_BLOCK // dec)
    if nb < 2:
        return x
    blocks = (y[:, : nb * (LEVELER_BLOCK // dec)] ** 2).reshape(y.shape[0], nb, -1).mean(-1).sum(0)
    w = max(1, round(LEVELER_WINDOW_S * sr / LEVELER_BLOCK))
    c = np.concatenate([[0.0], np.cumsum(blocks)])
    idx = np.arange(1, nb + 1)
    mean = (c[idx] - c[np.maximum(0, idx - w)]) / np.minimum(idx, w)
    loud = -0.691 + 10 * np.log10(mean + 1e-12)
    gain_db = np.clip(
        (LEVELER_TARGET_LUFS - loud) * LEVELER_STRENGTH, -LEVELER_RANGE_DB, LEVELER_RANGE_DB
    )
    gain_db = np.concatenate([gain_db, gain_db[-1:]])
    frac = np.arange(LEVELER_BLOCK) / LEVELER_BLOCK
    curve = (gain_db[:-1, None] * (1 - frac) + gain_db[1:, None] * frac).reshape(-1)
    curve = np.concatenate([curve, np.full(max(0, x.shape[1] - len(curve)), gain_db[-1])])
    return x * (10 ** (curve[: x.shape[1]] / 20)).astype(np.float32)


def limit(x: np.ndarray, sr: int) -> np.ndarray:
    """Look-ahead peak limiter (min-filtered, smoothed gain) then a soft-knee clipper."""
    ceiling = 10 ** (LIMITER_CEILING_DBFS / 20)
    half = int(0.004 * sr)
    peak = np.max(np.abs(x), axis=0).astype(np.float32)
    need = np.minimum(np.float32(1.0), np.float32(ceiling) / np.maximum(peak, np.float32(1e-9)))
    # The smoothing window is narrower than the min-filter window, so every sample averaged
    # around a peak already carries that peak's gain: the average never overshoots it.
    g = ndimage.minimum_filter1d(need, 2 * half + 1, mode="nearest")
    g = ndimage.uniform_filter1d(g, half + 1, mode="nearest")
    g = np.minimum(g, ndimage.minimum_filter1d(need, 3, mode="nearest"))
    return soft_clip(x * g, 10 ** (CLIP_CEILING_DBFS / 20))


def soft_clip(x: np.ndarray, ceiling: float, knee_db: float = 4.0) -> np.ndarray:
    knee = ceiling * 10 ** (-knee_db / 20)
    a = np.abs(x)
    over = a > knee
    if not over.any():
        return x
    y = x.copy()
    span = ceiling - knee
    y[over] = np.sign(x[over]) * (knee + span * np.tanh((a[over] - knee) / span))
    return y


def master(
    buffer: np.ndarray,
    sr: int,
    pre: int,
    post: int,
    channels: int,
    gain_db: float | None,
    smooth_from: bool,
) -> Mastered:
    """Master `buffer` (2, n) and return the file part.

    gain_db: the previous segment's static gain when this one continues the same mood.
    smooth_from: limit the gain change against gain_db so the crossfade seam stays level.
    """
    x = np.asarray(buffer, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise QualityError("backend produced NaN or infinite samples")
    if channels == 1:
        x = x.mean(axis=0, keepdims=True)
    leveled = level(x, sr)
    end = leveled.shape[1] - post
    notes: list[str] = []
    gain = DEFAULT_GAIN_DB if gain_db is None else gain_db
    limited = limit(leveled * np.float32(10 ** (gain / 20)), sr)[:, pre:end]
    out, loud = limited, integrated_loudness(limited, sr)
    if not math.isfinite(loud):
        raise QualityError("segment is silent (no gated loudness)")
    err = TARGET_LUFS - loud
    step = err
    if smooth_from and gain_db is not None:
        # Move at most MAX_GAIN_STEP_DB per segment, unless that leaves the tolerance.
        step = float(np.clip(err, -MAX_GAIN_STEP_DB, MAX_GAIN_STEP_DB))
        if abs(err - step) > TOLERANCE_LU * 0.8:
            step = err - math.copysign(TOLERANCE_LU * 0.8, err)
    if abs(step) > 0.1:
        gain += step
        if abs(step) <= 1.5:
            # Small trims ride on the limited signal; the clipper keeps the peaks in bounds.
            out = soft_clip(limited * np.float32(10 ** (step / 20)), 10 ** (CLIP_CEILING_DBFS / 20))
        else:
            out = limit(leveled * np.float32(10 ** (gain / 20)), sr)[:, pre:end]
        loud = integrated_loudness(out, sr)
        notes.append(f"gain {gain:+.2f} dB (first pass {TARGET_LUFS - err:.2f} LUFS)")
    assert out is not None and loud is not None
    tp = true_peak_dbtp(out)
    for _ in range(4):
        if tp <= MAX_TRUE_PEAK_DBTP:
            break
        # Rare: inter-sample overs beyond the clipper's margin. Pull the last stage down.
        out = soft_clip(out, 10 ** ((MAX_TRUE_PEAK_DBTP - (tp - MAX_TRUE_PEAK_DBTP) - 0.3) / 20))
        tp = true_peak_dbtp(out)
        loud = integrated_loudness(out, sr)
        notes.append(f"true peak fix -> {tp:.2f} dBTP")
    return Mastered(out, float(loud), float(tp), float(gain), notes)


def longest_silence_s(x: np.ndarray, sr: int) -> float:
    quiet = np.max(np.abs(x), axis=0) < 10 ** (SILENCE_DBFS / 20)
    if not quiet.any():
        return 0.0
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return float((ends - starts).max()) / sr


def flat_top_count(x: np.ndarray) -> int:
    """Runs of >= 3 equal samples near full scale: the signature of hard clipping upstream."""
    a = np.abs(x)
    hot = (a[:, 2:] >= 0.99) & (x[:, 2:] == x[:, 1:-1]) & (x[:, 1:-1] == x[:, :-2])
    return int(hot.sum())


def check(m: Mastered, raw_file: np.ndarray, sr: int) -> None:
    """Raise QualityError with the first reason the segment cannot be offered."""
    silence = longest_silence_s(m.audio, sr)
    if silence > MAX_SILENCE_S:
        raise QualityError(f"silence run of {silence:.2f} s (limit {MAX_SILENCE_S} s)")
    flat = flat_top_count(raw_file)
    if flat > 8:
        raise QualityError(f"clipping in the generated audio ({flat} flat-topped samples)")
    if np.max(np.abs(m.audio)) >= 1.0:
        raise QualityError("clipping after mastering")
    if abs(m.loudness_lufs - TARGET_LUFS) > TOLERANCE_LU:
        raise QualityError(
            f"loudness {m.loudness_lufs:.2f} LUFS outside {TARGET_LUFS}±{TOLERANCE_LU}"
        )
    if m.true_peak_dbtp > MAX_TRUE_PEAK_DBTP:
        raise QualityError(f"true peak {m.true_peak_dbtp:.2f} dBTP above {MAX_TRUE_PEAK_DBTP}")
