// Every Redis key the services use, in one place. The prefix isolates deployments and tests.
export class Keys {
  constructor(readonly prefix: string) {}
  stations(): string {
    return `${this.prefix}:stations`;
  }
  station(id: string): string {
    return `${this.prefix}:station:${id}`;
  }
  segments(id: string): string {
    return `${this.prefix}:station:${id}:segments`;
  }
  chain(id: string): string {
    return `${this.prefix}:station:${id}:chain`;
  }
  playhead(id: string): string {
    return `${this.prefix}:station:${id}:playhead`;
  }
  moods(id: string): string {
    return `${this.prefix}:station:${id}:moods`;
  }
  /** A per-IP request counter of one rate-limit bucket in one window. */
  rateLimit(bucket: string, ip: string, window: number): string {
    return `${this.prefix}:rl:${bucket}:${ip}:${window}`;
  }
  events(): string {
    return `${this.prefix}:events`;
  }
  // Streamer replicas (lease.ts, now-playing.ts) — begin
  /** Which streamer replica runs a station's playout (a lease with a TTL). */
  playoutLease(id: string): string {
    return `${this.prefix}:station:${id}:lease`;
  }
  /** What the leader plays, for the replicas that relay it. */
  nowPlaying(id: string): string {
    return `${this.prefix}:station:${id}:now-playing`;
  }
  /** Each replica's listener counts of a station (listener-counts.ts). */
  listeners(id: string): string {
    return `${this.prefix}:station:${id}:listeners`;
  }
  // Streamer replicas — end
}
