// FLAC segments are decoded in-process, on one long-lived decoder thread: the same PCM as ffmpeg
// gives, no process per segment, a clear error for a corrupt file, and ffmpeg still for the rest.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { decodeToFloat32, decodeWithFfmpeg, FlacDecodeThread, flacDecoder } from '../src/index.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'lofi-flac-'));
/** A 24-bit 48 kHz stereo FLAC (what the worker writes) of `seconds` of noise, via ffmpeg. */
function flac(name: string, seconds: number, extra: string[] = []): string {
  const file = path.join(dir, name);
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `anoisesrc=d=${seconds}:c=pink:r=48000:a=0.3`],
    ...['-ac', '2', '-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24', ...extra, file],
  ]);
  return file;
}

test('a FLAC segment decodes in-process to exactly what ffmpeg decodes', async () => {
  const file = flac('a.flac', 6);
  const before = flacDecoder().decodes;
  const fromFile = await decodeToFloat32(file, 48000, 2);
  const fromBytes = await decodeToFloat32(readFileSync(file), 48000, 2);
  assert.equal(flacDecoder().decodes, before + 2, 'both went through the decoder thread');
  const ref = await decodeWithFfmpeg(file, 48000, 2);
  assert.equal(fromFile.length, 6 * 48000 * 2);
  assert.equal(fromFile.length, ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs((fromFile[i] ?? 0) - (ref[i] ?? 0)));
  // 24-bit samples: the two differ at most by float rounding, far below one LSB (6e-8).
  assert.ok(worst < 3e-8, `worst difference ${worst}`);
  assert.deepEqual(fromBytes, fromFile);
});

test('several decodes at once all come back, each its own', async () => {
  const files = [flac('b.flac', 2), flac('c.flac', 3), flac('d.flac', 4)];
  const pcms = await Promise.all(files.map((f) => decodeToFloat32(f, 48000, 2)));
  assert.deepEqual(
    pcms.map((p) => p.length / 2 / 48000),
    [2, 3, 4],
  );
});

test('a corrupt FLAC fails with a clear error; the decoder goes on working', async () => {
  const good = readFileSync(flac('e.flac', 2));
  const bad = Buffer.from(good);
  // Keep the stream header, ruin the audio frames.
  for (let i = 8192; i < bad.length; i += 7) bad[i] = (bad[i] ?? 0) ^ 0x5a;
  await assert.rejects(decodeToFloat32(bad, 48000, 2), /could not decode <\d+ bytes>/);
  await assert.rejects(decodeToFloat32(Buffer.from('fLaC and nothing else'), 48000, 2), /could not decode/);
  assert.equal((await decodeToFloat32(good, 48000, 2)).length, 2 * 48000 * 2);
});

test('another rate, or not FLAC at all, goes through ffmpeg', async () => {
  const file = flac('f.flac', 2);
  assert.equal((await decodeToFloat32(file, 44100, 2)).length, 2 * 44100 * 2);
  const wav = path.join(dir, 'g.wav');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', file, wav]);
  assert.equal((await decodeToFloat32(wav, 48000, 2)).length, 2 * 48000 * 2);
  writeFileSync(path.join(dir, 'h.txt'), 'not audio');
  await assert.rejects(decodeToFloat32(path.join(dir, 'h.txt'), 48000, 2), /ffmpeg could not decode/);
});

test('the decode needed next goes before those queued for later', async () => {
  const pool = new FlacDecodeThread(1);
  const bytes = readFileSync(flac('p.flac', 4));
  const done: string[] = [];
  const track = (name: string, p: Promise<unknown>) => p.then(() => done.push(name));
  // The first one occupies the only thread; the rest wait in the queue.
  await Promise.all([
    track('first', pool.decode(bytes, 1)),
    track('later', pool.decode(bytes, 1)),
    track('later2', pool.decode(bytes, 1)),
    track('next', pool.decode(bytes, 0)),
  ]);
  assert.deepEqual(done, ['first', 'next', 'later', 'later2']);
  await pool.close();
});
