// A lease in Redis: which streamer replica runs a station's playout. One key per station holding
// the holder's id and the URL other replicas relay its stream from; the TTL makes a dead holder's
// lease lapse by itself. Renewal and release compare the holder first (in Lua, atomically), so a
// replica that paused past its TTL can never extend or drop a lease another replica now holds.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

export interface LeaseHolder {
  replica: string;
  /** Base URL of the holder's HTTP server ('' until it listens). */
  url: string;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const encode = (h: LeaseHolder): string => JSON.stringify([h.replica, h.url]);

function decode(raw: string | null): LeaseHolder | null {
  if (!raw) return null;
  try {
    const [replica, url] = JSON.parse(raw) as [unknown, unknown];
    return typeof replica === 'string' && typeof url === 'string' ? { replica, url } : null;
  } catch {
    return null;
  }
}

export class PlayoutLeases {
  /** What this replica last wrote per station, so renewal can compare it exactly. */
  private readonly written = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    readonly ttlMs: number,
  ) {}

  /**
   * Takes the station's lease when it is free, or renews it when this replica holds it. Returns
   * the holder afterwards: this replica, another one, or null when the lease vanished in between.
   */
  async claim(stationId: string, me: LeaseHolder): Promise<LeaseHolder | null> {
    const key = this.keys.playoutLease(stationId);
    const value = encode(me);
    const previous = this.written.get(stationId);
    if (previous !== undefined) {
      const renewed = await this.redis.eval(RENEW, 1, key, previous, value, this.ttlMs);
      if (renewed === 1) {
        this.written.set(stationId, value);
        return me;
      }
      this.written.delete(stationId);
    }
    const taken = await this.redis.set(key, value, 'PX', this.ttlMs, 'NX');
    if (taken === 'OK') {
      this.written.set(stationId, value);
      return me;
    }
    return decode(await this.redis.get(key));
  }

  async holder(stationId: string): Promise<LeaseHolder | null> {
    return decode(await this.redis.get(this.keys.playoutLease(stationId)));
  }

  /**
   * Ends another replica's lease when there is proof it is dead (its port refuses connections),
   * so the station does not wait out the TTL. Only that exact holder's lease is removed.
   */
  async breakIfHeldBy(stationId: string, holder: LeaseHolder): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.keys.playoutLease(stationId), encode(holder))) === 1;
  }

  /** Gives the lease up (clean shutdown, station deleted), so another replica takes over at once. */
  async release(stationId: string): Promise<void> {
    const previous = this.written.get(stationId);
    this.written.delete(stationId);
    if (previous !== undefined)
      await this.redis.eval(RELEASE, 1, this.keys.playoutLease(stationId), previous);
  }
}
