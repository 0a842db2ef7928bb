// Seams, measured: a chain of real procedural segments (rendered through the worker's job path),
// joined by the playout mixer; at each crossfade, the worst sample step and the spectral jump,
// against the same measures everywhere else in the stream. A seam should look like any other
// moment of the music: ratios at or below 1. Prints one JSON line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeToFloat32 } from '@lofi/audio';
import { assertSegmentResult } from '@lofi/contracts';
import { Mixer, type PlayableSegment } from '../services/streamer/src/playout/mixer.ts';

const SR = 48000;
const CH = 2;
const SEAMS = Number(process.argv[2] ?? 100);
const ROOT = path.resolve(import.meta.dirname, '..');
const FFT = 2048;
const WIN = 1024; // step measure window (about 21 ms)

const dir = mkdtempSync(path.join(tmpdir(), 'lofi-seams-bench-'));
const raw = execFileSync(
  path.join(ROOT, 'python-worker/.venv/bin/python'),
  [path.join(ROOT, 'bench/render_chain.py'), String(SEAMS + 1), dir],
  { encoding: 'utf8', maxBuffer: 64 << 20 },
);
const { segments } = JSON.parse(raw.trim().split('\n').at(-1) as string) as { segments: unknown[] };
const segs: PlayableSegment[] = [];
for (const s of segments) {
  const meta = assertSegmentResult(s);
  segs.push({ meta, pcm: await decodeToFloat32(path.join(dir, meta.audioKey), SR, CH) });
}
const starts: number[] = [];
const mixer = new Mixer(
  SR,
  CH,
  { successorsOf: (seq) => segs.filter((s) => s.meta.continuesSeq === seq) },
  { segmentStarted: (_s, frame) => starts.push(frame) },
);
mixer.start(segs[0] as PlayableSegment);
const total = segs.slice(1).reduce((t, s) => t + s.meta.joinAtSeconds, 0);
const out = mixer.render(Math.floor((total + 1) * SR));
const frames = out.length / CH;
const mono = new Float32Array(frames);
for (let i = 0; i < frames; i++) mono[i] = 0.5 * ((out[2 * i] ?? 0) + (out[2 * i + 1] ?? 0));

// Largest sample-to-sample step (either channel) in each window of WIN frames.
const steps = new Float32Array(Math.floor(frames / WIN));
for (let w = 0; w < steps.length; w++) {
  let m = 0;
  for (let i = Math.max(1, w * WIN); i < (w + 1) * WIN; i++)
    for (let c = 0; c < CH; c++)
      m = Math.max(m, Math.abs((out[i * CH + c] ?? 0) - (out[(i - 1) * CH + c] ?? 0)));
  steps[w] = m;
}

// Spectral flux between consecutive Hann-windowed frames (hop FFT/2), relative to their energy.
function fftMag(x: Float32Array, from: number): Float64Array {
  const re = new Float64Array(FFT);
  const im = new Float64Array(FFT);
  for (let i = 0; i < FFT; i++)
    re[i] = (x[from + i] ?? 0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (FFT - 1)));
  for (let i = 1, j = 0; i < FFT; i++) {
    let bit = FFT >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] as number, re[i] as number];
      [im[i], im[j]] = [im[j] as number, im[i] as number];
    }
  }
  for (let len = 2; len <= FFT; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < FFT; i += len)
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const xr = (re[b] as number) * wr - (im[b] as number) * wi;
        const xi = (re[b] as number) * wi + (im[b] as number) * wr;
        re[b] = (re[a] as number) - xr;
        im[b] = (im[a] as number) - xi;
        re[a] = (re[a] as number) + xr;
        im[a] = (im[a] as number) + xi;
      }
  }
  const mag = new Float64Array(FFT / 2);
  for (let i = 0; i < FFT / 2; i++) mag[i] = Math.hypot(re[i] as number, im[i] as number);
  return mag;
}
const hop = FFT / 2;
const flux: number[] = [];
let prev = fftMag(mono, 0);
for (let f = hop; f + FFT <= frames; f += hop) {
  const cur = fftMag(mono, f);
  let d = 0;
  let e = 0;
  for (let i = 0; i < cur.length; i++) {
    d += Math.max(0, (cur[i] as number) - (prev[i] as number)) ** 2;
    e += (cur[i] as number) ** 2 + (prev[i] as number) ** 2;
  }
  flux.push(Math.sqrt(d / Math.max(e, 1e-12)));
  prev = cur;
}

const overlap = Math.round(1.5 * SR);
const seamFrames = starts.slice(1);
const inSeam = (a: number, b: number) => seamFrames.some((s) => b > s - WIN && a < s + overlap + WIN);
const seamStep: number[] = [];
const seamFlux: number[] = [];
const restStep: number[] = [];
const restFlux: number[] = [];
steps.forEach((v, w) => {
  (inSeam(w * WIN, (w + 1) * WIN) ? seamStep : restStep).push(v);
});
flux.forEach((v, k) => {
  (inSeam((k + 1) * hop, (k + 1) * hop + FFT) ? seamFlux : restFlux).push(v);
});
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
process.stdout.write(
  `${JSON.stringify({
    seams: seamFrames.length,
    underruns: mixer.underruns,
    stepSeamMax: max(seamStep),
    stepRestMax: max(restStep),
    stepRestP99: pct(restStep, 0.99),
    stepRatio: max(seamStep) / Math.max(1e-9, max(restStep)),
    stepSeamP99Ratio: pct(seamStep, 0.99) / Math.max(1e-9, pct(restStep, 0.99)),
    fluxSeamMax: max(seamFlux),
    fluxRestMax: max(restFlux),
    fluxRestP99: pct(restFlux, 0.99),
    fluxRatio: max(seamFlux) / Math.max(1e-9, max(restFlux)),
    fluxSeamP99Ratio: pct(seamFlux, 0.99) / Math.max(1e-9, pct(restFlux, 0.99)),
  })}\n`,
);
