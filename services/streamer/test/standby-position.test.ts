// Where a follower's standby starts, and where it hands back, heard in the audio. Two real
// streamers (in this process) play a chain of pure tones from one real store and Redis, a tone per
// segment, 12 s from one join to the next; the follower reaches the leader through a TCP proxy in
// its own process, which is frozen (SIGSTOP) for 10 s in the middle of a segment. A listener on the
// follower is recorded by ffmpeg: each tone must last its 12 s there too, so the standby began where
// the relay left off and the relay took over where the standby was, and no segment was repeated,
// skipped or bridged, within the 0.3 s that the relay's unknown delay allows.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '@lofi/config';
import { connect, Keys, PlayheadStore, SegmentIndex } from '@lofi/redis';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { freePort } from '../../../scripts/supervisor/redis.ts';
import { cleanupStack } from '../../../test/helpers/cleanup.ts';
import { RATE, record } from '../../../test/helpers/recorder.ts';
import { startRedis, uniquePrefix } from '../../../test/helpers/redis-server.ts';
import { waitFor } from '../../../test/helpers/stack.ts';
import { startTcpProxy } from '../../../test/helpers/tcp-proxy.ts';
import { writeToneChain } from '../../../test/helpers/tone-station.ts';
import { build } from '../src/app.ts';

const FREQS = [220, 277, 330, 392, 466, 523, 622, 698, 784, 880, 988, 1109, 1245, 1397];
const CONTENT_SECONDS = 12;
const BLACK_HOLE_MS = 10_000;
/** What a switch may repeat or skip: the relay's delay is reckoned, not known (standby.ts). */
const SWITCH_TOLERANCE_SECONDS = 0.3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Power of `freq` in pcm[from, from + n) (Goertzel). */
function power(pcm: Float32Array, from: number, n: number, freq: number): number {
  const c = 2 * Math.cos((2 * Math.PI * freq) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < from + n; i++) {
    const s = (pcm[i] ?? 0) + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/** The tones heard, in order: which (index into FREQS) and from when (s into the recording). */
function toneRuns(pcm: Float32Array): { tone: number; at: number }[] {
  const n = RATE / 50; // 20 ms
  const runs: { tone: number; at: number }[] = [];
  let candidate = -1;
  let since = 0;
  let count = 0;
  for (let from = 0; from + n <= pcm.length; from += n) {
    let best = 0;
    for (let k = 1; k < FREQS.length; k++)
      if (power(pcm, from, n, FREQS[k] as number) > power(pcm, from, n, FREQS[best] as number)) best = k;
    if (best !== candidate) {
      candidate = best;
      since = from;
      count = 0;
    }
    // A tone counts once it holds for 0.2 s (the crossfade's midpoint is where it takes over).
    if (++count === 10 && runs.at(-1)?.tone !== best) runs.push({ tone: best, at: since / RATE });
  }
  return runs;
}

async function streamer(
  env: Record<string, string>,
  port: number,
): Promise<{ app: FastifyInstance; base: string }> {
  const app = await build({
    config: loadConfig(env),
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  await app.listen({ port, host: '127.0.0.1' });
  const addr = app.server.address();
  return { app, base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}

test('the standby starts where the relay left off and hands back where it is', {
  timeout: 180_000,
}, async (t) => {
  const defer = cleanupStack(t);
  const redis = await startRedis();
  defer(() => redis.stop());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lofi-standby-tones-'));
  const prefix = uniquePrefix('standby-tones');
  const conn = connect(redis.url, 'test');
  defer(() => conn.quit());
  const keys = new Keys(prefix);
  await writeToneChain(dataDir, new SegmentIndex(conn, keys), {
    freqs: FREQS,
    contentSeconds: CONTENT_SECONDS,
    overlapSeconds: 1,
  });
  const env = {
    REDIS_URL: redis.url,
    ADMIN_TOKEN: 'tone-admin-token-0123456789',
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
  };
  const portA = await freePort();
  const proxy = await startTcpProxy(portA);
  defer(() => proxy.kill());
  const a = await streamer({ ...env, REPLICA_ID: 'tone-a', REPLICA_URL: proxy.url }, portA);
  defer(() => a.app.close());
  await waitFor('A to play', async () => (await fetch(`${a.base}/healthz`)).ok, 30_000);
  const b = await streamer({ ...env, REPLICA_ID: 'tone-b' }, 0);
  defer(() => b.app.close());
  await waitFor('B to relay A', async () => (await fetch(`${b.base}/healthz`)).ok, 30_000);

  const playheads = new PlayheadStore(conn, keys);
  const at = async () => (await playheads.read('lofi')) ?? { seq: -1, positionSeconds: 0 };
  const recording = record(`${b.base}/stations/lofi/stream.mp3`, 50);
  // The black hole begins 5 s into a segment that began after the recording did.
  const first = (await at()).seq;
  const k = await waitFor(
    'the next segment',
    async () => ((await at()).seq > first ? (await at()).seq : null),
    20_000,
    50,
  );
  await waitFor('5 s into it', async () => (await at()).positionSeconds >= 5, 20_000, 50);
  proxy.freeze();
  await sleep(BLACK_HOLE_MS);
  proxy.thaw();
  const rec = await recording;

  const runs = toneRuns(rec.pcm);
  const lengths = runs.slice(0, -1).map((r, i) => ({
    seq: r.tone,
    seconds: Math.round(((runs[i + 1]?.at ?? 0) - r.at) * 1000) / 1000,
  }));
  process.stdout.write(
    `# black hole in segment ${k}; tones heard (seq, seconds): ${JSON.stringify(lengths)}\n`,
  );
  // Each segment once, in order: nothing repeated, skipped or bridged.
  const seqs = runs.map((r) => r.tone);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => (seqs[0] ?? 0) + i),
    'the tones in chain order',
  );
  const len = (seq: number) => lengths.find((l) => l.seq === seq)?.seconds;
  // Segment k holds the standby's start, k + 1 the hand-back (10 s of black hole, 1.3 s to hand back).
  for (const seq of [k, k + 1]) {
    const s = len(seq);
    assert.ok(s !== undefined, `segment ${seq} heard whole`);
    assert.ok(Math.abs(s - CONTENT_SECONDS) < SWITCH_TOLERANCE_SECONDS, `segment ${seq} lasted ${s} s`);
  }
  // And the segments the relay alone played are exact.
  for (const l of lengths)
    if (l.seq !== k && l.seq !== k + 1 && l !== lengths[0])
      assert.ok(Math.abs(l.seconds - CONTENT_SECONDS) < 0.1, `segment ${l.seq} lasted ${l.seconds} s`);
});
