import { hostname } from 'node:os';
import { configOrExit, loadConfig, onShutdown } from '@lofi/config';
import { build, managerOf } from './app.ts';
import { createLogger } from './logger.ts';
import { defaultReplicaUrl } from './replicas.ts';

const config = configOrExit('streamer', () => loadConfig());
const log = createLogger(config.logLevel, 'streamer');
const app = await build({ config, log });
await app.listen({ port: config.port, host: config.host });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
managerOf(app)?.advertise(defaultReplicaUrl(config.host, port, hostname()));
onShutdown(log, 'streamer stopping', () => app.close());
