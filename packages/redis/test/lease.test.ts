// Playout leases against a real Redis: one holder at a time, renewal only by the holder, a lapsed
// or released lease free for the next, and a dead holder's lease breakable only as that holder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, uniquePrefix } from '../../../test/helpers/redis-server.ts';
import { Keys } from '../src/keys.ts';
import { PlayoutLeases } from '../src/lease.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a playout lease has one holder, renewed by it alone, and lapses when it stops', async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const redis = new Redis(server.url);
  t.after(() => redis.quit());
  const keys = new Keys(uniquePrefix('lease'));
  const a = new PlayoutLeases(redis, keys, 400);
  const b = new PlayoutLeases(redis, keys, 400);
  const meA = { replica: 'a', url: 'http://a:1' };
  const meB = { replica: 'b', url: 'http://b:1' };

  assert.deepEqual(await a.claim('lofi', meA), meA, 'a free lease is taken');
  assert.deepEqual(await b.claim('lofi', meB), meA, 'a held one is not, and names its holder');
  await sleep(250);
  assert.deepEqual(await a.claim('lofi', { ...meA, url: 'http://a:2' }), { ...meA, url: 'http://a:2' });
  await sleep(250);
  // 500 ms after the first claim, past the TTL: the renewal kept it.
  assert.deepEqual(await b.claim('lofi', meB), { ...meA, url: 'http://a:2' }, 'renewed by its holder');

  // b cannot break a's lease while naming an older URL of it: only the exact holder.
  assert.equal(await b.breakIfHeldBy('lofi', meA), false);
  assert.equal(await b.breakIfHeldBy('lofi', { ...meA, url: 'http://a:2' }), true);
  assert.deepEqual(await b.claim('lofi', meB), meB, 'broken, then taken');
  // a's renewal now fails (the value is b's): a learns it lost the lease.
  assert.deepEqual(await a.claim('lofi', meA), meB);

  await sleep(500);
  assert.equal(await a.holder('lofi'), null, 'a holder that stops renewing loses it');
  assert.deepEqual(await a.claim('lofi', meA), meA);
  await b.release('lofi');
  assert.deepEqual(await a.holder('lofi'), meA, 'release by a non-holder does nothing');
  await a.release('lofi');
  assert.equal(await b.holder('lofi'), null, 'its holder releases it');
  assert.deepEqual(await b.claim('lofi', meB), meB);
});
