// Listener fan-out: how many 128 kbps MP3 listeners our streamer holds at real time, against Debian's
// icecast2 relaying the same stream (our streamer pushes to it as its source), in the same run with
// the same load generator (bench/fanout-client.ts, its own process). Ramp steps of STEPS listeners,
// each held HOLD_MS, until fewer than 99 % keep up. A listener keeps up when its audio after the
// connect burst stays within 1 s of the wall clock. Server CPU comes from /proc/<pid>/stat.
// First, on each server, a connect storm: STORM_N listeners within STORM_MS (time to first audio
// byte, held at real time, CPU per 1000 over the hold), STORM_ROUNDS rounds alternating servers.
// Usage: bench/fanout.ts [storm] (storm: the storm only, no ramp). Prints JSON.
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { freePort } from '../scripts/supervisor/redis.ts';
import { startStack } from '../scripts/supervisor/stack.ts';
import { icecastMount, icecastUnavailable, startIcecast } from '../test/helpers/icecast.ts';
import type { StepRequest, StepResult } from './fanout-client.ts';

const STEPS = [250, 1000, 2000, 4000, 8000, 16000];
const RAMP_MS = 2500;
const HOLD_MS = 12_000;
const HELD_FRACTION = 0.99;
/** Whole-run limit: no new step starts past it. */
const BUDGET_MS = 260_000;
const MOUNT = '/lofi.mp3';
const STORM_N = 3000;
const STORM_MS = 2000;
const STORM_HOLD_MS = 10_000;
const STORM_ROUNDS = 2;
const STORM_ONLY = process.argv[2] === 'storm';

const unavailable = icecastUnavailable();
if (unavailable) throw new Error(`the fan-out benchmark needs icecast2: ${unavailable}`);

// Each listener is one descriptor in the client and one in the server.
const fdLimit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || 1024;
const steps = STEPS.filter((n) => n + 512 <= fdLimit);
if (steps.length < STEPS.length) {
  process.stderr.write(`[fanout] open-file limit ${fdLimit}: steps above ${steps.at(-1)} left out\n`);
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

interface StepStats {
  n: number;
  heldFraction: number;
  cpuCoresPer1000: number;
  ttfaP50Ms: number;
  ttfaP99Ms: number;
  clientCores: number;
}

const started = Date.now();
const ice = await startIcecast({ clients: Math.max(...steps) + 100 });
// A stack that fails to start must not leave icecast2 running.
const stack = await startStack({
  persist: false,
  log: pino({ level: 'warn' }),
  env: {
    ...process.env,
    REDIS_URL: '',
    PORT: String(await freePort()),
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'lofi-bench-fanout-')),
    QUEUE_PREFIX: `bench-${process.pid}`,
    LOG_LEVEL: 'warn',
    ICECAST_PUSH_URL: `http://source:${ice.sourcePassword}@127.0.0.1:${ice.port}${MOUNT}`,
  },
}).catch(async (err: unknown) => {
  await ice.stop();
  throw err;
});
const client = fork(path.join(import.meta.dirname, 'fanout-client.ts'), [], {
  execArgv: ['--import', 'tsx'],
});
let clientGone: Error | null = null;
client.on('exit', (code) => {
  clientGone = new Error(`load generator exited (${code})`);
});
const runStep = (req: StepRequest): Promise<StepResult> =>
  new Promise((resolve, reject) => {
    if (clientGone) return reject(clientGone);
    const onExit = () => reject(clientGone);
    client.once('exit', onExit);
    client.once('message', (m) => {
      client.off('exit', onExit);
      resolve(m as StepResult);
    });
    client.send(req);
  });

async function ramp(name: string, url: string, pid: number): Promise<StepStats[]> {
  const out: StepStats[] = [];
  for (const n of steps) {
    if (Date.now() - started > BUDGET_MS) {
      process.stderr.write(`[fanout] ${name}: time budget spent before ${n} listeners\n`);
      break;
    }
    // The server's CPU is read over the hold, after the ramp's connection handling.
    let cpuAtRamp = 0;
    const rampTimer = setTimeout(() => {
      cpuAtRamp = cpuSeconds(pid);
    }, RAMP_MS + 300);
    const r = await runStep({ url, n, rampMs: RAMP_MS, holdMs: HOLD_MS });
    clearTimeout(rampTimer);
    const cpuEnd = cpuSeconds(pid);
    const cores = (cpuEnd - cpuAtRamp) / ((r.endedAt - r.rampedAt - 300) / 1000);
    const s: StepStats = {
      n,
      heldFraction: r.held / n,
      cpuCoresPer1000: cores / (n / 1000),
      ttfaP50Ms: quantile(r.ttfaMs, 0.5),
      // Listeners that never got audio count as the slowest.
      ttfaP99Ms: r.started < n ? Number.POSITIVE_INFINITY : quantile(r.ttfaMs, 0.99),
      clientCores: r.clientCores,
    };
    out.push(s);
    process.stderr.write(`[fanout] ${name} ${JSON.stringify(s)}\n`);
    // Let the server close the last step's sockets before the next one.
    await new Promise((res) => setTimeout(res, 1500));
    if (s.heldFraction < HELD_FRACTION) break;
  }
  return out;
}

interface StormStats {
  n: number;
  rampMs: number;
  heldFraction: number;
  started: number;
  ttfaP50Ms: number;
  ttfaP90Ms: number;
  ttfaP99Ms: number;
  ttfaMaxMs: number;
  cpuCoresPer1000: number;
  clientCores: number;
}

/** STORM_N listeners within STORM_MS, all at once against one server; CPU over the hold. */
async function storm(name: string, url: string, pid: number): Promise<StormStats> {
  let cpuAtRamp = 0;
  const rampTimer = setTimeout(() => {
    cpuAtRamp = cpuSeconds(pid);
  }, STORM_MS + 1000);
  const r = await runStep({ url, n: STORM_N, rampMs: STORM_MS, holdMs: STORM_HOLD_MS });
  clearTimeout(rampTimer);
  const cores = (cpuSeconds(pid) - cpuAtRamp) / ((r.endedAt - r.rampedAt - 1000) / 1000);
  // Listeners that never got audio count as the slowest.
  const ttfa = [...r.ttfaMs, ...Array<number>(STORM_N - r.started).fill(Number.POSITIVE_INFINITY)];
  const s: StormStats = {
    n: STORM_N,
    rampMs: STORM_MS,
    heldFraction: r.held / STORM_N,
    started: r.started,
    ttfaP50Ms: quantile(ttfa, 0.5),
    ttfaP90Ms: quantile(ttfa, 0.9),
    ttfaP99Ms: quantile(ttfa, 0.99),
    ttfaMaxMs: quantile(ttfa, 1),
    cpuCoresPer1000: cores / (STORM_N / 1000),
    clientCores: r.clientCores,
  };
  process.stderr.write(`[fanout] storm ${name} ${JSON.stringify(s)}\n`);
  await new Promise((res) => setTimeout(res, 2000));
  return s;
}

/** The largest step held, and where it broke (null: never broke within the steps). */
function summary(stats: StepStats[]) {
  const ok = stats.filter((s) => s.heldFraction >= HELD_FRACTION);
  const best = ok.at(-1);
  return {
    held: best?.n ?? 0,
    brokeAt: stats.find((s) => s.heldFraction < HELD_FRACTION)?.n ?? null,
    cpuCoresPer1000: best?.cpuCoresPer1000 ?? Number.NaN,
    ttfaP50Ms: best?.ttfaP50Ms ?? Number.NaN,
    ttfaP99Ms: best?.ttfaP99Ms ?? Number.NaN,
    steps: stats,
  };
}

let result: Record<string, unknown>;
try {
  const wait = async (what: string, ok: () => Promise<unknown>, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await ok().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  await wait('the station to play', async () => (await fetch(`${stack.baseUrl}/healthz`)).ok, 90_000);
  await wait('the icecast mount', async () => (await icecastMount(ice, MOUNT))?.title, 30_000);
  const streamerPid = stack.children.get('streamer')?.pid;
  const icePid = ice.pid();
  if (!streamerPid || !icePid) throw new Error('no server pid');
  const oursUrl = `${stack.baseUrl}/stations/lofi/stream.mp3`;
  const storms: { ours: StormStats[]; icecast2: StormStats[] } = { ours: [], icecast2: [] };
  for (let round = 0; round < STORM_ROUNDS; round++) {
    // Alternating who goes first, so neither always meets a fresher machine.
    const order = round % 2 === 0 ? (['ours', 'icecast2'] as const) : (['icecast2', 'ours'] as const);
    for (const who of order) {
      storms[who].push(
        who === 'ours'
          ? await storm('ours', oursUrl, streamerPid)
          : await storm('icecast2', ice.mountUrl(MOUNT), icePid),
      );
    }
  }
  const ours = summary(STORM_ONLY ? [] : await ramp('ours', oursUrl, streamerPid));
  const theirs = summary(STORM_ONLY ? [] : await ramp('icecast2', ice.mountUrl(MOUNT), icePid));
  // CPU and start-up time compared at the largest step both held.
  const common = Math.min(ours.held, theirs.held);
  const at = (s: ReturnType<typeof summary>) => s.steps.find((x) => x.n === common) ?? null;
  result = {
    steps,
    holdSeconds: HOLD_MS / 1000,
    storm: storms,
    ours,
    icecast2: theirs,
    heldRatio: theirs.held ? ours.held / theirs.held : Number.NaN,
    common: { n: common, ours: at(ours), icecast2: at(theirs) },
    icecastVersion: /Icecast [\d.]+/.exec(ice.errorLog())?.[0] ?? 'icecast2',
    seconds: (Date.now() - started) / 1000,
  };
} finally {
  client.send('exit');
  await stack.stop();
  await ice.stop();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
