// The streamer: build(opts) assembles the Fastify app with its playouts; listen() is main.ts's job,
// so tests can inject requests or listen on port 0.

import helmet from '@fastify/helmet';
import websocket from '@fastify/websocket';
import { type Config, requireAdminToken, requireRedisUrl } from '@lofi/config';
import {
  ChainStore,
  connect,
  Keys,
  ListenerCountStore,
  NowPlayingStore,
  PlayheadStore,
  PlayoutLeases,
  SegmentIndex,
  StationRepo,
  subscribe,
} from '@lofi/redis';
import { createSegmentStore } from '@lofi/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerHls } from './api/hls.ts';
import { registerListenFiles } from './api/listen-files.ts';
import { registerListeners } from './api/listeners.ts';
import { registerMelody } from './api/melody.ts';
import { registerMetrics } from './api/metrics.ts';
import { rateLimiter } from './api/rate-limit.ts';
import { registerRoutes } from './api/routes.ts';
import { MAX_INCOMING, registerSocket, SocketHub } from './api/ws.ts';
import { ApiError } from './errors.ts';
import { registerDocs, registerPages } from './pages.ts';
import { StationManager } from './station-manager.ts';

export interface BuildOptions {
  config: Config;
  log: Logger;
  /** HLS segment target duration in seconds (default 6); tests shorten it. */
  hlsTargetSeconds?: number;
}

const managers = new WeakMap<FastifyInstance, StationManager>();

/** The running stations behind an app `build` made (tests reach the encoders through it). */
export function managerOf(app: FastifyInstance): StationManager | undefined {
  return managers.get(app);
}

export const DEFAULT_STATION = { id: 'lofi', name: 'Endless Lo-Fi' } as const;

export async function build({ config, log, hlsTargetSeconds }: BuildOptions): Promise<FastifyInstance> {
  const adminToken = requireAdminToken(config);
  const redisUrl = requireRedisUrl(config);
  // Named after the replica, so CLIENT LIST (and MONITOR) tell the replicas' commands apart.
  const redis = connect(redisUrl, `streamer:${config.replicaId}`, log);
  const sub = connect(redisUrl, `streamer-sub:${config.replicaId}`, log);
  const keys = new Keys(config.queuePrefix);
  const stations = new StationRepo(redis, keys, config);
  const index = new SegmentIndex(redis, keys);
  const chains = new ChainStore(redis, keys);
  const playheads = new PlayheadStore(redis, keys);
  const store = createSegmentStore(config.store);

  await stations.ensure({ ...DEFAULT_STATION, prompt: config.defaultPrompt });
  const leases = new PlayoutLeases(redis, keys, config.leaseTtlMs);
  const nowPlaying = new NowPlayingStore(redis, keys);
  const counts = new ListenerCountStore(redis, keys);
  const manager = new StationManager({
    config,
    stations,
    index,
    playheads,
    leases,
    nowPlaying,
    counts,
    store,
    log: log.child({ replica: config.replicaId }),
    hlsTargetSeconds,
  });
  const sockets = new SocketHub({ manager, stations, chains, log });
  await subscribe(sub, keys, (e) => {
    manager.nudge(e.stationId);
    sockets.nudge(e.stationId);
  });
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
  // Standard security headers on every answer. Content-Security-Policy and framing are per page
  // (pages.ts: the embed may be framed, nothing else); resources stay loadable cross-origin,
  // since other sites' players load our streams and playlists.
  await app.register(helmet, {
    contentSecurityPolicy: false,
    frameguard: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false,
  });
  // Web pages (pages.ts) — begin: OpenAPI and the no-framing default, before the routes they describe.
  await registerDocs(app);
  // Web pages — end
  registerRoutes(app, { config, adminToken, redis, keys, stations, chains, manager });
  registerMetrics(app, { manager, chains });
  registerHls(app, { manager, stations });
  registerListeners(app, { manager, stations });
  registerListenFiles(app, { config, stations });
  registerMelody(app, { adminToken, stations, store }); // musicgen-melody uploads (api/melody.ts)
  await app.register(websocket, { options: { maxPayload: MAX_INCOMING } });
  registerSocket(app, sockets, stations, rateLimiter(redis, keys, config.rateLimitPerMinute));
  // Web pages (pages.ts) — begin
  registerPages(app, { stations, manager, embedFrameAncestors: config.embedFrameAncestors });
  // Web pages — end
  managers.set(app, manager);
  app.addHook('onClose', async () => {
    sockets.close();
    await manager.stop();
    sub.disconnect();
    await redis.quit().catch(() => redis.disconnect());
  });
  return app;
}
