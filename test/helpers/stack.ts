// The whole station as `npm start` runs it (supervisor code included), on free ports, in a temp
// folder, for end-to-end tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { freePort } from '../../scripts/supervisor/redis.ts';
import { type Stack, startStack } from '../../scripts/supervisor/stack.ts';
import { uniquePrefix } from './redis-server.ts';

export async function testStack(env: Record<string, string> = {}, persist = false): Promise<Stack> {
  const port = await freePort();
  return startStack({
    persist,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' }),
    env: {
      ...process.env,
      REDIS_URL: '',
      ADMIN_TOKEN: 'e2e-admin-token-0123456789',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'lofi-e2e-')),
      QUEUE_PREFIX: uniquePrefix('e2e'),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      // A killed worker's job is found stalled within seconds rather than the production 30 s.
      WORKER_LOCK_MS: '8000',
      WORKER_STALLED_INTERVAL_MS: '4000',
      ...env,
    },
  });
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`,
  );
}

/** Whether a process is still there. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
