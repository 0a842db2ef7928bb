// What is on air, as listeners see it: tracks. The playout reports each segment as it starts; this
// turns the segments into tracks (a name, an artist, a start and a duration), keeps the last 20 of
// each, and says which title the outputs carry from which stream frame, so the ICY StreamTitle,
// the HLS EXTINF title and the Icecast push change when a track's first audio is heard and not
// between its segments. Pure: the clock and the I/O are the playout's.
import { type SegmentResult, trackStartSeconds } from '@lofi/contracts';
import type { NowPlayingEntry, NowPlayingState, SegmentEntry, TrackEntry } from '@lofi/redis';

export const HISTORY_TRACKS = 20;
export const HISTORY_SEGMENTS = 20;

/** How a segment's track reads to listeners. */
export interface TrackLabel {
  trackIndex: number | null;
  title: string;
  subtitle: string | null;
  artist: string;
  streamTitle: string;
  plannedSegments: number | null;
}

/** `Artist - Title`, as players expect it; the title alone when there is no artist. */
export const streamTitleOf = (artist: string, title: string): string =>
  artist ? `${artist} - ${title}` : title;

/**
 * The track a segment belongs to. A segment without one (made before tracks existed, or by an
 * older worker) reads as its mood's title, the part of the worker's title before the chord, so
 * that old music too keeps one title per mood instead of a new one every segment.
 */
export function trackLabel(meta: SegmentResult): TrackLabel {
  const t = meta.track;
  if (t) {
    return {
      trackIndex: t.index,
      title: t.name,
      subtitle: t.subtitle || null,
      artist: t.artist,
      streamTitle: streamTitleOf(t.artist, t.name),
      plannedSegments: t.segments,
    };
  }
  const title = meta.title.split(' · ')[0]?.trim() || meta.title;
  return { trackIndex: null, title, subtitle: null, artist: '', streamTitle: title, plannedSegments: null };
}

/** Two entries are the same track when they have the same number, mood and name. */
const sameTrack = (e: TrackEntry, meta: SegmentResult, l: TrackLabel): boolean =>
  e.trackIndex === l.trackIndex && e.promptVersion === meta.promptVersion && e.title === l.title;

// Where a track begins inside its first segment (after a procedural ring-out bar): the contract's
// rule, which the scheduler counts track lengths with too.
export { trackStartSeconds };

/** From stream frame `frame` on, the outputs carry `title`. */
export interface TitleMark {
  frame: number;
  title: string;
}

export interface OnAirOptions {
  sampleRate: number;
  /** The stream clock: ISO time at which stream frame `frame` is on air. */
  timeOf: (frame: number) => string;
  /** Something listeners see changed (a segment, or a track, went on air). */
  changed: (state: NowPlayingState) => void;
  /** A new track's first audio is on air (for the log). */
  trackStarted?: (track: TrackEntry) => void;
  /** Continues this history (a restarted or promoted playout keeps what was played). */
  history?: readonly TrackEntry[];
  segments?: readonly SegmentEntry[];
}

interface Pending {
  frame: number;
  meta: SegmentResult;
  label: TrackLabel;
}

export class OnAir {
  nowPlaying: NowPlayingEntry | null = null;
  readonly history: TrackEntry[] = [];
  readonly segments: SegmentEntry[] = [];
  /** A track that begins inside a segment already on air, at a frame not rendered yet. */
  private pending: Pending | null = null;

  constructor(private readonly o: OnAirOptions) {
    this.history.push(...(o.history ?? []).slice(0, HISTORY_TRACKS));
    this.segments.push(...(o.segments ?? []).slice(0, HISTORY_SEGMENTS));
  }

  /**
   * A segment's first sample is mixed at stream frame `frame`. Returns the titles the outputs
   * carry from which frames on (in frame order; each supersedes what was marked after it).
   */
  segmentStarted(meta: SegmentResult, frame: number): TitleMark[] {
    // A segment that starts before the pending track's first audio: that track begins now.
    if (this.pending) this.begin(this.pending.meta, this.pending.label, Math.min(frame, this.pending.frame));
    const label = trackLabel(meta);
    const seg = this.segmentEntry(meta, frame);
    const cur = this.history[0];
    if (cur && sameTrack(cur, meta, label)) {
      // The track goes on (or a restarted playout resumes the track its history ends with).
      this.nowPlaying = { ...cur, segment: seg };
      this.emit();
      return [{ frame, title: cur.streamTitle }];
    }
    const offset = cur && this.nowPlaying ? trackStartSeconds(meta) : 0;
    if (cur && this.nowPlaying && offset > 0) {
      const at = frame + Math.round(offset * this.o.sampleRate);
      this.pending = { frame: at, meta, label };
      this.nowPlaying = { ...cur, segment: seg };
      this.emit();
      return [
        { frame, title: cur.streamTitle },
        { frame: at, title: label.streamTitle },
      ];
    }
    this.begin(meta, label, frame);
    return [{ frame, title: label.streamTitle }];
  }

  /** The stream has been rendered up to `frame`: a pending track that begins by then is on air. */
  advance(frame: number): void {
    const p = this.pending;
    if (p && frame >= p.frame) this.begin(p.meta, p.label, p.frame);
  }

  private begin(meta: SegmentResult, label: TrackLabel, frame: number): void {
    this.pending = null;
    const at = this.o.timeOf(frame);
    const prev = this.history[0];
    if (prev && prev.endedAt === null) this.history[0] = { ...prev, endedAt: at };
    const entry: TrackEntry = {
      seq: meta.seq,
      trackIndex: label.trackIndex,
      title: label.title,
      subtitle: label.subtitle,
      artist: label.artist,
      streamTitle: label.streamTitle,
      prompt: meta.prompt,
      promptVersion: meta.promptVersion,
      backend: meta.backend,
      model: meta.model,
      startedAt: at,
      endedAt: null,
      plannedSegments: label.plannedSegments,
    };
    this.history.unshift(entry);
    this.history.length = Math.min(this.history.length, HISTORY_TRACKS);
    const seg = this.segments[0]?.seq === meta.seq ? this.segments[0] : this.segmentEntry(meta, frame);
    this.nowPlaying = { ...entry, segment: seg };
    this.o.trackStarted?.(entry);
    this.emit();
  }

  private segmentEntry(meta: SegmentResult, frame: number): SegmentEntry {
    const detail = (meta.state as Record<string, unknown>).detail;
    const seg: SegmentEntry = {
      seq: meta.seq,
      detail: typeof detail === 'string' && detail ? detail : meta.title,
      trackIndex: meta.track?.index ?? null,
      position: meta.track?.position ?? null,
      part: meta.track?.part ?? null,
      promptVersion: meta.promptVersion,
      startedAt: this.o.timeOf(frame),
    };
    if (this.segments[0]?.seq !== seg.seq) {
      this.segments.unshift(seg);
      this.segments.length = Math.min(this.segments.length, HISTORY_SEGMENTS);
    }
    return seg;
  }

  private emit(): void {
    this.o.changed({ nowPlaying: this.nowPlaying, history: [...this.history], segments: [...this.segments] });
  }
}

/** An entry's length so far (the one on air) or in all, in seconds, to a tenth. */
export function durationSeconds(e: TrackEntry, nowMs: number): number {
  const end = e.endedAt === null ? nowMs : Date.parse(e.endedAt);
  return Math.max(0, Math.round((end - Date.parse(e.startedAt)) / 100) / 10);
}

/** Tracks as the API shows them: each with its duration. */
export const tracksView = (history: readonly TrackEntry[], nowMs = Date.now()) =>
  history.map((e) => ({ ...e, durationSeconds: durationSeconds(e, nowMs) }));

/** The track on air as the API shows it: with how long it has played. */
export const nowPlayingView = (np: NowPlayingEntry, nowMs = Date.now()) => ({
  ...np,
  durationSeconds: durationSeconds(np, nowMs),
});
