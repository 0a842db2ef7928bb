import { assertSegmentResult, type SegmentResult } from '@lofi/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

/** Ready segments of each station: a hash seq -> SegmentResult JSON (the worker's job result). */
export class SegmentIndex {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async add(result: SegmentResult): Promise<void> {
    await this.redis.hset(this.keys.segments(result.stationId), String(result.seq), JSON.stringify(result));
  }

  async get(stationId: string, seq: number): Promise<SegmentResult | null> {
    const raw = await this.redis.hget(this.keys.segments(stationId), String(seq));
    return raw ? assertSegmentResult(JSON.parse(raw)) : null;
  }

  async all(stationId: string): Promise<SegmentResult[]> {
    const h = await this.redis.hgetall(this.keys.segments(stationId));
    return Object.values(h)
      .map((raw) => assertSegmentResult(JSON.parse(raw)))
      .sort((a, b) => a.seq - b.seq);
  }

  async remove(stationId: string, seqs: readonly number[]): Promise<void> {
    if (seqs.length) await this.redis.hdel(this.keys.segments(stationId), ...seqs.map(String));
  }
}
