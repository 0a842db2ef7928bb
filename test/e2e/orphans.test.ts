// A supervisor killed with SIGKILL cannot stop its children. The services notice they were
// re-parented and stop themselves; Redis, which cannot watch its parent, is stopped by the kernel
// (setpriv --pdeathsig) or by its sh watcher reading the supervisor's pipe (redis.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  defaultRedisWatch,
  portIsFree,
  type RedisWatch,
  redisPid,
  stopStaleRedis,
} from '../../scripts/supervisor/redis.ts';
import { alive, waitFor } from '../helpers/stack.ts';

const helper = (name: string) => path.join(import.meta.dirname, '../helpers', name);

/** Still running: a zombie has exited (what reaps orphans here, pid 1, may take a while to). */
function running(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Starts `helper` with DATA_DIR (and env), returns it and the first stdout line starting with `tag`. */
async function startHelper(name: string, tag: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lofi-orphans-'));
  const child = spawn(process.execPath, ['--import', 'tsx', helper(name)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env, DATA_DIR: dataDir },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const line = await waitFor(
    `${name} to start`,
    async () => out.split('\n').find((l) => l.startsWith(`${tag} `)),
    timeoutMs,
  );
  return { child, dataDir, line: line.slice(tag.length + 1) };
}

for (const watch of ['pdeathsig', 'pipe'] as RedisWatch[]) {
  test(`Redis stops by itself when its supervisor is killed (${watch})`, async (t) => {
    if (watch === 'pdeathsig' && defaultRedisWatch() !== 'pdeathsig') {
      t.skip('setpriv --pdeathsig is not available here (the pipe watcher is used instead)');
      return;
    }
    const { child, dataDir, line } = await startHelper(
      'redis-child.ts',
      'REDIS',
      { REDIS_WATCH: watch },
      30_000,
    );
    const [pid, port] = line.split(' ').map(Number) as [number, number];
    t.after(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    assert.ok(alive(pid));
    const killed = performance.now();
    child.kill('SIGKILL');
    await waitFor('Redis to stop', async () => !running(pid), 5000, 20);
    const ms = Math.round(performance.now() - killed);
    t.diagnostic(`Redis (${watch}) gone ${ms} ms after its supervisor's SIGKILL`);
    // Nothing is left of it: the port is free, and the next start finds no stale Redis to stop.
    assert.equal(await portIsFree('127.0.0.1', port), true);
    assert.equal(await stopStaleRedis(dataDir), null);
  });
}

test('services and Redis stop by themselves when their supervisor is killed', {
  timeout: 180_000,
}, async (t) => {
  const { child, dataDir, line } = await startHelper('stack-child.ts', 'PIDS', {}, 120_000);
  const { redis: _watched, ...services } = JSON.parse(line) as Record<string, number>;
  const redis = redisPid(dataDir);
  assert.ok(redis && alive(redis), 'Redis runs');
  t.after(() => {
    for (const pid of [redis, ...Object.values(services)])
      if (pid && alive(pid)) process.kill(-pid, 'SIGKILL');
  });
  const killed = performance.now();
  child.kill('SIGKILL');
  // Redis at once (the kernel's signal or its watcher); the services within their 2 s check.
  await waitFor('Redis to stop', async () => !running(redis), 5000, 20);
  t.diagnostic(`Redis gone ${Math.round(performance.now() - killed)} ms after the supervisor's SIGKILL`);
  await waitFor(
    'the scheduler, worker and streamer to stop',
    async () => Object.values(services).every((pid) => !running(pid)),
    30_000,
    20,
  );
  t.diagnostic(`services gone ${Math.round(performance.now() - killed)} ms after it`);
  assert.ok(Object.keys(services).length >= 3, line);
  assert.equal(await stopStaleRedis(dataDir), null);
});
