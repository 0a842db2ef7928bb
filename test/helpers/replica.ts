// A second streamer replica beside a test stack: the same Redis, store and prefix, its own port
// and replica id, started as `npm start` starts the first (services/streamer/src/main.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../scripts/supervisor/redis.ts';
import { ROOT, type Stack } from '../../scripts/supervisor/stack.ts';
import { alive } from './stack.ts';

export interface Replica {
  baseUrl: string;
  proc: ChildProcess;
  kill(): void;
}

export async function startReplica(
  stack: Stack,
  env: { DATA_DIR: string; QUEUE_PREFIX: string; REPLICA_ID: string } & Record<string, string>,
): Promise<Replica> {
  // A given PORT (a test that puts a proxy in front of this replica picks it first).
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'services/streamer/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL: stack.redisUrl,
      ADMIN_TOKEN: 'e2e-admin-token-0123456789',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    proc,
    kill: () => {
      if (proc.pid && alive(proc.pid)) proc.kill('SIGKILL');
    },
  };
}
