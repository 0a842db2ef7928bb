// Seams with real segments: the Python worker renders a chain through its CLI (the queue's code
// path), the mixer joins it, and every seam must look like any other moment of the music.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { correlation, decodeToFloat32 } from '@lofi/audio';
import { assertSegmentResult, type SegmentResult } from '@lofi/contracts';
import { Mixer, type PlayableSegment } from '../src/playout/mixer.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CLI = path.join(ROOT, 'python-worker/.venv/bin/lofi-worker');
const SR = 48000;
const CH = 2;
const SEGMENTS = 6;

function render(out: string, prev: string | null): SegmentResult {
  const args = [
    'render',
    '--prompt',
    'rainy-day slow jazz with soft piano',
    '--seconds',
    '6',
    '--overlap',
    '1.5',
    '--seed',
    '11',
    '--out',
    out,
  ];
  if (prev) args.push('--continue-from', prev);
  const json = execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return assertSegmentResult(JSON.parse(json));
}

/** Largest sample-to-sample step of the left channel in [from, to). */
function maxStep(pcm: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = Math.max(1, from); i < Math.min(to, pcm.length / CH); i++)
    m = Math.max(m, Math.abs((pcm[i * CH] ?? 0) - (pcm[(i - 1) * CH] ?? 0)));
  return m;
}

test('seams between real continuation segments are indistinguishable from the music around them', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lofi-seams-'));
  const segs: PlayableSegment[] = [];
  let prev: string | null = null;
  for (let k = 0; k < SEGMENTS; k++) {
    const file = path.join(dir, `seg${k}.flac`);
    const meta = render(file, prev);
    // The CLI numbers everything 0; give the chain its real sequence.
    segs.push({
      meta: { ...meta, seq: k, continuesSeq: k === 0 ? null : k - 1 },
      pcm: await decodeToFloat32(file, SR, CH),
    });
    prev = file;
  }
  // The head overlap of each segment re-renders the tail of the one before it.
  for (let k = 1; k < SEGMENTS; k++) {
    const a = segs[k - 1] as PlayableSegment;
    const b = segs[k] as PlayableSegment;
    const at = Math.round(b.meta.joinAtSeconds * SR) * CH;
    const len = Math.round(b.meta.headOverlapSeconds * SR) * CH;
    const r = correlation(a.pcm, at, b.pcm, 0, len);
    assert.ok(r > 0.99, `overlap ${k} correlation ${r}`);
  }
  const seams: number[] = [];
  const mixer = new Mixer(
    SR,
    CH,
    { successorsOf: (seq) => segs.filter((s) => s.meta.continuesSeq === seq) },
    {
      segmentStarted: (_s, frame) => seams.push(frame),
    },
  );
  mixer.start(segs[0] as PlayableSegment);
  const total = segs.slice(1).reduce((t, s) => t + s.meta.joinAtSeconds, 0);
  const out = mixer.render(Math.floor((total + 2) * SR));
  assert.equal(mixer.underruns, 0);
  assert.equal(seams.length, SEGMENTS - 1 + 1);

  const overlap = Math.round(1.5 * SR);
  const inSeam = (i: number) => seams.slice(1).some((f) => i >= f - 480 && i < f + overlap + 480);
  // Baseline: the largest step inside every 1.5 s window that touches no seam.
  const baseline: number[] = [];
  for (let w = Math.round(0.1 * SR); w + overlap < out.length / CH; w += overlap) {
    if (!inSeam(w) && !inSeam(w + overlap)) baseline.push(maxStep(out, w, w + overlap));
  }
  baseline.sort((a, b) => a - b);
  const loudest = baseline[baseline.length - 1] ?? 0;
  for (const f of seams.slice(1)) {
    const step = maxStep(out, f - 480, f + overlap + 480);
    assert.ok(
      step <= loudest,
      `seam at ${(f / SR).toFixed(2)} s has a step of ${step}, music elsewhere at most ${loudest}`,
    );
  }
});
