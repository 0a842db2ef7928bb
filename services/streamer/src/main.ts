import { configOrExit, loadConfig, onShutdown } from '@lofi/config';
import { build } from './app.ts';
import { createLogger } from './logger.ts';

const config = configOrExit('streamer', () => loadConfig());
const log = createLogger(config.logLevel, 'streamer');
const app = await build({ config, log });
await app.listen({ port: config.port, host: config.host });
onShutdown(log, 'streamer stopping', () => app.close());
