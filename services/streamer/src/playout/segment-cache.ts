// Keeps the metadata of a station's ready segments and the decoded PCM of the few that can play
// next (successors of the current segment, two levels deep), so memory stays bounded however long
// the lookahead.
import { decodeToFloat32 } from '@lofi/audio';
import type { SegmentResult } from '@lofi/contracts';
import type { SegmentIndex } from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import type { PlayableSegment, SegmentProvider } from './mixer.ts';

const MAX_DECODE_TRIES = 3;

export class SegmentCache implements SegmentProvider {
  private metas = new Map<number, SegmentResult>();
  private decoded = new Map<number, PlayableSegment>();
  private decoding = new Set<number>();
  /** Decode attempts that failed, per seq; after MAX_DECODE_TRIES the segment is quarantined. */
  private failures = new Map<number, number>();

  constructor(
    private readonly stationId: string,
    private readonly index: SegmentIndex,
    private readonly store: SegmentStore,
    private readonly sampleRate: number,
    private readonly channels: number,
    private readonly log: Logger,
  ) {}

  meta(seq: number): SegmentResult | undefined {
    return this.metas.get(seq);
  }

  allMetas(): SegmentResult[] {
    return [...this.metas.values()].sort((a, b) => a.seq - b.seq);
  }

  playable(seq: number): PlayableSegment | undefined {
    return this.decoded.get(seq);
  }

  successorsOf(seq: number): PlayableSegment[] {
    const out: PlayableSegment[] = [];
    for (const m of this.metas.values()) {
      if (m.continuesSeq !== seq) continue;
      const p = this.decoded.get(m.seq);
      if (p) out.push(p);
    }
    return out;
  }

  /** Re-reads the index from Redis. */
  async refresh(): Promise<void> {
    const all = await this.index.all(this.stationId);
    this.metas = new Map(all.map((m) => [m.seq, m]));
  }

  /** Decodes what may play after `currentSeq`; forgets PCM that can no longer play. */
  async prepare(currentSeq: number | null): Promise<void> {
    const wanted = new Set<number>();
    if (currentSeq !== null) {
      wanted.add(currentSeq);
      for (const a of this.childrenOf(currentSeq)) {
        wanted.add(a);
        for (const b of this.childrenOf(a)) wanted.add(b);
      }
    }
    for (const seq of this.decoded.keys()) if (!wanted.has(seq)) this.decoded.delete(seq);
    await Promise.all([...wanted].map((seq) => this.decode(seq)));
  }

  /** Decodes one segment (idempotent); resolves to it, or undefined when it cannot be read. */
  async decode(seq: number): Promise<PlayableSegment | undefined> {
    const have = this.decoded.get(seq);
    if (have) return have;
    const meta = this.metas.get(seq);
    if (!meta || this.decoding.has(seq)) return undefined;
    this.decoding.add(seq);
    try {
      const pcm = await decodeToFloat32(await this.source(meta.audioKey), this.sampleRate, this.channels);
      const seg = { meta, pcm };
      this.decoded.set(seq, seg);
      return seg;
    } catch (err) {
      // Never waited for: the mixer bridges meanwhile. A transient failure is retried on the next
      // refresh; a segment that stays unreadable leaves the index, so the scheduler sees the chain
      // broken at the playhead and generates a new one from there (instead of an endless loop).
      const tries = (this.failures.get(seq) ?? 0) + 1;
      this.failures.set(seq, tries);
      this.log.error({ err, seq, tries }, 'segment could not be decoded');
      if (tries >= MAX_DECODE_TRIES) {
        this.metas.delete(seq);
        await this.index.remove(this.stationId, [seq]).catch(() => undefined);
        this.log.error({ seq }, 'segment unreadable: removed from the index so the chain is rebuilt');
      }
      return undefined;
    } finally {
      this.decoding.delete(seq);
    }
  }

  /** What ffmpeg decodes: the file itself in a local store, else the object's bytes. */
  private async source(key: string): Promise<string | Buffer> {
    const file = this.store.localPath(key);
    if (file !== undefined) return file;
    const bytes = await this.store.get(key);
    if (bytes === undefined) throw new Error(`segment ${key} is not in the store`);
    return bytes;
  }

  private childrenOf(seq: number): number[] {
    const out: number[] = [];
    for (const m of this.metas.values()) if (m.continuesSeq === seq) out.push(m.seq);
    return out;
  }
}
