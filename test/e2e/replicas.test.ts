// Two streamer replicas against one Redis and one store: each station's playout runs on the replica
// holding its lease, the other relays its MP3 and serves its HLS window from the store. Killing the
// leader (kill -9) hands the station to the survivor: its listeners keep their connection and hear
// no silence and no stall, a listener of the dead replica moves to the survivor, and the HLS
// playlist goes on without a gap.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { ChaosListener } from '../chaos/listener.ts';
import { icyTitle } from '../helpers/icy.ts';
import { uniquePrefix } from '../helpers/redis-server.ts';
import { startReplica } from '../helpers/replica.ts';
import { testStack, waitFor } from '../helpers/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Playlist {
  first: number;
  seqs: number[];
}

async function playlist(base: string): Promise<Playlist> {
  const text = await (await fetch(`${base}/stations/lofi/hls/live.m3u8?sid=replica-test-1`)).text();
  const first = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
  const count = text.split('\n').filter((l) => l.startsWith('#EXTINF')).length;
  return { first, seqs: Array.from({ length: count }, (_, i) => first + i) };
}

test('a second streamer relays the leader and takes the playout over when it dies', {
  timeout: 300_000,
}, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lofi-replicas-'));
  const prefix = uniquePrefix('replicas');
  const stack = await testStack({ DATA_DIR: dataDir, QUEUE_PREFIX: prefix, LEASE_TTL_MS: '3000' });
  t.after(() => stack.stop());
  const a = stack.baseUrl;
  await waitFor(
    'the first streamer to play',
    async () => (await fetch(`${a}/healthz`)).status === 200,
    120_000,
  );

  const replicaB = await startReplica(stack, {
    DATA_DIR: dataDir,
    QUEUE_PREFIX: prefix,
    LEASE_TTL_MS: '3000',
    REPLICA_ID: 'replica-b',
  });
  t.after(() => replicaB.kill());
  const b = replicaB.baseUrl;
  const redis = new Redis(stack.redisUrl);
  t.after(() => redis.quit());
  const leaseKey = `${prefix}:station:lofi:lease`;
  const holder = async () =>
    JSON.parse((await redis.get(leaseKey)) ?? '[null,null]') as [string | null, string];

  // B relays: it answers with music while A holds the lease.
  await waitFor(
    'the second streamer to relay',
    async () => (await fetch(`${b}/healthz`)).status === 200,
    60_000,
  );
  const [leaderBefore, leaderUrl] = await holder();
  assert.ok(leaderBefore && leaderBefore !== 'replica-b', `A leads (lease: ${leaderBefore})`);
  assert.equal(leaderUrl, a, 'the lease names the URL replicas relay from');
  const viewB = await waitFor(
    'now-playing on the relaying replica',
    async () => {
      const v = (await (await fetch(`${b}/api/stations/lofi`)).json()) as {
        nowPlaying: { seq: number } | null;
      };
      return v.nowPlaying ? v : null;
    },
    30_000,
  );
  assert.ok(viewB.nowPlaying);
  // The relayed stream carries the leader's titles in band (read by icecast-parser).
  const history = async () =>
    (
      (await (await fetch(`${b}/api/stations/lofi/history`)).json()) as {
        history: { streamTitle: string }[];
      }
    ).history.map((h) => h.streamTitle);
  const title = await icyTitle(`${b}/stations/lofi/stream.mp3`);
  assert.ok(
    title.length > 0 && (await history()).includes(title),
    `relayed ICY title ${JSON.stringify(title)}`,
  );
  // Both replicas serve the same HLS playlist: B reads A's window from the store.
  await waitFor(
    'the same HLS window on both',
    async () => {
      const [pa, pb] = await Promise.all([playlist(a), playlist(b)]);
      return pa.seqs.length >= 2 && pa.first === pb.first && pa.seqs.length === pb.seqs.length;
    },
    60_000,
    500,
  );

  const onB = new ChaosListener(`${b}/stations/lofi/stream.mp3`);
  const onA = new ChaosListener([`${a}/stations/lofi/stream.mp3`, `${b}/stations/lofi/stream.mp3`]);
  t.after(() => {
    onB.stop();
    onA.stop();
  });
  await waitFor(
    'both listeners to hear music',
    async () => onB.snapshot().audioSeconds > 8 && onA.snapshot().audioSeconds > 8,
    60_000,
  );
  // Either replica reports the station's whole audience: one listener here, one there (the
  // relay between them is not a listener).
  const everywhere = async (base: string) =>
    (await (await fetch(`${base}/api/stations/lofi/listeners`)).json()) as {
      total: number;
      replicas: number;
    };
  for (const base of [a, b]) {
    await waitFor(
      `both listeners counted at ${base}`,
      async () => {
        const c = await everywhere(base);
        return c.total === 2 && c.replicas === 2;
      },
      10_000,
      200,
    );
  }
  const hlsBefore = await playlist(b);
  const fromB = onB.snapshot();
  const fromA = onA.snapshot();

  const streamerA = stack.children.get('streamer');
  assert.ok(streamerA?.pid);
  process.kill(streamerA.pid, 'SIGKILL');
  const killed = Date.now();
  await waitFor('B to take the lease', async () => (await holder())[0] === 'replica-b', 20_000, 100);
  const takeoverSeconds = (Date.now() - killed) / 1000;
  await sleep(20_000);

  const b1 = onB.since(fromB);
  const a1 = onA.since(fromA);
  const hlsAfter = await playlist(b);
  process.stdout.write(
    `# takeover ${takeoverSeconds.toFixed(2)} s; B's listener ${JSON.stringify(b1)}; A's listener ${JSON.stringify(a1)}; HLS ${JSON.stringify(hlsBefore)} -> ${JSON.stringify(hlsAfter)}\n`,
  );
  assert.ok(takeoverSeconds < 5, `takeover within a few seconds (${takeoverSeconds} s)`);
  assert.equal(b1.reconnects, 0, "B's listener kept its connection");
  assert.equal(b1.silenceSeconds, 0, "B's listener heard no silence");
  assert.equal(b1.stallSeconds, 0, "B's listener's player never ran dry");
  assert.ok(b1.audioSeconds > 18, `B's listener kept receiving audio (${b1.audioSeconds} s in 20+ s)`);
  assert.ok(a1.reconnects >= 1, "A's listener lost its replica");
  assert.equal(a1.silenceSeconds, 0, "A's listener heard no silence");
  assert.equal(a1.stallSeconds, 0, "A's listener moved to B before its player ran dry");
  // The HLS timeline continues on the survivor: no sequence number skipped.
  assert.ok(hlsAfter.first <= (hlsBefore.seqs.at(-1) ?? 0) + 1, 'no gap in the HLS playlist');
  assert.ok((hlsAfter.seqs.at(-1) ?? 0) > (hlsBefore.seqs.at(-1) ?? 0), 'and it goes on');
  const viewAfter = (await (await fetch(`${b}/api/stations/lofi`)).json()) as { nowPlaying: unknown };
  assert.ok(viewAfter.nowPlaying, 'the survivor reports what plays');
  // The dead replica's counts age out; both listeners are now the survivor's (A restarted empty).
  await waitFor(
    'the counts to settle on the survivor',
    async () => {
      const c = await everywhere(b);
      return c.total === 2 ? c : null;
    },
    15_000,
    500,
  );
});
