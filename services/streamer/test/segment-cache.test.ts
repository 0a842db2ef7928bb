// A segment that cannot be decoded is retried, then leaves the index so the scheduler rebuilds the
// chain from the playhead instead of the playout looping one segment for ever.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { audioKeyFor, metaKeyFor, type SegmentResult } from '@lofi/contracts';
import { connect, Keys, SegmentIndex } from '@lofi/redis';
import { LocalSegmentStore } from '@lofi/store';
import pino from 'pino';
import { cleanupStack } from '../../../test/helpers/cleanup.ts';
import { startRedis, uniquePrefix } from '../../../test/helpers/redis-server.ts';
import { decodeDeadlines, SegmentCache } from '../src/playout/segment-cache.ts';

test('an unreadable segment is retried, then removed from the index', async (t) => {
  const defer = cleanupStack(t);
  const redis = await startRedis();
  defer(() => redis.stop());
  const conn = connect(redis.url, 'test');
  defer(() => conn.quit());
  const index = new SegmentIndex(conn, new Keys(uniquePrefix('cache')));
  const dir = mkdtempSync(path.join(tmpdir(), 'lofi-cache-'));
  const audioKey = audioKeyFor('lofi', 1, 0);
  mkdirSync(path.dirname(path.join(dir, audioKey)), { recursive: true });
  writeFileSync(path.join(dir, audioKey), 'not audio at all');
  const meta: SegmentResult = {
    stationId: 'lofi',
    seq: 1,
    promptVersion: 0,
    prompt: 'p',
    title: 't',
    backend: 'procedural',
    model: 'm',
    audioKey,
    metaKey: metaKeyFor(audioKey),
    durationSeconds: 9,
    headOverlapSeconds: 1.5,
    sampleRate: 48000,
    channels: 2,
    loudnessLufs: -16,
    truePeakDbtp: -1,
    generationSeconds: 0.1,
    continuesSeq: 0,
    joinAtSeconds: 7.5,
    state: {},
  };
  await index.add(meta);
  const cache = new SegmentCache(
    'lofi',
    index,
    new LocalSegmentStore(dir),
    48000,
    2,
    pino({ level: 'silent' }),
  );
  await cache.refresh();
  assert.equal(await cache.decode(1), undefined);
  assert.ok(await index.get('lofi', 1), 'one failure may be transient: the segment stays');
  assert.equal(await cache.decode(1), undefined);
  assert.equal(await cache.decode(1), undefined);
  assert.equal(await index.get('lofi', 1), null, 'after three failures it leaves the index');
  assert.equal(cache.meta(1), undefined);
});

test('decode deadlines follow the join points, so the decoder threads run earliest first', () => {
  // 0 plays at 2 s; 1 and 5 (a mood change) continue it at 7.5 s and 4 s; 2 continues 1 at 7.5 s.
  const tree: Record<number, { seq: number; joinAtSeconds: number }[]> = {
    0: [
      { seq: 1, joinAtSeconds: 7.5 },
      { seq: 5, joinAtSeconds: 4 },
    ],
    1: [{ seq: 2, joinAtSeconds: 7.5 }],
    2: [{ seq: 3, joinAtSeconds: 7.5 }],
  };
  const now = 1_000_000;
  const d = decodeDeadlines({ seq: 0, positionSeconds: 2 }, (s) => tree[s] ?? [], now);
  assert.deepEqual(
    [...d.entries()].sort((a, b) => a[0] - b[0]),
    [
      [0, now],
      [1, now + 5500],
      [2, now + 13_000],
      [5, now + 2000],
    ],
  );
  // Three away is not decoded yet (memory); past its join point a successor is needed now.
  assert.equal(decodeDeadlines({ seq: 0, positionSeconds: 9 }, (s) => tree[s] ?? [], now).get(1), now);
  assert.equal(decodeDeadlines(null, () => [], now).size, 0);
});
