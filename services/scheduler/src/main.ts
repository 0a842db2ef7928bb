import { configOrExit, loadConfig, onShutdown, requireRedisUrl } from '@lofi/config';
import pino from 'pino';
import { startScheduler } from './scheduler.ts';

const { config, redisUrl } = configOrExit('scheduler', () => {
  const c = loadConfig();
  return { config: c, redisUrl: requireRedisUrl(c) };
});
const log = pino({ name: 'scheduler', level: config.logLevel });
const scheduler = await startScheduler(config, redisUrl, log);
onShutdown(log, 'scheduler stopping', () => scheduler.close());
