// Listener counts, the WebSocket and the playlist files, with real clients over real HTTP: MP3
// stream connections, an HLS session polling like a player, a `ws` WebSocket client.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { loadConfig } from '@lofi/config';
import { ChainStore, connect, Keys, StationRepo } from '@lofi/redis';
import Fastify from 'fastify';
import WebSocket from 'ws';
import { waitFor } from '../../../test/helpers/stack.ts';
import { registerListenFiles } from '../src/api/listen-files.ts';
import { TONE_ADMIN_TOKEN, type ToneApp, toneApp } from './tone-app.ts';

const TARGET = 1;
let tones: ToneApp;
let base: string;

before(async () => {
  tones = await toneApp({ hlsTargetSeconds: TARGET, contentSeconds: 3 });
  base = tones.base;
  await waitFor('the station to play', async () => (await fetch(`${base}/healthz`)).status === 200, 30_000);
});

after(async () => {
  await tones?.close();
});

interface Counts {
  mp3: number;
  hls: number;
  total: number;
  peak: number;
}
const counts = async (): Promise<Counts> =>
  (await (await fetch(`${base}/api/stations/lofi/listeners`)).json()) as Counts;

/** An MP3 listener: a real HTTP stream connection, read until closed. */
function mp3Listener(): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/stations/lofi/stream.mp3`, (res) => {
      res.on('data', () => {});
      res.on('error', () => {});
      resolve(req);
    });
    req.on('error', reject);
  });
}

/** An HLS player's traffic: the master once, then the media playlist and its newest segment. */
function hlsSession(): { stop(): void; done: Promise<void> } {
  let stopped = false;
  const done = (async () => {
    const master = await (await fetch(`${base}/stations/lofi/hls/live.m3u8`)).text();
    const media = `${base}/stations/lofi/hls/${master.trim().split('\n').at(-1)}`;
    while (!stopped) {
      const res = await fetch(media);
      const text = await res.text();
      const seg = text.trim().split('\n').at(-1);
      if (res.status === 200 && seg) await (await fetch(`${base}/stations/lofi/hls/${seg}`)).arrayBuffer();
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}

test('listeners are counted exactly: two MP3 connections and one HLS session are three', {
  timeout: 60_000,
}, async () => {
  const none = { mp3: 0, hls: 0, total: 0, peak: 0 };
  assert.deepEqual(await counts(), { stationId: 'lofi', ...none, replicas: 1, here: none });
  const a = await mp3Listener();
  const b = await mp3Listener();
  const player = hlsSession();
  const three = await waitFor(
    'three listeners',
    async () => {
      const c = await counts();
      return c.total === 3 ? c : null;
    },
    10_000,
  );
  assert.equal(three.mp3, 2);
  assert.equal(three.hls, 1, 'one HLS session, however many requests it made');
  assert.equal(three.peak, 3);
  // It stays three while the session keeps polling (its many requests never count twice).
  await new Promise((r) => setTimeout(r, 3 * TARGET * 1000));
  assert.deepEqual(await counts(), three);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /^lofi_listeners\{station="lofi"\} 3$/m);
  assert.match(metrics, /^lofi_listeners_mp3\{station="lofi"\} 2$/m);
  assert.match(metrics, /^lofi_listeners_hls\{station="lofi"\} 1$/m);
  assert.match(metrics, /^lofi_listeners_peak\{station="lofi"\} 3$/m);

  a.destroy();
  b.destroy();
  await waitFor('the MP3 listeners to be gone', async () => (await counts()).mp3 === 0, 5_000);
  assert.equal((await counts()).hls, 1);
  player.stop();
  await player.done;
  // A session with no request for two target durations has left.
  const gone = await waitFor(
    'the HLS session to expire',
    async () => {
      const c = await counts();
      return c.total === 0 ? c : null;
    },
    4 * TARGET * 1000 + 3000,
  );
  const goneHere = { mp3: 0, hls: 0, total: 0, peak: 3 };
  assert.deepEqual(gone, { stationId: 'lofi', ...goneHere, replicas: 1, here: goneHere });
  assert.equal((await fetch(`${base}/api/stations/nope/listeners`)).status, 404);
});

interface Msg {
  type: string;
  [k: string]: unknown;
}

interface Socket {
  ws: WebSocket;
  messages: Msg[];
  /** The first message of `type` received at or after index `from` that no call returned yet. */
  next: (type: string, from?: number) => Promise<Msg>;
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`);
    const messages: Msg[] = [];
    const taken = new Set<Msg>();
    ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Msg));
    const next = (type: string, from = 0) =>
      waitFor(
        `a ${type} message`,
        async () => {
          const m = messages.find((x, i) => i >= from && x.type === type && !taken.has(x));
          if (m) taken.add(m);
          return m;
        },
        20_000,
        20,
      );
    ws.once('open', () => resolve({ ws, messages, next }));
    ws.once('error', reject);
  });
}

test('the WebSocket sends a snapshot, then now-playing, mood, buffer and listener events', {
  timeout: 60_000,
}, async () => {
  const { ws, messages, next } = await openSocket('/api/stations/lofi/ws');
  const snapshot = await next('snapshot');
  const np0 = snapshot.nowPlaying as { seq: number; title: string; startedAt: string };
  assert.match(np0.title, /^Tone \d+ at \d+ Hz$/);
  assert.equal((snapshot.mood as { promptVersion: number }).promptVersion, 0);
  assert.equal(typeof (snapshot.buffer as { bufferedSeconds: number }).bufferedSeconds, 'number');
  assert.ok('generationRealtimeFactor' in (snapshot.buffer as object));
  assert.equal((snapshot.listeners as { total: number }).total, 0);
  assert.ok(Array.isArray(snapshot.history));

  // The next segment on air, stamped with the stream-clock time it starts at.
  const np = (await next('now-playing')).nowPlaying as { seq: number; title: string; startedAt: string };
  assert.equal(np.seq, np0.seq + 1);
  assert.notEqual(np.title, np0.title);
  const startsAt = Date.parse(np.startedAt);
  assert.ok(Math.abs(startsAt - Date.now()) < 2000, `startedAt ${np.startedAt}`);
  // The documented mapping: the title at an HLS segment's PROGRAM-DATE-TIME is the latest
  // track whose startedAt is not after it; the EXTINF title is its `artist - title`.
  const master = await (await fetch(`${base}/stations/lofi/hls/live.m3u8`)).text();
  const mediaUrl = `${base}/stations/lofi/hls/${master.trim().split('\n').at(-1)}`;
  const history = await waitFor(
    'an HLS segment that starts after the change',
    async () => {
      const text = await (await fetch(mediaUrl)).text();
      const pdts = [...text.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)\n#EXTINF:[\d.]+,(.*)\n/g)];
      const after = pdts.filter((m) => Date.parse(m[1] as string) >= startsAt);
      return after.length >= 2 ? pdts : null;
    },
    15_000,
    300,
  );
  const entries = (
    (await (await fetch(`${base}/api/stations/lofi/history`)).json()) as {
      history: Array<{ streamTitle: string; startedAt: string }>;
    }
  ).history;
  for (const [, pdt, title] of history) {
    const at = Date.parse(pdt as string);
    const expected = entries.find((e) => Date.parse(e.startedAt) <= at)?.streamTitle;
    if (expected) assert.equal(title, expected, `title at ${pdt}`);
  }

  // A mood change is pushed (Redis pub/sub nudges the socket hub).
  const put = await fetch(`${base}/api/stations/lofi/mood`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TONE_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'rainy-day slow jazz' }),
  });
  assert.equal(put.status, 200);
  const mood = await next('mood');
  assert.equal(mood.prompt, 'rainy-day slow jazz');
  assert.equal(mood.promptVersion, 1);

  // The generation buffer, as the scheduler writes it, is pushed when it changes.
  const conn = connect(tones.redisUrl, 'chain-writer');
  const chains = new ChainStore(conn, new Keys(tones.prefix));
  await chains.write('lofi', { ...(await chains.read('lofi')), bufferedSeconds: 42.04, status: 'ok' });
  await conn.quit();
  const buffer = await next('buffer');
  assert.equal(buffer.bufferedSeconds, 42);
  assert.equal(buffer.status, 'ok');

  // A listener arriving is pushed too.
  const listener = await mp3Listener();
  let l = await next('listeners');
  // Earlier counts (the HLS session of the playlist fetches above) may come first.
  while (l.mp3 !== 1) l = await next('listeners');
  assert.equal(l.total, (l.hls as number) + 1);
  listener.destroy();

  // What a client sends is ignored; the socket stays up and keeps receiving.
  const sent = messages.length;
  ws.send('hello');
  ws.send(JSON.stringify({ type: 'now-playing', title: 'spoofed' }));
  const after = await next('now-playing', sent);
  assert.notEqual((after.nowPlaying as { title: string }).title, 'spoofed');
  for (const m of messages) assert.ok(Buffer.byteLength(JSON.stringify(m)) <= 16 * 1024);

  // An oversized message closes the socket (1009), safely.
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.send('x'.repeat(4096));
  assert.equal(await closed, 1009);
  // The server is fine: a new socket gets a snapshot.
  const again = await openSocket('/api/stations/lofi/ws');
  const snap2 = await again.next('snapshot');
  assert.equal((snap2.mood as { promptVersion: number }).promptVersion, 1);
  again.ws.close();

  // An unknown station is refused before the upgrade.
  await assert.rejects(openSocket('/api/stations/nope/ws'), /404/);
});

test('m3u and pls files point at the MP3 stream under the request host or PUBLIC_URL', async () => {
  const m3u = await fetch(`${base}/stations/lofi/listen.m3u`);
  assert.equal(m3u.status, 200);
  assert.match(m3u.headers.get('content-type') ?? '', /^audio\/x-mpegurl/);
  assert.equal(await m3u.text(), `#EXTM3U\n#EXTINF:-1,Endless Lo-Fi\n${base}/stations/lofi/stream.mp3\n`);
  const pls = await fetch(`${base}/stations/lofi/listen.pls`);
  assert.match(pls.headers.get('content-type') ?? '', /^audio\/x-scpls/);
  const body = await pls.text();
  assert.match(body, /^\[playlist\]\n/);
  assert.match(body, new RegExp(`^File1=${base}/stations/lofi/stream\\.mp3$`, 'm'));
  assert.match(body, /^Title1=Endless Lo-Fi$/m);
  assert.match(body, /^NumberOfEntries=1$/m);
  assert.match(body, /^Version=2$/m);
  assert.equal((await fetch(`${base}/stations/nope/listen.m3u`)).status, 404);

  // A Host header that is not a plain host[:port] never becomes part of the URL.
  const evil = await new Promise<string>((resolve, reject) => {
    http
      .get(`${base}/stations/lofi/listen.m3u`, { headers: { host: 'evil.example/x?' } }, (res) => {
        let s = '';
        res.on('data', (c: Buffer) => (s += c.toString()));
        res.on('end', () => resolve(s));
      })
      .on('error', reject);
  });
  assert.doesNotMatch(evil, /evil/);

  // PUBLIC_URL wins over the request's host.
  const config = loadConfig({
    REDIS_URL: tones.redisUrl,
    ADMIN_TOKEN: TONE_ADMIN_TOKEN,
    QUEUE_PREFIX: tones.prefix,
    PUBLIC_URL: 'https://radio.example.org/',
  });
  const redis = connect(tones.redisUrl, 'listen-files');
  const app = Fastify();
  registerListenFiles(app, { config, stations: new StationRepo(redis, new Keys(tones.prefix), config) });
  try {
    const res = await app.inject('/stations/lofi/listen.pls');
    assert.match(res.body, /^File1=https:\/\/radio\.example\.org\/stations\/lofi\/stream\.mp3$/m);
  } finally {
    await app.close();
    await redis.quit();
  }
});
