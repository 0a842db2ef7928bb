import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SegmentResult } from '@lofi/contracts';
import { ancestry, bufferedAhead, joinPoint } from '../src/chain-math.ts';

const O = 1.5;
function seg(
  seq: number,
  continuesSeq: number | null,
  joinAt: number,
  duration = 9.5,
  version = 0,
): SegmentResult {
  return {
    stationId: 's',
    seq,
    promptVersion: version,
    prompt: 'p',
    title: 't',
    backend: 'procedural',
    model: 'm',
    audioKey: `stations/s/segments/${seq}.flac`,
    metaKey: `stations/s/segments/${seq}.json`,
    durationSeconds: duration,
    headOverlapSeconds: O,
    sampleRate: 48000,
    channels: 2,
    loudnessLufs: -16,
    truePeakDbtp: -1,
    generationSeconds: 0.1,
    continuesSeq,
    joinAtSeconds: joinAt,
    state: {},
  };
}
// A chain 0 -> 1 -> 2, each 9.5 s long, each successor joining at 8 s.
const chain = [seg(0, null, 0), seg(1, 0, 8), seg(2, 1, 8)];
const metas = new Map(chain.map((s) => [s.seq, s]));

test('ancestry walks from the tip back to the root', () => {
  assert.deepEqual(
    ancestry(metas, 2).map((s) => s.seq),
    [0, 1, 2],
  );
  assert.deepEqual(ancestry(metas, null), []);
});

test('buffered audio is measured from the playhead along the chain', () => {
  assert.equal(bufferedAhead(chain, null, O), 24);
  assert.equal(bufferedAhead(chain, { seq: 1, positionSeconds: 3 }, O), 13);
  assert.equal(bufferedAhead(chain, { seq: 9, positionSeconds: 0 }, O), null, 'playhead off the chain');
});

test('a mood change joins the playing segment a margin from now', () => {
  const jp = joinPoint(
    metas,
    { seq: 1, positionSeconds: 2, nextSeq: null },
    (s) => metas.get(s.seq + 1),
    O,
    2,
  );
  assert.equal(jp?.from.seq, 1);
  assert.equal(jp?.atSeconds, 4);
});

test('too late in a segment, the join moves into the segment that surely plays next', () => {
  const jp = joinPoint(
    metas,
    { seq: 0, positionSeconds: 6, nextSeq: null },
    (s) => metas.get(s.seq + 1),
    O,
    2,
  );
  assert.equal(jp?.from.seq, 1);
  assert.equal(jp?.atSeconds, O);
  const committed = joinPoint(
    metas,
    { seq: 0, positionSeconds: 8.5, nextSeq: 1 },
    (s) => metas.get(s.seq + 1),
    O,
    2,
  );
  assert.equal(committed?.from.seq, 1);
  assert.equal(committed?.atSeconds, 2.5);
});

test('with nothing after the playing segment, the join lands on its next loop pass', () => {
  const jp = joinPoint(metas, { seq: 2, positionSeconds: 7, nextSeq: null }, () => undefined, O, 2);
  assert.equal(jp?.from.seq, 2);
  assert.ok(jp && jp.atSeconds >= O && jp.atSeconds <= 9.5 - 2 * O);
});
