// A station on a replica that does not hold its lease: the MP3 relayed from the leader into this
// replica's audience, the HLS window mirrored from the store, and now-playing followed in Redis.
// Nothing is encoded here. The manager points it at the current leader and, when the relay breaks,
// checks the lease at once: the leader may be gone and the playout this replica's to take.
import type { NowPlayingState, SegmentEntry, TrackEntry } from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import type { NowPlaying, PlayoutView } from '../playout/station-playout.ts';
import type { StationAudience, StationEvent } from './audience.ts';
import { HlsMirror } from './hls-mirror.ts';
import type { IcyBroadcaster } from './icy.ts';
import type { ListenerStats } from './listeners.ts';
import { Mp3Relay } from './mp3-relay.ts';
import type { RuntimeOutputs } from './station-outputs.ts';

const RECONNECT_MS = 250;
const SAMPLES_PER_FRAME = 1152;

export interface RelayOptions {
  stationId: string;
  audience: StationAudience;
  store: SegmentStore;
  sampleRate: number;
  hlsTargetSeconds?: number;
  /** The relay broke: the manager looks at the lease now rather than at its next round. */
  onLeaderLost: () => void;
  log: Logger;
}

export class RelayOutputs implements RuntimeOutputs, PlayoutView {
  readonly mp3 = null;
  readonly hls: HlsMirror;
  readonly underruns = 0;
  nowPlaying: NowPlaying | null = null;
  history: TrackEntry[] = [];
  segments: SegmentEntry[] = [];
  private relay: Mp3Relay | null = null;
  private leaderUrl: string | null = null;
  private relayedBefore = false;
  private frames = 0;
  private lastFrameMs = 0;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly o: RelayOptions) {
    this.hls = new HlsMirror(o.store, o.stationId, o.log, o.hlsTargetSeconds);
  }

  get icy(): IcyBroadcaster {
    return this.o.audience.icy;
  }

  get listeners(): ListenerStats {
    return this.o.audience.listeners;
  }

  get playing(): boolean {
    return Date.now() - this.lastFrameMs < 2000;
  }

  /** Audio arrived from the leader within the last second. */
  get relaying(): boolean {
    return this.relay !== null && Date.now() - this.lastFrameMs < 1000;
  }

  get streamSeconds(): number {
    return (this.frames * SAMPLES_PER_FRAME) / this.o.sampleRate;
  }

  start(): void {
    this.hls.start();
  }

  subscribe(fn: (e: StationEvent) => void): () => void {
    return this.o.audience.subscribe(fn);
  }

  /** Relays from `url` (the leader's base URL), reconnecting when it changes or breaks. */
  follow(url: string | null): void {
    if (this.closed || url === this.leaderUrl) return;
    this.leaderUrl = url;
    this.connect();
  }

  /** The leader's now-playing, read from Redis: the API, events and ICY titles follow it. */
  setNowPlaying(state: NowPlayingState): void {
    const np = state.nowPlaying;
    this.history = state.history;
    this.segments = state.segments;
    const cur = this.nowPlaying;
    if (
      !np ||
      (cur && np.seq === cur.seq && np.segment.seq === cur.segment.seq && np.startedAt === cur.startedAt)
    )
      return;
    this.nowPlaying = np;
    // The relayed bytes carry no titles: from now on the in-band title is the leader's.
    this.o.audience.icy.retitle(np.streamTitle);
    this.o.audience.emit({ type: 'now-playing', nowPlaying: np });
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.relay?.close();
    this.relay = null;
    this.hls.close();
  }

  private connect(): void {
    this.relay?.close();
    this.relay = null;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const url = this.leaderUrl;
    if (!url || this.closed) return;
    const relay: Mp3Relay = new Mp3Relay({
      url: `${url}/stations/${this.o.stationId}/stream.mp3`,
      resume: this.relayedBefore,
      onFrame: (f) => {
        this.relayedBefore = true;
        this.frames++;
        this.lastFrameMs = Date.now();
        this.o.audience.icy.frame(f);
      },
      onEnd: (frames, reason) => {
        if (this.relay !== relay || this.closed) return;
        this.relay = null;
        this.o.log.warn({ leader: url, frames, reason }, 'relay from the leader ended');
        this.o.onLeaderLost();
        this.retry = setTimeout(() => this.connect(), RECONNECT_MS);
      },
    });
    this.relay = relay;
    relay.start();
  }
}
