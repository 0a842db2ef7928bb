// The scheduler's Prometheus metrics on a small node:http server (SCHEDULER_METRICS_PORT; 0: off).
// Station figures come from the last scheduling pass; queue depths and live workers are read at
// scrape time. Stations are few per deployment, so a station label is bounded.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Backend } from '@lofi/contracts';
import {
  BACKENDS,
  type ChainState,
  capacityByBackend,
  type SegmentQueues,
  type Station,
  type WorkerAd,
} from '@lofi/redis';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';

interface StationFigures {
  bufferedSeconds: number;
  targetSeconds: number;
  status: ChainState['status'];
  fallback: boolean;
  realtimeFactor: number | null;
}

export class SchedulerMetrics {
  readonly registry = new Registry();
  private readonly stations = new Map<string, StationFigures>();
  private readonly enqueuedTotal: Counter<'backend'>;
  private readonly completedTotal: Counter<'backend'>;
  private readonly failedTotal: Counter<'backend'>;
  private readonly reroutedTotal: Counter;

  constructor(
    private readonly queues: SegmentQueues,
    private readonly workers: () => readonly WorkerAd[],
  ) {
    const registers = [this.registry];
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ['backend'] as const, registers });
    this.enqueuedTotal = counter(
      'lofi_scheduler_jobs_enqueued_total',
      'Segment jobs enqueued, by backend queue',
    );
    this.completedTotal = counter(
      'lofi_scheduler_jobs_completed_total',
      'Segment jobs collected as completed',
    );
    this.failedTotal = counter('lofi_scheduler_jobs_failed_total', 'Segment jobs collected as failed');
    this.reroutedTotal = new Counter({
      name: 'lofi_scheduler_jobs_rerouted_total',
      help: 'Waiting jobs moved off a backend queue that no live worker consumes',
      registers,
    });
    for (const backend of BACKENDS) {
      this.enqueuedTotal.inc({ backend }, 0);
      this.completedTotal.inc({ backend }, 0);
      this.failedTotal.inc({ backend }, 0);
    }
    const figures = this.stations;
    const perStation = (name: string, help: string, pick: (f: StationFigures) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['station'] as const,
        registers,
        collect() {
          this.reset();
          for (const [station, f] of figures) {
            const v = pick(f);
            if (v !== null) this.set({ station }, v);
          }
        },
      });
    perStation(
      'lofi_scheduler_lookahead_seconds',
      'Generated audio ahead of the playhead, in flight included',
      (f) => f.bufferedSeconds,
    );
    perStation(
      'lofi_scheduler_lookahead_target_seconds',
      'The lookahead the station aims for',
      (f) => f.targetSeconds,
    );
    perStation(
      'lofi_scheduler_starving',
      '1 while the station is starving (its playout is bridging soon or now)',
      (f) => (f.status === 'starving' ? 1 : 0),
    );
    perStation('lofi_scheduler_fallback', '1 while the station plays the procedural fallback', (f) =>
      f.fallback ? 1 : 0,
    );
    perStation(
      'lofi_scheduler_generation_realtime_factor',
      'Seconds of audio generated per second of compute',
      (f) => f.realtimeFactor,
    );
    new Gauge({
      name: 'lofi_scheduler_stations',
      help: 'Stations by chain status',
      labelNames: ['status'] as const,
      registers,
      collect() {
        this.reset();
        const counts = { starting: 0, filling: 0, ok: 0, starving: 0 };
        for (const f of figures.values()) counts[f.status]++;
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'lofi_scheduler_fallback_stations',
      help: 'Stations playing the procedural fallback',
      registers,
      collect() {
        this.set([...figures.values()].filter((f) => f.fallback).length);
      },
    });
    const ads = this.workers;
    const capacity = (name: string, help: string, pick: (c: { workers: number; slots: number }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['backend'] as const,
        registers,
        collect() {
          for (const [backend, c] of capacityByBackend(ads())) this.set({ backend }, pick(c));
        },
      });
    capacity('lofi_scheduler_workers', 'Live workers advertising the backend', (c) => c.workers);
    capacity(
      'lofi_scheduler_worker_slots',
      'Jobs the live workers of the backend run at once',
      (c) => c.slots,
    );
    const q = this.queues;
    new Gauge({
      name: 'lofi_scheduler_queue_jobs',
      help: 'Jobs in each backend queue by state',
      labelNames: ['backend', 'state'] as const,
      registers,
      async collect() {
        for (const backend of BACKENDS) {
          const counts = await q.for(backend).getJobCounts('waiting', 'prioritized', 'delayed', 'active');
          for (const [state, n] of Object.entries(counts)) this.set({ backend, state }, n);
        }
      },
    });
  }

  enqueued(backend: Backend): void {
    this.enqueuedTotal.inc({ backend });
  }
  completed(backend: Backend): void {
    this.completedTotal.inc({ backend });
  }
  failed(backend: Backend): void {
    this.failedTotal.inc({ backend });
  }
  rerouted(): void {
    this.reroutedTotal.inc();
  }

  /** A station's figures after a scheduling pass. */
  station(station: Station, st: ChainState): void {
    this.stations.set(station.id, {
      bufferedSeconds: st.bufferedSeconds,
      targetSeconds: station.lookaheadSeconds,
      status: st.status,
      fallback: st.fallbackUntilMs > Date.now(),
      realtimeFactor: st.generationRealtimeFactor,
    });
  }

  /** Forgets stations that no longer exist. */
  keepOnly(ids: readonly string[]): void {
    const keep = new Set(ids);
    for (const id of this.stations.keys()) if (!keep.has(id)) this.stations.delete(id);
  }
}

/**
 * Serves GET /metrics. A port already taken is logged, not fatal: scheduling matters more than
 * its figures. Resolves to the URL, or null when off or not listening.
 */
export async function serveMetrics(
  metrics: SchedulerMetrics,
  host: string,
  port: number,
  log: Logger,
): Promise<{ url: string | null; close(): Promise<void> }> {
  if (port === 0) return { url: null, close: async () => {} };
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: unknown) => {
        log.warn({ err }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (err) => {
      log.error(
        { err: err.message, host, port },
        'scheduler metrics server could not listen; running without it',
      );
      resolve(false);
    });
    server.listen(port, host, () => resolve(true));
  });
  if (!listening) return { url: null, close: async () => {} };
  const { port: bound } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
