// A station whose backend no worker here runs (MusicGen; the stack's worker advertises only the
// procedural backend) does not loop its last bars for ever: its chain is routed to the procedural
// fallback at once, and says so. (The failure-based fallback, with a MusicGen worker whose model
// cannot load, is covered in services/scheduler/test/routing.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SegmentQueues } from '@lofi/redis';
import { cleanupStack } from '../helpers/cleanup.ts';
import { record } from '../helpers/recorder.ts';
import { testStack, waitFor } from '../helpers/stack.ts';

interface View {
  backend: string;
  model: string | null;
  fallback: boolean;
  nowPlaying: { backend: string } | null;
}

test('a station whose backend has no worker plays the procedural fallback at once', {
  timeout: 180_000,
}, async (t) => {
  const defer = cleanupStack(t);
  const stack = await testStack();
  defer(() => stack.stop());
  const base = stack.baseUrl;
  const res = await fetch(`${base}/api/stations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      id: 'gpu',
      name: 'GPU station',
      prompt: 'warm piano',
      backend: 'musicgen',
      model: 'nobody/not-in-the-cache',
    }),
  });
  assert.equal(res.status, 201);
  const view = async () => (await (await fetch(`${base}/api/stations/gpu`)).json()) as View;
  await waitFor('the fallback to play', async () => (await view()).nowPlaying !== null, 90_000);
  const v = await view();
  assert.equal(v.backend, 'musicgen', 'the station keeps its own backend');
  assert.equal(v.model, 'nobody/not-in-the-cache');
  assert.equal(v.fallback, true);
  assert.equal(v.nowPlaying?.backend, 'procedural');
  const heard = await record(`${base}/stations/gpu/stream.mp3`, 6);
  assert.ok(
    heard.seconds > 4 && heard.longestSilenceSeconds < 0.3,
    `${heard.seconds} s, silence ${heard.longestSilenceSeconds} s`,
  );

  const queues = new SegmentQueues(stack.redisUrl, stack.config.queuePrefix);
  defer(() => queues.close());
  const jobs = (await queues.jobs(['completed', 'failed', 'active', 'waiting', 'prioritized'])).filter(
    (j) => j.data.stationId === 'gpu',
  );
  assert.ok(jobs.length >= 1);
  // No job waited for (or failed on) a MusicGen worker that is not there.
  assert.deepEqual(
    await queues.for('musicgen').getJobs(['completed', 'failed', 'active', 'waiting', 'prioritized']),
    [],
  );
  for (const j of jobs) {
    assert.equal(j.data.backend, 'procedural');
    assert.equal(j.queueName, 'segments-procedural');
  }
  assert.equal(jobs.filter((j) => j.failedReason).length, 0, 'no failed jobs on the way');
});
