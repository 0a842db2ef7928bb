// One station's playout: the real-time clock around the mixer. Renders PCM on an absolute
// schedule (start time + frames / rate), so there is no drift over days and a stalled event loop
// catches up instead of losing time; publishes the playhead for the scheduler.
import type { SegmentResult } from '@lofi/contracts';
import type {
  NowPlayingEntry,
  NowPlayingState,
  PlayheadStore,
  SegmentEntry,
  SegmentIndex,
  TrackEntry,
} from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import { Mixer, type PlayableSegment } from './mixer.ts';
import { OnAir } from './on-air.ts';
import { SegmentCache } from './segment-cache.ts';
import type { StreamPoint } from './stream-point.ts';

export interface PcmSink {
  /** Audio for the stream, in order, at real-time pace. */
  write(pcm: Float32Array): void;
  /** From stream frame `frame` on, the audio is `meta`'s. */
  mark(frame: number, meta: SegmentResult): void;
}

export type NowPlaying = NowPlayingEntry;

/** What the API reads of a station's playout, whether it runs here or on the leader replica. */
export interface PlayoutView {
  /** The track on air (with its segment on air). */
  readonly nowPlaying: NowPlaying | null;
  /** The last tracks, newest first. */
  readonly history: readonly TrackEntry[];
  /** The last segments, newest first. */
  readonly segments: readonly SegmentEntry[];
  readonly underruns: number;
  readonly streamSeconds: number;
  /** True while audio is flowing (rendered, or relayed, within the last two seconds). */
  readonly playing: boolean;
}

export interface PlayoutOptions {
  stationId: string;
  index: SegmentIndex;
  playheads: PlayheadStore;
  store: SegmentStore;
  sink: PcmSink;
  log: Logger;
  sampleRate?: number;
  channels?: number;
  /** How far ahead of the wall clock audio is rendered (absorbs timer jitter). */
  leadSeconds?: number;
  /** Continues this history (a replica taking over keeps what the leader played). */
  history?: readonly TrackEntry[];
  segments?: readonly SegmentEntry[];
  /** A new segment or track went on air (the replicas that relay this station follow it). */
  onNowPlaying?: (state: NowPlayingState) => void;
  /**
   * Writes nothing to Redis (no playhead; an unreadable segment stays in the index): a standby
   * on a follower (outputs/standby.ts), where the leader's playout stays the station's truth.
   */
  readOnly?: boolean;
  /**
   * Begins at this point of the stream instead of the playhead, on its clock: the audio from
   * `atMs` until now is rendered at once (a standby catching up with what its listeners missed).
   */
  resumeFrom?: StreamPoint;
}

const CHUNK_SECONDS = 0.1;

export class StationPlayout implements PlayoutView {
  readonly sampleRate: number;
  readonly channels: number;
  private readonly cache: SegmentCache;
  private readonly mixer: Mixer;
  private readonly lead: number;
  private startMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private refreshing: Promise<void> | null = null;
  /** A nudge came while a refresh was running: run another right after it. */
  private nudgedAgain = false;
  /** Bridges although the next segment was ready in the index (it was not decoded in time). */
  lateBridges = 0;
  private lastPlayheadWrite = 0;
  private lastAudioMs = 0;
  /** Tracks and segments as listeners see them (see on-air.ts). */
  private readonly onAir: OnAir;

  constructor(private readonly o: PlayoutOptions) {
    this.sampleRate = o.sampleRate ?? 48000;
    this.channels = o.channels ?? 2;
    this.lead = Math.round((o.leadSeconds ?? 0.25) * this.sampleRate);
    this.onAir = new OnAir({
      sampleRate: this.sampleRate,
      timeOf: (frame) => new Date(this.frameTimeMs(frame)).toISOString(),
      changed: (state) => o.onNowPlaying?.(state),
      trackStarted: (t) =>
        o.log.info(
          { track: t.trackIndex, title: t.title, artist: t.artist, seq: t.seq, startedAt: t.startedAt },
          'track on air',
        ),
      history: o.history,
      segments: o.segments,
    });
    this.cache = new SegmentCache(o.stationId, o.index, o.store, this.sampleRate, this.channels, o.log, {
      readOnly: o.readOnly,
    });
    this.mixer = new Mixer(this.sampleRate, this.channels, this.cache, {
      segmentStarted: (seg, frame, bridged) => this.onSegmentStarted(seg, frame, bridged),
    });
  }

  get nowPlaying(): NowPlaying | null {
    return this.onAir.nowPlaying;
  }

  get history(): readonly TrackEntry[] {
    return this.onAir.history;
  }

  get segments(): readonly SegmentEntry[] {
    return this.onAir.segments;
  }

  get underruns(): number {
    return this.mixer.underruns;
  }

  /** True while audio is flowing (rendered within the last two seconds). */
  get playing(): boolean {
    return this.mixer.started && Date.now() - this.lastAudioMs < 2000;
  }

  /** Seconds of stream rendered so far. */
  get streamSeconds(): number {
    return this.mixer.framesOut / this.sampleRate;
  }

  /** The stream clock: wall time (ms since epoch) at which stream frame `frame` is on air. */
  frameTimeMs(frame: number): number {
    return this.startMs + (frame / this.sampleRate) * 1000;
  }

  async start(): Promise<void> {
    this.refreshTimer = setInterval(() => this.nudge(), 1000);
    await this.refresh();
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
  }

  /** Called on a pub/sub event: a segment is ready. Errors are logged; polling retries. */
  nudge(): void {
    if (this.refreshing) {
      // The running refresh may have read the index before this segment landed.
      this.nudgedAgain = true;
      return;
    }
    this.nudgedAgain = false;
    this.refreshing = this.refresh()
      .catch((err: unknown) => this.o.log.warn({ err }, 'playout refresh failed; will retry'))
      .finally(() => {
        this.refreshing = null;
        if (this.nudgedAgain && !this.stopped) this.nudge();
      });
  }

  private async refresh(): Promise<void> {
    await this.cache.refresh();
    if (!this.mixer.started) await this.tryStart();
    this.cache.prepare(this.mixer.position());
  }

  /** Resumes where the playhead (or `resumeFrom`) says, or starts the first playable segment. */
  private async tryStart(): Promise<void> {
    const from = this.o.resumeFrom;
    if (from && this.cache.meta(from.seq)) {
      const seg = await this.cache.decode(from.seq);
      // The catch-up renders seconds at once: what follows must be decoded before, not meanwhile.
      await Promise.all(this.cache.readySuccessors(from.seq).map((s) => this.cache.decode(s.seq)));
      if (seg && !this.mixer.started) {
        // Frame 0 was rendered at from.atMs, `lead` ahead of its time on air.
        this.startMs = from.atMs + (this.lead / this.sampleRate) * 1000;
        this.mixer.start(seg, from.positionSeconds);
        this.o.log.info(
          { seq: seg.meta.seq, positionSeconds: from.positionSeconds, catchUpMs: Date.now() - from.atMs },
          'playout started from a point of the stream',
        );
        return;
      }
    }
    const ph = await this.o.playheads.read(this.o.stationId);
    const metas = this.cache.allMetas();
    let first: PlayableSegment | undefined;
    let at = 0;
    if (ph && this.cache.meta(ph.seq)) {
      first = await this.cache.decode(ph.seq);
      at = ph.positionSeconds;
    }
    if (!first) {
      const newest = Math.max(...metas.map((m) => m.promptVersion));
      const candidate = metas.find((m) => m.promptVersion === newest) ?? metas[0];
      if (candidate) first = await this.cache.decode(candidate.seq);
    }
    if (!first || this.mixer.started) return;
    this.startMs = Date.now();
    this.mixer.start(first, at);
    this.o.log.info({ seq: first.meta.seq, positionSeconds: at }, 'playout started');
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    try {
      this.pump();
    } catch (err) {
      this.o.log.error({ err }, 'playout tick failed');
    }
    this.schedule(20);
  }

  private pump(): void {
    if (!this.mixer.started) return;
    const chunk = Math.round(CHUNK_SECONDS * this.sampleRate);
    const due = Math.floor(((Date.now() - this.startMs) / 1000) * this.sampleRate) + this.lead;
    while (this.mixer.framesOut + chunk <= due) {
      this.o.sink.write(this.mixer.render(chunk));
      this.lastAudioMs = Date.now();
      this.onAir.advance(this.mixer.framesOut);
    }
    this.publishPlayhead();
  }

  private publishPlayhead(): void {
    const now = Date.now();
    if (now - this.lastPlayheadWrite < 1000) return;
    this.lastPlayheadWrite = now;
    const pos = this.mixer.position();
    if (!pos) return;
    if (!this.o.readOnly) {
      this.o.playheads
        .write(this.o.stationId, { ...pos, atMs: now, underruns: this.mixer.underruns })
        .catch((err: unknown) => this.o.log.warn({ err }, 'could not publish playhead'));
    }
    // Segments that can play next get decoded ahead of their join point (the index itself is
    // re-read on the refresh timer and on every segment event, not here).
    this.cache.prepare(pos);
  }

  private onSegmentStarted(seg: PlayableSegment, frame: number, bridged: boolean): void {
    if (bridged) {
      // Ready but not decoded in time is a playout defect; not generated yet is the lookahead's.
      const next = this.cache.readySuccessors(seg.meta.seq);
      const ready = next.length > 0;
      if (ready) this.lateBridges++;
      this.o.log.warn(
        {
          seq: seg.meta.seq,
          underruns: this.mixer.underruns,
          next,
          lateBridges: this.lateBridges,
        },
        ready ? 'next segment ready but not decoded in time: bridging' : 'next segment late: bridging',
      );
      return;
    }
    const m = seg.meta;
    // Every segment of a track carries the track's title: the outputs' title changes with tracks.
    for (const t of this.onAir.segmentStarted(m, frame)) this.o.sink.mark(t.frame, { ...m, title: t.title });
    this.o.log.info(
      {
        seq: m.seq,
        track: m.track?.index ?? null,
        title: this.nowPlaying?.title,
        promptVersion: m.promptVersion,
      },
      'segment on air',
    );
  }
}
