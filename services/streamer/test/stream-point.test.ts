// Where the stream was at a moment other than the playhead's: forward and back over joins, the
// leader's committed successor, the newest mood, and the ends of what the index still holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { audioKeyFor, metaKeyFor, type SegmentResult } from '@lofi/contracts';
import type { Playhead } from '@lofi/redis';
import { streamPointAt } from '../src/playout/stream-point.ts';

/** Segment `seq` continuing `from`, joining it `joinAt` s in, `duration` s long. */
function seg(
  seq: number,
  from: number | null,
  joinAt: number,
  duration = 12,
  promptVersion = 0,
): SegmentResult {
  const audioKey = audioKeyFor('lofi', seq, promptVersion);
  return {
    stationId: 'lofi',
    seq,
    promptVersion,
    prompt: 'p',
    title: `s${seq}`,
    backend: 'procedural',
    model: 'm',
    audioKey,
    metaKey: metaKeyFor(audioKey),
    durationSeconds: duration,
    headOverlapSeconds: from === null ? 0 : 2,
    sampleRate: 48000,
    channels: 2,
    loudnessLufs: -16,
    truePeakDbtp: -1,
    generationSeconds: 0.1,
    continuesSeq: from,
    joinAtSeconds: from === null ? 0 : joinAt,
    state: {},
  };
}

// 0 plays 0..10 s, 1 joins at 10 s of 0 and plays its 10 s, 2 joins at 10 s of 1.
const chain = [seg(0, null, 0), seg(1, 0, 10), seg(2, 1, 10)];
const ph = (seq: number, positionSeconds: number, nextSeq: number | null = null): Playhead => ({
  seq,
  positionSeconds,
  atMs: 100_000,
  nextSeq,
  underruns: 0,
});

test('a point within the playhead segment is the playhead moved by the time between', () => {
  assert.deepEqual(streamPointAt(ph(1, 4), chain, 101_500), { seq: 1, positionSeconds: 5.5, atMs: 101_500 });
  assert.deepEqual(streamPointAt(ph(1, 4), chain, 98_000), { seq: 1, positionSeconds: 2, atMs: 98_000 });
});

test('an earlier point lies in the predecessor, before its join', () => {
  // 3 s before 1 s into segment 1: 2 s before segment 1 joined segment 0 at 10 s.
  assert.deepEqual(streamPointAt(ph(1, 1), chain, 97_000), { seq: 0, positionSeconds: 8, atMs: 97_000 });
  // Two joins back.
  assert.deepEqual(streamPointAt(ph(2, 1), chain, 87_000), { seq: 0, positionSeconds: 8, atMs: 87_000 });
});

test('a later point lies in the successor, past its join', () => {
  assert.deepEqual(streamPointAt(ph(0, 9), chain, 102_000), { seq: 1, positionSeconds: 1, atMs: 102_000 });
  assert.deepEqual(streamPointAt(ph(0, 9), chain, 112_500), { seq: 2, positionSeconds: 1.5, atMs: 112_500 });
});

test('the successor the leader committed to wins; else the newest mood', () => {
  const forked = [...chain, seg(5, 0, 9, 12, 1)];
  // Newest mood: segment 5 (mood 1) joins segment 0 at 9 s.
  assert.deepEqual(streamPointAt(ph(0, 8), forked, 102_000), { seq: 5, positionSeconds: 1, atMs: 102_000 });
  // The playhead says the leader started the crossfade into 1: it plays 1.
  assert.deepEqual(streamPointAt(ph(0, 10.5, 1), forked, 101_000), {
    seq: 1,
    positionSeconds: 1.5,
    atMs: 101_000,
  });
});

test('past the oldest indexed segment: its start, at the time it was rendered', () => {
  const pruned = chain.slice(1);
  assert.deepEqual(streamPointAt(ph(1, 1), pruned, 97_000), { seq: 1, positionSeconds: 0, atMs: 99_000 });
});

test('past a segment with no successor: its last frame (the leader bridges there)', () => {
  const p = streamPointAt(ph(2, 11), chain, 105_000);
  assert.equal(p?.seq, 2);
  assert.ok(p && p.positionSeconds < 12 && p.positionSeconds > 11.99);
});

test('a playhead in a segment the index no longer holds gives no point', () => {
  assert.equal(streamPointAt(ph(9, 1), chain, 100_000), null);
});
