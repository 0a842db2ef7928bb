// Keeps the metadata of a station's ready segments and the decoded PCM of the few that can play
// next (successors of the current segment, two levels deep), so memory stays bounded however long
// the lookahead. Decoding happens on the process's FLAC decoder thread (@lofi/audio), a segment
// or two ahead of its join: nothing on the playout's clock waits for it.
import { decodeToFloat32, flacDecoder } from '@lofi/audio';
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
  /** When each segment was first seen in the index, and when its decode started (ms). */
  private seenAt = new Map<number, number>();
  private decodeStartedAt = new Map<number, number>();

  constructor(
    private readonly stationId: string,
    private readonly index: SegmentIndex,
    private readonly store: SegmentStore,
    private readonly sampleRate: number,
    private readonly channels: number,
    private readonly log: Logger,
    /** readOnly: a standby's cache (station-playout.ts), which leaves the index to the leader. */
    private readonly o: { readOnly?: boolean } = {},
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
  readySuccessors(seq: number): {
    seq: number;
    joinAtSeconds: number;
    state: 'decoded' | 'decoding' | 'waiting';
    inIndexForMs: number;
    /** Since the worker wrote it: far above inIndexForMs means the playout learnt of it late. */
    createdForMs: number | null;
    decodingForMs: number | null;
  }[] {
    const now = Date.now();
    return this.childrenOf(seq).map((s) => {
      const started = this.decodeStartedAt.get(s);
      const created = this.metas.get(s)?.createdAt;
      return {
        seq: s,
        joinAtSeconds: this.metas.get(s)?.joinAtSeconds ?? Number.NaN,
        state: this.decoded.has(s) ? 'decoded' : this.decoding.has(s) ? 'decoding' : 'waiting',
        inIndexForMs: now - (this.seenAt.get(s) ?? now),
        createdForMs: created ? now - Date.parse(created) : null,
        decodingForMs: started !== undefined && this.decoding.has(s) ? now - started : null,
      };
    });
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
    const now = Date.now();
    for (const seq of this.metas.keys()) if (!this.seenAt.has(seq)) this.seenAt.set(seq, now);
    for (const seq of this.seenAt.keys()) if (!this.metas.has(seq)) this.seenAt.delete(seq);
  }

  /**
   * Starts decoding what may play after the current segment (its successors, then theirs), each
   * with the wall time it is needed by, so the decoder threads run earliest deadline first across
   * all stations; forgets PCM that can no longer play. Does not wait for the decodes: the mixer
   * takes a segment once it is there, and the next refresh must not wait behind another station's.
   * A fixed rank (successors before theirs) starved a station's next segment, asked for while it
   * was two away, behind the successors other stations kept asking for on a busy machine.
   */
  prepare(current: { seq: number; positionSeconds: number } | null, nowMs = Date.now()): void {
    const wanted = decodeDeadlines(
      current,
      (seq) =>
        this.childrenOf(seq).map((c) => ({ seq: c, joinAtSeconds: this.metas.get(c)?.joinAtSeconds ?? 0 })),
      nowMs,
    );
    for (const seq of this.decoded.keys()) if (!wanted.has(seq)) this.decoded.delete(seq);
    for (const [seq, deadline] of wanted) void this.decode(seq, deadline);
  }

  /**
   * Decodes one segment (idempotent); resolves to it, or undefined when it cannot be read.
   * `deadlineMs` (wall time it is needed by; 0: now) orders it on the decoder threads.
   */
  async decode(seq: number, deadlineMs = 0): Promise<PlayableSegment | undefined> {
    const have = this.decoded.get(seq);
    if (have) return have;
    const meta = this.metas.get(seq);
    if (!meta || this.decoding.has(seq)) return undefined;
    this.decoding.add(seq);
    this.decodeStartedAt.set(seq, Date.now());
    try {
      // A decode that hangs is the decoder pool's to end (it replaces a stuck thread); the time
      // a request waits in its queue behind other stations' is not a failure.
      const pcm = await decodeToFloat32(
        await this.source(meta.audioKey),
        this.sampleRate,
        this.channels,
        deadlineMs,
      );
      const seg = { meta, pcm };
      this.decoded.set(seq, seg);
      const ms = Date.now() - (this.decodeStartedAt.get(seq) ?? Date.now());
      // A decode is tens of ms; seconds means the decoder threads are queued or starved of CPU.
      if (ms > 2000) {
        const slackMs = deadlineMs > 0 ? deadlineMs - Date.now() : null;
        this.log.warn({ seq, ms, slackMs, slowest: flacDecoder().recentSlowest() }, 'slow segment decode');
      }
      return seg;
    } catch (err) {
      // Never waited for: the mixer bridges meanwhile. A transient failure is retried on the next
      // refresh; a segment that stays unreadable leaves the index, so the scheduler sees the chain
      // broken at the playhead and generates a new one from there (instead of an endless loop).
      const tries = (this.failures.get(seq) ?? 0) + 1;
      this.failures.set(seq, tries);
      this.log.error({ err, seq, tries }, 'segment could not be decoded');
      if (tries >= MAX_DECODE_TRIES && !this.o.readOnly) {
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

/**
 * The wall time (ms) each segment that may play next is needed by: the current one now, a
 * successor when the current reaches its join point, the successor's successors when that one
 * reaches theirs (it starts at its own head). Two levels deep: memory stays bounded.
 */
export function decodeDeadlines(
  current: { seq: number; positionSeconds: number } | null,
  children: (seq: number) => { seq: number; joinAtSeconds: number }[],
  nowMs: number,
): Map<number, number> {
  const out = new Map<number, number>();
  if (current === null) return out;
  const want = (seq: number, at: number) => out.set(seq, Math.min(out.get(seq) ?? at, at));
  want(current.seq, nowMs);
  for (const a of children(current.seq)) {
    const atA = nowMs + Math.max(0, a.joinAtSeconds - current.positionSeconds) * 1000;
    want(a.seq, atA);
    for (const b of children(a.seq)) want(b.seq, atA + b.joinAtSeconds * 1000);
  }
  return out;
}
