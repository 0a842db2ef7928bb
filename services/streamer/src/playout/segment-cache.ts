// Keeps the metadata of a station's ready segments and the decoded PCM of the few that can play
// next (successors of the current segment, two levels deep), so memory stays bounded however long
// the lookahead. Decoding happens on the process's FLAC decoder thread (@lofi/audio), a segment
// or two ahead of its join: nothing on the playout's clock waits for it.
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

  /** The segments continuing `seq` that are in the index (ready), and how far each is. */
  readySuccessors(
    seq: number,
  ): { seq: number; joinAtSeconds: number; state: 'decoded' | 'decoding' | 'waiting' }[] {
    return this.childrenOf(seq).map((s) => ({
      seq: s,
      joinAtSeconds: this.metas.get(s)?.joinAtSeconds ?? Number.NaN,
      state: this.decoded.has(s) ? 'decoded' : this.decoding.has(s) ? 'decoding' : 'waiting',
    }));
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

  /**
   * Starts decoding what may play after `currentSeq` (the successors first, then theirs); forgets
   * PCM that can no longer play. Does not wait for the decodes: the mixer takes a segment once it
   * is there, and the next refresh must not wait behind another station's decodes.
   */
  prepare(currentSeq: number | null): void {
    const wanted = new Map<number, number>();
    if (currentSeq !== null) {
      wanted.set(currentSeq, 0);
      for (const a of this.childrenOf(currentSeq)) {
        wanted.set(a, 0);
        for (const b of this.childrenOf(a)) if (!wanted.has(b)) wanted.set(b, 1);
      }
    }
    for (const seq of this.decoded.keys()) if (!wanted.has(seq)) this.decoded.delete(seq);
    for (const [seq, priority] of wanted) void this.decode(seq, priority);
  }

  /**
   * Decodes one segment (idempotent); resolves to it, or undefined when it cannot be read.
   * `priority` orders it on the decoder threads (0: it may play next).
   */
  async decode(seq: number, priority = 0): Promise<PlayableSegment | undefined> {
    const have = this.decoded.get(seq);
    if (have) return have;
    const meta = this.metas.get(seq);
    if (!meta || this.decoding.has(seq)) return undefined;
    this.decoding.add(seq);
    try {
      // A decode that hangs is the decoder pool's to end (it replaces a stuck thread); the time
      // a request waits in its queue behind other stations' is not a failure.
      const pcm = await decodeToFloat32(
        await this.source(meta.audioKey),
        this.sampleRate,
        this.channels,
        priority,
      );
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

  /** What is decoded: the file itself in a local store, else the object's bytes. */
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
