import { hostname } from 'node:os';
import { configOrExit, loadConfig, onShutdown } from '@lofi/config';
import { build, managerOf } from './app.ts';
import { createLogger } from './logger.ts';
import { defaultReplicaUrl } from './replicas.ts';

const config = configOrExit('streamer', () => loadConfig());
const log = createLogger(config.logLevel, 'streamer');
const app = await build({ config, log });
// A connect storm (thousands of listeners within seconds) must not overflow the accept queue: a
// dropped SYN costs the listener a 1 s (then 3 s, 7 s) retransmit. The kernel caps it at somaxconn.
await app.listen({ port: config.port, host: config.host, backlog: 4096 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
managerOf(app)?.advertise(defaultReplicaUrl(config.host, port, hostname()));
onShutdown(log, 'streamer stopping', () => app.close());
