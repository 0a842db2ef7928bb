"""Mastering and the quality gate.

Loudness is ITU-R BS.1770-4 (K-weighting, 400 ms blocks with 75 % overlap, absolute gate
-70 LUFS, relative gate -10 LU); true peak is measured on a 4x oversampled signal.

The master chain: slow leveler (so quiet sections sit near the same loudness), static gain, a
look-ahead peak limiter, and a soft-knee clipper as the last safety. The leveler and limiter have
memory, so they run over the backend's pre/post margins; the file part then sees the same state a
neighbouring segment saw at the same music.
"""

from __future__ import annotations

import itertools
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


def sosfilt_audio(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sosfilt along time of (channels, frames) audio, as float32 (channels, frames).

    Stereo runs as one complex signal L + iR: the filter is real, so the parts never mix (the
    result is the same to float rounding), and the two channels' recursions overlap in the CPU
    instead of running one after the other -- a quarter less time for this latency-bound loop.
    """
    x = np.asarray(x, dtype=np.float32)
    sos = np.asarray(sos, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] != 2:
        return np.asarray(signal.sosfilt(sos, x, axis=-1), dtype=np.float32)
    z = np.empty(x.shape[1], dtype=np.complex64)
    z.real = x[0]
    z.imag = x[1]
    y = signal.sosfilt(sos, z)
    out = np.empty(x.shape, dtype=np.float32)
    out[0] = y.real
    out[1] = y.imag
    return out


def integrated_loudness(x: np.ndarray, sr: int) -> float:
    """BS.1770-4 integrated loudness of (channels, frames) audio, in LUFS (-inf when silent)."""
    return _gated(sosfilt_audio(_k_sos(sr), x), int(0.1 * sr))


def quick_loudness(x: np.ndarray, sr: int, dec: int = 4) -> float:
    """integrated_loudness on every `dec`-th sample with the K-filter redesigned for that rate:
    about 0.01 LU off for music, at a quarter of the cost. Folded-down content lands
    on the K-weighting's flat top as it would have at full rate, so it is counted, not lost.
    Only for decisions (the mastering gain); what a segment reports is measured exactly."""
    y = sosfilt_audio(_k_sos(sr / dec), np.asarray(x, dtype=np.float32)[:, ::dec])
    return _gated(y, int(0.1 * sr / dec)) - _k_offset_db(sr, dec)


@lru_cache(maxsize=8)
def _k_offset_db(sr: int, dec: int) -> float:
    """The K-filter's passband gain at sr/dec minus that at sr (the RLB high-pass has an
    unnormalised numerator, so its level drifts with the rate), taken at 500 Hz, where music's
    energy is."""
    gains = [
        abs(signal.sosfreqz(_k_sos(rate), worN=[500.0], fs=rate)[1][0]) for rate in (sr / dec, sr)
    ]
    return float(20 * np.log10(gains[0] / gains[1]))


def _gated(y: np.ndarray, hop: int) -> float:
    """Gated loudness of K-weighted audio; hop: samples per 100 ms."""
    # 400 ms blocks at 75 % overlap = 4 consecutive 100 ms sub-blocks
    n_sub = y.shape[1] // hop
    if n_sub < 4:
        return -math.inf
    sub = (y[:, : n_sub * hop] ** 2).reshape(y.shape[0], n_sub, hop).sum(-1, dtype=np.float64)
    return _gated_sub(sub.sum(axis=0), hop)  # channel weights are 1 for L/R (and mono)


def _gated_sub(sub: np.ndarray, hop: int) -> float:
    """Gated loudness from the channel-summed energies of consecutive 100 ms sub-blocks."""
    if sub.size < 4:
        return -math.inf
    zsum = (sub[:-3] + sub[1:-2] + sub[2:-1] + sub[3:]) / (4 * hop)
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10 * np.log10(zsum)
    gated = zsum[lk > -70.0]
    if gated.size == 0:
        return -math.inf
    rel = -0.691 + 10 * np.log10(gated.mean()) - 10.0
    final = gated[-0.691 + 10 * np.log10(gated) > rel]
    return float(-0.691 + 10 * np.log10(final.mean()))


TP_UP = 4


@lru_cache(maxsize=1)
def _tp_phases() -> np.ndarray:
    """The 4x interpolator as a (13, 4) matrix: column p gives the sample p/4 of the way from
    x[i] to x[i+1] as a dot product with x[i+6], ..., x[i-6].

    ~48-tap interpolator (12 per phase), the size BS.1770-4 Annex 2 describes for 4x, scaled
    by the up factor as scipy's resample_poly does."""
    h = np.asarray(signal.firwin(49, 0.25 * 0.9, window=("kaiser", 8.0)), dtype=np.float64) * TP_UP
    half = (len(h) - 1) // 2
    taps = np.zeros((13, TP_UP))
    for p in range(TP_UP):
        for row, k in enumerate(range(-6, 7)):
            i = TP_UP * k + p + half
            if 0 <= i < len(h):
                taps[row, p] = h[i]
    return taps


def true_peak_dbtp(x: np.ndarray, margin_db: float = 4.0) -> float:
    """4x oversampled peak. Only the intervals next to samples within `margin_db` of the loudest
    sample are oversampled: an inter-sample over of more than ~3 dB needs pathological,
    near-Nyquist full-scale content, which tape-filtered music does not have."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    n = x.shape[1]
    if n == 0:
        return -math.inf
    a = np.max(np.abs(x), axis=0)
    top = float(a.max())
    if top <= 0:
        return -math.inf
    hot = np.flatnonzero(a >= top * 10 ** (-margin_db / 20))
    # Intervals (i, i+1) for every hot sample and its left neighbour.
    starts = np.union1d(hot, np.maximum(hot - 1, 0))
    window = starts[:, None] + np.arange(6, -7, -1)  # x[i+6] ... x[i-6]
    outside = (window < 0) | (window >= n)  # zeros beyond the ends, as resample_poly pads
    taps = x[:, np.clip(window, 0, n - 1)].astype(np.float64)
    taps[:, outside] = 0.0
    up = taps @ _tp_phases()  # (channels, intervals, phase)
    return 20 * math.log10(max(top, float(np.max(np.abs(up)))))


def leveler_gain(x: np.ndarray, sr: int) -> np.ndarray | None:
    """Slow leveler: causal 3 s loudness window on a globally aligned block grid. Returns the
    per-sample linear gain (float32), or None when the buffer is too short to level."""
    dec = 4
    y = sosfilt_audio(_k_sos(sr / dec), x[:, ::dec])
    # Whole blocks of the full-rate buffer: the decimated one can hold a block more when the
    # length is not a multiple of `dec`.
    nb = min(y.shape[1] // (LEVELER_BLOCK // dec), x.shape[1] // LEVELER_BLOCK)
    if nb < 2:
        return None
    blocks = (y[:, : nb * (LEVELER_BLOCK // dec)] ** 2).reshape(y.shape[0], nb, -1).mean(-1).sum(0)
    w = max(1, round(LEVELER_WINDOW_S * sr / LEVELER_BLOCK))
    c = np.concatenate([[0.0], np.cumsum(blocks)])
    idx = np.arange(1, nb + 1)
    mean = (c[idx] - c[np.maximum(0, idx - w)]) / np.minimum(idx, w)
    loud = -0.691 + 10 * np.log10(mean + 1e-12)
    gain_db = np.clip(
        (LEVELER_TARGET_LUFS - loud) * LEVELER_STRENGTH, -LEVELER_RANGE_DB, LEVELER_RANGE_DB
    )
    # Interpolated linearly between block gains (at most a few hundredths of a dB apart).
    g = (10 ** (np.append(gain_db, gain_db[-1]) / 20)).astype(np.float32)
    curve = np.empty(x.shape[1], dtype=np.float32)
    body = curve[: nb * LEVELER_BLOCK].reshape(nb, LEVELER_BLOCK)
    np.multiply((g[1:] - g[:-1])[:, None], np.arange(LEVELER_BLOCK, dtype=np.float32), out=body)
    body *= np.float32(1 / LEVELER_BLOCK)
    body += g[:-1, None]
    curve[nb * LEVELER_BLOCK :] = g[-1]
    return curve


def level(x: np.ndarray, sr: int) -> np.ndarray:
    curve = leveler_gain(x, sr)
    return x if curve is None else x * curve


def _limiter_reach(sr: int) -> int:
    """Samples on either side that can change the limiter's output at a sample."""
    half = int(0.004 * sr)
    return 2 * half + 2


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
    """Identity below the knee, a tanh curve from the knee up to the ceiling."""
    knee = ceiling * 10 ** (-knee_db / 20)
    flat = np.ascontiguousarray(x).reshape(-1)
    hot = np.flatnonzero(np.abs(flat) > knee)  # a few percent of the samples at most
    if hot.size == 0:
        return x
    y = flat.copy()
    v = y[hot]
    span = ceiling - knee
    y[hot] = np.sign(v) * (knee + span * np.tanh((np.abs(v) - knee) / span))
    return y.reshape(x.shape)


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
    if not (math.isfinite(float(x.max(initial=0.0))) and math.isfinite(float(x.min(initial=0.0)))):
        raise QualityError("backend produced NaN or infinite samples")
    if channels == 1:
        x = x.mean(axis=0, keepdims=True)
    n = x.shape[1]
    end = n - post
    # Only the leveler needs the whole pre-roll (its 3 s memory); the limiter is computed on the
    # file plus its reach, which gives the same samples as limiting the whole buffer.
    a, b = max(0, pre - _limiter_reach(sr)), min(n, end + _limiter_reach(sr))
    curve = leveler_gain(x, sr)
    window = x[:, a:b] * curve[a:b] if curve is not None else x[:, a:b]
    f0, f1 = pre - a, end - a

    def limited_at(gain: float) -> np.ndarray:
        return limit(window * np.float32(10 ** (gain / 20)), sr)[:, f0:f1]

    notes: list[str] = []
    gain = DEFAULT_GAIN_DB if gain_db is None else gain_db
    limited = limited_at(gain)
    first = quick_loudness(limited, sr)
    if not math.isfinite(first):
        raise QualityError("segment is silent (no gated loudness)")
    err = TARGET_LUFS - first
    step = _gain_step(err, smooth_from and gain_db is not None)
    out = limited
    if abs(step) > 0.1:
        gain += step
        out = _trim(limited, step) if abs(step) <= 1.5 else limited_at(gain)
        notes.append(f"gain {gain:+.2f} dB (first pass {first:.2f} LUFS)")
    loud = integrated_loudness(out, sr)
    if not math.isfinite(loud):
        raise QualityError("segment is silent (no gated loudness)")
    if abs(TARGET_LUFS - loud) > TOLERANCE_LU * 0.9:
        # The quick meter misjudged this one: correct on the exact measurement.
        err = TARGET_LUFS - loud
        # A smoothed chain moves only as far as the tolerance needs: the seam stays level.
        smooth = smooth_from and gain_db is not None
        fix = err - math.copysign(TOLERANCE_LU * 0.8, err) if smooth else err
        gain += fix
        out = _trim(out, fix) if abs(fix) <= 1.5 else limited_at(gain)
        loud = integrated_loudness(out, sr)
        notes.append(f"gain {gain:+.2f} dB (corrected from {TARGET_LUFS - fix:.2f} LUFS)")
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


def _gain_step(err: float, smooth: bool) -> float:
    """The gain change for a loudness error; a smoothed chain moves at most MAX_GAIN_STEP_DB
    per segment, unless that leaves the tolerance."""
    if not smooth:
        return err
    step = float(np.clip(err, -MAX_GAIN_STEP_DB, MAX_GAIN_STEP_DB))
    if abs(err - step) > TOLERANCE_LU * 0.8:
        step = err - math.copysign(TOLERANCE_LU * 0.8, err)
    return step


def _trim(limited: np.ndarray, step_db: float) -> np.ndarray:
    """Small trims ride on the limited signal; the clipper keeps the peaks in bounds."""
    return soft_clip(limited * np.float32(10 ** (step_db / 20)), 10 ** (CLIP_CEILING_DBFS / 20))


def longest_silence_s(x: np.ndarray, sr: int) -> float:
    a = np.abs(x)
    quiet = (a.max(axis=0) if a.shape[0] > 1 else a[0]) < 10 ** (SILENCE_DBFS / 20)
    if not quiet.any():
        return 0.0
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return float((ends - starts).max()) / sr


def flat_top_count(x: np.ndarray) -> int:
    """Runs of >= 3 equal samples near full scale: the signature of hard clipping upstream."""
    hot = np.abs(x[:, 2:]) >= 0.99
    if not hot.any():
        return 0
    ch, idx = np.nonzero(hot)  # a few samples: compare only those
    idx = idx + 2
    return int(
        np.count_nonzero((x[ch, idx] == x[ch, idx - 1]) & (x[ch, idx - 1] == x[ch, idx - 2]))
    )


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


class StreamMeter:
    """Integrated loudness (BS.1770-4, exact: the K-filter carries its state across chunks),
    true peak and the longest silence of audio that arrives in chunks: long renders are
    measured without holding them in memory."""

    def __init__(self, sr: int, channels: int) -> None:
        self.sr = sr
        self.sos = _k_sos(sr)
        self.zi = np.zeros((self.sos.shape[0], channels, 2))
        self.hop = int(0.1 * sr)
        self.rest = np.zeros((channels, 0))
        self.subs: list[np.ndarray] = []
        self.true_peak_dbtp = -math.inf
        self.longest_silence_s = 0.0
        self._quiet_run = 0
        self.frames = 0

    def add(self, x: np.ndarray) -> None:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[1] == 0:
            return
        self.frames += x.shape[1]
        y, self.zi = signal.sosfilt(self.sos, x, axis=-1, zi=self.zi)
        y = np.concatenate([self.rest, y], axis=1)
        n = y.shape[1] // self.hop
        if n:
            sub = (y[:, : n * self.hop] ** 2).reshape(y.shape[0], n, self.hop).sum(-1).sum(0)
            self.subs.append(sub)
        self.rest = y[:, n * self.hop :]
        self.true_peak_dbtp = max(self.true_peak_dbtp, true_peak_dbtp(x))
        quiet = np.abs(x).max(axis=0) < 10 ** (SILENCE_DBFS / 20)
        edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
        # Runs inside the chunk, with the run carried over from the previous chunk at its start.
        bounds = np.concatenate([[0], edges + 1, [quiet.size]])
        for a, b in itertools.pairwise(bounds):
            if not quiet[a]:
                self._quiet_run = 0
                continue
            self._quiet_run += int(b - a)
            self.longest_silence_s = max(self.longest_silence_s, self._quiet_run / self.sr)

    def loudness_lufs(self) -> float:
        if not self.subs:
            return -math.inf
        return _gated_sub(np.concatenate(self.subs), self.hop)
