import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SegmentResult } from '@lofi/contracts';
import { Mixer, type PlayableSegment } from '../src/playout/mixer.ts';

const SR = 8000;
const CH = 2;
const OVERLAP = 0.5;

/** "Music" as a pure function of absolute time, like the procedural renderer. */
const music = (t: number): number =>
  0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.2 * Math.sin(2 * Math.PI * 331 * t + 1);

function segment(
  seq: number,
  startTime: number,
  content: number,
  opts: Partial<SegmentResult> = {},
  fn = music,
): PlayableSegment {
  const frames = Math.round((OVERLAP + content) * SR);
  const pcm = new Float32Array(frames * CH);
  for (let i = 0; i < frames; i++) {
    const v = fn(startTime + i / SR);
    pcm[i * CH] = v;
    pcm[i * CH + 1] = v;
  }
  const meta = {
    stationId: 'test',
    seq,
    promptVersion: 0,
    prompt: 'p',
    title: `segment ${seq}`,
    backend: 'procedural',
    model: 'synthetic',
    audioKey: `stations/test/segments/${seq}.flac`,
    metaKey: `stations/test/segments/${seq}.json`,
    durationSeconds: frames / SR,
    headOverlapSeconds: OVERLAP,
    sampleRate: SR,
    channels: CH,
    loudnessLufs: -16,
    truePeakDbtp: -1,
    generationSeconds: 0.01,
    continuesSeq: seq === 0 ? null : seq - 1,
    joinAtSeconds: seq === 0 ? 0 : content,
    state: {},
    ...opts,
  } as SegmentResult;
  return { meta, pcm };
}

class Provider {
  segs: PlayableSegment[] = [];
  successorsOf(seq: number) {
    return this.segs.filter((s) => s.meta.continuesSeq === seq);
  }
}

test('a chain of re-rendered overlaps plays as one seamless signal', () => {
  const p = new Provider();
  const content = 2;
  // Segment k's file starts at absolute time k*content (its head re-renders the previous tail).
  for (let k = 0; k < 6; k++) p.segs.push(segment(k, k * content, content));
  const started: number[] = [];
  const m = new Mixer(SR, CH, p, { segmentStarted: (s) => started.push(s.meta.seq) });
  const first = p.segs[0];
  assert.ok(first);
  m.start(first);
  const out = m.render(Math.round(10 * SR));
  let worst = 0;
  for (let i = Math.round(0.05 * SR); i < out.length / CH; i++)
    worst = Math.max(worst, Math.abs((out[i * CH] ?? 0) - music(i / SR)));
  assert.ok(worst < 1e-4, `output deviates from the continuous music by ${worst}`);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(m.underruns, 0);
});

test('a late segment is bridged with music, never silence, and joins when it arrives', () => {
  const p = new Provider();
  p.segs.push(segment(0, 0, 2));
  const m = new Mixer(SR, CH, p, { segmentStarted: () => {} });
  const first = p.segs[0];
  assert.ok(first);
  m.start(first);
  const a = m.render(6 * SR); // three times the segment's length: it must loop
  assert.ok(m.underruns >= 2, `underruns ${m.underruns}`);
  for (let w = 0.05 * SR; w < a.length / CH; w += 0.05 * SR) {
    let e = 0;
    for (let i = w; i < w + 0.05 * SR; i++) e += (a[i * CH] ?? 0) ** 2;
    assert.ok(Math.sqrt(e / (0.05 * SR)) > 0.05, `silent window at ${w / SR}s`);
  }
  p.segs.push(segment(1, 2, 2));
  m.render(3 * SR);
  assert.equal(m.position()?.seq, 1);
});

test('the newest mood wins over an older successor and joins early', () => {
  const p = new Provider();
  const other = (t: number) => 0.3 * Math.sin(2 * Math.PI * 440 * t);
  p.segs.push(segment(0, 0, 4));
  p.segs.push(segment(1, 4, 4)); // old mood, joins at 4 s
  p.segs.push(segment(2, 1, 4, { promptVersion: 1, joinAtSeconds: 1, continuesSeq: 0 }, other));
  const started: Array<[number, number]> = [];
  const m = new Mixer(SR, CH, p, { segmentStarted: (s, frame) => started.push([s.meta.seq, frame / SR]) });
  const first = p.segs[0];
  assert.ok(first);
  m.start(first);
  m.render(3 * SR);
  assert.deepEqual(started, [
    [0, 0],
    [2, 1],
  ]);
  assert.equal(m.position()?.seq, 2);
});

test('crossfading unrelated music keeps its power level', () => {
  const p = new Provider();
  const other = (t: number) => 0.36 * Math.sin(2 * Math.PI * 523 * t);
  p.segs.push(segment(0, 0, 2));
  p.segs.push(segment(1, 2, 2, { promptVersion: 1 }, other));
  const m = new Mixer(SR, CH, p, { segmentStarted: () => {} });
  const first = p.segs[0];
  assert.ok(first);
  m.start(first);
  const out = m.render(4 * SR);
  const rms = (from: number, len: number) => {
    let e = 0;
    for (let i = from; i < from + len; i++) e += (out[i * CH] ?? 0) ** 2;
    return Math.sqrt(e / len);
  };
  const before = rms(Math.round(1 * SR), SR / 4);
  const middle = rms(Math.round(2.2 * SR), SR / 10);
  assert.ok(Math.abs(20 * Math.log10(middle / before)) < 1.5, `level moved ${middle} vs ${before}`);
});

test('a successor whose overlap overruns the predecessor by a few frames still joins', () => {
  const p = new Provider();
  p.segs.push(segment(0, 0, 2));
  // Join so late that only 0.49 s of the 0.5 s overlap is left in segment 0.
  p.segs.push(segment(1, 2.01, 2, { joinAtSeconds: 2.01 }));
  const m = new Mixer(SR, CH, p, { segmentStarted: () => {} });
  const first = p.segs[0];
  assert.ok(first);
  m.start(first);
  m.render(3 * SR);
  assert.equal(m.underruns, 0);
  assert.equal(m.position()?.seq, 1);
});
