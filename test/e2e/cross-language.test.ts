// A job enqueued from TypeScript (BullMQ, validated against the contract) is rendered by the Python
// worker (BullMQ's Python client) and played by the streamer, over one real Redis.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '@lofi/config';
import { assertSegmentResult, audioKeyFor, type SegmentJob } from '@lofi/contracts';
import {
  connect,
  enqueueSegment,
  Keys,
  SegmentIndex,
  SegmentQueues,
  segmentQueue,
  segmentQueueEvents,
} from '@lofi/redis';
import pino from 'pino';
import { build } from '../../services/streamer/src/app.ts';
import { cleanupStack } from '../helpers/cleanup.ts';
import { icyTitle } from '../helpers/icy.ts';
import { record } from '../helpers/recorder.ts';
import { startRedis, uniquePrefix } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/stack.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A real Redis, one real Python worker on a unique prefix, and TS queue clients to talk to it. */
async function workerHarness(t: { after: (fn: () => Promise<void>) => void }, name: string) {
  const defer = cleanupStack(t);
  const redis = await startRedis();
  defer(() => redis.stop());
  const prefix = uniquePrefix(name);
  const dataDir = mkdtempSync(path.join(tmpdir(), `lofi-${name}-`));
  const worker = spawn(path.join(ROOT, 'python-worker/.venv/bin/lofi-worker'), ['run'], {
    env: {
      ...process.env,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warning',
    },
    stdio: 'inherit',
  });
  defer(() => worker.kill('SIGKILL'));
  const conn = connect(redis.url, 'test');
  const queue = segmentQueue(redis.url, prefix, 'procedural');
  const events = segmentQueueEvents(redis.url, prefix, 'procedural');
  const queues = new SegmentQueues(redis.url, prefix);
  defer(async () => {
    await events.close();
    await queue.close();
    await queues.close();
    conn.disconnect();
  });
  return { defer, redis, prefix, dataDir, conn, queue, queues, events };
}

test('TypeScript enqueues, Python renders, the streamer plays', { timeout: 120_000 }, async (t) => {
  const { defer, redis, prefix, dataDir, conn, queue, queues, events } = await workerHarness(t, 'xlang');

  const job: SegmentJob = {
    stationId: 'lofi',
    seq: 0,
    promptVersion: 0,
    prompt: 'late-night study beats with soft piano and rain',
    backend: 'procedural',
    seed: 1234,
    durationSeconds: 8,
    overlapSeconds: 1.5,
    sampleRate: 48000,
    channels: 2,
    audioKey: audioKeyFor('lofi', 0, 0),
    continueFrom: null,
    track: {
      index: 0,
      name: 'Rain on the Window',
      artist: 'Night Owl FM',
      position: 0,
      segments: 3,
      part: 'intro',
    },
  };
  const id = await enqueueSegment(queues, job);
  assert.equal(id, 'lofi:0:0');
  assert.equal(await enqueueSegment(queues, job), id, 'adding the same job again is a no-op');
  const bullJob = await queue.getJob(id);
  assert.ok(bullJob);
  const result = assertSegmentResult(await bullJob.waitUntilFinished(events, 60_000));
  assert.equal(result.seq, 0);
  assert.equal(result.backend, 'procedural');
  assert.equal(result.continuesSeq, null);
  // The worker echoes the track and names the segment after it.
  assert.deepEqual(result.track, job.track);
  assert.equal(result.title, 'Rain on the Window');
  // The FLAC is where the contract says, with the duration the result claims.
  const probe = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-show_entries',
      'stream=sample_rate,channels:format=duration',
      '-of',
      'json',
      path.join(dataDir, result.audioKey),
    ],
    { encoding: 'utf8' },
  );
  const info = JSON.parse(probe) as {
    streams: Array<{ sample_rate: string; channels: number }>;
    format: { duration: string };
  };
  assert.equal(info.streams[0]?.sample_rate, '48000');
  assert.equal(info.streams[0]?.channels, 2);
  assert.ok(Math.abs(Number(info.format.duration) - result.durationSeconds) < 0.01);

  // The scheduler's part, done by hand: index the result. The streamer takes it from there.
  const keys = new Keys(prefix);
  await new SegmentIndex(conn, keys).add(result);
  const config = loadConfig({
    REDIS_URL: redis.url,
    ADMIN_TOKEN: 'xlang-admin-token-0123456789',
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
    PORT: '0',
  });
  const app = await build({ config, log: pino({ level: 'warn' }) });
  defer(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  assert.ok(addr && typeof addr === 'object');
  const base = `http://127.0.0.1:${addr.port}`;
  await waitFor('healthz 200', async () => (await fetch(`${base}/healthz`)).status === 200, 20_000);

  // Players show `artist - title`.
  assert.equal(await icyTitle(`${base}/stations/lofi/stream.mp3`), 'Night Owl FM - Rain on the Window');
  const rec = await record(`${base}/stations/lofi/stream.mp3`, 4);
  assert.ok(rec.seconds > 3, `recorded ${rec.seconds} s`);
  assert.ok(rec.longestSilenceSeconds < 0.3, `silence ${rec.longestSilenceSeconds} s`);
  const np = (await (await fetch(`${base}/api/stations/lofi/now-playing`)).json()) as {
    seq: number;
    title: string;
    artist: string;
    segment: { seq: number; detail: string };
  };
  assert.equal(np.seq, 0);
  assert.equal(np.title, 'Rain on the Window');
  assert.equal(np.artist, 'Night Owl FM');
  // The segment's musical detail stays available (the console shows it).
  assert.equal(np.segment.seq, 0);
  assert.match(np.segment.detail, / · /);
});

test('a bad job fails with a reason and the worker goes on', { timeout: 120_000 }, async (t) => {
  const { queue, events } = await workerHarness(t, 'xbad');
  // Bypass the TS-side validation on purpose: the worker must defend itself too.
  const bad = await queue.add('segment', { stationId: 'lofi', seq: 1 } as unknown as SegmentJob, {
    jobId: 'bad-1',
  });
  await assert.rejects(bad.waitUntilFinished(events, 60_000), /contract|required|stationId|prompt/i);
  const failed = await queue.getJob('bad-1');
  assert.match(failed?.failedReason ?? '', /\w+/);
  const good = await queue.add(
    'segment',
    {
      stationId: 'lofi',
      seq: 2,
      promptVersion: 0,
      prompt: 'café jazz 咖啡馆',
      backend: 'procedural',
      seed: 9,
      durationSeconds: 4,
      overlapSeconds: 1,
      sampleRate: 48000,
      channels: 2,
      audioKey: audioKeyFor('lofi', 2, 0),
      continueFrom: null,
    },
    { jobId: 'good-2' },
  );
  assert.equal(assertSegmentResult(await good.waitUntilFinished(events, 60_000)).seq, 2);
});
