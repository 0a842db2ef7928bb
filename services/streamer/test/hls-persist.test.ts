// A restarted streamer continues its HLS playlist: the window saved under DATA_DIR is listed and
// served again, and new segments follow the old numbers after a discontinuity (no gap, no reuse).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { waitFor } from '../../../test/helpers/stack.ts';
import { HlsOutput } from '../src/outputs/hls-output.ts';

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

const output = (dir: string, clock: (frame: number) => number) =>
  new HlsOutput({ sampleRate: SR, channels: 2, log, clock, targetSeconds: 1, persistDir: dir });

test('the HLS window survives a restart of the streamer and the numbering goes on', {
  timeout: 60_000,
}, async () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'lofi-hls-')), 'hls', 'lofi');
  const t0 = Date.now();
  const clock = (frame: number) => t0 + (frame / SR) * 1000;
  const first = output(dir, clock);
  first.start();
  first.write(tone(6));
  await waitFor('segments', async () => first.window().length >= 4, 30_000);
  const before = first.window();
  first.close();

  const second = output(dir, clock);
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
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'lofi-hls-')), 'hls', 'lofi');
  const long_ago = Date.now() - 10 * 60_000;
  const first = output(dir, (frame) => long_ago + (frame / SR) * 1000);
  first.start();
  first.write(tone(4));
  await waitFor('segments', async () => first.window().length >= 2, 30_000);
  first.close();
  assert.deepEqual(output(dir, () => Date.now()).window(), []);
});
