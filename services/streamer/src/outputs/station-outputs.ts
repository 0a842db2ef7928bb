// What one station's playout feeds on the replica that holds its lease: the MP3 encoder (into the
// audience's ICY fan-out and the Icecast push), the HLS encoder, the listener counts and the
// now-playing events. The playout sees one PcmSink.
import type { SegmentResult } from '@lofi/contracts';
import type { Logger } from 'pino';
import type { NowPlaying, PcmSink } from '../playout/station-playout.ts';
import type { StationAudience, StationEvent } from './audience.ts';
import { HlsOutput } from './hls-output.ts';
import type { HlsPersistence } from './hls-persist.ts';
import type { HlsSegment } from './hls-playlist.ts';
import type { IcyBroadcaster } from './icy.ts';
import type { ListenerStats } from './listeners.ts';
import { Mp3Output, type TaggedFrame } from './mp3-output.ts';

export type { StationEvent } from './audience.ts';

export interface StationOutputsOptions {
  sampleRate: number;
  channels: number;
  mp3Kbps: number;
  audience: StationAudience;
  /** HLS segment target duration (6 s; tests shorten it). */
  hlsTargetSeconds?: number;
  /** Keeps the HLS window in the store, for a restarted streamer and the other replicas. */
  hlsPersist?: HlsPersistence;
  /** Stream clock: wall time (ms) at which stream frame `frame` is on air. */
  clock: (frame: number) => number;
  /** Another consumer of the MP3 frames (the Icecast push), after the ICY listeners. */
  onMp3Frame?: (f: TaggedFrame) => void;
  log: Logger;
}

/** What the API reads of a station's outputs, whichever role this replica has for it. */
export interface RuntimeOutputs {
  readonly icy: IcyBroadcaster;
  readonly listeners: ListenerStats;
  readonly hls: HlsSource;
  /** The MP3 encoder, on the leader only. */
  readonly mp3: Mp3Output | null;
  subscribe(fn: (e: StationEvent) => void): () => void;
  close(): void;
}

/** The live HLS window: encoded here (HlsOutput) or read from the leader's copy (HlsMirror). */
export interface HlsSource {
  readonly targetSeconds: number;
  readonly bandwidth: number;
  readonly restarts: number;
  window(): HlsSegment[];
  segment(seq: number): HlsSegment | undefined;
}

export class StationOutputs implements PcmSink, RuntimeOutputs {
  readonly mp3: Mp3Output;
  readonly hls: HlsOutput;
  private readonly audience: StationAudience;

  constructor(private readonly o: StationOutputsOptions) {
    this.audience = o.audience;
    const mp3Frame = (f: TaggedFrame) => {
      this.audience.icy.frame(f);
      o.onMp3Frame?.(f);
    };
    this.mp3 = new Mp3Output(o.sampleRate, o.channels, o.mp3Kbps, mp3Frame, o.log);
    this.hls = new HlsOutput({
      sampleRate: o.sampleRate,
      channels: o.channels,
      targetSeconds: o.hlsTargetSeconds,
      persist: o.hlsPersist,
      clock: o.clock,
      log: o.log,
    });
  }

  get icy(): IcyBroadcaster {
    return this.audience.icy;
  }

  get listeners(): ListenerStats {
    return this.audience.listeners;
  }

  /** Continues a saved HLS window, then starts both encoders. */
  async start(): Promise<void> {
    await this.hls.resume();
    this.mp3.start();
    this.hls.start();
  }

  /** Stops the encoders; the audience stays (see StationAudience). */
  close(): void {
    this.mp3.close();
    this.hls.close();
  }

  subscribe(fn: (e: StationEvent) => void): () => void {
    return this.audience.subscribe(fn);
  }

  write(pcm: Float32Array): void {
    // The MP3 listeners come first: nothing after them may keep their audio from them.
    this.mp3.write(pcm);
    this.guard('hls write', () => this.hls.write(pcm));
    this.guard('listener count', () => this.audience.listeners.sample());
  }

  mark(frame: number, meta: SegmentResult): void {
    this.mp3.mark(frame, meta);
    this.hls.mark(frame, meta);
  }

  /** The playout's now-playing changed (a segment or a track went on air): the subscribers hear it. */
  nowPlayingChanged(np: NowPlaying | null): void {
    if (np) this.audience.emit({ type: 'now-playing', nowPlaying: np });
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log.error({ err }, `${what} failed`);
    }
  }
}
