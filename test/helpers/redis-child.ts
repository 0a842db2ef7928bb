// A supervisor with only its Redis: starts it as the stack does (redisSpec, SupervisedChild) with
// the watch given in REDIS_WATCH, prints `REDIS <pid> <port>`, then waits to be killed. The orphan
// test kills this process and checks that Redis goes by itself.
import pino from 'pino';
import { SupervisedChild } from '../../scripts/supervisor/child.ts';
import {
  freePort,
  type RedisWatch,
  redisPid,
  redisSpec,
  waitForPort,
} from '../../scripts/supervisor/redis.ts';
import { waitFor } from './stack.ts';

const dataDir = process.env.DATA_DIR as string;
const port = await freePort();
const redis = new SupervisedChild(
  redisSpec(dataDir, port, true, process.env.REDIS_WATCH as RedisWatch),
  pino({ level: 'warn' }),
);
redis.start();
await waitForPort(port);
const pid = await waitFor('the pid file', async () => redisPid(dataDir), 10_000, 20);
process.stdout.write(`REDIS ${pid} ${port}\n`);
setInterval(() => undefined, 1 << 30);
