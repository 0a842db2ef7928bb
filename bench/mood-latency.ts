// Mood change latency: PUT /mood → the first audio of the new mood, (a) on air in the playout and
// (b) arriving at a listener connected over ICY (the in-band title that precedes that audio).
// Twenty changes alternating between two moods. Prints JSON.

import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { freePort } from '../scripts/supervisor/redis.ts';
import { startStack } from '../scripts/supervisor/stack.ts';
import { IcyDemuxer } from '../test/helpers/icy-demux.ts';

const CHANGES = Number(process.argv[2] ?? 20);
const MOODS = ['rainy-day slow jazz with soft piano', 'sunny afternoon guitar, upbeat'];

/** Our own ICY client: calls back with (title, arrival time) for every metadata block. */
function listen(url: string, onTitle: (title: string, at: number) => void): () => void {
  const req = http.get(url, { headers: { 'icy-metadata': '1' } }, (res) => {
    const metaint = Number(res.headers['icy-metaint']);
    const demux = new IcyDemuxer(metaint, { title: (title) => title && onTitle(title, Date.now()) });
    res.on('data', (chunk: Buffer) => demux.push(chunk));
  });
  return () => req.destroy();
}

const stack = await startStack({
  persist: false,
  log: pino({ level: 'warn' }),
  env: {
    ...process.env,
    REDIS_URL: '',
    PORT: String(await freePort()),
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'lofi-bench-mood-')),
    QUEUE_PREFIX: `bench-${process.pid}`,
    LOG_LEVEL: 'warn',
  },
});
try {
  const base = stack.baseUrl;
  const wait = async (ok: () => Promise<boolean>, ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await ok().catch(() => false)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };
  await wait(async () => (await fetch(`${base}/healthz`)).status === 200, 90_000);
  const titles: Array<{ title: string; at: number }> = [];
  const stop = listen(`${base}/stations/lofi/stream.mp3`, (title, at) => titles.push({ title, at }));
  await new Promise((r) => setTimeout(r, 5000));
  const onAir: number[] = [];
  const atListener: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const t0 = Date.now();
    const res = await fetch(`${base}/api/stations/lofi/mood`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: MOODS[i % 2] }),
    });
    const { promptVersion } = (await res.json()) as { promptVersion: number };
    let title = '';
    await wait(async () => {
      const np = (await (await fetch(`${base}/api/stations/lofi/now-playing`)).json()) as {
        promptVersion: number;
        streamTitle: string;
        startedAt: string;
      };
      if (np.promptVersion !== promptVersion) return false;
      // The in-band title is the track's `artist - title`.
      title = np.streamTitle;
      onAir.push((Date.parse(np.startedAt) - t0) / 1000);
      return true;
    }, 30_000);
    await wait(async () => titles.some((x) => x.at >= t0 && x.title === title), 30_000);
    const heard = titles.find((x) => x.at >= t0 && x.title === title);
    if (heard) atListener.push((heard.at - t0) / 1000);
    await new Promise((r) => setTimeout(r, 4000));
  }
  stop();
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return {
      n: s.length,
      p50: s[Math.floor(s.length / 2)] ?? Number.NaN,
      max: s[s.length - 1] ?? Number.NaN,
    };
  };
  process.stdout.write(
    `${JSON.stringify({ changes: CHANGES, onAir: stats(onAir), atListener: stats(atListener) })}\n`,
  );
} finally {
  await stack.stop();
}
