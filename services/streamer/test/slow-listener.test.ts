// A listener that stops reading is dropped within 30 s, by the audio it has not taken (our backlog
// plus the kernel's send queue, which on loopback autotunes to megabytes), while a listener that
// reads keeps its real-time audio; the count falls back. Real streamer, real sockets.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { waitFor } from '../../../test/helpers/stack.ts';
import { type ToneApp, toneApp } from './tone-app.ts';

let tones: ToneApp;

before(async () => {
  tones = await toneApp();
  await waitFor(
    'the station to play',
    async () => (await fetch(`${tones.base}/healthz`)).status === 200,
    30_000,
  );
});

after(async () => {
  await tones?.close();
});

const mp3Count = async (): Promise<number> =>
  ((await (await fetch(`${tones.base}/api/stations/lofi/listeners`)).json()) as { mp3: number }).mp3;

test('a listener that never reads is dropped within 30 s; the others keep real time', {
  timeout: 90_000,
}, async () => {
  const url = new URL(`${tones.base}/stations/lofi/stream.mp3`);
  // The one that reads, counting its bytes after the first second (the connect burst).
  let readerBytes = 0;
  let readerFirst = 0;
  const reader = http.get(url, (res) => {
    res.on('data', (c: Buffer) => {
      const now = Date.now();
      readerFirst ||= now;
      if (now - readerFirst > 1000) readerBytes += c.length;
    });
    res.on('error', () => {});
  });
  reader.on('error', () => {});
  // The one that asks for the stream and then never reads a byte.
  const stalled = net.connect(Number(url.port), url.hostname);
  stalled.on('error', () => {});
  let closedAt = 0;
  stalled.on('close', () => {
    closedAt = Date.now();
  });
  await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
  stalled.write(`GET ${url.pathname} HTTP/1.0\r\nHost: ${url.host}\r\n\r\n`);
  stalled.pause();
  const stoppedAt = Date.now();
  await waitFor('both listeners counted', async () => (await mp3Count()) === 2, 5_000);
  const dropped0 = tones.manager.get('lofi')?.icy.dropped ?? 0;

  await waitFor('the stalled listener to be dropped', async () => (await mp3Count()) === 1, 40_000, 250);
  const droppedAfter = (Date.now() - stoppedAt) / 1000;
  assert.ok(droppedAfter < 30, `dropped ${droppedAfter.toFixed(1)} s after it stopped reading`);
  assert.equal(tones.manager.get('lofi')?.icy.dropped, dropped0 + 1);
  // Its connection is closed by the server (a paused socket still sees the close).
  stalled.resume();
  await waitFor('the server to close it', async () => closedAt > 0, 10_000);

  // The reader kept real time throughout: 128 kbps since its first second, within 1.5 s.
  const wall = (Date.now() - readerFirst - 1000) / 1000;
  assert.ok(
    readerBytes / 16000 > wall - 1.5,
    `reader got ${(readerBytes / 16000).toFixed(1)} s in ${wall.toFixed(1)} s`,
  );
  assert.equal(await mp3Count(), 1);
  reader.destroy();
  await waitFor('the count to fall to zero', async () => (await mp3Count()) === 0, 5_000);
  console.log(`stalled listener dropped after ${droppedAfter.toFixed(1)} s`);
});
