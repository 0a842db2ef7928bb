// HLS as real clients see it: ffprobe plays the playlist over HTTP and gets AAC audio of the
// expected length; the live window fills, carries a PROGRAM-DATE-TIME per segment, is gzipped for
// clients that accept it, and keeps its media sequence continuous when the encoder is killed.
// The station plays a real tone chain (FLAC in a real store, a real Redis index).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { waitFor } from '../../../test/helpers/stack.ts';
import { StationOutputs } from '../src/outputs/station-outputs.ts';
import type { StationManager } from '../src/station-manager.ts';
import { type ToneApp, toneApp } from './tone-app.ts';

const run = promisify(execFile);
/** Short segments keep the test quick; production uses 6 s. */
const TARGET = 2;

let tones: ToneApp;
let base: string;
let manager: StationManager;

interface Seg {
  seq: number;
  duration: number;
  pdt: number;
  title: string;
  discontinuity: boolean;
  uri: string;
}
interface Media {
  target: number;
  mediaSequence: number;
  discontinuitySequence: number;
  segments: Seg[];
}

function parseMedia(text: string): Media {
  const lines = text.split('\n');
  assert.equal(lines[0], '#EXTM3U');
  const tag = (name: string) => Number(lines.find((l) => l.startsWith(`#${name}:`))?.split(':')[1]);
  const segments: Seg[] = [];
  let cur: Partial<Seg> = { discontinuity: false };
  for (const l of lines) {
    if (l === '#EXT-X-DISCONTINUITY') cur.discontinuity = true;
    else if (l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) cur.pdt = Date.parse(l.slice(25));
    else if (l.startsWith('#EXTINF:')) {
      const [d, ...title] = l.slice(8).split(',');
      cur.duration = Number(d);
      cur.title = title.join(',');
    } else if (l && !l.startsWith('#')) {
      assert.ok(cur.pdt !== undefined, `segment ${l} has a PROGRAM-DATE-TIME`);
      segments.push({ ...(cur as Seg), uri: l, seq: Number(/^(\d+)\.ts/.exec(l)?.[1]) });
      cur = { discontinuity: false };
    }
  }
  return {
    target: tag('EXT-X-TARGETDURATION'),
    mediaSequence: tag('EXT-X-MEDIA-SEQUENCE'),
    discontinuitySequence: tag('EXT-X-DISCONTINUITY-SEQUENCE'),
    segments,
  };
}

/** A raw GET (no automatic decompression), to see exactly what was sent. */
function rawGet(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
    (resolve, reject) => {
      http
        .get(url, { headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        })
        .on('error', reject);
    },
  );
}

async function mediaUrl(): Promise<string> {
  const master = await (await fetch(`${base}/stations/lofi/hls/live.m3u8`)).text();
  const uri = master.split('\n').find((l) => l.startsWith('live.m3u8?sid='));
  assert.ok(uri, master);
  return `${base}/stations/lofi/hls/${uri}`;
}

const media = async (url: string): Promise<Media> => parseMedia(await (await fetch(url)).text());

before(async () => {
  tones = await toneApp({ hlsTargetSeconds: TARGET });
  base = tones.base;
  manager = tones.manager;
});

after(async () => {
  await tones?.close();
});

test('the master playlist hands out a session; the media playlist fills a live window with dated segments', {
  timeout: 90_000,
}, async () => {
  const master = await rawGet(`${base}/stations/lofi/hls/live.m3u8`);
  assert.equal(master.status, 200);
  assert.equal(master.headers['content-type'], 'application/vnd.apple.mpegurl');
  assert.equal(master.headers['cache-control'], 'no-cache');
  assert.equal(master.headers['access-control-allow-origin'], '*');
  assert.match(
    master.body.toString(),
    /#EXT-X-STREAM-INF:BANDWIDTH=\d+,CODECS="mp4a\.40\.2"\nlive\.m3u8\?sid=/,
  );
  const other = await (await fetch(`${base}/stations/lofi/hls/live.m3u8`)).text();
  assert.notEqual(other, master.body.toString(), 'each client gets its own session id');

  const url = await mediaUrl();
  const full = await waitFor(
    'six segments in the live playlist',
    async () => {
      const m = await media(url).catch(() => null);
      return m && m.segments.length >= 6 ? m : null;
    },
    60_000,
    500,
  );
  assert.equal(full.target, TARGET);
  assert.equal(full.mediaSequence, full.segments[0]?.seq);
  for (const [i, s] of full.segments.entries()) {
    assert.equal(s.seq, full.mediaSequence + i, 'consecutive sequence numbers');
    assert.ok(Math.abs(s.duration - TARGET) < 0.2, `segment of ${s.duration} s`);
    assert.match(s.uri, /^\d+\.ts\?sid=[A-Za-z0-9_-]+$/, 'segment URIs carry the session');
    const next = full.segments[i + 1];
    // PROGRAM-DATE-TIME advances by the segment's duration: one clock, no drift.
    if (next) assert.ok(Math.abs(next.pdt - s.pdt - s.duration * 1000) < 25, `pdt step at ${s.seq}`);
  }
  const last = full.segments.at(-1) as Seg;
  assert.ok(
    Math.abs(last.pdt + last.duration * 1000 - Date.now()) < 3 * TARGET * 1000,
    'the live edge is now',
  );

  // A segment: immutable, cacheable, cross-origin, MPEG-TS.
  const seg = await rawGet(`${base}/stations/lofi/hls/${last.uri}`);
  assert.equal(seg.status, 200);
  assert.equal(seg.headers['content-type'], 'video/mp2t');
  assert.equal(seg.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(seg.headers['access-control-allow-origin'], '*');
  assert.equal(seg.body[0], 0x47);
  assert.equal(seg.body.length % 188, 0);
  assert.equal((await fetch(`${base}/stations/lofi/hls/1.ts`)).status, 404);
  assert.equal((await fetch(`${base}/stations/lofi/hls/live.m3u8?sid=bad!`)).status, 400);
  assert.equal((await fetch(`${base}/stations/nope/hls/live.m3u8`)).status, 404);
});

test('playlists are gzipped for clients that accept it, plain for the others', async () => {
  const url = await mediaUrl();
  const zipped = await rawGet(url, { 'accept-encoding': 'gzip, deflate, br' });
  assert.equal(zipped.status, 200);
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(zipped.headers.vary, 'accept-encoding');
  assert.match(gunzipSync(zipped.body).toString(), /^#EXTM3U\n/);
  const plain = await rawGet(url);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.match(plain.body.toString(), /^#EXTM3U\n/);
  const refused = await rawGet(url, { 'accept-encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined);
});

test('ffprobe plays the HLS stream: AAC, 48 kHz stereo, as long as asked', { timeout: 60_000 }, async () => {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-live_start_index',
      '0',
      '-read_intervals',
      '%+8',
      '-select_streams',
      'a',
      '-show_entries',
      'stream=codec_name,sample_rate,channels:packet=pts_time,duration_time',
      '-of',
      'json',
      `${base}/stations/lofi/hls/live.m3u8`,
    ],
    { timeout: 45_000 },
  );
  const out = JSON.parse(stdout) as {
    streams: Array<{ codec_name: string; sample_rate: string; channels: number }>;
    packets: Array<{ pts_time: string; duration_time?: string }>;
  };
  assert.equal(out.streams[0]?.codec_name, 'aac');
  assert.equal(out.streams[0]?.sample_rate, '48000');
  assert.equal(out.streams[0]?.channels, 2);
  const seconds = out.packets.reduce((s, p) => s + Number(p.duration_time ?? 0), 0);
  assert.ok(seconds >= 7.9 && seconds <= 8.5, `${seconds} s of AAC read for 8 s asked`);
});

test('a killed HLS encoder is replaced: the media sequence goes on without a gap, after a discontinuity', {
  timeout: 90_000,
}, async () => {
  const url = await mediaUrl();
  const rt = manager.get('lofi');
  assert.ok(rt);
  assert.ok(rt.outputs instanceof StationOutputs, 'the only replica leads the station');
  const outputs = rt.outputs;
  const hls = outputs.hls;
  const pid = hls.encoderPid();
  assert.ok(pid);
  const before = await media(url);
  const lastBefore = (before.segments.at(-1) as Seg).seq;
  const mp3Restarts = outputs.mp3.restarts;
  process.kill(pid, 'SIGKILL');
  const afterKill = await waitFor(
    'three segments from the new encoder',
    async () => {
      const m = await media(url);
      const disc = m.segments.findIndex((s) => s.discontinuity);
      return disc >= 0 && m.segments.length - disc >= 3 ? m : null;
    },
    30_000,
    500,
  );
  assert.equal(hls.restarts, 1);
  assert.notEqual(hls.encoderPid(), pid);
  assert.equal(outputs.mp3.restarts, mp3Restarts, 'the MP3 encoder is not touched');
  for (const [i, s] of afterKill.segments.entries()) assert.equal(s.seq, afterKill.mediaSequence + i);
  const disc = afterKill.segments.find((s) => s.discontinuity) as Seg;
  // The dead encoder's unfinished segment is dropped, not numbered: the next number follows on.
  assert.ok(
    disc.seq > lastBefore && disc.seq <= lastBefore + 2,
    `first new segment ${disc.seq} after ${lastBefore}`,
  );
  assert.equal(afterKill.discontinuitySequence, 0);

  // Once the discontinuity slides out of the window, DISCONTINUITY-SEQUENCE counts it.
  const slid = await waitFor(
    'the discontinuity to leave the window',
    async () => {
      const m = await media(url);
      return m.segments[0] && m.segments[0].seq > disc.seq ? m : null;
    },
    60_000,
    500,
  );
  assert.equal(slid.discontinuitySequence, 1);
  assert.ok(slid.segments.every((s) => !s.discontinuity));
});
