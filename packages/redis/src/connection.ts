import { Redis } from 'ioredis';

interface ErrorLog {
  warn(obj: object, msg: string): void;
}

/**
 * BullMQ wants `maxRetriesPerRequest: null` on its connections; the same settings suit our own
 * commands, and ioredis keeps reconnecting when Redis restarts. Connection errors are logged, not
 * thrown: the reconnect loop is the remedy.
 */
export function connect(url: string, name: string, log?: ErrorLog): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let last = 0;
  redis.on('error', (err: Error) => {
    // One line per few seconds at most while Redis is away.
    if (Date.now() - last < 5000) return;
    last = Date.now();
    log?.warn({ err: err.message, connection: name }, 'redis connection error; reconnecting');
  });
  return redis;
}
