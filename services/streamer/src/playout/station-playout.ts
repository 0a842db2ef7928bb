// One station's playout: the real-time clock around the mixer. Renders PCM on an absolute
// schedule (start time + frames / rate), so there is no drift over days and a stalled event loop
// catches up instead of losing time; publishes the playhead for the scheduler.
import type { SegmentResult } from '@lofi/contracts';
import type { NowPlayingEntry, NowPlayingState, PlayheadStore, SegmentIndex } from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import { Mixer, type PlayableSegment } from './mixer.ts';
import { SegmentCache } from './segment-cache.ts';

export interface PcmSink {
  /** Audio for the stream, in order, at real-time pace. */
  write(pcm: Float32Array): void;
  /** From stream frame `frame` on, the audio is `meta`'s. */
  mark(frame: number, meta: SegmentResult): void;
}

export type NowPlaying = NowPlayingEntry;

/** What the API reads of a station's playout, whether it runs here or on the leader replica. */
export interface PlayoutView {
  readonly nowPlaying: NowPlaying | null;
  readonly history: readonly NowPlaying[];
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
  history?: readonly NowPlaying[];
  /** A new segment went on air (the replicas that relay this station follow it). */
  onNowPlaying?: (state: NowPlayingState) => void;
}

const CHUNK_SECONDS = 0.1;
const HISTORY = 20;

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
  private lastPlayheadWrite = 0;
  private lastAudioMs = 0;
  nowPlaying: NowPlaying | null = null;
  readonly history: NowPlaying[] = [];

  constructor(private readonly o: PlayoutOptions) {
    this.sampleRate = o.sampleRate ?? 48000;
    this.channels = o.channels ?? 2;
    this.lead = Math.round((o.leadSeconds ?? 0.25) * this.sampleRate);
    this.history.push(...(o.history ?? []).slice(0, HISTORY));
    this.cache = new SegmentCache(o.stationId, o.index, o.store, this.sampleRate, this.channels, o.log);
    this.mixer = new Mixer(this.sampleRate, this.channels, this.cache, {
      segmentStarted: (seg, frame, bridged) => this.onSegmentStarted(seg, frame, bridged),
    });
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
    if (this.refreshing) return;
    this.refreshing = this.refresh()
      .catch((err: unknown) => this.o.log.warn({ err }, 'playout refresh failed; will retry'))
      .finally(() => {
        this.refreshing = null;
      });
  }

  private async refresh(): Promise<void> {
    await this.cache.refresh();
    if (!this.mixer.started) await this.tryStart();
    await this.cache.prepare(this.mixer.position()?.seq ?? null);
  }

  /** Resumes where the playhead says, or starts the station's first playable segment. */
  private async tryStart(): Promise<void> {
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
    }
    this.publishPlayhead();
  }

  private publishPlayhead(): void {
    const now = Date.now();
    if (now - this.lastPlayheadWrite < 1000) return;
    this.lastPlayheadWrite = now;
    const pos = this.mixer.position();
    if (!pos) return;
    this.o.playheads
      .write(this.o.stationId, { ...pos, atMs: now, underruns: this.mixer.underruns })
      .catch((err: unknown) => this.o.log.warn({ err }, 'could not publish playhead'));
    // Segments that can play next get decoded ahead of their join point.
    this.nudge();
  }

  private onSegmentStarted(seg: PlayableSegment, frame: number, bridged: boolean): void {
    if (bridged) {
      this.o.log.warn({ seq: seg.meta.seq, underruns: this.mixer.underruns }, 'next segment late: bridging');
      return;
    }
    this.o.sink.mark(frame, seg.meta);
    const m = seg.meta;
    this.nowPlaying = {
      seq: m.seq,
      title: m.title,
      prompt: m.prompt,
      promptVersion: m.promptVersion,
      backend: m.backend,
      model: m.model,
      startedAt: new Date(this.startMs + (frame / this.sampleRate) * 1000).toISOString(),
    };
    this.history.unshift(this.nowPlaying);
    this.history.length = Math.min(this.history.length, HISTORY);
    this.o.onNowPlaying?.({ nowPlaying: this.nowPlaying, history: [...this.history] });
    this.o.log.info({ seq: m.seq, title: m.title, promptVersion: m.promptVersion }, 'segment on air');
  }
}
