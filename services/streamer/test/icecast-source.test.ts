// Push to a real Icecast 2 (Debian's icecast2): listeners of the Icecast mount hear the station and
// get its titles; Icecast going away and coming back costs the station's own listeners nothing, and
// the push reconnects; a wrong password is refused and never written to the logs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { DEFAULT_PROMPT } from '@lofi/config';
import pino from 'pino';
import { cleanupStack } from '../../../test/helpers/cleanup.ts';
import { icecastMount, icecastUnavailable, startIcecast } from '../../../test/helpers/icecast.ts';
import { icyTitle } from '../../../test/helpers/icy.ts';
import { record } from '../../../test/helpers/recorder.ts';
import { startRedis } from '../../../test/helpers/redis-server.ts';
import { waitFor } from '../../../test/helpers/stack.ts';
import { toneStreamer, toneTitle } from '../../../test/helpers/tone-station.ts';

const FREQS = [500, 1300, 700, 1900, 1100, 900, 1500, 600];
const CHAIN = { freqs: FREQS, contentSeconds: 4, overlapSeconds: 1 };
const MOUNT = '/radio.mp3';
const TITLES = FREQS.map((f, k) => toneTitle(k, f));

const unavailable = icecastUnavailable();
if (unavailable) process.stderr.write(`SKIPPING the Icecast push tests: ${unavailable}\n`);

/** A logger whose every line is also kept, to search for what must never be logged. */
function capturingLog(): { log: pino.Logger; text: () => string } {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (d: Buffer) => (text += d.toString()));
  return { log: pino({ level: 'info' }, sink), text: () => text };
}

async function setUp(t: Parameters<typeof cleanupStack>[0], password?: string) {
  const defer = cleanupStack(t);
  const redis = await startRedis();
  defer(() => redis.stop());
  const ice = await startIcecast();
  defer(() => ice.stop());
  const logs = capturingLog();
  const pw = password ?? ice.sourcePassword;
  const streamer = await toneStreamer(redis, CHAIN, logs.log, {
    ICECAST_PUSH_URL: `http://source:${encodeURIComponent(pw)}@127.0.0.1:${ice.port}${MOUNT}`,
  });
  defer(() => streamer.close());
  return { ice, streamer, logs };
}

test('listeners of the Icecast mount hear the station and get its titles', {
  skip: unavailable ?? false,
  timeout: 90_000,
}, async (t) => {
  const { ice, logs } = await setUp(t);
  // A title means audio is flowing: the mount exists from the moment the source logs in.
  const mount = await waitFor(
    'the mount on icecast with a title',
    async () => {
      const m = await icecastMount(ice, MOUNT);
      return m?.title ? m : null;
    },
    15_000,
  );
  assert.equal(mount.server_name, 'Endless Lo-Fi');
  assert.equal(mount.server_description, DEFAULT_PROMPT);
  assert.equal(mount.genre, 'Lo-Fi');

  const url = ice.mountUrl(MOUNT);
  const probe = execFileSync(
    'ffprobe',
    ['-v', 'error', '-read_intervals', '%+2', '-show_streams', '-of', 'json', url],
    { encoding: 'utf8', timeout: 20_000 },
  );
  const s0 = (JSON.parse(probe) as { streams: Array<Record<string, unknown>> }).streams[0];
  assert.equal(s0?.codec_name, 'mp3');
  assert.equal(s0?.sample_rate, '48000');
  assert.equal(s0?.channels, 2);
  assert.equal(s0?.bit_rate, '128000');

  // A real ICY client (icecast-parser) sees the titles change with the segments, in order.
  const seen: string[] = [];
  await waitFor(
    'two successive segment titles from icecast',
    async () => {
      const title = await icyTitle(url, 5000);
      // Empty until the first title update reaches icecast.
      if (title && seen.at(-1) !== title) seen.push(title);
      return seen.length >= 2;
    },
    30_000,
    500,
  );
  const [a, b] = seen.map((x) => TITLES.indexOf(x));
  assert.ok(a !== undefined && a >= 0 && b === a + 1, `titles out of order: ${JSON.stringify(seen)}`);

  const rec = await record(url, 6);
  assert.ok(
    rec.seconds >= rec.wallSeconds - 0.5,
    `received ${rec.seconds} s of audio in ${rec.wallSeconds} s`,
  );
  assert.ok(rec.longestSilenceSeconds < 0.3, `silence run of ${rec.longestSilenceSeconds} s`);
  assert.ok(!logs.text().includes(ice.sourcePassword), 'the source password is in the logs');
});

test('icecast going away costs our own listeners nothing, and the push comes back', {
  skip: unavailable ?? false,
  timeout: 120_000,
}, async (t) => {
  const { ice, streamer, logs } = await setUp(t);
  await waitFor('the mount on icecast', () => icecastMount(ice, MOUNT), 15_000);
  const own = record(`${streamer.baseUrl}/stations/lofi/stream.mp3`, 16);
  await new Promise((r) => setTimeout(r, 2000));
  await ice.stop();
  await new Promise((r) => setTimeout(r, 4000));
  await ice.start();
  const back = Date.now();
  const mount = await waitFor('the push to reconnect', () => icecastMount(ice, MOUNT), 20_000, 200);
  const reconnectSeconds = (Date.now() - back) / 1000;
  t.diagnostic(`reconnected ${reconnectSeconds.toFixed(1)} s after icecast came back`);
  // Down for 4 s: retries at 0.5, 1, 2, 4 s apart, so the next one comes within about 4 s.
  assert.ok(reconnectSeconds < 8, `reconnected only after ${reconnectSeconds} s`);
  assert.ok(mount);
  // The fresh source gets the current title again without waiting for the next segment.
  const title = await waitFor(
    'the title on the new source',
    async () => (await icecastMount(ice, MOUNT))?.title,
    10_000,
  );
  assert.ok(TITLES.includes(title), `unexpected title ${title}`);

  const rec = await own;
  assert.ok(rec.longestStallSeconds < 1.5, `our listener stalled ${rec.longestStallSeconds} s`);
  assert.ok(
    rec.seconds >= rec.wallSeconds - 0.5,
    `received ${rec.seconds} s of audio in ${rec.wallSeconds} s`,
  );
  assert.match(logs.text(), /icecast push down/);
  assert.ok(!logs.text().includes(ice.sourcePassword), 'the source password is in the logs');
});

test('a wrong source password is refused, retried, and never logged', {
  skip: unavailable ?? false,
  timeout: 60_000,
}, async (t) => {
  const wrong = 'not-the-password-42';
  const { ice, streamer, logs } = await setUp(t, wrong);
  await waitFor('a refusal in the log', async () => /icecast refused the source/.test(logs.text()), 15_000);
  assert.equal(await icecastMount(ice, MOUNT), null);
  assert.match(logs.text(), / 401 /);
  assert.ok(!logs.text().includes(wrong), 'the wrong password is in the logs');
  // The station itself plays on.
  const rec = await record(`${streamer.baseUrl}/stations/lofi/stream.mp3`, 3);
  assert.ok(rec.seconds >= rec.wallSeconds - 0.5);
});
