// Keeps every station's lookahead filled: a poll loop over all stations, woken early by job
// completions (BullMQ QueueEvents) and mood changes (Redis pub/sub).
import type { Config } from '@lofi/config';
import {
  ChainStore,
  connect,
  Keys,
  PlayheadStore,
  SegmentIndex,
  StationRepo,
  segmentQueue,
  segmentQueueEvents,
  subscribe,
} from '@lofi/redis';
import { LocalSegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import { type SchedulerDeps, scheduleStation } from './station-scheduler.ts';

const POLL_MS = 250;

export interface Scheduler {
  /** Runs one pass over every station now (tests and events use it). */
  runOnce(): Promise<void>;
  close(): Promise<void>;
}

export async function startScheduler(config: Config, redisUrl: string, log: Logger): Promise<Scheduler> {
  const redis = connect(redisUrl, 'scheduler', log);
  const sub = connect(redisUrl, 'scheduler-sub', log);
  const keys = new Keys(config.queuePrefix);
  const queue = segmentQueue(redisUrl, config.queuePrefix);
  const events = segmentQueueEvents(redisUrl, config.queuePrefix);
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue connection error'));
  events.on('error', (err) => log.warn({ err: err.message }, 'queue events connection error'));
  const stations = new StationRepo(redis, keys, config);
  const deps: SchedulerDeps = {
    redis,
    keys,
    queue,
    chains: new ChainStore(redis, keys),
    index: new SegmentIndex(redis, keys),
    playheads: new PlayheadStore(redis, keys),
    store: new LocalSegmentStore(config.dataDir),
    retainSegments: config.retainSegments,
    archive: config.archive,
    log,
  };
  await stations.ensure({ id: 'lofi', name: 'Endless Lo-Fi', prompt: config.defaultPrompt });

  const running = new Map<string, Promise<void>>();
  const runStation = (id: string): Promise<void> => {
    const busy = running.get(id);
    if (busy) return busy;
    const p = (async () => {
      const station = await stations.get(id);
      if (station) await scheduleStation(deps, station);
    })()
      .catch((err: unknown) => log.error({ err, stationId: id }, 'scheduling failed; will retry'))
      .finally(() => running.delete(id));
    running.set(id, p);
    return p;
  };
  const runOnce = async (): Promise<void> => {
    const ids = await stations.list().then((l) => l.map((s) => s.id));
    await Promise.all(ids.map(runStation));
  };

  const stationOfJob = (jobId: string): string => jobId.split(':')[0] ?? '';
  events.on('completed', ({ jobId }) => void runStation(stationOfJob(jobId)));
  events.on('failed', ({ jobId }) => void runStation(stationOfJob(jobId)));
  await subscribe(sub, keys, (e) => {
    if (e.type !== 'segment') void runStation(e.stationId);
  });

  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await runOnce().catch((err: unknown) => log.error({ err }, 'scheduler pass failed'));
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  const looping = loop();
  log.info({ prefix: config.queuePrefix }, 'scheduler running');

  return {
    runOnce,
    close: async () => {
      stopped = true;
      await looping;
      await Promise.all(running.values());
      await events.close();
      await queue.close();
      sub.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
