// The streamer: build(opts) assembles the Fastify app with its playouts; listen() is main.ts's job,
// so tests can inject requests or listen on port 0.
import { type Config, requireAdminToken, requireRedisUrl } from '@lofi/config';
import { ChainStore, connect, Keys, PlayheadStore, SegmentIndex, StationRepo, subscribe } from '@lofi/redis';
import { LocalSegmentStore } from '@lofi/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerMetrics } from './api/metrics.ts';
import { registerRoutes } from './api/routes.ts';
import { ApiError } from './errors.ts';
import { registerPages } from './pages.ts';
import { StationManager } from './station-manager.ts';

export interface BuildOptions {
  config: Config;
  log: Logger;
}

export const DEFAULT_STATION = { id: 'lofi', name: 'Endless Lo-Fi' } as const;

export async function build({ config, log }: BuildOptions): Promise<FastifyInstance> {
  const adminToken = requireAdminToken(config);
  const redisUrl = requireRedisUrl(config);
  const redis = connect(redisUrl, 'streamer', log);
  const sub = connect(redisUrl, 'streamer-sub', log);
  const keys = new Keys(config.queuePrefix);
  const stations = new StationRepo(redis, keys, config);
  const index = new SegmentIndex(redis, keys);
  const chains = new ChainStore(redis, keys);
  const playheads = new PlayheadStore(redis, keys);
  const store = new LocalSegmentStore(config.dataDir);

  await stations.ensure({ ...DEFAULT_STATION, prompt: config.defaultPrompt });
  const manager = new StationManager({ config, stations, index, playheads, store, log });
  await subscribe(sub, keys, (e) => manager.nudge(e.stationId));
  await manager.start();

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // A prompt of 42 is a bad request, not the string "42".
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    }
    if (err.validation || (err.statusCode && err.statusCode < 500)) {
      return reply.code(err.statusCode ?? 400).send({ error: { code: 'BAD_REQUEST', message: err.message } });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } }),
  );
  registerRoutes(app, { config, adminToken, redis, keys, stations, chains, manager });
  registerMetrics(app, { manager, chains });
  registerPages(app);
  app.addHook('onClose', async () => {
    manager.stop();
    sub.disconnect();
    await redis.quit().catch(() => redis.disconnect());
  });
  return app;
}
