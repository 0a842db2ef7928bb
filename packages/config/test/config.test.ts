import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/index.ts';

test('defaults are the documented ones', () => {
  const c = loadConfig({}, '/srv/radio');
  assert.equal(c.port, 8000);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.dataDir, '/srv/radio/data');
  assert.equal(c.lookaheadSeconds, 60);
  assert.equal(c.redisUrl, undefined);
});

test('a bad value stops start-up with a message naming the variable', () => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
    [{ SEGMENT_SECONDS: '4', OVERLAP_SECONDS: '3' }, 'OVERLAP_SECONDS'],
    [{ HOST: 'bad host' }, 'HOST'],
  ];
  for (const [env, name] of bad) {
    assert.throws(
      () => loadConfig(env),
      (e: unknown) => e instanceof ConfigError && e.variable === name && e.message.startsWith(name),
      JSON.stringify(env),
    );
  }
});

test('values are parsed', () => {
  const c = loadConfig({ PORT: '0', REDIS_URL: 'redis://127.0.0.1:6390', DATA_DIR: '/tmp/x' });
  assert.equal(c.port, 0);
  assert.equal(c.redisUrl, 'redis://127.0.0.1:6390');
  assert.equal(c.dataDir, '/tmp/x');
});

test('archiving is off unless asked for, and a bad flag is refused', () => {
  assert.equal(loadConfig({}, '/srv').archive, false);
  assert.equal(loadConfig({ ARCHIVE: 'yes' }, '/srv').archive, true);
  assert.equal(loadConfig({ ARCHIVE: '0' }, '/srv').archive, false);
  assert.throws(() => loadConfig({ ARCHIVE: 'sometimes' }, '/srv'), /ARCHIVE/);
});

test('TRACK_SECONDS is a range or one length, within bounds', () => {
  const d = loadConfig({});
  assert.deepEqual([d.trackSecondsMin, d.trackSecondsMax], [120, 240]);
  const r = loadConfig({ TRACK_SECONDS: '90 - 300' });
  assert.deepEqual([r.trackSecondsMin, r.trackSecondsMax], [90, 300]);
  const f = loadConfig({ TRACK_SECONDS: '180' });
  assert.deepEqual([f.trackSecondsMin, f.trackSecondsMax], [180, 180]);
  for (const bad of ['240-120', '10-60', '60-5000', 'long', '-', '120-']) {
    assert.throws(
      () => loadConfig({ TRACK_SECONDS: bad }),
      (e: unknown) => e instanceof ConfigError && e.variable === 'TRACK_SECONDS',
      bad,
    );
  }
});
