import { ConfigError, loadConfig } from '@lofi/config';
import { build } from './app.ts';
import { createLogger } from './logger.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`streamer: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
const log = createLogger(config.logLevel, 'streamer');
const app = await build({ config, log });
await app.listen({ port: config.port, host: config.host });

let closing = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (closing) return;
    closing = true;
    log.info({ signal: sig }, 'streamer stopping');
    void app.close().then(() => process.exit(0));
  });
}
