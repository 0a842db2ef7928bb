// Per-IP rate limits for control, creation and WebSocket connections. The counters live in Redis
// (fixed one-minute windows), so the limit holds across streamer replicas and restarts.
import type { Keys } from '@lofi/redis';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { errors } from '../errors.ts';

export type Bucket = 'control' | 'create' | 'ws';

export interface RateLimiter {
  /** Counts one request of `bucket` from the request's IP; throws a 429 past the limit. */
  take(bucket: Bucket, req: FastifyRequest, reply?: FastifyReply): Promise<void>;
}

const WINDOW_MS = 60_000;

export function rateLimiter(redis: Redis, keys: Keys, perMinute: number): RateLimiter {
  const limits: Record<Bucket, number> = {
    control: perMinute,
    create: Math.max(1, Math.floor(perMinute / 6)),
    ws: perMinute,
  };
  return {
    async take(bucket, req, reply) {
      const now = Date.now();
      const window = Math.floor(now / WINDOW_MS);
      const key = keys.rateLimit(bucket, req.ip, window);
      const [[, count]] = (await redis
        .multi()
        .incr(key)
        .pexpire(key, WINDOW_MS * 2)
        .exec()) as [[Error | null, number]];
      if (count > limits[bucket]) {
        const retryAfter = Math.ceil(((window + 1) * WINDOW_MS - now) / 1000);
        reply?.header('retry-after', String(retryAfter));
        req.log.warn({ bucket, ip: req.ip, count }, 'rate limited');
        throw errors.rateLimited(bucket, retryAfter);
      }
    },
  };
}
