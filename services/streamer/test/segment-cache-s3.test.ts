// Cross-language: the Python worker writes a segment into an S3 bucket (a real S3-protocol server,
// moto_server), and the streamer's SegmentCache finds it there and decodes it through ffmpeg's
// stdin, the path a streamer on another machine than the worker takes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { decodeToFloat32 } from '@lofi/audio';
import { audioKeyFor, metaKeyFor, type SegmentResult } from '@lofi/contracts';
import { connect, Keys, SegmentIndex } from '@lofi/redis';
import pino from 'pino';
import {
  s3Store,
  startS3,
  TEST_CREDENTIALS,
  VENV_BIN,
} from '../../../packages/store/test/helpers/s3-server.ts';
import { cleanupStack } from '../../../test/helpers/cleanup.ts';
import { startRedis, uniquePrefix } from '../../../test/helpers/redis-server.ts';
import { SegmentCache } from '../src/playout/segment-cache.ts';

const run = promisify(execFile);

// The worker's own path: its config reads STORE_URL/S3_*, make_store builds the S3 store.
const WORKER = `
import json, sys
from lofi_worker.config import load_config
from lofi_worker.contract import load_contract
from lofi_worker.job import process_job
from lofi_worker.store import make_store
cfg = load_config()
print(json.dumps(process_job(json.loads(sys.argv[1]), store=make_store(cfg),
                             contract=load_contract(cfg.contract_schema))))
`;

test('a segment the Python worker wrote to S3 is decoded by the streamer', async (t) => {
  const defer = cleanupStack(t);
  const s3 = await startS3();
  defer(() => s3.stop());
  const store = await s3Store(s3, 'cross-language', 'radio/');
  defer(() => store.destroy());
  const redis = await startRedis();
  defer(() => redis.stop());
  const conn = connect(redis.url, 'test');
  defer(() => conn.quit());

  const audioKey = audioKeyFor('lofi', 3, 0);
  const job = {
    stationId: 'lofi',
    seq: 3,
    promptVersion: 0,
    prompt: 'rainy day lo-fi with soft piano',
    backend: 'procedural',
    seed: 42,
    durationSeconds: 6,
    overlapSeconds: 1.5,
    sampleRate: 48000,
    channels: 2,
    audioKey,
    continueFrom: null,
  };
  const { stdout } = await run(path.join(VENV_BIN, 'python'), ['-c', WORKER, JSON.stringify(job)], {
    env: {
      ...process.env,
      STORE_URL: 's3://cross-language/radio',
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      LOG_LEVEL: 'warning',
    },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const printed = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as SegmentResult;

  // The metadata as the scheduler would pick it up: from the bucket, not from the worker's reply.
  const metaBytes = await store.get(metaKeyFor(audioKey));
  assert.ok(metaBytes, 'the worker wrote the metadata into the bucket');
  const meta = JSON.parse(metaBytes.toString('utf8')) as SegmentResult;
  assert.deepEqual(meta, printed);
  assert.equal(meta.audioKey, audioKey);

  const index = new SegmentIndex(conn, new Keys(uniquePrefix('cache-s3')));
  await index.add(meta);
  const cache = new SegmentCache('lofi', index, store, 48000, 2, pino({ level: 'silent' }));
  await cache.refresh();
  const seg = await cache.decode(3);
  assert.ok(seg, 'decoded from the bucket');
  const frames = seg.pcm.length / 2;
  assert.ok(Math.abs(frames / 48000 - meta.durationSeconds) < 0.01, `${frames} frames`);
  let sum = 0;
  for (const x of seg.pcm) sum += x * x;
  const rmsDb = 10 * Math.log10(sum / seg.pcm.length);
  assert.ok(rmsDb > -40 && rmsDb < -6, `music, not silence (${rmsDb.toFixed(1)} dB)`);

  // The same bytes decoded from a file give the same PCM: stdin decoding loses nothing.
  const dir = await mkdtemp(path.join(tmpdir(), 'lofi-s3-'));
  const file = path.join(dir, 'a.flac');
  await writeFile(file, (await store.get(audioKey)) as Buffer);
  assert.deepEqual(await decodeToFloat32(file, 48000, 2), seg.pcm);

  // Gone from the bucket: not decodable (the cache counts a failure, it does not throw).
  await store.remove(audioKey);
  const gone = { ...meta, seq: 4, audioKey };
  await index.add(gone);
  await cache.refresh();
  assert.equal(await cache.decode(4), undefined);
});
