// Keeps every station's lookahead filled: a poll loop over all stations, woken early by job
// completions (BullMQ QueueEvents) and mood changes (Redis pub/sub).
import type { Config } from '@lofi/config';
import type { Backend } from '@lofi/contracts';
import {
  BACKENDS,
  ChainStore,
  connect,
  Keys,
  liveWorkers,
  PlayheadStore,
  SegmentIndex,
  SegmentQueues,
  StationRepo,
  segmentQueueEvents,
  subscribe,
  type WorkerAd,
} from '@lofi/redis';
import { createSegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import { SchedulerMetrics, serveMetrics } from './metrics.ts';
import type { RouteReason } from './routing.ts';
import { type SchedulerDeps, scheduleStation } from './station-scheduler.ts';

const POLL_MS = 250;
/** How often the worker advertisements are re-read (each pass would be wasteful). */
const WORKERS_EVERY_MS = 1000;

export interface Scheduler {
  /** Runs one pass over every station now (tests and events use it). */
  runOnce(): Promise<void>;
  /** Where /metrics is served, or null (SCHEDULER_METRICS_PORT=0, or the port was taken). */
  metricsUrl: string | null;
  close(): Promise<void>;
}

export async function startScheduler(config: Config, redisUrl: string, log: Logger): Promise<Scheduler> {
  const redis = connect(redisUrl, 'scheduler', log);
  const sub = connect(redisUrl, 'scheduler-sub', log);
  const keys = new Keys(config.queuePrefix);
  const queues = new SegmentQueues(redisUrl, config.queuePrefix);
  const events = BACKENDS.map((b) => segmentQueueEvents(redisUrl, config.queuePrefix, b));
  for (const q of queues.all())
    q.on('error', (err) => log.warn({ err: err.message }, 'queue connection error'));
  for (const e of events)
    e.on('error', (err) => log.warn({ err: err.message }, 'queue events connection error'));
  const stations = new StationRepo(redis, keys, config);

  // Worker advertisements, re-read at most every WORKERS_EVERY_MS. Until the first read succeeds
  // liveness is unknown and stations keep their own backend.
  let ads: WorkerAd[] | null = null;
  let adsAt = 0;
  const refreshWorkers = async (): Promise<void> => {
    if (Date.now() - adsAt < WORKERS_EVERY_MS) return;
    adsAt = Date.now();
    const before = ads ? liveSummary(ads) : null;
    ads = await liveWorkers(redis, keys);
    const now = liveSummary(ads);
    if (now !== before)
      log.info(
        { workers: ads.map((a) => ({ id: a.id, backends: a.backends, host: a.host })) },
        'live workers',
      );
  };
  const liveBackends = (): ReadonlySet<Backend> | null =>
    ads ? new Set(ads.flatMap((a) => a.backends)) : null;
  const metrics = new SchedulerMetrics(queues, () => ads ?? []);
  const deps: SchedulerDeps = {
    redis,
    keys,
    queues,
    liveBackends,
    routes: new Map<string, RouteReason>(),
    metrics,
    chains: new ChainStore(redis, keys),
    index: new SegmentIndex(redis, keys),
    playheads: new PlayheadStore(redis, keys),
    store: createSegmentStore(config.store),
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
    await refreshWorkers().catch((err: unknown) => log.warn({ err }, 'could not read worker advertisements'));
    const ids = await stations.list().then((l) => l.map((s) => s.id));
    metrics.keepOnly(ids);
    await Promise.all(ids.map(runStation));
  };

  const stationOfJob = (jobId: string): string => jobId.split(':')[0] ?? '';
  for (const e of events) {
    e.on('completed', ({ jobId }) => void runStation(stationOfJob(jobId)));
    e.on('failed', ({ jobId }) => void runStation(stationOfJob(jobId)));
  }
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
  const served = await serveMetrics(metrics, config.metricsHost, config.schedulerMetricsPort, log);
  log.info({ prefix: config.queuePrefix, metricsUrl: served.url }, 'scheduler running');

  return {
    runOnce,
    metricsUrl: served.url,
    close: async () => {
      stopped = true;
      await looping;
      await Promise.all(running.values());
      await served.close();
      await Promise.all(events.map((e) => e.close()));
      await queues.close();
      sub.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

const liveSummary = (ads: readonly WorkerAd[]): string =>
  ads.map((a) => `${a.id}=${a.backends.join('+')}`).join(',');
