// The in-band title follows the audio: in our own ICY stream, the StreamTitle of a new segment comes
// in the first metadata block after that segment's audio begins (within one metaint, 16000 bytes),
// never before it. With tracks, the title is the track's `artist - title`: it changes when a track's
// first segment begins, and not at the segments between. The segments are pure tones of different pitch, so where each one begins can be
// read from the received audio itself, which also checks the encoder-delay mapping of the marks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { test } from 'node:test';
import pino from 'pino';
import { cleanupStack } from '../../../test/helpers/cleanup.ts';
import { IcyDemuxer } from '../../../test/helpers/icy-demux.ts';
import { startRedis } from '../../../test/helpers/redis-server.ts';
import { TONE_ARTIST, toneStreamer, toneTitle, toneTrackName } from '../../../test/helpers/tone-station.ts';
import { ICY_METAINT } from '../src/outputs/icy.ts';

const FREQS = [500, 1300, 700, 1900, 1100];
const CHAIN = { freqs: FREQS, contentSeconds: 3.3, overlapSeconds: 1 };
/** 128 kbps at 48 kHz: every MP3 frame is 384 bytes (no padding) and carries 1152 samples. */
const FRAME_BYTES = 384;
const FRAME_SAMPLES = 1152;
/** Onset found from decoded audio may be off by the MDCT's spread into the frame before or after. */
const SLOP_BYTES = 2 * FRAME_BYTES;

interface IcyCapture {
  audio: Buffer;
  /** Each metadata block's title and the number of audio bytes that preceded it. */
  blocks: Array<{ title: string; at: number }>;
}

/** Our own ICY client: splits the stream into audio bytes and metadata blocks. */
function captureIcy(url: string, seconds: number): Promise<IcyCapture> {
  return new Promise((resolve, reject) => {
    const audio: Buffer[] = [];
    const blocks: IcyCapture['blocks'] = [];
    const req = http.get(url, { headers: { 'icy-metadata': '1' } }, (res) => {
      const metaint = Number(res.headers['icy-metaint']);
      if (metaint !== ICY_METAINT) return reject(new Error(`icy-metaint ${res.headers['icy-metaint']}`));
      const demux = new IcyDemuxer(metaint, {
        audio: (bytes) => audio.push(bytes),
        title: (title, at) => blocks.push({ title, at }),
      });
      res.on('data', (chunk: Buffer) => demux.push(chunk));
      res.on('error', reject);
      setTimeout(() => {
        req.destroy();
        resolve({ audio: Buffer.concat(audio), blocks });
      }, seconds * 1000);
    });
    req.on('error', reject);
  });
}

function decodeMono(mp3: Buffer): Float32Array {
  const r = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-f', 'mp3', '-i', 'pipe:0', '-ac', '1', '-f', 'f32le', 'pipe:1'],
    {
      input: mp3,
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  assert.equal(r.status, 0, `ffmpeg: ${r.stderr?.toString()}`);
  const out = new Float32Array(Math.floor(r.stdout.length / 4));
  new Uint8Array(out.buffer).set(r.stdout.subarray(0, out.length * 4));
  return out;
}

/** Power at `freq` in each MP3 frame's 1152 samples (Hann window). */
function tonePower(pcm: Float32Array, freq: number): number[] {
  const w = (2 * Math.PI * freq) / 48000;
  const out: number[] = [];
  for (let f = 0; (f + 1) * FRAME_SAMPLES <= pcm.length; f++) {
    let re = 0;
    let im = 0;
    for (let n = 0; n < FRAME_SAMPLES; n++) {
      const x = (pcm[f * FRAME_SAMPLES + n] ?? 0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / FRAME_SAMPLES));
      re += x * Math.cos(w * n);
      im -= x * Math.sin(w * n);
    }
    out.push(re * re + im * im);
  }
  return out;
}

test('a new segment title arrives within one metaint after its audio begins, never before', {
  timeout: 90_000,
}, async (t) => {
  const defer = cleanupStack(t);
  const redis = await startRedis();
  defer(() => redis.stop());
  const streamer = await toneStreamer(redis, CHAIN, pino({ level: 'warn' }));
  defer(() => streamer.close());

  const cap = await captureIcy(`${streamer.baseUrl}/stations/lofi/stream.mp3`, 14);
  const frames = cap.audio.length / FRAME_BYTES;
  assert.ok(Number.isInteger(frames), `audio of ${cap.audio.length} bytes is not whole frames`);
  const pcm = decodeMono(cap.audio);
  // Decoded sample n comes from frame floor(n / 1152) only if the decoder kept every frame.
  assert.equal(pcm.length, frames * FRAME_SAMPLES, 'decoder dropped or added frames');

  let checked = 0;
  for (const [k, freq] of FREQS.entries()) {
    if (k === 0) continue;
    const title = toneTitle(k, freq);
    const first = cap.blocks.find((b) => b.title === title);
    if (!first) continue; // beyond the capture
    const power = tonePower(pcm, freq);
    const steady = Math.max(...power);
    // -40 dB of the steady tone: the first frame of an equal-power fade-in is above it.
    const onset = power.findIndex((p, i) => i >= 2 && p > steady * 1e-4);
    assert.ok(onset > 0, `tone ${freq} Hz not found in the audio`);
    const onsetByte = onset * FRAME_BYTES;
    const lag = first.at - onsetByte;
    t.diagnostic(`segment ${k}: audio at byte ${onsetByte}, title block at ${first.at} (${lag} bytes later)`);
    assert.ok(lag >= -SLOP_BYTES, `title of segment ${k} came ${-lag} bytes before its audio`);
    assert.ok(lag <= ICY_METAINT + SLOP_BYTES, `title of segment ${k} came ${lag} bytes after its audio`);
    // The block before it (one metaint earlier) still carried the previous segment's title.
    const before = cap.blocks.filter((b) => b.at < first.at && b.title !== '').at(-1);
    if (before) assert.equal(before.title, toneTitle(k - 1, FREQS[k - 1] as number));
    checked++;
  }
  assert.ok(checked >= 3, `only ${checked} segment changes were captured`);
});

test('a track title (artist - title) arrives with its first audio and holds through its segments', {
  timeout: 120_000,
}, async (t) => {
  const freqs = [500, 1300, 700, 1900, 1100, 1600, 900];
  const tracks = [0, 0, 1, 1, 2, 2, 3];
  const defer = cleanupStack(t);
  const redis = await startRedis();
  defer(() => redis.stop());
  const chain = { freqs, tracks, contentSeconds: 3.3, overlapSeconds: 1 };
  const streamer = await toneStreamer(redis, chain, pino({ level: 'warn' }));
  defer(() => streamer.close());

  const cap = await captureIcy(`${streamer.baseUrl}/stations/lofi/stream.mp3`, 22);
  const trackTitle = (i: number) => `${TONE_ARTIST} - ${toneTrackName(i)}`;
  // Blocks with text come only when the title changes: once per track, none between its segments.
  const titles = cap.blocks.map((b) => b.title).filter((x) => x !== '');
  t.diagnostic(`titles: ${JSON.stringify(titles)}`);
  const firstTrack = tracks.findIndex((_, i) => titles[0] === trackTitle(i));
  assert.ok(firstTrack >= 0, `first title ${titles[0]} is not a track's`);
  assert.deepEqual(
    titles,
    titles.map((_, i) => trackTitle((tracks[firstTrack] as number) + i)),
    'one title per track, in order',
  );
  assert.ok(titles.length >= 3, `only ${titles.length} tracks captured`);

  const pcm = decodeMono(cap.audio);
  let checked = 0;
  for (const [k, freq] of freqs.entries()) {
    const track = tracks[k] as number;
    if (k === 0 || tracks[k - 1] === track) continue; // not a track's first segment
    const first = cap.blocks.find((b) => b.title === trackTitle(track));
    if (!first || first === cap.blocks[0]) continue;
    const power = tonePower(pcm, freq);
    const steady = Math.max(...power);
    const onset = power.findIndex((p, i) => i >= 2 && p > steady * 1e-4);
    assert.ok(onset > 0, `tone ${freq} Hz not found in the audio`);
    const lag = first.at - onset * FRAME_BYTES;
    t.diagnostic(`track ${track}: first audio at byte ${onset * FRAME_BYTES}, title ${lag} bytes later`);
    assert.ok(lag >= -SLOP_BYTES, `title of track ${track} came ${-lag} bytes before its audio`);
    assert.ok(lag <= ICY_METAINT + SLOP_BYTES, `title of track ${track} came ${lag} bytes after its audio`);
    checked++;
  }
  assert.ok(checked >= 2, `only ${checked} track changes were checked`);
});
