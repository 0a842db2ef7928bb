// Retention: played segments beyond RETAIN_SEGMENTS leave the index and the store, unless
// archiving is on, in which case their files stay (only the index forgets them).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { audioKeyFor, metaKeyFor, type SegmentResult } from '@lofi/contracts';
import {
  ChainStore,
  connect,
  Keys,
  PlayheadStore,
  SegmentIndex,
  SegmentQueues,
  StationRepo,
} from '@lofi/redis';
import { LocalSegmentStore } from '@lofi/store';
import pino from 'pino';
import { startRedis, type TestRedis, uniquePrefix } from '../../../test/helpers/redis-server.ts';
import { scheduleStation } from '../src/station-scheduler.ts';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

function segment(seq: number): SegmentResult {
  const audioKey = audioKeyFor('keep', seq, 0);
  return {
    stationId: 'keep',
    seq,
    promptVersion: 0,
    prompt: 'slow jazz',
    title: `seg ${seq}`,
    backend: 'procedural',
    model: 'procedural-v1',
    audioKey,
    metaKey: metaKeyFor(audioKey),
    durationSeconds: 9.5,
    headOverlapSeconds: 1.5,
    sampleRate: 48000,
    channels: 2,
    loudnessLufs: -16,
    truePeakDbtp: -1.5,
    generationSeconds: 0.1,
    continuesSeq: seq === 0 ? null : seq - 1,
    joinAtSeconds: seq === 0 ? 0 : 8,
    state: {},
  };
}

async function run(archive: boolean): Promise<{ dir: string; indexed: number[] }> {
  const prefix = uniquePrefix('retain');
  const conn = connect(redis.url, 'test');
  const keys = new Keys(prefix);
  const dir = mkdtempSync(path.join(tmpdir(), 'lofi-retain-'));
  const index = new SegmentIndex(conn, keys);
  const chains = new ChainStore(conn, keys);
  const playheads = new PlayheadStore(conn, keys);
  const queues = new SegmentQueues(redis.url, prefix);
  try {
    const station = await new StationRepo(conn, keys, {
      segmentSeconds: 8,
      overlapSeconds: 1.5,
      lookaheadSeconds: 30,
    }).ensure({ id: 'keep', name: 'Keep', prompt: 'slow jazz' });
    for (let seq = 0; seq < 8; seq++) {
      const s = segment(seq);
      mkdirSync(path.dirname(path.join(dir, s.audioKey)), { recursive: true });
      writeFileSync(path.join(dir, s.audioKey), 'flac');
      writeFileSync(path.join(dir, s.metaKey), JSON.stringify(s));
      await index.add(s);
    }
    await chains.write('keep', { ...(await chains.read('keep')), tipSeq: 7, tipVersion: 0, lastSeq: 7 });
    await playheads.write('keep', { seq: 6, positionSeconds: 1, atMs: Date.now(), nextSeq: 7, underruns: 0 });
    await scheduleStation(
      {
        redis: conn,
        keys,
        queues,
        chains,
        index,
        playheads,
        store: new LocalSegmentStore(dir),
        retainSegments: 2,
        archive,
        log: pino({ level: 'silent' }),
      },
      station,
    );
    return { dir, indexed: (await index.all('keep')).map((s) => s.seq) };
  } finally {
    await queues.close();
    await conn.quit();
  }
}

test('played segments beyond the retention window leave the index and the store', async () => {
  const { dir, indexed } = await run(false);
  assert.deepEqual(indexed, [4, 5, 6, 7], 'two played segments kept, the playing one and the one ahead');
  for (const seq of [0, 1, 2, 3]) assert.equal(existsSync(path.join(dir, segment(seq).audioKey)), false);
  assert.equal(existsSync(path.join(dir, segment(4).audioKey)), true);
});

test('with archiving on, their files stay in the store', async () => {
  const { dir, indexed } = await run(true);
  assert.deepEqual(indexed, [4, 5, 6, 7]);
  for (const seq of [0, 1, 2, 3]) {
    assert.equal(existsSync(path.join(dir, segment(seq).audioKey)), true);
    assert.equal(existsSync(path.join(dir, segment(seq).metaKey)), true);
  }
});
