// Which jobs name the station's melody, against a real local segment store.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { melodyKeyFor } from '@lofi/contracts';
import { LocalSegmentStore } from '@lofi/store';
import { melodyFor } from '../src/melody.ts';

test('only a melody model on its own route gets the stored melody', async () => {
  const store = new LocalSegmentStore(mkdtempSync(path.join(tmpdir(), 'lofi-sched-melody-')));
  const melody = { id: 'tunes', backend: 'musicgen' as const, model: 'facebook/musicgen-melody' };
  const own = { backend: 'musicgen' as const };
  assert.deepEqual(await melodyFor(store, melody, own), {}, 'no upload yet');
  await store.put(melodyKeyFor('tunes'), Buffer.from('fLaC...'), 'audio/flac');
  assert.deepEqual(await melodyFor(store, melody, own), { melodyKey: 'stations/tunes/melody/melody.flac' });
  // The fallback route (procedural) and text-only models take no melody.
  assert.deepEqual(await melodyFor(store, melody, { backend: 'procedural' }), {});
  assert.deepEqual(await melodyFor(store, { ...melody, model: 'facebook/musicgen-small' }, own), {});
  assert.deepEqual(
    await melodyFor(store, { ...melody, backend: 'procedural' }, { backend: 'procedural' }),
    {},
  );
  await store.remove(melodyKeyFor('tunes'));
  assert.deepEqual(await melodyFor(store, melody, own), {}, 'deleted upload');
});
