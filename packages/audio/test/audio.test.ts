import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  analyse,
  correlation,
  crossfadeGains,
  decodeToFloat32,
  Mp3FrameSplitter,
  parseMp3Header,
  spawnMp3Encoder,
} from '../src/index.ts';

const tone = (seconds: number, sr: number, hz: number): Float32Array => {
  const out = new Float32Array(Math.round(seconds * sr) * 2);
  for (let i = 0; i < out.length / 2; i++) {
    const v = 0.3 * Math.sin((2 * Math.PI * hz * i) / sr);
    out[2 * i] = v;
    out[2 * i + 1] = v;
  }
  return out;
};

test('crossfade of identical signals keeps the level flat; unrelated signals keep the power flat', () => {
  for (let t = 0; t <= 1; t += 0.05) {
    const [a, b] = crossfadeGains(t, 1);
    assert.ok(Math.abs(a + b - 1) < 1e-9, `amplitude sum at ${t}`);
    const [c, d] = crossfadeGains(t, 0);
    assert.ok(Math.abs(c * c + d * d - 1) < 1e-9, `power sum at ${t}`);
  }
  assert.deepEqual(crossfadeGains(0, 0.5), [1, 0]);
  const [e, f] = crossfadeGains(1, 0.5);
  assert.ok(Math.abs(e) < 1e-9 && Math.abs(f - 1) < 1e-9);
});

test('correlation tells the same music from different music', () => {
  const a = tone(0.5, 48000, 220);
  const b = tone(0.5, 48000, 331);
  assert.ok(correlation(a, 0, a, 0, a.length) > 0.999);
  assert.ok(correlation(a, 0, b, 0, a.length) < 0.05);
  assert.equal(correlation(a, 0, new Float32Array(a.length), 0, a.length), 0);
});

test('MP3 frames from the real encoder are split whole, and decode back to audio', async () => {
  const enc = spawnMp3Encoder(48000, 2, 128);
  const splitter = new Mp3FrameSplitter();
  const frames: Buffer[] = [];
  enc.stdout.on('data', (c: Buffer) => frames.push(...splitter.push(c)));
  enc.stdin.end(Buffer.from(tone(2, 48000, 440).buffer));
  const exit = await enc.exited;
  assert.equal(exit.error, undefined);
  assert.ok(frames.length >= 80, `got ${frames.length} frames`);
  for (const f of frames) {
    const h = parseMp3Header(f, 0);
    assert.ok(h);
    assert.equal(h.length, f.length);
    assert.equal(h.sampleRate, 48000);
    assert.equal(h.bitrateKbps, 128);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'lofi-audio-'));
  const file = path.join(dir, 'x.mp3');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, Buffer.concat(frames));
  const pcm = await decodeToFloat32(file, 48000, 1);
  const a = analyse(pcm, 48000);
  assert.ok(Math.abs(a.seconds - 2) < 0.1, `decoded ${a.seconds}s`);
  assert.ok(a.longestSilenceSeconds < 0.1);
  // ffprobe, a real client, agrees on the format
  const probe = execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], {
    encoding: 'utf8',
  });
  const stream = (JSON.parse(probe) as { streams: Array<Record<string, unknown>> }).streams[0];
  assert.equal(stream?.codec_name, 'mp3');
  assert.equal(stream?.channels, 2);
});

test('silence runs are measured', () => {
  const sr = 1000;
  const x = new Float32Array(3 * sr).fill(0.1);
  x.fill(0, sr, sr + 500);
  const a = analyse(x, sr);
  assert.ok(Math.abs(a.longestSilenceSeconds - 0.5) < 0.06, String(a.longestSilenceSeconds));
});
