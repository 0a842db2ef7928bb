// A supervisor killed with SIGKILL cannot stop its children; they notice they were re-parented
// and stop themselves, so no service runs on as an orphan (Redis is stopped by the test).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { stopStaleRedis } from '../../scripts/supervisor/redis.ts';
import { alive, waitFor } from '../helpers/stack.ts';

test('services stop by themselves when their supervisor is killed', { timeout: 180_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lofi-orphans-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, '../helpers/stack-child.ts')],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DATA_DIR: dataDir } },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const pids = await waitFor(
    'the stack to start',
    async () => {
      const line = out.split('\n').find((l) => l.startsWith('PIDS '));
      return line ? (JSON.parse(line.slice(5)) as Record<string, number>) : null;
    },
    120_000,
  );
  const { redis, ...services } = pids;
  t.after(() => {
    for (const pid of [redis, ...Object.values(services)])
      if (pid && alive(pid)) process.kill(-pid, 'SIGKILL');
  });
  child.kill('SIGKILL');
  await waitFor(
    'the scheduler, worker and streamer to stop',
    async () => Object.values(services).every((pid) => !alive(pid)),
    30_000,
  );
  assert.ok(Object.keys(services).length >= 3, JSON.stringify(pids));
  // Redis cannot watch its parent: the next start on the same DATA_DIR stops it before its own.
  assert.ok(redis && alive(redis), 'the orphaned Redis is still there');
  assert.equal(await stopStaleRedis(dataDir), redis);
  assert.equal(alive(redis), false);
});
