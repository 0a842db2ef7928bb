// S3SegmentStore against a real S3-protocol server (moto_server on a free port).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createSegmentStore, S3SegmentStore, StoreKeyError } from '../src/index.ts';
import { s3Store, startS3, TEST_CREDENTIALS, type TestS3 } from './helpers/s3-server.ts';

let s3: TestS3;
before(async () => {
  s3 = await startS3();
});
after(async () => {
  await s3?.stop();
});

async function objectNames(store: S3SegmentStore): Promise<string[]> {
  const res = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket }));
  return (res.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])).sort();
}

test('put, get, overwrite and remove objects under the key prefix', async () => {
  const store = await s3Store(s3, 'put-get', 'radio/prod/');
  assert.equal(store.kind, 's3');
  const key = 'stations/lofi/segments/00000001-v0.flac';
  assert.equal(store.localPath(key), undefined);
  assert.equal(await store.get(key), undefined, 'a missing key is undefined, not an error');
  const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
  await store.put(key, bytes, 'audio/flac');
  assert.deepEqual(await store.get(key), bytes);
  assert.deepEqual(await objectNames(store), [`radio/prod/${key}`]);
  await store.put(key, Buffer.from('second'));
  assert.equal((await store.get(key))?.toString(), 'second');
  await store.put('stations/lofi/hls/000042.ts', Buffer.from('hls'), 'video/mp2t');
  assert.equal((await store.get('stations/lofi/hls/000042.ts'))?.toString(), 'hls');
  await store.remove(key);
  assert.equal(await store.get(key), undefined);
  await store.remove(key); // missing: not an error
  assert.deepEqual(await objectNames(store), ['radio/prod/stations/lofi/hls/000042.ts']);
  store.destroy();
});

test('removeStation removes every object of one station, past one listing page', async () => {
  const store = await s3Store(s3, 'remove-station');
  const keys: string[] = [];
  // More than a ListObjectsV2 page (1000) and a DeleteObjects batch (1000).
  for (let i = 0; i < 1005; i++) keys.push(`stations/gone/segments/${String(i).padStart(8, '0')}.json`);
  keys.push('stations/gone/hls/index.m3u8');
  const pool = [...keys];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let k = pool.pop(); k !== undefined; k = pool.pop()) await store.put(k, Buffer.from(k));
    }),
  );
  await store.put('stations/gone-not/segments/a.flac', Buffer.from('x'));
  await store.put('stations/kept/segments/a.flac', Buffer.from('y'));
  await store.removeStation('gone');
  assert.deepEqual(await objectNames(store), [
    'stations/gone-not/segments/a.flac',
    'stations/kept/segments/a.flac',
  ]);
  await store.removeStation('never-existed');
  await assert.rejects(store.removeStation('../kept'), StoreKeyError);
  store.destroy();
});

test('bad keys are refused before any request', async () => {
  const store = await s3Store(s3, 'bad-keys');
  for (const bad of [
    '/stations/lofi/segments/a.flac',
    'stations/lofi/segments/..',
    'stations/lofi/segments/.',
    'stations/../segments/x',
    'stations/lofi/other/x.flac',
    'stations/lofi/segments/a/b.flac',
    'stations/Lofi/segments/a.flac',
    'stations/lofi/segments/a b.flac',
    '',
  ]) {
    await assert.rejects(store.get(bad), StoreKeyError, bad);
    await assert.rejects(store.put(bad, Buffer.from('x')), StoreKeyError, bad);
    await assert.rejects(store.remove(bad), StoreKeyError, bad);
  }
  assert.deepEqual(await objectNames(store), []);
  store.destroy();
});

test('a missing bucket is an error, not a missing segment', async () => {
  const store = createSegmentStore({
    kind: 's3',
    bucket: 'no-such-bucket',
    prefix: '',
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
  });
  assert.ok(store instanceof S3SegmentStore);
  await assert.rejects(store.get('stations/lofi/segments/a.flac'), /bucket/i);
  store.destroy();
});
