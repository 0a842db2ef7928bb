import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

/** The scheduler's per-station bookkeeping, in one Redis hash so a restart resumes exactly. */
export interface ChainState {
  /** The last segment of the chain being extended (ready), or null before the first. */
  tipSeq: number | null;
  tipVersion: number;
  /** Highest seq ever allocated for the station (seqs are never reused). */
  lastSeq: number;
  /** First seq of the current mood's chain: prompt drift counts segments from there. */
  moodStartSeq: number;
  /** Highest track index ever given to a job (track numbers are never reused; -1 before the first). */
  lastTrackIndex: number;
  inflightJobId: string | null;
  inflightSeconds: number;
  bufferedSeconds: number;
  status: 'starting' | 'filling' | 'ok' | 'starving';
  /** Seconds of audio generated per second of generation, over the last jobs. */
  generationRealtimeFactor: number | null;
  failures: number;
  /** After failures, no new job before this time (ms since epoch). */
  retryAfterMs: number;
  /**
   * While in the future, the station's jobs go to the procedural backend: its own backend kept
   * failing (no GPU worker, no weights), and music from a fallback beats a loop of the last bars.
   */
  fallbackUntilMs: number;
  updatedAt: number;
}

const EMPTY: ChainState = {
  tipSeq: null,
  tipVersion: -1,
  lastSeq: -1,
  moodStartSeq: 0,
  lastTrackIndex: -1,
  inflightJobId: null,
  inflightSeconds: 0,
  bufferedSeconds: 0,
  status: 'starting',
  generationRealtimeFactor: null,
  failures: 0,
  retryAfterMs: 0,
  fallbackUntilMs: 0,
  updatedAt: 0,
};

export class ChainStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async read(stationId: string): Promise<ChainState> {
    const raw = await this.redis.get(this.keys.chain(stationId));
    return raw ? { ...EMPTY, ...(JSON.parse(raw) as Partial<ChainState>) } : { ...EMPTY };
  }

  async write(stationId: string, state: ChainState): Promise<void> {
    await this.redis.set(this.keys.chain(stationId), JSON.stringify({ ...state, updatedAt: Date.now() }));
  }
}
