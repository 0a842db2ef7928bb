// A streamer (listening on a free port) whose station `lofi` plays a real tone chain: FLAC files in
// a real store, a real Redis index; only the Python worker is left out.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@lofi/config';
import { connect, Keys, SegmentIndex } from '@lofi/redis';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { startRedis, uniquePrefix } from '../../../test/helpers/redis-server.ts';
import { writeToneChain } from '../../../test/helpers/tone-station.ts';
import { build, managerOf } from '../src/app.ts';
import type { StationManager } from '../src/station-manager.ts';

export const TONE_ADMIN_TOKEN = 'tone-admin-token-0123456789';

export interface ToneApp {
  app: FastifyInstance;
  base: string;
  manager: StationManager;
  redisUrl: string;
  prefix: string;
  close(): Promise<void>;
}

export async function toneApp(
  opts: { hlsTargetSeconds?: number; contentSeconds?: number } = {},
): Promise<ToneApp> {
  const redis = await startRedis();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lofi-outputs-'));
  const prefix = uniquePrefix('outputs');
  const conn = connect(redis.url, 'tones');
  await writeToneChain(dataDir, new SegmentIndex(conn, new Keys(prefix)), {
    freqs: [330, 392, 440, 494, 523, 587, 659, 698],
    contentSeconds: opts.contentSeconds ?? 4,
    overlapSeconds: 0.5,
  });
  await conn.quit();
  const config = loadConfig({
    REDIS_URL: redis.url,
    ADMIN_TOKEN: TONE_ADMIN_TOKEN,
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
  });
  const app = await build({
    config,
    log: pino({ level: 'silent' }),
    hlsTargetSeconds: opts.hlsTargetSeconds,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const manager = managerOf(app);
  assert.ok(manager);
  return {
    app,
    base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    manager,
    redisUrl: redis.url,
    prefix,
    close: async () => {
      await app.close();
      await redis.stop();
    },
  };
}
