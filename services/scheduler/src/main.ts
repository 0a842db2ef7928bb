import { ConfigError, loadConfig, requireRedisUrl } from '@lofi/config';
import pino from 'pino';
import { startScheduler } from './scheduler.ts';

let config: ReturnType<typeof loadConfig>;
let redisUrl: string;
try {
  config = loadConfig();
  redisUrl = requireRedisUrl(config);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`scheduler: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
const log = pino({ name: 'scheduler', level: config.logLevel });
const scheduler = await startScheduler(config, redisUrl, log);
let closing = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (closing) return;
    closing = true;
    log.info({ signal: sig }, 'scheduler stopping');
    void scheduler.close().then(() => process.exit(0));
  });
}
