// The HLS window in the segment store (stations/<id>/hls/), for two readers: a restarted streamer,
// which continues the same playlist (old segments still listed and fetchable, numbering going on
// after a discontinuity), and the other replicas, which serve the leader's playlist from it
// (hls-mirror.ts). Writes are asynchronous and queued: a slow or hung store (a network filesystem,
// an object store) delays persistence, never the playout, whose event loop renders every station.
import type { SegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import type { HlsSegment } from './hls-playlist.ts';

/** A window older than this is not worth resuming: the player has long given up on it. */
export const RESUME_MAX_AGE_MS = 60_000;
/** Segments waiting to be written at most; beyond it the oldest are skipped (out of any window). */
const MAX_PENDING = 16;

export type HlsSegmentMeta = Omit<HlsSegment, 'data'>;

export const hlsIndexKey = (stationId: string): string => `stations/${stationId}/hls/index.json`;
export const hlsSegmentKey = (stationId: string, seq: number): string =>
  `stations/${stationId}/hls/${seq}.ts`;

/** The saved index, or [] when there is none or it cannot be read. */
export async function readHlsIndex(store: SegmentStore, stationId: string): Promise<HlsSegmentMeta[]> {
  const raw = await store.get(hlsIndexKey(stationId));
  if (!raw) return [];
  try {
    const metas = JSON.parse(raw.toString('utf8')) as unknown;
    return Array.isArray(metas) ? (metas as HlsSegmentMeta[]) : [];
  } catch {
    return [];
  }
}

export class HlsPersistence {
  private readonly pending = new Map<number, HlsSegment>();
  private pendingIndex: HlsSegmentMeta[] | null = null;
  private readonly pendingRemovals = new Set<number>();
  private draining: Promise<void> | null = null;
  /** Segments known to be in the store (the index may list only these). */
  private readonly written = new Set<number>();
  /** Saves skipped because the store fell behind (a metric for the operator). */
  skipped = 0;

  constructor(
    private readonly store: SegmentStore,
    private readonly stationId: string,
    private readonly log: Logger,
  ) {}

  /** The saved window when it is recent enough to continue, oldest first; else [] (and cleared). */
  async load(now = Date.now()): Promise<HlsSegment[]> {
    let metas: HlsSegmentMeta[];
    try {
      metas = await readHlsIndex(this.store, this.stationId);
    } catch (err) {
      this.log.warn({ err }, 'could not read the saved HLS window; starting a new one');
      return [];
    }
    const last = metas.at(-1);
    if (!last) return [];
    // Files a crash left between a segment and its index, just past the window.
    for (let seq = last.seq + 1; seq <= last.seq + 3; seq++) this.pendingRemovals.add(seq);
    if (now - last.programDateTimeMs > RESUME_MAX_AGE_MS) {
      for (const m of metas) this.pendingRemovals.add(m.seq);
      this.pendingIndex = [];
      this.kick();
      return [];
    }
    const out: HlsSegment[] = [];
    for (const m of metas) {
      const data = await this.store.get(hlsSegmentKey(this.stationId, m.seq)).catch(() => undefined);
      // A hole would make a gap: resume only a whole window.
      if (!data) return [];
      out.push({ ...m, data });
    }
    for (const s of out) this.written.add(s.seq);
    this.kick();
    return out;
  }

  /** Queues a new segment, the index of the window and the removal of what left it. */
  save(seg: HlsSegment, window: readonly HlsSegment[], dropped: readonly HlsSegment[]): void {
    this.pending.set(seg.seq, seg);
    while (this.pending.size > MAX_PENDING) {
      const oldest = Math.min(...this.pending.keys());
      this.pending.delete(oldest);
      this.skipped++;
    }
    this.pendingIndex = window.map(({ data: _d, ...m }) => m);
    for (const d of dropped) {
      this.pending.delete(d.seq);
      this.pendingRemovals.add(d.seq);
    }
    this.kick();
  }

  /** Resolves when everything queued so far is written (tests, clean shutdown). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.pending.size > 0 || this.pendingIndex || this.pendingRemovals.size > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    const segs = [...this.pending.values()];
    const index = this.pendingIndex;
    const removals = [...this.pendingRemovals];
    this.pending.clear();
    this.pendingIndex = null;
    this.pendingRemovals.clear();
    try {
      // Segments first, the index that lists them last: a reader never sees a listed hole.
      for (const s of segs) {
        await this.store.put(hlsSegmentKey(this.stationId, s.seq), s.data, 'video/mp2t');
        this.written.add(s.seq);
      }
      if (index) {
        // Only the newest run of written segments: numbering in a playlist must be contiguous.
        let from = index.length;
        while (from > 0 && this.written.has(index[from - 1]?.seq ?? -1)) from--;
        const listed = index.slice(from);
        await this.store.put(
          hlsIndexKey(this.stationId),
          Buffer.from(JSON.stringify(listed)),
          'application/json',
        );
        for (const seq of this.written) if (!listed.some((m) => m.seq === seq)) this.written.delete(seq);
      }
      for (const seq of removals) await this.store.remove(hlsSegmentKey(this.stationId, seq));
    } catch (err) {
      // Persistence serves restarts and replicas; live listeners are served from memory regardless.
      this.log.warn({ err }, 'could not save the HLS window');
    }
  }
}
