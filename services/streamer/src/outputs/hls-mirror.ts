// The HLS window of a station this replica does not play: the leader keeps it in the segment store
// (hls-persist.ts) and this copy follows it, so every replica serves the same playlist with the
// same numbers and bytes, and a listener's player can be sent to any of them.
import type { SegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import { HLS_AAC_KBPS, HLS_TARGET_SECONDS, HLS_WINDOW_SEGMENTS } from './hls-output.ts';
import { hlsSegmentKey, readHlsIndex } from './hls-persist.ts';
import type { HlsSegment } from './hls-playlist.ts';
import type { HlsSource } from './station-outputs.ts';

const POLL_MS = 1000;

export class HlsMirror implements HlsSource {
  readonly restarts = 0;
  private kept: HlsSegment[] = [];
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private closed = false;

  constructor(
    private readonly store: SegmentStore,
    private readonly stationId: string,
    private readonly log: Logger,
    readonly targetSeconds = HLS_TARGET_SECONDS,
    private readonly windowSegments = HLS_WINDOW_SEGMENTS,
  ) {}

  get bandwidth(): number {
    return HLS_AAC_KBPS * 1000 * 1.15;
  }

  start(): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }

  window(): HlsSegment[] {
    return this.kept.slice(-this.windowSegments);
  }

  segment(seq: number): HlsSegment | undefined {
    return this.kept.find((s) => s.seq === seq);
  }

  /** Reads the leader's index and fetches the segments it lists that are not here yet. */
  private poll(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    this.refresh()
      .catch((err: unknown) => this.log.warn({ err }, 'could not follow the HLS window'))
      .finally(() => {
        this.polling = false;
      });
  }

  private async refresh(): Promise<void> {
    const metas = await readHlsIndex(this.store, this.stationId);
    if (metas.length === 0) return;
    const have = new Map(this.kept.map((s) => [s.seq, s]));
    const next: HlsSegment[] = [];
    for (const m of metas) {
      const known = have.get(m.seq);
      if (known) {
        next.push(known);
        continue;
      }
      const data = await this.store.get(hlsSegmentKey(this.stationId, m.seq));
      // Listed but not readable yet (an eventually consistent store): the window ends before it.
      if (!data) break;
      next.push({ ...m, data });
    }
    if (!this.closed) this.kept = next;
  }
}
