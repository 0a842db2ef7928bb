// A station's track settings over the API: who players show as the artist, and the range track
// lengths are drawn from (default: TRACK_SECONDS), validated at creation and on change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appPerTest, TOKEN } from './app-per-test.ts';

const app = appPerTest('tracks');

test('artist and track length: defaults, creation, changes, and bad values refused', async (t) => {
  const { app: a } = await app(t, { TRACK_SECONDS: '90-150' });
  const admin = { authorization: `Bearer ${TOKEN}` };
  const lofi = (await a.inject('/api/stations/lofi')).json();
  assert.equal(lofi.artist, lofi.name, 'the artist is the station name by default');
  assert.deepEqual(lofi.trackSeconds, { min: 90, max: 150 }, 'TRACK_SECONDS is the default');

  const post = (payload: object) =>
    a.inject({ method: 'POST', url: '/api/stations', payload, headers: admin });
  for (const bad of [
    { id: 'b1', name: 'B', prompt: 'x', artist: 'x'.repeat(401) },
    { id: 'b1', name: 'B', prompt: 'x', artist: 'DJ\u0000' },
    { id: 'b1', name: 'B', prompt: 'x', trackSecondsMin: 10 },
    { id: 'b1', name: 'B', prompt: 'x', trackSecondsMax: 5000 },
    { id: 'b1', name: 'B', prompt: 'x', trackSecondsMin: 200 },
    { id: 'b1', name: 'B', prompt: 'x', trackSecondsMin: 200, trackSecondsMax: 100 },
  ]) {
    const res = await post(bad);
    assert.equal(res.statusCode, 400, JSON.stringify(bad));
    assert.ok(res.json().error.message);
  }
  const created = await post({
    id: 'night',
    name: 'Night Radio',
    prompt: 'late night neon',
    artist: '  Cloud Tapes ',
    trackSecondsMin: 150,
    trackSecondsMax: 200,
  });
  assert.equal(created.statusCode, 201);
  assert.equal(created.json().artist, 'Cloud Tapes');
  assert.deepEqual(created.json().trackSeconds, { min: 150, max: 200 });

  const owner = { authorization: `Bearer ${created.json().key}` };
  const patch = (payload: object) =>
    a.inject({ method: 'PATCH', url: '/api/stations/night', payload, headers: owner });
  assert.equal((await patch({ trackSecondsMax: 120 })).statusCode, 400, 'max below the stored min');
  const changed = await patch({ trackSecondsMin: 60, trackSecondsMax: 120 });
  assert.equal(changed.statusCode, 200);
  assert.deepEqual(changed.json().trackSeconds, { min: 60, max: 120 });
  const cleared = await patch({ artist: '' });
  assert.equal(cleared.json().artist, 'Night Radio', 'an empty artist is the station name again');
  assert.equal(cleared.json().promptVersion, 0, 'settings are not a mood change');
});
