"""Listening quality of an hour of procedural music: loudness, silence, seams and variety.

Renders MINUTES (default 20) of each of three moods back to back (two mood changes) through the
chain a long CLI render uses (lofi_worker.chain: every segment a real job through process_job,
files crossfaded over each head overlap with the playout's gain law), faster than real time, and
measures the joined stream:

- loudness: every segment's integrated loudness and true peak (as the job measured its file),
  and the joined stream's (BS.1770-4, lofi_worker.quality.StreamMeter);
- silence: the longest run under -60 dBFS in the joined stream;
- seams: the largest sample step in each 1024-frame window and the spectral flux between
  2048-frame spectra (as bench/seams.ts), at the seams against everywhere else; separately at
  the track changes (the new track's first downbeat) and the mood changes;
- variety between tracks: mean chroma (12 pitch classes), timbre (mean log energy in 24 bands)
  and tempo (the state's, and an onset-autocorrelation estimate from the audio), and the
  longest passage repeated note for note in another track (bar fingerprints of the arranger).
  References, measured in the same run: the distance between tracks of different moods ("clearly
  different music") and the same hour from the arranger without tracks (the station as it was
  before tracks: one endless arrangement per mood), cut into pseudo-tracks at the same times.

Prints one JSON line. Usage: listening_quality.py [MINUTES_PER_MOOD=20] [--no-baseline]
"""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

from lofi_worker import quality  # noqa: E402
from lofi_worker.backends.procedural import bar_fingerprints  # noqa: E402
from lofi_worker.chain import render_chain  # noqa: E402
from lofi_worker.contract import load_contract  # noqa: E402
from lofi_worker.store import SegmentStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MOODS = (
    "rainy day slow jazz with soft piano",
    "coffee shop jazz guitar",
    "sleepy night lullaby",
)
SEED = 20261202
SR = 48000
WIN = 1024  # sample-step window
FFT = 2048  # flux frames, hop FFT / 2
HOP = FFT // 2
CHROMA_FFT = 8192
BANDS = np.geomspace(60.0, 16000.0, 25)
SEAM_MARGIN = WIN  # windows this close to a seam count as the seam's


@dataclass
class Analysis:
    """Streaming measures of the joined output (it is never held whole)."""

    meter: quality.StreamMeter = field(default_factory=lambda: quality.StreamMeter(SR, 2))
    steps: list[float] = field(default_factory=list)
    flux: list[float] = field(default_factory=list)
    flux_mag: list[np.ndarray] = field(default_factory=list)  # (bands) per flux frame
    chroma: list[np.ndarray] = field(default_factory=list)  # (12,) per chroma frame
    _stereo: np.ndarray = field(default_factory=lambda: np.zeros((2, 0), np.float32))
    _last: np.ndarray = field(default_factory=lambda: np.zeros((2, 1), np.float32))
    _mono: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    _prev_mag: np.ndarray | None = None
    _cmono: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def add(self, chunk: np.ndarray) -> None:
        self.meter.add(chunk)
        x = np.concatenate([self._stereo, chunk], axis=1)
        n = x.shape[1] // WIN
        if n:
            w = x[:, : n * WIN]
            d = np.abs(np.diff(np.concatenate([self._last, w], axis=1), axis=1))
            self.steps += d.reshape(2, n, WIN).max(axis=(0, 2)).tolist()
            self._last = w[:, -1:]
        self._stereo = x[:, n * WIN :]
        mono = 0.5 * (chunk[0] + chunk[1])
        self._flux(np.concatenate([self._mono, mono]))
        self._chroma(np.concatenate([self._cmono, mono]))

    def _flux(self, m: np.ndarray) -> None:
        n = (len(m) - FFT) // HOP + 1 if len(m) >= FFT else 0
        if n <= 0:
            self._mono = m
            return
        idx = np.arange(FFT)[None, :] + HOP * np.arange(n)[:, None]
        mag = np.abs(np.fft.rfft(m[idx] * np.hanning(FFT).astype(np.float32), axis=1))[:, :HOP]
        prev = np.vstack([self._prev_mag[None, :] if self._prev_mag is not None else mag[:1], mag])
        d = np.maximum(0.0, prev[1:] - prev[:-1]) ** 2
        e = prev[1:] ** 2 + prev[:-1] ** 2
        values = np.sqrt(d.sum(1) / np.maximum(e.sum(1), 1e-12))
        if self._prev_mag is None:
            values = values[1:]  # the very first frame has no predecessor
        self.flux += values.tolist()
        self._prev_mag = mag[-1]
        freqs = np.fft.rfftfreq(FFT, 1 / SR)[:HOP]
        band = np.digitize(freqs, BANDS) - 1
        power = mag**2
        per_band = np.stack([power[:, band == b].sum(1) for b in range(len(BANDS) - 1)], axis=1)
        self.flux_mag += list(10 * np.log10(per_band + 1e-10))
        self._mono = m[n * HOP :]

    def _chroma(self, m: np.ndarray) -> None:
        n = len(m) // CHROMA_FFT
        if n:
            frames = m[: n * CHROMA_FFT].reshape(n, CHROMA_FFT) * np.hanning(CHROMA_FFT)
            mag = np.abs(np.fft.rfft(frames, axis=1))
            freqs = np.fft.rfftfreq(CHROMA_FFT, 1 / SR)
            keep = (freqs > 100) & (freqs < 4000)
            pc = np.round(12 * np.log2(freqs[keep] / 440.0) + 69).astype(int) % 12
            c = np.zeros((n, 12))
            for k in range(12):
                c[:, k] = mag[:, keep][:, pc == k].sum(1)
            self.chroma += list(c)
        self._cmono = m[n * CHROMA_FFT :]


@dataclass
class Run:
    analysis: Analysis
    results: list[dict[str, Any]]
    seam_frames: list[tuple[int, int]]  # (output frame, length) of every crossfade
    starts: list[int]  # output frame of each result's file start
    render_seconds: float
    output_frames: int


def render(minutes: float, tracks: bool) -> Run:
    contract = load_contract(ROOT / "packages/contracts/schema/segment.schema.json")
    analysis = Analysis()
    results: list[dict[str, Any]] = []
    seams: list[tuple[int, int]] = []
    starts: list[int] = []
    total = round(len(MOODS) * minutes * 60 * SR)
    written = 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lofi-listening-") as tmp:
        steps = render_chain(
            [(m, minutes * 60) for m in MOODS],
            store=SegmentStore(Path(tmp)),
            contract=contract,
            seed=SEED,
            tracks=tracks,
        )
        for step in steps:
            if not step.final:
                results.append(step.result)
                starts.append(step.seam if step.seam is not None else 0)
                if step.seam is not None:
                    seams.append((step.seam, step.seam_frames))
            chunk = step.chunk[:, : total - written]
            analysis.add(chunk)
            written += chunk.shape[1]
            if written >= total:
                break
        steps.close()
    return Run(analysis, results, seams, starts, time.perf_counter() - t0, written)


def _pct(xs: np.ndarray, p: float) -> float:
    return float(np.sort(xs)[min(len(xs) - 1, int(p * len(xs)))]) if len(xs) else 0.0


def _masks(n_step: int, n_flux: int, points: list[tuple[int, int]]) -> tuple[Any, Any]:
    in_step = np.zeros(n_step, bool)
    in_flux = np.zeros(n_flux, bool)
    for frame, length in points:
        a, b = frame - SEAM_MARGIN, frame + length + SEAM_MARGIN
        in_step[max(0, a // WIN) : max(0, b // WIN + 1)] = True
        # flux value k compares the frames starting at k*HOP and (k+1)*HOP
        in_flux[max(0, (a - FFT) // HOP) : max(0, b // HOP + 1)] = True
    return in_step, in_flux


def seam_stats(
    run: Run, points: list[tuple[int, int]], reference: list[tuple[int, int]] | None = None
) -> dict[str, float]:
    """Step and flux at `points` ((frame, length) regions) against everything else, or against
    the `reference` regions only."""
    steps = np.asarray(run.analysis.steps)
    flux = np.asarray(run.analysis.flux)
    in_step, in_flux = _masks(len(steps), len(flux), points)
    if reference is None:
        ref_step, ref_flux = ~in_step, ~in_flux
    else:
        ref_step, ref_flux = _masks(len(steps), len(flux), reference)
        ref_step &= ~in_step
        ref_flux &= ~in_flux
    rest_s, seam_s = steps[ref_step], steps[in_step]
    rest_f, seam_f = flux[ref_flux], flux[in_flux]
    return {
        "n": len(points),
        "stepRatio": float(seam_s.max() / rest_s.max()),
        "stepP99Ratio": _pct(seam_s, 0.99) / _pct(rest_s, 0.99),
        "fluxRatio": float(seam_f.max() / rest_f.max()),
        "fluxP99Ratio": _pct(seam_f, 0.99) / _pct(rest_f, 0.99),
    }


def track_changes(run: Run) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Output regions of the track changes inside a mood (the new track's fade-in up to its
    first downbeat, mapped from global samples) and of the mood changes (the crossfade)."""
    tracks: list[tuple[int, int]] = []
    moods: list[tuple[int, int]] = []
    for i, r in enumerate(run.results[1:], start=1):
        t, p = r.get("track"), run.results[i - 1].get("track")
        if not t or not p or t["index"] == p["index"]:
            continue
        if r["prompt"] != run.results[i - 1]["prompt"]:
            moods.append((run.starts[i], round(r["headOverlapSeconds"] * SR)))
            continue
        fade = r["state"].get("fadeIn")
        if fade:
            off = run.starts[i] - int(r["state"]["startSample"])
            tracks.append((int(fade[0]) + off, int(fade[1]) - int(fade[0])))
    return tracks, moods


def same_phase(run: Run, seams: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A seam's reference at the same place in the bar: a segment's file starts where its
    seam does, at some beat of the bar (the same one for every segment of a track: a file ends
    whole bars after its head), and the music there is what it always is at that beat (the
    chord change and the kick of a bar line are often inside it). The regions of the seam's
    length at that same beat of every other bar of the segment are the reference."""
    length = seams[0][1] if seams else round(1.5 * SR)
    seam_starts = np.array(sorted(f for f, _ in seams))
    out = []
    for r, start in zip(run.results[1:], run.starts[1:], strict=True):
        st = r["state"]
        fade = st.get("fadeIn")
        if fade and int(fade[1]) > int(st["startSample"]):
            continue  # a track change inside the file: the head and the body keep other time
        spb = 60.0 * SR / float(st["tempo"])
        for k in range(1, int(st["bodyBars"]) + 1):
            d = start + round(4 * k * spb)
            near = seam_starts.size and np.min(np.abs(seam_starts - d)) < length + 2 * FFT
            if not near and d + length < run.output_frames:
                out.append((d, length))
    return out


def segment_tracks(run: Run, boundaries: list[int] | None) -> list[tuple[int, int, int]]:
    """(mood index, track key, output frame of its start) per result; with `boundaries` the
    results are cut into pseudo-tracks at those output frames (the baseline has no tracks)."""
    out = []
    mood_of = {m: i for i, m in enumerate(MOODS)}
    for r, start in zip(run.results, run.starts, strict=True):
        if boundaries is None:
            key = int(r["track"]["index"])
        else:
            key = int(np.searchsorted(boundaries, start, side="right"))
        out.append((mood_of[r["prompt"]], key, start))
    return out


def features(run: Run, seg: list[tuple[int, int, int]]) -> dict[int, dict[str, Any]]:
    """Per track: mean chroma, mean band levels (timbre), tempo (state and audio estimate)."""
    a = run.analysis
    bounds: dict[int, list[int]] = {}
    mood: dict[int, int] = {}
    tempos: dict[int, list[float]] = defaultdict(list)
    for (m, key, start), r in zip(seg, run.results, strict=True):
        bounds.setdefault(key, [start, start])
        bounds[key][1] = start + round((r["durationSeconds"]) * SR)
        mood[key] = m
        tempos[key].append(float(r["state"]["tempo"]))
    chroma = np.asarray(a.chroma)
    bands = np.asarray(a.flux_mag)
    flux = np.asarray(a.flux)
    out: dict[int, dict[str, Any]] = {}
    for key, (s, e) in bounds.items():
        e = min(e, run.output_frames)
        c = chroma[s // CHROMA_FFT : e // CHROMA_FFT].mean(0)
        b = bands[s // HOP : e // HOP]
        out[key] = {
            "mood": mood[key],
            "chroma": c / (np.linalg.norm(c) + 1e-12),
            "timbre": b.mean(0),
            "tempo": float(np.median(tempos[key])),
            "tempoAudio": estimate_tempo(flux[s // HOP : e // HOP]),
            "seconds": (e - s) / SR,
        }
    return out


def estimate_tempo(onset: np.ndarray) -> float:
    """BPM from the autocorrelation of the onset (flux) envelope, 55-110 BPM."""
    x = onset - onset.mean()
    ac = np.fft.irfft(np.abs(np.fft.rfft(x, 2 * len(x))) ** 2)[: len(x)]
    fps = SR / HOP
    best, best_v = 0.0, -math.inf
    for bpm in np.arange(55.0, 110.0, 0.25):
        lag = 60.0 * fps / bpm
        # The beat and its multiples (the bar) should all line up.
        v = sum(np.interp(k * lag, np.arange(len(ac)), ac) / k for k in (1, 2, 4))
        if v > best_v:
            best, best_v = float(bpm), float(v)
    return best


def distances(f: dict[int, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Median pairwise distances: within a mood (consecutive tracks and all pairs) and between
    moods. chroma: 1 - cosine; timbre: RMS dB difference over bands; tempo: |BPM difference|."""
    keys = sorted(f)
    kinds: dict[str, dict[str, list[float]]] = {
        k: defaultdict(list) for k in ("chroma", "timbre", "tempo")
    }

    def d(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
        return {
            "chroma": float(1 - np.dot(a["chroma"], b["chroma"])),
            "timbre": float(np.sqrt(np.mean((a["timbre"] - b["timbre"]) ** 2))),
            "tempo": abs(a["tempo"] - b["tempo"]),
        }

    for i, j in itertools.combinations(keys, 2):
        a, b = f[i], f[j]
        if min(a["seconds"], b["seconds"]) < 30:
            continue  # a stub cut off by the end of the hour
        group = "within" if a["mood"] == b["mood"] else "between"
        for kind, v in d(a, b).items():
            kinds[kind][group].append(v)
            if group == "within" and j == i + 1:
                kinds[kind]["consecutive"].append(v)
    return {
        kind: {g: float(np.median(v)) for g, v in groups.items() if v}
        for kind, groups in kinds.items()
    }


def longest_repeat(run: Run, seg: list[tuple[int, int, int]]) -> dict[str, int]:
    """Longest run of consecutive bars that recurs note for note in another track (and, for
    the record, elsewhere in the same track)."""
    seqs: dict[int, list[str]] = defaultdict(list)
    for (_m, key, _s), r in zip(seg, run.results, strict=True):
        seqs[key] += [fp for _t, _b, fp in bar_fingerprints(r["prompt"], r["state"])]
    across = within = 0
    for k in range(1, 65):
        seen: dict[tuple[str, ...], set[tuple[int, int]]] = defaultdict(set)
        for key, bars in seqs.items():
            for i in range(len(bars) - k + 1):
                seen[tuple(bars[i : i + k])].add((key, i))
        hit_across = any(len({t for t, _ in where}) > 1 for where in seen.values())
        hit_within = any(
            any(abs(p - q) >= k for (t, p), (u, q) in itertools.combinations(where, 2) if t == u)
            for where in seen.values()
            if len(where) > 1
        )
        across = k if hit_across else across
        within = k if hit_within else within
        if not hit_across and not hit_within:
            break
    return {
        "acrossTracksBars": across,
        "withinTrackBars": within,
        "bars": sum(map(len, seqs.values())),
    }


def summarize(run: Run, seg: list[tuple[int, int, int]]) -> dict[str, Any]:
    lufs = np.array([r["loudnessLufs"] for r in run.results])
    tp = np.array([r["truePeakDbtp"] for r in run.results])
    f = features(run, seg)
    tracks_in, moods_in = track_changes(run)
    plain = [s for s in run.seam_frames if s not in moods_in]
    return {
        "audioSeconds": run.output_frames / SR,
        "renderSeconds": run.render_seconds,
        "realtimeFactor": run.output_frames / SR / run.render_seconds,
        "segments": len(run.results),
        "segmentLufsMin": float(lufs.min()),
        "segmentLufsMax": float(lufs.max()),
        "segmentsOutside1Lu": int(np.sum(np.abs(lufs - quality.TARGET_LUFS) > 1.0)),
        "segmentTruePeakMax": float(tp.max()),
        "streamLufs": run.analysis.meter.loudness_lufs(),
        "streamTruePeak": run.analysis.meter.true_peak_dbtp,
        "longestSilenceSeconds": run.analysis.meter.longest_silence_s,
        "seams": seam_stats(run, plain),
        "seamsVsDownbeats": seam_stats(run, plain, same_phase(run, plain)),
        # The control: the same beat of bars that are not seams, against everything else. If it
        # reads like "seams" above, that ratio is the bar line's, not the join's.
        "downbeatsNotSeams": seam_stats(run, same_phase(run, plain)),
        "trackChanges": seam_stats(run, tracks_in) if tracks_in else None,
        "moodChanges": seam_stats(run, moods_in) if moods_in else None,
        "tracks": len(f),
        "trackSeconds": sorted(round(v["seconds"]) for v in f.values()),
        "tempoAudioError": float(
            np.median([abs(v["tempoAudio"] - v["tempo"]) for v in f.values()])
        ),
        "distances": distances(f),
        "repeat": longest_repeat(run, seg),
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    minutes = float(args[0]) if args else 20.0
    run = render(minutes, tracks=True)
    seg = segment_tracks(run, None)
    out: dict[str, Any] = {"minutesPerMood": minutes, "moods": list(MOODS), **summarize(run, seg)}
    if "--no-baseline" not in sys.argv:
        starts: dict[int, int] = {}
        for _m, key, s in seg:
            starts.setdefault(key, s)
        boundaries = sorted(starts.values())[1:]
        base = render(minutes, tracks=False)
        b = summarize(base, segment_tracks(base, boundaries))
        keep = (
            "distances",
            "repeat",
            "seams",
            "seamsVsDownbeats",
            "downbeatsNotSeams",
            "realtimeFactor",
        )
        out["baseline"] = {k: b[k] for k in keep}
    print(json.dumps(out, default=float))


if __name__ == "__main__":
    main()
