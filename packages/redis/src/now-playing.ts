// What a station's leader is playing, kept in Redis for the replicas that relay it: their API,
// WebSocket events and ICY titles follow the leader's without running a playout.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

export interface NowPlayingEntry {
  seq: number;
  title: string;
  prompt: string;
  promptVersion: number;
  backend: string;
  model: string;
  startedAt: string;
}

export interface NowPlayingState {
  nowPlaying: NowPlayingEntry | null;
  /** Newest first. */
  history: NowPlayingEntry[];
}

/** A state nobody updated for this long is a dead leader's: readers stop trusting it. */
const TTL_SECONDS = 24 * 3600;

export class NowPlayingStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async write(stationId: string, state: NowPlayingState): Promise<void> {
    await this.redis.set(this.keys.nowPlaying(stationId), JSON.stringify(state), 'EX', TTL_SECONDS);
  }

  async read(stationId: string): Promise<NowPlayingState | null> {
    const raw = await this.redis.get(this.keys.nowPlaying(stationId));
    if (!raw) return null;
    try {
      return JSON.parse(raw) as NowPlayingState;
    } catch {
      return null;
    }
  }
}
