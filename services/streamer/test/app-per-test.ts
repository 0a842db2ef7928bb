// The streamer app as the API tests use it: one real Redis per test file, and per test an app of
// its own (`build`, not `listen`) on a fresh queue prefix and data folder, closed after the test.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { loadConfig } from '@lofi/config';
import pino from 'pino';
import { startRedis, type TestRedis, uniquePrefix } from '../../../test/helpers/redis-server.ts';
import { build } from '../src/app.ts';

export const TOKEN = 'test-admin-token-0123456789';

export interface AppUnderTest {
  app: Awaited<ReturnType<typeof build>>;
  dataDir: string;
  prefix: string;
  redisUrl: string;
}

/** Registers the file's Redis (before/after) and returns the per-test app factory. */
export function appPerTest(
  name: string,
): (t: { after: (fn: () => Promise<void>) => void }, env?: Record<string, string>) => Promise<AppUnderTest> {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });
  return async (t, env = {}) => {
    const prefix = uniquePrefix(name);
    const dataDir = mkdtempSync(path.join(tmpdir(), `lofi-${name}-`));
    const config = loadConfig({
      REDIS_URL: redis.url,
      ADMIN_TOKEN: TOKEN,
      QUEUE_PREFIX: prefix,
      DATA_DIR: dataDir,
      ...env,
    });
    const app = await build({ config, log: pino({ level: 'silent' }) });
    t.after(() => app.close());
    return { app, dataDir, prefix, redisUrl: redis.url };
  };
}
