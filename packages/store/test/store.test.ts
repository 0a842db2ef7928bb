import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalSegmentStore, StoreKeyError } from '../src/index.ts';

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
    '',
  ]) {
    assert.throws(() => s.pathOf(bad), StoreKeyError, bad);
  }
});
