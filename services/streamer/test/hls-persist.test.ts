// A restarted streamer continues its HLS playlist: the window saved in the segment store is listed
// and served again, and new segments follow the old numbers after a discontinuity (no gap, no
// reuse). Another replica's mirror serves the same window from the store.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LocalSegmentStore, type SegmentStore } from '@lofi/store';
import pino from 'pino';
import { waitFor } from '../../../test/helpers/stack.ts';
import { HlsMirror } from '../src/outputs/hls-mirror.ts';
import { HlsOutput } from '../src/outputs/hls-output.ts';
import { HlsPersistence } from '../src/outputs/hls-persist.ts';

const SR = 48000;
const log = pino({ level: 'silent' });

function tone(seconds: number, from = 0): Float32Array {
  const n = Math.round(seconds * SR);
  const pcm = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const v = 0.3 * Math.sin((2 * Math.PI * 440 * (from + i)) / SR);
    pcm[2 * i] = v;
    pcm[2 * i + 1] = v;
  }
  return pcm;
}

const output = (store: SegmentStore, clock: (frame: number) => number) =>
  new HlsOutput({
    sampleRate: SR,
    channels: 2,
    log,
    clock,
    targetSeconds: 1,
    persist: new HlsPersistence(store, 'lofi', log),
  });

const tempStore = () => new LocalSegmentStore(mkdtempSync(path.join(tmpdir(), 'lofi-hls-')));

test('the HLS window survives a restart of the streamer and the numbering goes on', {
  timeout: 60_000,
}, async () => {
  const store = tempStore();
  const t0 = Date.now();
  const clock = (frame: number) => t0 + (frame / SR) * 1000;
  const first = output(store, clock);
  await first.resume();
  first.start();
  first.write(tone(6));
  await waitFor('segments', async () => first.window().length >= 4, 30_000);
  await first.flush();
  const before = first.window();
  first.close();

  // Another replica follows the same window from the store, byte for byte.
  const mirror = new HlsMirror(store, 'lofi', log, 1);
  mirror.start();
  await waitFor('the mirror to follow', async () => mirror.window().length === before.length, 10_000, 100);
  assert.deepEqual(
    mirror.window().map((s) => [s.seq, s.discontinuities, s.data.length]),
    before.map((s) => [s.seq, s.discontinuities, s.data.length]),
  );
  assert.ok(mirror.window().every((s, i) => s.data.equals(before[i]?.data as Buffer)));
  mirror.close();

  const second = output(store, clock);
  await second.resume();
  const resumed = second.window();
  assert.deepEqual(
    resumed.map((s) => s.seq),
    before.map((s) => s.seq),
    'the old window is listed again',
  );
  assert.ok(
    resumed.every((s, i) => s.data.equals(before[i]?.data as Buffer)),
    'and served byte for byte',
  );
  second.start();
  second.write(tone(4));
  await waitFor('a new segment', async () => second.window().length > resumed.length, 30_000);
  const last = before.at(-1);
  const next = second.window()[resumed.length];
  assert.ok(last && next);
  assert.equal(next.seq, last.seq + 1, 'no gap and no number used twice');
  assert.equal(next.discontinuity, true, 'new timestamps are announced');
  assert.equal(next.discontinuities, last.discontinuities + 1);
  second.close();
});

test('a window too old to matter is not resumed', { timeout: 60_000 }, async () => {
  const store = tempStore();
  const long_ago = Date.now() - 10 * 60_000;
  const first = output(store, (frame) => long_ago + (frame / SR) * 1000);
  first.start();
  first.write(tone(4));
  await waitFor('segments', async () => first.window().length >= 2, 30_000);
  await first.flush();
  first.close();
  const second = output(store, () => Date.now());
  await second.resume();
  assert.deepEqual(second.window(), []);
});

test('a store that hangs delays persistence, never the stream', { timeout: 60_000 }, async () => {
  // Every write waits until released, as on a hung network filesystem.
  const local = tempStore();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let puts = 0;
  const hung: SegmentStore = {
    kind: 'local',
    get: (key) => local.get(key),
    put: async (key, data) => {
      puts++;
      await gate;
      await local.put(key, data);
    },
    remove: (key) => local.remove(key),
    removeStation: (id) => local.removeStation(id),
    localPath: () => undefined,
  };
  const t0 = Date.now();
  const out = output(hung, (frame) => t0 + (frame / SR) * 1000);
  out.start();
  // The event loop stays free: a timer keeps firing on time while segments are cut.
  let worstLateMs = 0;
  let last = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    worstLateMs = Math.max(worstLateMs, now - last - 50);
    last = now;
  }, 50);
  out.write(tone(8));
  await waitFor('segments while the store hangs', async () => out.window().length >= 5, 30_000);
  clearInterval(ticker);
  assert.ok(puts >= 1, 'a write was attempted');
  assert.ok(worstLateMs < 500, `the event loop was blocked ${worstLateMs} ms`);
  release();
  await out.flush();
  out.close();
  // Once the store answers, the window it holds is whole and resumable.
  const again = output(local, () => Date.now());
  await again.resume();
  assert.deepEqual(
    again.window().map((s) => s.seq),
    out.window().map((s) => s.seq),
  );
});

test('a store that hangs on reading does not hold the playout back at start', {
  timeout: 30_000,
}, async () => {
  const local = tempStore();
  const hung: SegmentStore = {
    kind: 'local',
    get: () => new Promise<Buffer | undefined>(() => undefined),
    put: (key, data) => local.put(key, data),
    remove: (key) => local.remove(key),
    removeStation: (id) => local.removeStation(id),
    localPath: () => undefined,
  };
  const out = output(hung, () => Date.now());
  const started = Date.now();
  await out.resume();
  const waited = Date.now() - started;
  assert.ok(waited < 5000, `resume gave up after ${waited} ms`);
  assert.deepEqual(out.window(), [], 'and starts a new window');
});
