// Several stations on one worker, created and deleted through the API; rapid mood changes settle
// on the last one without a burst of wasted renders.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { segmentQueue } from '@lofi/redis';
import { cleanupStack } from '../helpers/cleanup.ts';
import { record } from '../helpers/recorder.ts';
import { testStack, waitFor } from '../helpers/stack.ts';

interface View {
  promptVersion: number;
  prompt: string;
  nowPlaying: { promptVersion: number } | null;
}

test('a created station plays beside the default one; ten mood changes in a second settle on the last', {
  timeout: 240_000,
}, async (t) => {
  const defer = cleanupStack(t);
  const stack = await testStack();
  defer(() => stack.stop());
  const base = stack.baseUrl;
  const admin = { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' };
  await waitFor(
    'the default station to play',
    async () => (await fetch(`${base}/healthz`)).status === 200,
    90_000,
  );

  const res = await fetch(`${base}/api/stations`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ id: 'cafe', name: 'Café', preset: 'cafe-jazz', description: 'Our corner café' }),
  });
  assert.equal(res.status, 201);
  const created = (await res.json()) as { preset: string; prompt: string; description: string };
  assert.equal(created.preset, 'cafe-jazz');
  assert.equal(created.description, 'Our corner café');
  assert.ok(created.prompt.length > 10);
  const cafe = await record(`${base}/stations/cafe/stream.mp3`, 6);
  assert.ok(
    cafe.seconds > 4 && cafe.longestSilenceSeconds < 0.3,
    `cafe: ${cafe.seconds} s, silence ${cafe.longestSilenceSeconds} s`,
  );

  const started = Date.now();
  for (let i = 1; i <= 10; i++) {
    const r = await fetch(`${base}/api/stations/lofi/mood`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ prompt: `mood number ${i}` }),
    });
    assert.equal(r.status, 200);
  }
  assert.ok(Date.now() - started < 1500, 'ten requests within about a second');
  const view = async () => (await (await fetch(`${base}/api/stations/lofi`)).json()) as View;
  const first = await view();
  assert.equal(first.prompt, 'mood number 10');
  await waitFor(
    'the last mood on air',
    async () => (await view()).nowPlaying?.promptVersion === first.promptVersion,
    30_000,
  );

  const queue = segmentQueue(stack.redisUrl, stack.config.queuePrefix, 'procedural');
  defer(() => queue.close());
  const jobs = await queue.getJobs(['completed', 'failed', 'active', 'waiting']);
  const wasted = jobs.filter(
    (j) =>
      j.data.stationId === 'lofi' &&
      j.data.promptVersion > first.promptVersion - 10 &&
      j.data.promptVersion < first.promptVersion,
  );
  assert.ok(wasted.length <= 2, `renders for superseded moods: ${wasted.map((j) => j.id).join(', ')}`);
  // The new mood's chain starts with its intro and drifts from the new prompt.
  const fresh = jobs
    .filter((j) => j.data.stationId === 'lofi' && j.data.promptVersion === first.promptVersion)
    .sort((a, b) => a.data.seq - b.data.seq);
  assert.equal(fresh[0]?.data.drift?.section, 'intro');
  assert.ok(fresh.every((j) => j.data.drift?.prompt.startsWith('mood number 10, ')));

  // Deleting a station lets its listeners go and stops its music.
  const listener = record(`${base}/stations/cafe/stream.mp3`, 30);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(
    (
      await fetch(`${base}/api/stations/cafe`, {
        method: 'DELETE',
        headers: { authorization: admin.authorization },
      })
    ).status,
    204,
  );
  const cut = await listener;
  assert.ok(cut.wallSeconds < 15, `the listener of a deleted station was let go after ${cut.wallSeconds} s`);
  assert.equal((await fetch(`${base}/stations/cafe/stream.mp3`)).status, 404);
});
