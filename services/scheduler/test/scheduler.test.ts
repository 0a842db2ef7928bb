// The scheduler against a real Redis and a real Python worker: the chain, the lookahead, a restart,
// starvation and retention. The streamer's part (the playhead) is written by the test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '@lofi/config';
import { trackStartSeconds } from '@lofi/contracts';
import {
  ChainStore,
  connect,
  Keys,
  PlayheadStore,
  SegmentIndex,
  StationRepo,
  segmentQueue,
} from '@lofi/redis';
import pino from 'pino';
import { cleanupStack } from '../../../test/helpers/cleanup.ts';
import { startRedis, uniquePrefix } from '../../../test/helpers/redis-server.ts';
import { waitFor } from '../../../test/helpers/stack.ts';
import { driftFor } from '../src/prompt-drift.ts';
import { type Scheduler, startScheduler } from '../src/scheduler.ts';
import { nextTrack, type TrackPlan, targetSlack } from '../src/tracks.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

test('the scheduler keeps a chain filled, survives a restart, starves visibly and cleans up', {
  timeout: 240_000,
}, async (t) => {
  const defer = cleanupStack(t);
  const redis = await startRedis();
  defer(() => redis.stop());
  const prefix = uniquePrefix('sched');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lofi-sched-'));
  const env = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOOKAHEAD_SECONDS: '70',
    SEGMENT_SECONDS: '4',
    OVERLAP_SECONDS: '1',
    RETAIN_SEGMENTS: '2',
    // 60 s tracks of 4 s segments: the lookahead spans a track change.
    TRACK_SECONDS: '60',
    SCHEDULER_METRICS_PORT: '0',
    WORKER_METRICS_PORT: '0',
  };
  const config = loadConfig(env);
  const worker = spawn(path.join(ROOT, 'python-worker/.venv/bin/lofi-worker'), ['run'], {
    env: { ...process.env, ...env, LOG_LEVEL: 'warning' },
    stdio: 'inherit',
  });
  defer(() => worker.kill('SIGKILL'));
  const conn = connect(redis.url, 'test');
  defer(() => conn.quit());
  const keys = new Keys(prefix);
  const chains = new ChainStore(conn, keys);
  const index = new SegmentIndex(conn, keys);
  const playheads = new PlayheadStore(conn, keys);
  const queue = segmentQueue(redis.url, prefix, 'procedural');
  defer(() => queue.close());
  const log = pino({ level: 'warn' });
  let scheduler: Scheduler = await startScheduler(config, redis.url, log);
  defer(() => scheduler.close());

  // 1. With no playout yet, the lookahead fills along one chain and stops there.
  await waitFor(
    'the lookahead to fill',
    async () => {
      const c = await chains.read('lofi');
      return c.status === 'ok' && c.inflightJobId === null && c.bufferedSeconds >= 70;
    },
    90_000,
  );
  const segs = await index.all('lofi');
  assert.ok(segs.length >= 5, `${segs.length} segments`);
  segs.forEach((s, i) => {
    const prev = segs[i - 1];
    assert.equal(s.continuesSeq, prev ? prev.seq : null, `segment ${s.seq} continues its predecessor`);
    if (prev) assert.ok(Math.abs(s.joinAtSeconds - (prev.durationSeconds - config.overlapSeconds)) < 1e-6);
  });
  const state = await chains.read('lofi');
  assert.ok(
    state.bufferedSeconds < 70 + 10,
    `buffered ${state.bufferedSeconds}: within one segment of the target`,
  );
  assert.ok(state.generationRealtimeFactor && state.generationRealtimeFactor > 1);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(
    (await index.all('lofi')).length,
    segs.length,
    'nothing more is generated once the target is met',
  );
  assert.ok((await queue.getWaitingCount()) === 0);
  // Each job reads the mood its own way (prompt drift), counted from the mood's first segment.
  const jobs = (await queue.getJobs(['completed'])).sort((a, b) => a.data.seq - b.data.seq);
  const station = await new StationRepo(conn, keys, config).get('lofi');
  assert.ok(station);
  for (const job of jobs) {
    assert.deepEqual(
      job.data.drift,
      driftFor({
        prompt: station.prompt,
        seed: station.seed,
        promptVersion: 0,
        index: job.data.seq,
        track: job.data.track,
      }),
    );
  }
  assert.equal(jobs[0]?.data.drift?.section, 'intro');
  // Tracks: each job's track follows from the result it continues (its played seconds), numbered
  // from 0, named once; the worker echoes the track and titles the segment with the track's name.
  for (const [k, job] of jobs.entries()) {
    const t = job.data.track;
    assert.ok(t, `job ${job.data.seq} has a track`);
    const prev = segs.find((r) => r.seq === job.data.continueFrom?.seq);
    const expected: TrackPlan = prev
      ? nextTrack(
          station,
          { from: prev, atSeconds: job.data.continueFrom?.atSeconds ?? 0 },
          prev.track?.index ?? -1,
        )
      : nextTrack(station, null, -1);
    assert.deepEqual(t, expected.track, `job ${k}'s track follows from its predecessor`);
    assert.equal(t.artist, station.name);
    assert.equal(t.name, jobs.find((j) => j.data.track?.index === t.index)?.data.track?.name);
    const result = segs.find((r) => r.seq === job.data.seq);
    assert.deepEqual(result?.track, t, 'the result carries the job track');
    assert.equal(result?.title, t.name);
  }
  const firstOf1 = segs.findIndex((r) => r.track?.index === 1);
  assert.ok(firstOf1 > 0, 'the lookahead crossed a track change');
  assert.equal(segs[firstOf1 - 1]?.track?.part, 'outro');
  assert.notEqual(segs[firstOf1]?.track?.name, segs[0]?.track?.name);
  // Track 0 as the streamer plays it: to track 1's first audio (after its ring-out bar). 4 s
  // segments are one 3 s bar each here, so a count of segments would be far off the 60 s asked.
  const start1 = segs[firstOf1] as (typeof segs)[number];
  const played =
    segs.slice(1, firstOf1 + 1).reduce((a, r) => a + r.joinAtSeconds, 0) + trackStartSeconds(start1);
  const { under, over } = targetSlack(station);
  assert.ok(Math.abs(played - 60) <= (under + over) / 2, `track 0 played ${played} s`);
  t.diagnostic(`track 0 played ${played.toFixed(2)} s in ${firstOf1} segments (TRACK_SECONDS=60)`);

  // 2. A restart resumes the chain: new seqs follow on, no job id is used twice.
  await scheduler.close();
  const last = segs[segs.length - 1];
  assert.ok(last);
  scheduler = await startScheduler(config, redis.url, log);
  // The playout reaches the last segment: the lookahead must be refilled from there.
  await playheads.write('lofi', {
    seq: last.seq,
    positionSeconds: 0,
    atMs: Date.now(),
    nextSeq: null,
    underruns: 0,
  });
  await waitFor(
    'the chain to grow after the restart',
    async () => (await index.all('lofi')).length > segs.length,
    30_000,
  );
  const after = await index.all('lofi');
  const ids = new Set(after.map((s) => s.seq));
  assert.equal(ids.size, after.length);
  const next = after.find((s) => s.seq === last.seq + 1);
  assert.equal(next?.continuesSeq, last.seq);
  // The restarted scheduler goes on with the same track where the stored chain left it.
  const lastState = await chains.read('lofi');
  assert.deepEqual(
    next?.track,
    nextTrack(station, { from: last, atSeconds: next?.joinAtSeconds ?? 0 }, last.track?.index ?? -1).track,
  );
  assert.ok(lastState.lastTrackIndex >= (next?.track?.index ?? 0));

  // 3. Retention: played segments beyond RETAIN_SEGMENTS leave the index and the store.
  await waitFor(
    'old segments to be removed',
    async () => {
      const now = await index.all('lofi');
      return now.filter((s) => s.seq < last.seq).length <= 2;
    },
    15_000,
  );
  const first = segs[0];
  assert.ok(first);
  assert.equal(existsSync(path.join(dataDir, first.audioKey)), false, 'the oldest FLAC is gone');

  // A mood change starts a new track at once, named from the new mood (English, with a Chinese
  // subtitle for a Chinese mood), and the numbers go on.
  const before = await chains.read('lofi');
  await new StationRepo(conn, keys, config).setMood('lofi', '下雨天 钢琴 放松');
  await waitFor(
    'the first segment of the new mood',
    async () => (await index.all('lofi')).some((s) => s.promptVersion === 1),
    30_000,
  );
  const moodFirst = (await index.all('lofi')).find((s) => s.promptVersion === 1);
  assert.equal(moodFirst?.track?.position, 0);
  // Above every number given before (the old mood may have begun one more track meanwhile).
  const oldIndexes = (await queue.getJobs(['completed']))
    .filter((j) => j.data.promptVersion === 0)
    .map((j) => j.data.track?.index ?? -1);
  assert.ok((moodFirst?.track?.index ?? -1) > Math.max(before.lastTrackIndex, ...oldIndexes));
  assert.match(moodFirst?.track?.name ?? '', /^[A-Z][A-Za-z ]+$/u);
  assert.match(moodFirst?.track?.subtitle ?? '', /[\u3400-\u9fff]/u);
  assert.equal(moodFirst?.title, moodFirst?.track?.name);

  // 4. No workers: the station says it is starving and the queue does not grow.
  worker.kill('SIGKILL');
  const tip = (await index.all('lofi')).at(-1);
  assert.ok(tip);
  await playheads.write('lofi', {
    seq: tip.seq,
    positionSeconds: tip.durationSeconds - 1,
    atMs: Date.now(),
    nextSeq: null,
    underruns: 3,
  });
  await waitFor('the starving status', async () => (await chains.read('lofi')).status === 'starving', 15_000);
  await new Promise((r) => setTimeout(r, 2000));
  const waiting = await queue.getJobs(['waiting', 'active']);
  assert.ok(waiting.length <= 1, `${waiting.length} jobs queued for a station without workers`);
});
