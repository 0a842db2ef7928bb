// Exact listener counts. MP3: one open stream connection is one listener (the ICY broadcaster's
// set). HLS: one session is one listener however many requests it makes; a session is the `sid`
// its playlist carries (minted by the master playlist), active while it fetched something within
// two target durations.
export const SID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** Sessions tracked per station; beyond it a new sid is not counted until old ones expire. */
const MAX_SESSIONS = 20_000;
const RECOUNT_MS = 1000;

export class HlsSessions {
  private readonly seen = new Map<string, number>();
  private lastPrune = 0;

  constructor(private readonly activeMs: number) {}

  /** A request from session `sid`. */
  touch(sid: string, now = Date.now()): void {
    if (!this.seen.has(sid) && this.seen.size >= MAX_SESSIONS) {
      this.prune(now);
      if (this.seen.size >= MAX_SESSIONS) return;
    }
    // Re-inserted so the map stays ordered by last activity: pruning stops at the first live one.
    this.seen.delete(sid);
    this.seen.set(sid, now);
  }

  active(now = Date.now()): number {
    if (now - this.lastPrune >= RECOUNT_MS) this.prune(now);
    return this.seen.size;
  }

  private prune(now: number): void {
    this.lastPrune = now;
    for (const [sid, at] of this.seen) {
      if (now - at <= this.activeMs) break;
      this.seen.delete(sid);
    }
  }
}

export interface ListenerCounts {
  mp3: number;
  hls: number;
  total: number;
  /** Highest total since the station's playout started in this process. */
  peak: number;
}

export class ListenerStats {
  private peak = 0;
  private last = '';

  constructor(
    private readonly mp3: () => number,
    readonly hls: HlsSessions,
    /** Called when the counts change (at the next sample). */
    private readonly changed: (c: ListenerCounts) => void,
  ) {}

  /** Reads the counts, raising the peak; cheap enough to call for every chunk of audio. */
  sample(now = Date.now()): ListenerCounts {
    const mp3 = this.mp3();
    const hls = this.hls.active(now);
    const total = mp3 + hls;
    if (total > this.peak) this.peak = total;
    const c = { mp3, hls, total, peak: this.peak };
    const key = `${mp3}/${hls}/${this.peak}`;
    if (key !== this.last) {
      this.last = key;
      this.changed(c);
    }
    return c;
  }
}
