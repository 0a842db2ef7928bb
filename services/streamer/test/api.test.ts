import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, Keys } from '@lofi/redis';
import { appPerTest, TOKEN } from './app-per-test.ts';

const app = appPerTest('api');

test('the default station exists on first start', async (t) => {
  const { app: a } = await app(t);
  const res = await a.inject('/api/stations');
  assert.equal(res.statusCode, 200);
  const list = res.json() as Array<{ id: string; prompt: string; bufferedSeconds: number }>;
  assert.deepEqual(
    list.map((s) => s.id),
    ['lofi'],
  );
  assert.match(list[0]?.prompt ?? '', /lo-fi/i);
  assert.equal(typeof list[0]?.bufferedSeconds, 'number');
  const one = await a.inject('/api/stations/lofi');
  assert.equal(one.json().id, 'lofi');
});

test('unknown stations and routes are 404 with a code', async (t) => {
  const { app: a } = await app(t);
  const res = await a.inject('/api/stations/nope');
  assert.equal(res.statusCode, 404);
  assert.equal(res.json().error.code, 'STATION_NOT_FOUND');
  assert.equal((await a.inject('/api/stations/..%2Fetc')).statusCode, 400);
  assert.equal((await a.inject('/nothing-here')).json().error.code, 'NOT_FOUND');
});

test('health is 503 until audio flows (no worker here)', async (t) => {
  const { app: a } = await app(t);
  const res = await a.inject('/healthz');
  assert.equal(res.statusCode, 503);
});

test('a mood change needs the admin token and a sane prompt, and bumps the version', async (t) => {
  const { app: a } = await app(t);
  const put = (body: unknown, token?: string) =>
    a.inject({
      method: 'PUT',
      url: '/api/stations/lofi/mood',
      payload: body as object,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  assert.equal((await put({ prompt: 'rainy-day slow jazz' })).statusCode, 401);
  assert.equal((await put({ prompt: 'rainy-day slow jazz' }, 'wrong-token-xxxxxxxxxxxx')).statusCode, 401);
  for (const bad of [
    {},
    { prompt: '' },
    { prompt: '   ' },
    { prompt: 42 },
    { prompt: 'a\u0007b' },
    { prompt: 'x'.repeat(501) },
    { prompt: 'ok', extra: 1 },
  ]) {
    const res = await put(bad, TOKEN);
    assert.equal(res.statusCode, 400, JSON.stringify(bad));
    assert.ok(res.json().error.message, 'a message says why');
  }
  const before = (await a.inject('/api/stations/lofi')).json();
  const res = await put({ prompt: '  rainy-day   slow jazz 雨天  ' }, TOKEN);
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().prompt, 'rainy-day slow jazz 雨天');
  assert.equal(res.json().promptVersion, before.promptVersion + 1);
  // Bad input changed nothing.
  assert.equal((await a.inject('/api/stations/lofi')).json().prompt, 'rainy-day slow jazz 雨天');
  assert.equal((await put({ prompt: 'x' }, TOKEN)).statusCode, 200);
  assert.equal(
    (
      await a.inject({
        method: 'PUT',
        url: '/api/stations/nope/mood',
        payload: { prompt: 'x' },
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).statusCode,
    404,
  );
});

test('now-playing answers before anything plays', async (t) => {
  const { app: a } = await app(t);
  const res = await a.inject('/api/stations/lofi/now-playing');
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().playing, false);
});

test('metrics are exposed for Prometheus', async (t) => {
  const { app: a } = await app(t);
  const res = await a.inject('/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /lofi_listeners\{station="lofi"\} 0/);
  assert.match(res.body, /lofi_buffered_seconds\{station="lofi"\}/);
});

test('stations are created with an owner key that controls only that station, and deleted', async (t) => {
  const { app: a } = await app(t);
  const admin = { authorization: `Bearer ${TOKEN}` };
  const body = { id: 'cafe-blue', name: 'Café Blue', prompt: 'café jazz 咖啡馆' };
  assert.equal((await a.inject({ method: 'POST', url: '/api/stations', payload: body })).statusCode, 401);
  for (const bad of [
    { ...body, id: '../x' },
    { ...body, name: '' },
    { ...body, prompt: '' },
    { id: 'x', name: 'x' },
  ]) {
    assert.equal(
      (await a.inject({ method: 'POST', url: '/api/stations', payload: bad, headers: admin })).statusCode,
      400,
      JSON.stringify(bad),
    );
  }
  const created = await a.inject({ method: 'POST', url: '/api/stations', payload: body, headers: admin });
  assert.equal(created.statusCode, 201);
  const key = created.json().key as string;
  assert.match(key, /^sk_/);
  assert.equal(created.json().prompt, 'café jazz 咖啡馆');
  assert.equal(
    (await a.inject({ method: 'POST', url: '/api/stations', payload: body, headers: admin })).json().error
      .code,
    'STATION_EXISTS',
  );
  // The key is never shown again.
  assert.equal((await a.inject('/api/stations/cafe-blue')).json().key, undefined);
  assert.ok(!JSON.stringify((await a.inject('/api/stations')).json()).includes('keyHash'));

  const mood = (id: string, token: string) =>
    a.inject({
      method: 'PUT',
      url: `/api/stations/${id}/mood`,
      payload: { prompt: 'rainy day' },
      headers: { authorization: `Bearer ${token}` },
    });
  assert.equal((await mood('cafe-blue', key)).statusCode, 200);
  assert.equal((await mood('lofi', key)).statusCode, 401, 'a station key controls its own station only');
  assert.equal((await mood('cafe-blue', `${key}x`)).statusCode, 401);
  // A token is checked without side effects.
  const access = (id: string, token: string) =>
    a.inject({ url: `/api/stations/${id}/access`, headers: { authorization: `Bearer ${token}` } });
  assert.equal((await access('cafe-blue', key)).json().role, 'owner');
  assert.equal((await access('cafe-blue', TOKEN)).json().role, 'admin');
  assert.equal((await access('lofi', key)).statusCode, 401);
  // A leaked key is rotated by its owner (or the admin): the old one stops working at once.
  const rotate = (id: string, token: string) =>
    a.inject({
      method: 'POST',
      url: `/api/stations/${id}/key`,
      headers: { authorization: `Bearer ${token}` },
    });
  assert.equal((await rotate('lofi', key)).statusCode, 401);
  const rotated = await rotate('cafe-blue', key);
  assert.equal(rotated.statusCode, 200);
  const newKey = rotated.json().key as string;
  assert.match(newKey, /^sk_/);
  assert.notEqual(newKey, key);
  assert.equal((await mood('cafe-blue', key)).statusCode, 401, 'the old key is dead');
  assert.equal((await mood('cafe-blue', newKey)).statusCode, 200);
  assert.equal((await rotate('cafe-blue', TOKEN)).statusCode, 200, 'the admin can rotate it too');
  const moods = (await a.inject('/api/stations/cafe-blue/moods')).json().moods as Array<{
    prompt: string;
    promptVersion: number;
  }>;
  assert.deepEqual(
    moods.map((m) => [m.promptVersion, m.prompt]),
    [
      [2, 'rainy day'],
      [1, 'rainy day'],
      [0, 'café jazz 咖啡馆'],
    ],
  );

  assert.equal(
    (
      await a.inject({
        method: 'DELETE',
        url: '/api/stations/cafe-blue',
        headers: { authorization: `Bearer ${newKey}` },
      })
    ).statusCode,
    401,
  );
  assert.equal(
    (await a.inject({ method: 'DELETE', url: '/api/stations/cafe-blue', headers: admin })).statusCode,
    204,
  );
  assert.equal((await a.inject('/api/stations/cafe-blue')).statusCode, 404);
  assert.equal(
    (await a.inject({ method: 'DELETE', url: '/api/stations/cafe-blue', headers: admin })).statusCode,
    404,
  );
});

test('nothing secret is stored with a station', async (t) => {
  const { app: a, prefix, redisUrl } = await app(t);
  const created = await a.inject({
    method: 'POST',
    url: '/api/stations',
    payload: { id: 'quiet', name: 'Quiet', prompt: 'sleep' },
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const conn = connect(redisUrl, 'test');
  t.after(async () => {
    await conn.quit();
  });
  for (const id of ['lofi', 'quiet']) {
    const raw = JSON.stringify(await conn.hgetall(new Keys(prefix).station(id)));
    assert.ok(!raw.includes(TOKEN), `the admin token is stored with station ${id}`);
    assert.ok(!raw.includes(created.json().key), `the owner key is stored in clear with station ${id}`);
  }
});

test('an owner changes the station parameters within bounds', async (t) => {
  const { app: a } = await app(t);
  const created = await a.inject({
    method: 'POST',
    url: '/api/stations',
    payload: { id: 'study', name: 'Study', prompt: 'late-night study' },
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const owner = { authorization: `Bearer ${created.json().key}` };
  const patch = (payload: object, headers: Record<string, string> = owner) =>
    a.inject({ method: 'PATCH', url: '/api/stations/study', payload, headers });
  assert.equal((await patch({ lookaheadSeconds: 90 }, {})).statusCode, 401);
  for (const bad of [
    {},
    { lookaheadSeconds: 5 },
    { topP: 2 },
    { temperature: 0 },
    { overlapSeconds: 5 },
    { backend: 'wavenet' },
    { seed: 1 },
    { name: '\u0000' },
    { model: '../../etc/passwd' },
    { model: '/models/musicgen' },
    { model: 'facebook/musicgen small' },
  ]) {
    const res = await patch(bad);
    assert.equal(res.statusCode, 400, JSON.stringify(bad));
  }
  const before = (await a.inject('/api/stations/study')).json();
  assert.deepEqual(before.params, { topK: 250, topP: 0, temperature: 1, cfgCoef: 3 });
  const res = await patch({
    name: 'Study Hall',
    description: 'quiet',
    lookaheadSeconds: 90,
    topK: 200,
    cfgCoef: 4,
    backend: 'musicgen',
    model: 'facebook/musicgen-medium',
  });
  assert.equal(res.statusCode, 200);
  const after = res.json();
  assert.equal(after.backend, 'musicgen');
  assert.equal(after.model, 'facebook/musicgen-medium');
  assert.equal((await patch({ model: '' })).json().model, null, 'empty: the worker default');
  assert.equal(after.name, 'Study Hall');
  assert.equal(after.description, 'quiet');
  assert.equal(after.lookaheadSeconds, 90);
  assert.deepEqual(after.params, { topK: 200, topP: 0, temperature: 1, cfgCoef: 4 });
  assert.equal(after.promptVersion, before.promptVersion, 'parameters are not a mood change');
});

test('presets: the ten lo-fi prompts of the MusicGen write-up and our own, usable as a mood', async (t) => {
  const { app: a } = await app(t);
  const presets = (await a.inject('/api/presets')).json().presets as Array<{ id: string; prompt: string }>;
  assert.ok(presets.length >= 14);
  assert.ok(presets.filter((p) => p.prompt.includes('Lo-Fi')).length >= 10);
  const put = (payload: object) =>
    a.inject({
      method: 'PUT',
      url: '/api/stations/lofi/mood',
      payload,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
  const res = await put({ preset: 'rainy-day' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().prompt, presets.find((p) => p.id === 'rainy-day')?.prompt);
  assert.equal(res.json().preset, 'rainy-day');
  assert.equal((await put({ preset: 'nope' })).statusCode, 400);
  assert.equal((await put({ preset: 'rainy-day', prompt: 'x' })).statusCode, 400);
  assert.equal((await put({ prompt: '雨天 爵士' })).json().preset, null, 'free text clears the preset');
  const moods = (await a.inject('/api/stations/lofi/moods')).json().moods as Array<{
    prompt: string;
    preset?: string;
  }>;
  assert.equal(moods[0]?.prompt, '雨天 爵士');
  assert.equal(moods[1]?.preset, 'rainy-day', 'the history says which preset a mood came from');
});

test('a station is created with its preset, backend, model and parameters, or refused with a reason', async (t) => {
  const { app: a } = await app(t);
  const post = (payload: object) =>
    a.inject({
      method: 'POST',
      url: '/api/stations',
      payload,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
  for (const bad of [
    { id: 'a1', name: 'A' },
    { id: 'a1', name: 'A', prompt: 'x', preset: 'sleep' },
    { id: 'a1', name: 'A', preset: 'nope' },
    { id: 'a1', name: 'A', prompt: 'x', model: '~/weights' },
    { id: 'a1', name: 'A', prompt: 'x', segmentSeconds: 4, overlapSeconds: 3 },
    { id: 'a1', name: 'A', prompt: 'x', promptVersion: 9 },
  ]) {
    const res = await post(bad);
    assert.equal(res.statusCode, 400, JSON.stringify(bad));
    assert.ok(res.json().error.message, 'with a message');
  }
  assert.equal((await a.inject('/api/stations/a1')).statusCode, 404, 'a refused station is not half made');
  const res = await post({
    id: 'night',
    name: 'Night',
    preset: 'sleep',
    backend: 'musicgen',
    model: 'facebook/musicgen-small',
    topK: 100,
    cfgCoef: 5,
    lookaheadSeconds: 120,
  });
  assert.equal(res.statusCode, 201);
  const s = res.json();
  assert.equal(s.preset, 'sleep');
  assert.equal(s.backend, 'musicgen');
  assert.equal(s.model, 'facebook/musicgen-small');
  assert.equal(s.lookaheadSeconds, 120);
  assert.deepEqual(s.params, { topK: 100, topP: 0, temperature: 1, cfgCoef: 5 });
  assert.equal(s.promptVersion, 0);
  assert.equal((await a.inject('/api/stations/night/moods')).json().moods[0].preset, 'sleep');
});

test('a station stored before the generation parameters existed gets their defaults', async (t) => {
  const { app: a, prefix, redisUrl } = await app(t);
  const conn = connect(redisUrl, 'test');
  t.after(async () => {
    await conn.quit();
  });
  await conn.hdel(new Keys(prefix).station('lofi'), 'topK', 'topP', 'temperature', 'cfgCoef', 'description');
  const s = (await a.inject('/api/stations/lofi')).json();
  assert.deepEqual(s.params, { topK: 250, topP: 0, temperature: 1, cfgCoef: 3 });
  assert.equal(s.description, '');
});

test('control and creation are rate limited per IP, with a reason and a retry time', async (t) => {
  const { app: a } = await app(t, { RATE_LIMIT_PER_MINUTE: '12' });
  const put = (remoteAddress: string, authorization = `Bearer ${TOKEN}`) =>
    a.inject({
      method: 'PUT',
      url: '/api/stations/lofi/mood',
      payload: { prompt: 'slow jazz' },
      headers: { authorization },
      remoteAddress,
    });
  // Windows are whole minutes: start well inside one, so the count cannot reset mid-test.
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
  const codes: number[] = [];
  // Wrong tokens count too: guessing keys is what the limit is for.
  for (let i = 0; i < 14; i++)
    codes.push((await put('10.0.0.1', i % 2 ? 'Bearer wrong' : undefined)).statusCode);
  assert.deepEqual(
    codes.slice(0, 12).filter((c) => c === 429),
    [],
    'the first twelve pass (or fail on their own merits)',
  );
  const limited = await put('10.0.0.1');
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.json().error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  assert.equal((await put('10.0.0.2')).statusCode, 200, 'another listener is not affected');
  assert.equal(
    (await a.inject({ url: '/api/stations/lofi', remoteAddress: '10.0.0.1' })).statusCode,
    200,
    'listening needs no quota',
  );
  const create = (i: number) =>
    a.inject({
      method: 'POST',
      url: '/api/stations',
      payload: { id: `s${i}`, name: 'S', prompt: 'x' },
      headers: { authorization: `Bearer ${TOKEN}` },
      remoteAddress: '10.0.0.3',
    });
  assert.equal((await create(1)).statusCode, 201);
  assert.equal((await create(2)).statusCode, 201);
  assert.equal((await create(3)).statusCode, 429, 'creation gets a sixth of the control limit');
});
