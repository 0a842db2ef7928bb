// The whole station as processes: Redis (unless REDIS_URL points elsewhere), the scheduler, the
// worker(s) and the streamer. Used by `npm start` and by the end-to-end tests.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Config, ConfigError, loadConfig } from '@lofi/config';
import type { Logger } from 'pino';
import { SupervisedChild } from './child.ts';
import { freePort, portIsFree, redisSpec, stopStaleRedis, waitForPort } from './redis.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
/**
 * The worker's Python environment: AudioCraft pins old packages, so it has one of its own. Without
 * it the main one runs, and its MusicGen jobs fail saying where AudioCraft is expected.
 */
export const workerVenv = (env: NodeJS.ProcessEnv): string =>
  env.MUSICGEN_ENGINE?.trim() === 'audiocraft' &&
  existsSync(path.join(ROOT, 'python-worker/.venv-audiocraft/bin/lofi-worker'))
    ? '.venv-audiocraft'
    : '.venv';
const TSX = ['--import', 'tsx'];

export interface Stack {
  config: Config;
  adminToken: string;
  redisUrl: string;
  baseUrl: string;
  children: Map<string, SupervisedChild>;
  stop(): Promise<void>;
}

export interface StackOptions {
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Keep Redis's AOF (npm start) or not (tests). */
  persist?: boolean;
  /** Filled as children start, so a stop asked for while starting can stop what runs already. */
  children?: Map<string, SupervisedChild>;
  /** Once aborted, no further child starts (startStack rejects with the reason). */
  signal?: AbortSignal;
}

/**
 * The services at once (none needs another to stop, only Redis: the streamer's HLS flush and
 * lease release, a worker giving back its job), then Redis. One after the other they took the sum
 * of their stops, which `npm start`'s 3 s could not hold.
 */
export async function stopChildren(children: Map<string, SupervisedChild>): Promise<void> {
  const redis = children.get('redis');
  await Promise.all([...children.values()].filter((c) => c !== redis).map((c) => c.stop()));
  await redis?.stop();
}

export async function startStack({
  env = process.env,
  log,
  persist = true,
  children = new Map<string, SupervisedChild>(),
  signal,
}: StackOptions): Promise<Stack> {
  const baseEnv: NodeJS.ProcessEnv = { ...env };
  const generatedToken = !baseEnv.ADMIN_TOKEN;
  if (generatedToken) baseEnv.ADMIN_TOKEN = randomBytes(24).toString('base64url');
  const config = loadConfig(baseEnv, ROOT); // validated once, before anything starts
  const adminToken = config.adminToken as string;
  // Another server on the port would answer for us while the streamer crash-loops: refuse early.
  if (config.port !== 0 && !(await portIsFree(config.host, config.port))) {
    throw new ConfigError(
      'PORT',
      `${config.port} is already in use on ${config.host}; stop what uses it or set PORT`,
    );
  }
  const add = (c: SupervisedChild): void => {
    signal?.throwIfAborted();
    children.set(c.spec.name, c);
    c.start();
  };

  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const stale = await stopStaleRedis(config.dataDir);
    if (stale) log.warn({ pid: stale }, 'stopped a Redis left running on this DATA_DIR by an earlier run');
    const port = await freePort();
    add(new SupervisedChild(redisSpec(config.dataDir, port, persist), log));
    await waitForPort(port);
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  const childEnv: NodeJS.ProcessEnv = {
    ...baseEnv,
    REDIS_URL: redisUrl,
    DATA_DIR: config.dataDir,
    PORT: String(config.port),
  };
  const node = (name: string, entry: string, env: NodeJS.ProcessEnv = childEnv): SupervisedChild =>
    new SupervisedChild({ name, cmd: process.execPath, args: [...TSX, entry], env, cwd: ROOT }, log);
  // Metrics ports — begin
  // Many stacks (tests, several `npm start`s) share one machine: unless a port is asked for, each
  // child gets a free one. Asked for: the scheduler's as given, worker i's port + i; 0: off.
  const metricsPort = async (name: string, asked: number, offset: number): Promise<number> =>
    baseEnv[name]?.trim() ? (asked === 0 ? 0 : asked + offset) : await freePort();
  const metricsUrls: Record<string, string> = {};
  const metricsEnv = async (child: string, name: string, asked: number, offset: number) => {
    const port = await metricsPort(name, asked, offset);
    if (port) metricsUrls[child] = `http://${config.metricsHost}:${port}/metrics`;
    return { ...childEnv, [name]: String(port) };
  };
  add(
    node(
      'scheduler',
      'services/scheduler/src/main.ts',
      await metricsEnv('scheduler', 'SCHEDULER_METRICS_PORT', config.schedulerMetricsPort, 0),
    ),
  );
  // Metrics ports — end
  for (let i = 0; i < config.workers; i++) {
    add(
      new SupervisedChild(
        {
          name: `worker-${i + 1}`,
          // MUSICGEN_ENGINE=audiocraft: AudioCraft's own environment (scripts/lib/audiocraft-env.mjs).
          cmd: path.join(ROOT, `python-worker/${workerVenv(baseEnv)}/bin/lofi-worker`),
          args: ['run'],
          env: await metricsEnv(`worker-${i + 1}`, 'WORKER_METRICS_PORT', config.workerMetricsPort, i),
          cwd: ROOT,
        },
        log,
      ),
    );
  }
  add(node('streamer', 'services/streamer/src/main.ts'));
  if (Object.keys(metricsUrls).length) log.info({ metrics: metricsUrls }, 'metrics (Prometheus) served at');
  await waitForPort(config.port, 30_000);
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  return {
    config,
    adminToken,
    redisUrl,
    baseUrl: config.publicUrl ?? `http://${host}:${config.port}`,
    children,
    stop: () => stopChildren(children),
  };
}
