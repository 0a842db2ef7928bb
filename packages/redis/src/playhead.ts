import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

/** Where a station's playout is: published by the streamer, read by the scheduler. */
export interface Playhead {
  seq: number;
  /** Seconds into the current segment's file at `atMs`. */
  positionSeconds: number;
  atMs: number;
  /** The segment the playout has committed to play next (crossfade started), if any. */
  nextSeq: number | null;
  underruns: number;
}

export class PlayheadStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async write(stationId: string, p: Playhead): Promise<void> {
    await this.redis.set(this.keys.playhead(stationId), JSON.stringify(p));
  }

  async read(stationId: string): Promise<Playhead | null> {
    const raw = await this.redis.get(this.keys.playhead(stationId));
    return raw ? (JSON.parse(raw) as Playhead) : null;
  }
}

/** The playhead's position now, extrapolated from when it was written (the playout runs in real time). */
export function positionNow(p: Playhead, nowMs = Date.now()): number {
  return p.positionSeconds + Math.max(0, nowMs - p.atMs) / 1000;
}
