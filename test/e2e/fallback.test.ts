// A station whose backend cannot run here (MusicGen without weights) does not loop its last bars
// for ever: after two failed jobs its chain continues with the procedural fallback, and says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { segmentQueue } from '@lofi/redis';
import { cleanupStack } from '../helpers/cleanup.ts';
import { record } from '../helpers/recorder.ts';
import { testStack, waitFor } from '../helpers/stack.ts';

interface View {
  backend: string;
  model: string | null;
  fallback: boolean;
  nowPlaying: { backend: string } | null;
}

test('a station whose backend keeps failing plays the procedural fallback', {
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

  const queue = segmentQueue(stack.redisUrl, stack.config.queuePrefix);
  defer(() => queue.close());
  const failed = (await queue.getJobs(['failed'])).filter((j) => j.data.stationId === 'gpu');
  assert.ok(failed.length >= 2, `${failed.length} failed jobs`);
  for (const j of failed) {
    assert.equal(j.data.backend, 'musicgen');
    assert.equal(j.data.model, 'nobody/not-in-the-cache');
    assert.match(j.failedReason, /musicgen|model|weights|torch/i, 'the reason says what is missing');
  }
});
