// Stopping `npm start`: SIGTERM to the supervisor, or Ctrl-C (SIGINT to the terminal's whole
// foreground process group), after the stack has run a while, ends every process it started
// (services, their ffmpeg and Python children, Redis) within 3 s, each service by its own graceful
// close (the streamer's HLS flush and lease release included), none by SIGKILL.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../scripts/supervisor/redis.ts';
import { waitFor } from '../helpers/stack.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** What the issue asks of a stop, from the signal until the last process is gone. */
const STOP_BOUND_MS = 3000;

/** pid -> [parent pid, state] for every process. */
function processes(): Map<number, [number, string]> {
  const all = new Map<number, [number, string]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      all.set(Number(d), [Number(ppid), state as string]);
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** The process and all its descendants, with their command lines. */
function tree(root: number): Map<number, string> {
  const all = processes();
  const out = new Map<number, string>([[root, '']]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, [ppid]] of all)
      if (out.has(ppid) && !out.has(pid)) {
        out.set(pid, '');
        grew = true;
      }
  }
  for (const pid of out.keys()) {
    try {
      out.set(pid, readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 70));
    } catch {
      out.delete(pid);
    }
  }
  return out;
}

/** Running: not gone and not a zombie (pid 1 here may take a while to reap an orphan). */
const running = (pid: number, all = processes()): boolean => {
  const p = all.get(pid);
  return p !== undefined && p[1] !== 'Z';
};

interface Run {
  proc: ChildProcess;
  log: () => string;
}

async function startNpm(cmd: string, args: string[]): Promise<Run> {
  const port = await freePort();
  const proc = spawn(cmd, args, {
    cwd: ROOT,
    detached: true, // its own process group, as a terminal's foreground job is
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'lofi-stop-')),
      ADMIN_TOKEN: 'stop-test-admin-token-0123456789',
      REDIS_URL: '',
      LOG_LEVEL: 'info',
    },
  });
  let log = '';
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor('the station to be on air', async () => log.includes('is on air'), 180_000);
  await waitFor(
    'the stream to play',
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200,
    60_000,
  );
  return { proc, log: () => log };
}

async function stopAndTime(
  run: Run,
  send: () => void,
  t: { diagnostic(m: string): void; after(f: () => void): void },
) {
  const pids = tree(run.proc.pid as number);
  t.after(() => {
    for (const pid of pids.keys()) if (running(pid)) process.kill(pid, 'SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => run.proc.once('exit', (code) => resolve(code)));
  const from = run.log().length;
  const started = performance.now();
  send();
  const goneAt = new Map<number, number>();
  while (goneAt.size < pids.size && performance.now() - started < 15_000) {
    const all = processes();
    for (const pid of pids.keys())
      if (!goneAt.has(pid) && !running(pid, all)) goneAt.set(pid, performance.now() - started);
    await new Promise((r) => setTimeout(r, 10));
  }
  const allGoneMs = Math.round(Math.max(...goneAt.values()));
  for (const [pid, cmd] of pids)
    t.diagnostic(`${String(Math.round(goneAt.get(pid) ?? Number.NaN)).padStart(5)} ms  ${pid} ${cmd}`);
  t.diagnostic(`every process gone ${allGoneMs} ms after the signal`);
  const stopLog = run.log().slice(from);
  const stopped = stopLog
    .split('\n')
    .filter((l) => l.includes('"child stopped'))
    .map((l) => JSON.parse(l) as { child: string; ms: number; code: number | null; msg: string });
  for (const s of stopped) t.diagnostic(`supervisor: ${s.child} stopped in ${s.ms} ms (exit ${s.code})`);
  const missing = [...pids.entries()].filter(([pid]) => !goneAt.has(pid));
  assert.deepEqual(missing, [], 'processes still running after the stop');
  return { allGoneMs, stopLog, stopped, exitCode: await exited };
}

function assertGraceful(r: Awaited<ReturnType<typeof stopAndTime>>): void {
  // Every child closed by itself (exit 0 means its close() finished: the streamer's includes the
  // HLS flush and the lease release), none needed SIGKILL; Redis last.
  const names = r.stopped.map((s) => s.child);
  assert.ok(
    names.includes('streamer') && names.includes('scheduler') && names.includes('worker-1'),
    names.join(),
  );
  assert.equal(names.at(-1), 'redis');
  for (const s of r.stopped) {
    assert.equal(s.msg, 'child stopped', `${s.child}: ${s.msg}`);
    assert.equal(s.code, 0, `${s.child} exited ${s.code}`);
  }
  assert.doesNotMatch(r.stopLog, /could not hand the leases over/);
  assert.ok(r.allGoneMs < STOP_BOUND_MS, `the stop took ${r.allGoneMs} ms`);
}

test('SIGTERM to `npm start` after a minute stops everything within 3 s', { timeout: 300_000 }, async (t) => {
  // What `npm start` runs (package.json), without npm in between.
  const run = await startNpm(process.execPath, ['scripts/start.mjs']);
  await new Promise((r) => setTimeout(r, 60_000));
  const r = await stopAndTime(run, () => run.proc.kill('SIGTERM'), t);
  assertGraceful(r);
  assert.equal(r.exitCode, 0);
});

test('Ctrl-C of `npm start` (SIGINT to the process group) stops everything within 3 s', {
  timeout: 300_000,
}, async (t) => {
  const run = await startNpm('npm', ['start', '--silent']);
  await new Promise((r) => setTimeout(r, 20_000));
  const r = await stopAndTime(run, () => process.kill(-(run.proc.pid as number), 'SIGINT'), t);
  assertGraceful(r);
});
