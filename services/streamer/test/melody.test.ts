// The melody upload with real ffprobe/ffmpeg and a real Redis: a good file is stored as mono 32 kHz
// FLAC at the station's melody key; bad files, long files and strangers get clear 4xx answers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MELODY_MAX_BYTES } from '../src/api/melody.ts';
import { type AppUnderTest, appPerTest, TOKEN } from './app-per-test.ts';

const app = appPerTest('melody');

/** A tone made by ffmpeg in the given container. */
function tone(seconds: number, format: string): Buffer {
  return execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${seconds}`,
    '-ac',
    '2',
    '-ar',
    '44100',
    '-f',
    format,
    'pipe:1',
  ]);
}

const put = (a: AppUnderTest['app'], body: Buffer, type = 'audio/wav', token = TOKEN) =>
  a.inject({
    method: 'PUT',
    url: '/api/stations/lofi/melody',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    payload: body,
  });

test('a melody is stored as mono 32 kHz FLAC under the station melody key', async (t) => {
  const { app: a, dataDir } = await app(t);
  const res = await put(a, tone(3, 'wav'));
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as { melodyKey: string; format: string; durationSeconds: number };
  assert.equal(body.melodyKey, 'stations/lofi/melody/melody.flac');
  assert.equal(body.format, 'wav');
  assert.ok(Math.abs(body.durationSeconds - 3) < 0.05, String(body.durationSeconds));
  const file = path.join(dataDir, body.melodyKey);
  const probe = JSON.parse(
    execFileSync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,sample_rate,channels:format=duration',
      '-of',
      'json',
      file,
    ]).toString(),
  );
  assert.deepEqual(
    [probe.streams[0].codec_name, probe.streams[0].sample_rate, probe.streams[0].channels],
    ['flac', '32000', 1],
  );
  assert.ok(Math.abs(Number(probe.format.duration) - 3) < 0.05);
  assert.equal(readFileSync(file).subarray(0, 4).toString(), 'fLaC');
  // mp3 is accepted too (ffprobe names the container, the extension does not matter).
  assert.equal((await put(a, tone(2, 'mp3'), 'application/octet-stream')).statusCode, 200);
  const del = await a.inject({
    method: 'DELETE',
    url: '/api/stations/lofi/melody',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(del.statusCode, 204);
});

test('bad melodies are 4xx with a reason and store nothing', async (t) => {
  const { app: a, dataDir } = await app(t);
  const notAudio = await put(a, Buffer.from('this is not audio at all, just text'.repeat(20)));
  assert.equal(notAudio.statusCode, 400);
  assert.match(notAudio.json().error.message, /one audio stream in wav, flac, mp3/);
  const long = await put(a, tone(31, 'flac'), 'audio/flac');
  assert.equal(long.statusCode, 400);
  assert.match(long.json().error.message, /1-30 s long \(this one: over 30\.0 s\)/);
  const short = await put(a, tone(0.3, 'wav'));
  assert.equal(short.statusCode, 400);
  assert.equal((await put(a, tone(2, 'wav'), 'audio/wav', 'wrong-token')).statusCode, 401);
  assert.equal((await put(a, Buffer.alloc(MELODY_MAX_BYTES + 1))).statusCode, 413);
  const json = await a.inject({
    method: 'PUT',
    url: '/api/stations/lofi/melody',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    payload: { not: 'audio' },
  });
  assert.equal(json.statusCode, 400);
  const missing = await a.inject({
    method: 'PUT',
    url: '/api/stations/nope/melody',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'audio/wav' },
    payload: tone(2, 'wav'),
  });
  assert.equal(missing.statusCode, 404);
  assert.throws(() => readFileSync(path.join(dataDir, 'stations/lofi/melody/melody.flac')), /ENOENT/);
});
