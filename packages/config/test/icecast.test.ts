import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/index.ts';

test('no Icecast variables: no push', () => {
  assert.equal(loadConfig({}).icecastPush, undefined);
});

test('one push URL carries server, credentials and mount', () => {
  const c = loadConfig({ ICECAST_PUSH_URL: 'http://source:p%40ss@radio.example:8000/live.mp3' });
  assert.deepEqual(c.icecastPush, {
    server: 'http://radio.example:8000',
    user: 'source',
    password: 'p@ss',
    mount: '/live.mp3',
    station: 'lofi',
    public: false,
  });
});

test('the parts work too; the mount defaults to /<station>.mp3', () => {
  const c = loadConfig({
    ICECAST_URL: 'http://127.0.0.1:8100',
    ICECAST_SOURCE_PASSWORD: 'hackme',
    ICECAST_PUSH_STATION: 'jazz',
    ICECAST_PUBLIC: '1',
  });
  assert.equal(c.icecastPush?.mount, '/jazz.mp3');
  assert.equal(c.icecastPush?.user, 'source');
  assert.equal(c.icecastPush?.public, true);
  assert.equal(
    loadConfig({ ICECAST_URL: 'http://h:1', ICECAST_SOURCE_PASSWORD: 'x', ICECAST_PUSH_STATION: '*' })
      .icecastPush?.station,
    '*',
  );
});

test('bad Icecast settings name the variable and never echo the password', () => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ ICECAST_PUSH_URL: 'http://host:8000/live.mp3' }, 'ICECAST_PUSH_URL'],
    [{ ICECAST_PUSH_URL: 'ftp://source:secretpw@host/live.mp3' }, 'ICECAST_PUSH_URL'],
    [{ ICECAST_PUSH_URL: 'http://source:secretpw@host/live.mp3?x=1' }, 'ICECAST_PUSH_URL'],
    [{ ICECAST_PUSH_URL: 'http://source:secretpw@host/a/b.mp3' }, 'ICECAST_PUSH_URL'],
    [{ ICECAST_URL: 'http://host:8000' }, 'ICECAST_SOURCE_PASSWORD'],
    [
      { ICECAST_URL: 'http://host:8000', ICECAST_SOURCE_PASSWORD: 'secretpw', ICECAST_MOUNT: 'x' },
      'ICECAST_MOUNT',
    ],
    [{ ICECAST_PUSH_URL: 'http://s:secretpw@h/x.mp3', ICECAST_URL: 'http://h' }, 'ICECAST_PUSH_URL'],
    [{ ICECAST_PUSH_URL: 'http://s:secretpw@h/x.mp3', ICECAST_PUSH_STATION: '*' }, 'ICECAST_PUSH_URL'],
    [{ ICECAST_PUSH_URL: 'http://s:secretpw@h/x.mp3', ICECAST_PUSH_STATION: 'a b' }, 'ICECAST_PUSH_STATION'],
    [{ ICECAST_PUSH_URL: 'http://s:secretpw@h/x.mp3', ICECAST_PUBLIC: 'yes' }, 'ICECAST_PUBLIC'],
  ];
  for (const [env, name] of bad) {
    assert.throws(
      () => loadConfig(env),
      (e: unknown) => e instanceof ConfigError && e.variable === name && !e.message.includes('secretpw'),
      JSON.stringify(env),
    );
  }
});
