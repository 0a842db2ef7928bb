// Everything stops and starts again on the same DATA_DIR: the private Redis's AOF brings back the
// stations, their moods and keys, and the job chain, and the music resumes where it was.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { connect, Keys, SegmentIndex } from '@lofi/redis';
import { cleanupStack } from '../helpers/cleanup.ts';
import { record } from '../helpers/recorder.ts';
import { uniquePrefix } from '../helpers/redis-server.ts';
import { testStack, waitFor } from '../helpers/stack.ts';

interface View {
  prompt: string;
  promptVersion: number;
  nowPlaying: { seq: number } | null;
}

test('stations, moods, keys and the chain survive a restart of everything', {
  timeout: 240_000,
}, async (t) => {
  const defer = cleanupStack(t);
  const env = {
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'lofi-restart-')),
    QUEUE_PREFIX: uniquePrefix('restart'),
  };
  let stack = await testStack(env, true);
  defer(() => stack.stop());
  const admin = { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' };
  const created = await fetch(`${stack.baseUrl}/api/stations`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ id: 'night', name: 'Night', prompt: 'late-night study beats' }),
  });
  assert.equal(created.status, 201);
  const { key } = (await created.json()) as { key: string };
  const moodRes = await fetch(`${stack.baseUrl}/api/stations/night/mood`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'sleep 睡眠 with rain' }),
  });
  assert.equal(moodRes.status, 200);
  const view = async (): Promise<View> =>
    (await (await fetch(`${stack.baseUrl}/api/stations/night`)).json()) as View;
  await waitFor(
    'the night station to play its mood',
    async () => ((await view()).nowPlaying?.seq ?? -1) >= 0,
    60_000,
  );
  await new Promise((r) => setTimeout(r, 3000));
  const before = await view();
  const conn1 = connect(stack.redisUrl, 'test');
  const maxSeqBefore = Math.max(
    ...(await new SegmentIndex(conn1, new Keys(env.QUEUE_PREFIX)).all('night')).map((s) => s.seq),
  );
  await conn1.quit();
  await stack.stop();

  stack = await testStack(env, true);
  await waitFor(
    'the stations to play again',
    async () => (await fetch(`${stack.baseUrl}/healthz`)).status === 200,
    60_000,
  );
  const after = await view();
  assert.equal(after.prompt, 'sleep 睡眠 with rain');
  assert.equal(after.promptVersion, before.promptVersion);
  await waitFor('the playout to resume', async () => (await view()).nowPlaying !== null, 30_000);
  assert.ok(
    (after.nowPlaying?.seq ?? (await view()).nowPlaying?.seq ?? -1) >= (before.nowPlaying?.seq ?? 0),
    'it resumes, not restarts',
  );
  // The owner key still works, and the chain goes on with fresh seqs.
  const again = await fetch(`${stack.baseUrl}/api/stations/night/mood`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'quiet piano' }),
  });
  assert.equal(again.status, 200);
  const conn2 = connect(stack.redisUrl, 'test');
  defer(() => conn2.quit());
  const index = new SegmentIndex(conn2, new Keys(env.QUEUE_PREFIX));
  await waitFor(
    'a new segment after the restart',
    async () => (await index.all('night')).some((s) => s.seq > maxSeqBefore),
    30_000,
  );
  const seqs = (await index.all('night')).map((s) => s.seq);
  assert.equal(new Set(seqs).size, seqs.length, 'no seq generated twice');
  const rec = await record(`${stack.baseUrl}/stations/night/stream.mp3`, 4);
  assert.ok(rec.longestSilenceSeconds < 0.3);
});
