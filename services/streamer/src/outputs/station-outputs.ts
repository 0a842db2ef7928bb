// Everything one station's playout feeds: the MP3 encoder and its ICY fan-out, the HLS encoder,
// the listener counts, and the events pushed to WebSocket clients. The playout sees one PcmSink.
import type { SegmentResult } from '@lofi/contracts';
import type { Logger } from 'pino';
import type { NowPlaying, PcmSink } from '../playout/station-playout.ts';
import { HlsOutput } from './hls-output.ts';
import { IcyBroadcaster } from './icy.ts';
import { HlsSessions, type ListenerCounts, ListenerStats } from './listeners.ts';
import { Mp3Output, type TaggedFrame } from './mp3-output.ts';

export type StationEvent =
  | { type: 'now-playing'; nowPlaying: NowPlaying }
  | { type: 'listeners'; listeners: ListenerCounts };

export interface StationOutputsOptions {
  sampleRate: number;
  channels: number;
  mp3Kbps: number;
  /** HLS segment target duration (6 s; tests shorten it). */
  hlsTargetSeconds?: number;
  /** Where the HLS window is kept so a restarted streamer continues the playlist. */
  hlsDir?: string;
  /** Stream clock: wall time (ms) at which stream frame `frame` is on air. */
  clock: (frame: number) => number;
  /** The playout's now-playing, read once the playout has recorded a mark. */
  nowPlaying: () => NowPlaying | null;
  /** Another consumer of the MP3 frames (the Icecast push), after the ICY listeners. */
  onMp3Frame?: (f: TaggedFrame) => void;
  log: Logger;
}

export class StationOutputs implements PcmSink {
  readonly icy = new IcyBroadcaster();
  readonly mp3: Mp3Output;
  readonly hls: HlsOutput;
  readonly listeners: ListenerStats;
  private readonly subscribers = new Set<(e: StationEvent) => void>();

  constructor(private readonly o: StationOutputsOptions) {
    const mp3Frame = (f: TaggedFrame) => {
      this.icy.frame(f);
      o.onMp3Frame?.(f);
    };
    this.mp3 = new Mp3Output(o.sampleRate, o.channels, o.mp3Kbps, mp3Frame, o.log);
    this.hls = new HlsOutput({
      sampleRate: o.sampleRate,
      channels: o.channels,
      targetSeconds: o.hlsTargetSeconds,
      persistDir: o.hlsDir,
      clock: o.clock,
      log: o.log,
    });
    const sessions = new HlsSessions(2 * this.hls.targetSeconds * 1000);
    this.listeners = new ListenerStats(
      () => this.icy.count,
      sessions,
      (listeners) => this.emit({ type: 'listeners', listeners }),
    );
  }

  start(): void {
    this.mp3.start();
    this.hls.start();
  }

  close(): void {
    this.mp3.close();
    this.hls.close();
    this.icy.closeAll();
    this.subscribers.clear();
  }

  /** Returns the unsubscribe function. */
  subscribe(fn: (e: StationEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  write(pcm: Float32Array): void {
    // The MP3 listeners come first: nothing after them may keep their audio from them.
    this.mp3.write(pcm);
    this.guard('hls write', () => this.hls.write(pcm));
    this.guard('listener count', () => this.listeners.sample());
  }

  mark(frame: number, meta: SegmentResult): void {
    this.mp3.mark(frame, meta);
    this.hls.mark(frame, meta);
    // The playout records its now-playing right after marking, in the same synchronous call.
    queueMicrotask(() => {
      const np = this.o.nowPlaying();
      if (np) this.emit({ type: 'now-playing', nowPlaying: np });
    });
  }

  private emit(e: StationEvent): void {
    for (const fn of this.subscribers) this.guard('station event', () => fn(e));
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log.error({ err }, `${what} failed`);
    }
  }
}
