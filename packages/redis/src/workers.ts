// Live worker advertisements. Each worker process keeps a hash `<prefix>:workers:<workerId>` with
// a TTL it refreshes on a heartbeat, and its id in the set `<prefix>:workers`; a worker killed
// without a goodbye drops out when its hash expires. Written by python-worker
// (lofi_worker/advertise.py, same key names and fields), read here by the scheduler.
import type { Backend } from '@lofi/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';
import { BACKENDS } from './queue.ts';

export interface WorkerAd {
  id: string;
  backends: Backend[];
  /** Jobs the worker runs at once per backend (BullMQ concurrency). */
  concurrency: number;
  /** Most jobs in one MusicGen generation call (1 for the procedural backend). */
  batch: number;
  host: string;
  pid: number;
  model: string;
  device: string;
  startedAt: string;
  heartbeatAt: number;
}

export const workersIndexKey = (keys: Keys): string => `${keys.prefix}:workers`;
export const workerKey = (keys: Keys, id: string): string => `${keys.prefix}:workers:${id}`;

const isBackend = (s: string): s is Backend => (BACKENDS as readonly string[]).includes(s);

function decode(id: string, h: Record<string, string>): WorkerAd | null {
  if (!h.backends) return null;
  return {
    id,
    backends: h.backends.split(',').filter(isBackend),
    concurrency: Number(h.concurrency) || 0,
    batch: Number(h.batch) || 1,
    host: h.host ?? '',
    pid: Number(h.pid) || 0,
    model: h.model ?? '',
    device: h.device ?? '',
    startedAt: h.started ?? '',
    heartbeatAt: Number(h.heartbeat) || 0,
  };
}

/** The workers alive now (their hash has not expired); ids of expired ones leave the index. */
export async function liveWorkers(redis: Redis, keys: Keys): Promise<WorkerAd[]> {
  const ids = await redis.smembers(workersIndexKey(keys));
  if (ids.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hgetall(workerKey(keys, id));
  const replies = (await pipeline.exec()) ?? [];
  const live: WorkerAd[] = [];
  const gone: string[] = [];
  ids.forEach((id, i) => {
    const [err, h] = replies[i] ?? [null, {}];
    const ad = err ? null : decode(id, h as Record<string, string>);
    if (ad) live.push(ad);
    else if (!err) gone.push(id);
  });
  if (gone.length) await redis.srem(workersIndexKey(keys), ...gone);
  return live.sort((a, b) => a.id.localeCompare(b.id));
}

export interface BackendCapacity {
  workers: number;
  /** Sum of the workers' concurrency for this backend. */
  slots: number;
}

/** Live workers and job slots per backend (every backend listed, zero where none). */
export function capacityByBackend(ads: readonly WorkerAd[]): Map<Backend, BackendCapacity> {
  const out = new Map<Backend, BackendCapacity>(BACKENDS.map((b) => [b, { workers: 0, slots: 0 }]));
  for (const ad of ads) {
    for (const b of ad.backends) {
      const c = out.get(b) as BackendCapacity;
      c.workers++;
      c.slots += ad.concurrency;
    }
  }
  return out;
}
