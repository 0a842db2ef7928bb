// Per-backend queues and routing by worker advertisements, with real Python workers on a real
// Redis: a MusicGen station with no MusicGen worker plays the procedural fallback at once, goes
// back to MusicGen when a worker advertising it registers (a tiny random model), falls back after
// two failures when its model cannot load, and falls back again when that worker is killed
// (its advertisement expires). The scheduler's /metrics is scraped over HTTP along the way.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '@lofi/config';
import {
  ChainStore,
  connect,
  Keys,
  liveWorkers,
  PlayheadStore,
  SegmentIndex,
  SegmentQueues,
  StationRepo,
} from '@lofi/redis';
import pino from 'pino';
import { freePort } from '../../../scripts/supervisor/redis.ts';
import { cleanupStack } from '../../../test/helpers/cleanup.ts';
import { startRedis, uniquePrefix } from '../../../test/helpers/redis-server.ts';
import { waitFor } from '../../../test/helpers/stack.ts';
import { startScheduler } from '../src/scheduler.ts';
import { FALLBACK_AFTER_FAILURES } from '../src/station-scheduler.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PY = path.join(ROOT, 'python-worker/.venv/bin/python');

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

test('jobs go only to workers that run their backend; no worker: the fallback at once', {
  timeout: 300_000,
}, async (t) => {
  const defer = cleanupStack(t);
  const redis = await startRedis();
  defer(() => redis.stop());
  const prefix = uniquePrefix('route');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lofi-route-'));
  // The tiny MusicGen is built meanwhile (torch takes a while to import).
  const modelDir = mkdtempSync(path.join(tmpdir(), 'lofi-tiny-mg-'));
  const built = promisify(execFile)(
    PY,
    [
      '-c',
      `from pathlib import Path; from tests.musicgen_tiny import build_tiny_musicgen as b; b(Path(${JSON.stringify(modelDir)}))`,
    ],
    { cwd: path.join(ROOT, 'python-worker') },
  );
  const env = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOOKAHEAD_SECONDS: '10',
    SEGMENT_SECONDS: '4',
    OVERLAP_SECONDS: '1',
    SCHEDULER_METRICS_PORT: String(await freePort()),
  };
  const config = loadConfig(env);
  const worker = (backends: string, extra: Record<string, string> = {}): ChildProcess => {
    const child = spawn(path.join(ROOT, 'python-worker/.venv/bin/lofi-worker'), ['run'], {
      env: {
        ...process.env,
        ...env,
        WORKER_BACKENDS: backends,
        WORKER_HEARTBEAT_MS: '300',
        WORKER_METRICS_PORT: '0',
        LOG_LEVEL: 'warning',
        ...extra,
      },
      stdio: 'inherit',
    });
    defer(() => child.kill('SIGKILL'));
    return child;
  };
  const conn = connect(redis.url, 'test');
  defer(() => conn.quit());
  const keys = new Keys(prefix);
  const chains = new ChainStore(conn, keys);
  const index = new SegmentIndex(conn, keys);
  const playheads = new PlayheadStore(conn, keys);
  const stations = new StationRepo(conn, keys, config);
  const queues = new SegmentQueues(redis.url, prefix);
  defer(() => queues.close());
  const scheduler = await startScheduler(config, redis.url, pino({ level: 'warn' }));
  defer(() => scheduler.close());
  assert.ok(scheduler.metricsUrl);
  const metricsUrl = scheduler.metricsUrl;
  const liveFor = async (backend: string) =>
    (await liveWorkers(conn, keys)).filter((w) => w.backends.includes(backend as 'musicgen')).length;
  const segmentsOf = async (id: string) => index.all(id);
  // The playout reaches the newest segment: the scheduler must generate the next one.
  const advance = async (id: string): Promise<void> => {
    const tip = (await segmentsOf(id)).at(-1);
    if (tip)
      await playheads.write(id, {
        seq: tip.seq,
        positionSeconds: 0,
        atMs: Date.now(),
        nextSeq: null,
        underruns: 0,
      });
  };

  // 1. Only a procedural worker: the MusicGen station is served by the fallback from its first job.
  worker('procedural');
  await waitFor(
    'the procedural worker to advertise',
    async () => (await liveFor('procedural')) === 1,
    30_000,
  );
  // The scheduler has seen it too (it re-reads advertisements every second).
  await waitFor(
    'the scheduler to count the worker',
    async () => (await scrape(metricsUrl)).get('lofi_scheduler_workers{backend="procedural"}') === 1,
    10_000,
  );
  await stations.ensure({ id: 'gpu', name: 'GPU', prompt: 'warm piano', backend: 'musicgen' });
  await waitFor('a fallback segment', async () => (await segmentsOf('gpu')).length >= 2, 30_000);
  let chain = await chains.read('gpu');
  assert.ok(chain.fallbackUntilMs > Date.now(), 'the station shows its fallback state');
  assert.equal(chain.failures, 0, 'no job waited for or failed on a missing worker');
  for (const s of await segmentsOf('gpu')) assert.equal(s.backend, 'procedural');
  assert.equal((await segmentsOf('gpu'))[0]?.seq, 0, 'the very first job went to the fallback');
  assert.deepEqual(
    await queues.for('musicgen').getJobs(['waiting', 'prioritized', 'active', 'completed', 'failed']),
    [],
  );
  let m = await scrape(metricsUrl);
  assert.equal(m.get('lofi_scheduler_fallback{station="gpu"}'), 1);
  assert.equal(m.get('lofi_scheduler_fallback{station="lofi"}'), 0);
  assert.equal(m.get('lofi_scheduler_workers{backend="procedural"}'), 1);
  assert.equal(m.get('lofi_scheduler_workers{backend="musicgen"}'), 0);
  assert.equal(m.get('lofi_scheduler_jobs_enqueued_total{backend="musicgen"}'), 0);
  assert.equal(m.get('lofi_scheduler_jobs_rerouted_total'), 0);
  const enqueuedBefore = m.get('lofi_scheduler_jobs_enqueued_total{backend="procedural"}') ?? 0;
  assert.ok(enqueuedBefore >= 2);
  assert.ok((m.get('lofi_scheduler_lookahead_seconds{station="gpu"}') ?? 0) > 0);
  assert.equal(m.get('lofi_scheduler_lookahead_target_seconds{station="gpu"}'), 10);

  // 2. A worker advertising MusicGen registers: the station goes back to its own backend.
  await built;
  const mg = worker('musicgen', {
    MUSICGEN_MODEL: modelDir,
    MUSICGEN_ENGINE: 'transformers',
    MUSICGEN_DEVICE: 'cpu',
    MUSICGEN_BATCH_WINDOW_MS: '20',
    // Its job in hand when it is killed is abandoned once the lock expires.
    WORKER_LOCK_MS: '2000',
  });
  await waitFor('the musicgen worker to advertise', async () => (await liveFor('musicgen')) === 1, 120_000);
  const ad = (await liveWorkers(conn, keys)).find((w) => w.backends.includes('musicgen'));
  assert.equal(ad?.model, modelDir);
  assert.equal(ad?.pid, mg.pid);
  await waitFor(
    'a MusicGen segment',
    async () => {
      await advance('gpu');
      return (await segmentsOf('gpu')).some((s) => s.backend === 'musicgen');
    },
    120_000,
    500,
  );
  chain = await chains.read('gpu');
  assert.ok(chain.fallbackUntilMs <= Date.now(), 'no longer in fallback');
  // A station whose model cannot load on that worker: the failure fallback still works.
  await stations.ensure({
    id: 'bad',
    name: 'Bad',
    prompt: 'warm piano',
    backend: 'musicgen',
    model: 'nobody/not-in-the-cache',
  });
  await waitFor('the failure fallback', async () => (await segmentsOf('bad')).length > 0, 60_000);
  assert.equal((await segmentsOf('bad'))[0]?.backend, 'procedural');
  const failed = (await queues.for('musicgen').getJobs(['failed'])).filter((j) => j.data.stationId === 'bad');
  assert.equal(
    failed.length,
    FALLBACK_AFTER_FAILURES,
    'the job after the second failure went to the fallback',
  );
  for (const j of failed) assert.match(j.failedReason, /musicgen|model|weights/i);
  m = await scrape(metricsUrl);
  assert.equal(m.get('lofi_scheduler_fallback{station="gpu"}'), 0);
  assert.equal(m.get('lofi_scheduler_fallback{station="bad"}'), 1);
  assert.equal(m.get('lofi_scheduler_workers{backend="musicgen"}'), 1);
  assert.ok((m.get('lofi_scheduler_jobs_completed_total{backend="musicgen"}') ?? 0) >= 1);
  assert.ok((m.get('lofi_scheduler_jobs_failed_total{backend="musicgen"}') ?? 0) >= 2);
  assert.ok((m.get('lofi_scheduler_jobs_enqueued_total{backend="procedural"}') ?? 0) > enqueuedBefore);

  // 3. The MusicGen worker is killed: its advertisement expires and the fallback takes over again.
  mg.kill('SIGKILL');
  const killedAt = Date.now();
  await waitFor(
    'the fallback again',
    async () => (await chains.read('gpu')).fallbackUntilMs > Date.now(),
    15_000,
    100,
  );
  assert.ok(Date.now() - killedAt < 6000, `${Date.now() - killedAt} ms after the kill`);
  const before = (await segmentsOf('gpu')).length;
  await waitFor(
    'a fallback segment after the kill',
    async () => {
      await advance('gpu');
      const segs = await segmentsOf('gpu');
      return segs.length > before && segs.at(-1)?.backend === 'procedural';
    },
    60_000,
    500,
  );
  m = await scrape(metricsUrl);
  assert.equal(m.get('lofi_scheduler_workers{backend="musicgen"}'), 0);
  assert.equal(m.get('lofi_scheduler_fallback{station="gpu"}'), 1);
});
