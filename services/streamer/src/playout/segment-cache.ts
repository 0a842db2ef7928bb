// Keeps the metadata of a station's ready segments and the decoded PCM of the few that can play
// next (successors of the current segment, two levels deep), so memory stays bounded however long
// the lookahead.
import { decodeToFloat32 } from '@lofi/audio';
import type { SegmentResult } from '@lofi/contracts';
import type { SegmentIndex } from '@lofi/redis';
import type { LocalSegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import type { PlayableSegment, SegmentProvider } from './mixer.ts';

export class SegmentCache implements SegmentProvider {
  private metas = new Map<number, SegmentResult>();
  private decoded = new Map<number, PlayableSegment>();
  private decoding = new Set<number>();
  private failed = new Set<number>();

  constructor(
    private readonly stationId: string,
    private readonly index: SegmentIndex,
    private readonly store: LocalSegmentStore,
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
    if (!meta || this.decoding.has(seq) || this.failed.has(seq)) return undefined;
    this.decoding.add(seq);
    try {
      const pcm = await decodeToFloat32(this.store.pathOf(meta.audioKey), this.sampleRate, this.channels);
      const seg = { meta, pcm };
      this.decoded.set(seq, seg);
      return seg;
    } catch (err) {
      // An unreadable segment is skipped, never waited for: the mixer bridges over it.
      this.failed.add(seq);
      this.log.error({ err, seq }, 'segment could not be decoded; skipping it');
      return undefined;
    } finally {
      this.decoding.delete(seq);
    }
  }

  private childrenOf(seq: number): number[] {
    const out: number[] = [];
    for (const m of this.metas.values()) if (m.continuesSeq === seq) out.push(m.seq);
    return out;
  }
}
