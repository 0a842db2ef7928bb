// Listener counts across streamer replicas: each replica publishes its own counts per station
// (a hash field per replica, with the time), and the API sums the fresh ones, so a station
// served by several replicas behind a load balancer shows all its listeners wherever it is asked.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

export interface ReplicaCounts {
  mp3: number;
  hls: number;
}

/** A replica's counts older than this are a dead replica's: not counted. */
export const COUNTS_FRESH_MS = 5000;

export class ListenerCountStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async publish(stationId: string, replica: string, c: ReplicaCounts, now = Date.now()): Promise<void> {
    const key = this.keys.listeners(stationId);
    await this.redis
      .multi()
      .hset(key, replica, JSON.stringify({ mp3: c.mp3, hls: c.hls, atMs: now }))
      .pexpire(key, COUNTS_FRESH_MS * 4)
      .exec();
  }

  /** Every live replica's counts; stale fields (dead replicas) are removed. */
  async read(stationId: string, now = Date.now()): Promise<Record<string, ReplicaCounts>> {
    const key = this.keys.listeners(stationId);
    const all = await this.redis.hgetall(key);
    const replicas: Record<string, ReplicaCounts> = {};
    const stale: string[] = [];
    for (const [replica, raw] of Object.entries(all)) {
      let c: { mp3?: unknown; hls?: unknown; atMs?: unknown };
      try {
        c = JSON.parse(raw) as typeof c;
      } catch {
        stale.push(replica);
        continue;
      }
      if (typeof c.atMs !== 'number' || now - c.atMs > COUNTS_FRESH_MS) {
        stale.push(replica);
        continue;
      }
      replicas[replica] = { mp3: Number(c.mp3) || 0, hls: Number(c.hls) || 0 };
    }
    if (stale.length > 0) await this.redis.hdel(key, ...stale);
    return replicas;
  }
}
