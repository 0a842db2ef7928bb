import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createSegmentStore, LocalSegmentStore, StoreKeyError } from '../src/index.ts';

test('keys map under the root and tricks are refused', () => {
  const s = new LocalSegmentStore('/srv/data');
  assert.equal(
    s.pathOf('stations/lofi/segments/00000001-v0.flac'),
    '/srv/data/stations/lofi/segments/00000001-v0.flac',
  );
  for (const bad of [
    '/etc/passwd',
    'stations/lofi/segments/..',
    'stations/../segments/x',
    'stations/lofi/x.flac',
    'stations/lofi/hls/.',
    'stations/lofi/hls/a/b.ts',
    'stations/lofi/other/a.ts',
    '',
  ]) {
    assert.throws(() => s.pathOf(bad), StoreKeyError, bad);
  }
  assert.equal(s.pathOf('stations/lofi/hls/000042.ts'), '/srv/data/stations/lofi/hls/000042.ts');
});

test('put is atomic and creates folders; get, localPath, remove, removeStation', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'lofi-store-'));
  const s = createSegmentStore({ kind: 'local', root });
  assert.equal(s.kind, 'local');
  const key = 'stations/lofi/segments/00000001-v0.flac';
  assert.equal(await s.get(key), undefined);
  await s.put(key, Buffer.from('first'));
  await s.put(key, Buffer.from('second'));
  assert.equal((await s.get(key))?.toString(), 'second');
  const file = s.localPath(key);
  assert.equal(file, path.join(root, key));
  assert.equal(await readFile(file as string, 'utf8'), 'second');
  assert.equal((await stat(file as string)).mode & 0o777, 0o644);
  assert.deepEqual(
    await readdir(path.dirname(file as string)),
    ['00000001-v0.flac'],
    'no temporary file left',
  );
  await s.put('stations/lofi/hls/index.m3u8', Buffer.from('#EXTM3U\n'));
  await s.put('stations/other/segments/a.json', Buffer.from('{}'));
  await s.remove(key);
  await s.remove(key);
  assert.equal(await s.get(key), undefined);
  await s.removeStation('lofi');
  assert.equal(await s.get('stations/lofi/hls/index.m3u8'), undefined);
  assert.equal((await s.get('stations/other/segments/a.json'))?.toString(), '{}');
  await assert.rejects(s.removeStation('..'), StoreKeyError);
  await assert.rejects(s.put('stations/lofi/segments/..', Buffer.from('x')), StoreKeyError);
});
