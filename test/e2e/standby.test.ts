// Standby playout on a follower. Two real streamers on one real Redis and store; the follower (B)
// reaches the leader (A) through a TCP proxy in its own process, A's advertised REPLICA_URL. The
// proxy is frozen (SIGSTOP): a network black hole, not a refusal. A keeps renewing its lease
// (straight to Redis) and keeps playing, while B's relay gets nothing. After 3 s B's listener
// hears the station rendered by B from the store, from where it was, and B writes nothing; when the
// proxy thaws, B hands its listener back to the relay. Then, with B on standby again, A itself is
// frozen (SIGSTOP): its lease lapses and B takes the playout over through the ordinary path. B's
// listener keeps one connection throughout and never runs dry.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/supervisor/redis.ts';
import { ChaosListener } from '../chaos/listener.ts';
import { cleanupStack } from '../helpers/cleanup.ts';
import { uniquePrefix } from '../helpers/redis-server.ts';
import { startReplica } from '../helpers/replica.ts';
import { testStack, waitFor } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long the proxy stays frozen: well past the 3 s after which the standby goes on air. */
const BLACK_HOLE_MS = 10_000;
/** Commands that only read; anything else a follower sends about these keys is a write. */
const READS = new Set(['get', 'mget', 'hget', 'hgetall', 'hmget', 'exists', 'ttl', 'pttl']);

/** The ffmpeg children of a process, by what they encode. */
function encoders(pid: number): string[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-P', String(pid), 'ffmpeg']).toString();
  } catch {
    return []; // pgrep exits 1 when there is none
  }
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((p) => {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      return cmd.includes('libmp3lame') ? 'mp3' : cmd.includes('aac') ? 'aac' : 'other';
    });
}

/** Bytes a new listener gets in its first 150 ms: the connect burst. */
function burstBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const req = http.get(url, (res) => {
      res.on('data', (d: Buffer) => {
        n += d.length;
      });
      setTimeout(() => {
        req.destroy();
        resolve(n);
      }, 150);
    });
    req.on('error', reject);
  });
}

test('a follower cut off from its leader plays the station on standby and hands back', {
  timeout: 400_000,
}, async (t) => {
  const defer = cleanupStack(t);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lofi-standby-'));
  const prefix = uniquePrefix('standby');
  const portA = await freePort();
  const proxy = await startTcpProxy(portA);
  defer(() => proxy.kill());
  const stack = await testStack({
    DATA_DIR: dataDir,
    QUEUE_PREFIX: prefix,
    PORT: String(portA),
    // The other replicas reach A only through the proxy.
    REPLICA_URL: proxy.url,
  });
  defer(() => stack.stop());
  const a = stack.baseUrl;
  await waitFor('A to play', async () => (await fetch(`${a}/healthz`)).status === 200, 120_000);
  const replicaB = await startReplica(stack, {
    DATA_DIR: dataDir,
    QUEUE_PREFIX: prefix,
    REPLICA_ID: 'replica-b',
  });
  defer(() => replicaB.kill());
  const b = replicaB.baseUrl;
  const redis = new Redis(stack.redisUrl);
  defer(() => redis.quit());
  const keyOf = (k: string) => `${prefix}:station:lofi:${k}`;
  const holder = async () => (JSON.parse((await redis.get(keyOf('lease'))) ?? '[null,""]') as string[])[0];
  const metric = async (name: string) =>
    Number(
      new RegExp(`^${name}\\{station="lofi"\\} (\\S+)$`, 'm').exec(
        await (await fetch(`${b}/metrics`)).text(),
      )?.[1] ?? Number.NaN,
    );
  await waitFor('B to relay A', async () => (await fetch(`${b}/healthz`)).status === 200, 60_000);
  const leaderA = await holder();
  assert.ok(leaderA && leaderA !== 'replica-b', `A leads (${leaderA})`);
  assert.equal(await metric('lofi_station_leader'), 0, 'B follows');

  // The listener joins a station that has played for a while, so it starts with the whole connect
  // burst (about 4 s, a player's usual cushion), not the little there is in the first seconds.
  await waitFor(
    'a full connect burst on B',
    async () => (await burstBytes(`${b}/stations/lofi/stream.mp3`)) >= 60_000,
    30_000,
  );
  const listener = new ChaosListener(`${b}/stations/lofi/stream.mp3`);
  defer(() => listener.stop());
  await waitFor('B’s listener to hear music', async () => listener.snapshot().audioSeconds > 8, 60_000);
  assert.equal(await metric('lofi_station_standby'), 0, 'no standby while the relay plays');

  // Every command B sends from now on, by its Redis connections (named after the replica).
  const clients = (await redis.client('LIST')) as string;
  const addrs = new Set(
    clients
      .split('\n')
      .filter((l) => / name=streamer(-sub)?:replica-b /.test(l))
      .map((l) => / addr=(\S+)/.exec(l)?.[1]),
  );
  assert.ok(addrs.size >= 1, `B's connections in CLIENT LIST:\n${clients}`);
  const monitored = new Redis(stack.redisUrl);
  defer(() => monitored.disconnect());
  const monitor = await monitored.monitor();
  defer(() => monitor.disconnect());
  const seen: { ms: number; from: 'A' | 'B'; args: string[] }[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    seen.push({ ms: Date.now(), from: addrs.has(source) ? 'B' : 'A', args });
  });

  // 1. The black hole: B hears nothing from A, A keeps its lease.
  const from = listener.snapshot();
  process.stdout.write(`# before the black hole: ${JSON.stringify(from)}\n`);
  proxy.freeze();
  const frozenAt = Date.now();
  const standbyOn = await waitFor(
    'B on standby',
    async () => ((await metric('lofi_station_standby')) === 1 ? Date.now() : null),
    10_000,
    100,
  );
  const standbyAfter = (standbyOn - frozenAt) / 1000;
  await sleep(1500);
  const encodingOnStandby = encoders(replicaB.proc.pid as number);
  while (Date.now() - frozenAt < BLACK_HOLE_MS) {
    assert.equal(await holder(), leaderA, 'A holds the lease through the black hole');
    await sleep(500);
  }
  proxy.thaw();
  const thawedAt = Date.now();
  const standbyOff = await waitFor(
    'B to hand back to the relay',
    async () => ((await metric('lofi_station_standby')) === 0 ? Date.now() : null),
    15_000,
    100,
  );
  const handBack = (standbyOff - thawedAt) / 1000;
  const standbyWrites = seen.filter((c) => c.ms >= frozenAt && c.ms <= standbyOff);
  await sleep(8000);
  const w = listener.since(from);
  const encodingAfter = encoders(replicaB.proc.pid as number);
  const starts = await metric('lofi_station_standby_starts_total');
  process.stdout.write(
    `# black hole ${BLACK_HOLE_MS / 1000} s: standby on air ${standbyAfter.toFixed(2)} s after the freeze, handed back ${handBack.toFixed(2)} s after the thaw; B's listener over ${(w.atMs / 1000).toFixed(1)} s: ${JSON.stringify(w)}; B's encoders on standby ${JSON.stringify(encodingOnStandby)}, after ${JSON.stringify(encodingAfter)}\n`,
  );

  // B wrote nothing of the station's: no playhead, no now-playing (history), no segment index.
  const mine = [keyOf('playhead'), keyOf('now-playing'), keyOf('segments')];
  const touches = (c: { args: string[] }) => c.args.some((x) => mine.includes(x));
  const writesByB = standbyWrites.filter(
    (c) => c.from === 'B' && touches(c) && !READS.has(c.args[0]?.toLowerCase() ?? ''),
  );
  assert.deepEqual(writesByB, [], 'B wrote none of the station’s keys on standby');
  // The check can fail: the same window holds B's reads and A's writes of those keys.
  assert.ok(
    standbyWrites.some((c) => c.from === 'B' && c.args[1] === keyOf('playhead')),
    'B read the playhead to start from',
  );
  assert.ok(
    standbyWrites.some(
      (c) => c.from === 'A' && c.args[0]?.toLowerCase() === 'set' && c.args[1] === keyOf('playhead'),
    ),
    "A's playhead writes are seen",
  );
  // The standby encodes MP3 only (no HLS encoder, so no HLS to write) and stops with the hand-back.
  assert.deepEqual(encodingOnStandby, ['mp3'], 'one MP3 encoder on standby, no HLS encoder');
  assert.deepEqual(encodingAfter, [], 'the standby encoder is gone after the hand-back');
  assert.ok(standbyAfter >= 2.5 && standbyAfter < 4, `standby after 3 s of quiet (${standbyAfter} s)`);
  assert.ok(handBack < 5, `handed back within seconds of the relay's return (${handBack} s)`);
  assert.equal(starts, 1, 'one standby, no flapping');
  // What B's listener got: one connection, no silence, a player that never ran dry, and all the
  // audio of the window (the standby renders what the black hole held back, then real time).
  assert.equal(w.reconnects, 0, 'the listener kept its connection');
  assert.equal(w.silenceSeconds, 0, 'no silence');
  assert.equal(w.stallSeconds, 0, 'the player never ran dry');
  const wall = w.atMs / 1000;
  assert.ok(w.audioSeconds > wall - 1, `audio at real-time rate: ${w.audioSeconds} s in ${wall} s`);
  // The relay really went quiet (the test would prove nothing otherwise), and for no longer than
  // the 3 s before the standby plus half a second: it was rendering, held back, and went on air at once.
  assert.ok(
    w.longestGapSeconds >= 2.8 && w.longestGapSeconds < 3.5,
    `longest wait for a byte ${w.longestGapSeconds} s`,
  );

  // 2. On standby again, the leader stops too (SIGSTOP: the supervisor sees no exit, so nothing
  // restarts it): its lease lapses (the frozen proxy still accepts connections, so B cannot prove
  // A dead) and B takes the playout over as it always does.
  const from2 = listener.snapshot();
  proxy.freeze();
  await waitFor('B on standby again', async () => (await metric('lofi_station_standby')) === 1, 10_000, 100);
  const pidA = stack.children.get('streamer')?.pid;
  assert.ok(pidA);
  process.kill(pidA, 'SIGSTOP');
  defer(() => process.kill(pidA, 'SIGCONT'));
  const stoppedAt = Date.now();
  await waitFor('B to take the lease', async () => (await holder()) === 'replica-b', 15_000, 100);
  const takeover = (Date.now() - stoppedAt) / 1000;
  await sleep(8000);
  const w2 = listener.since(from2);
  process.stdout.write(
    `# takeover from standby ${takeover.toFixed(2)} s after A stopped; B's listener ${JSON.stringify(w2)}\n`,
  );
  assert.equal(await metric('lofi_station_leader'), 1, 'B leads');
  assert.equal(await metric('lofi_station_standby'), 0, 'no standby while leading');
  assert.equal(w2.reconnects, 0, 'the listener kept its connection');
  assert.equal(w2.silenceSeconds, 0, 'no silence');
  assert.equal(w2.stallSeconds, 0, 'the player never ran dry');
  // A wakes to find its lease gone: it steps down and relays B (B's URL is direct).
  process.kill(pidA, 'SIGCONT');
  proxy.thaw();
  await waitFor(
    'A to follow B',
    async () => (await holder()) === 'replica-b' && (await fetch(`${a}/healthz`)).ok,
    20_000,
  );
});
