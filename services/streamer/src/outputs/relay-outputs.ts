// A station on a replica that does not hold its lease: the MP3 relayed from the leader into this
// replica's audience, the HLS window mirrored from the store, and now-playing followed in Redis.
// Nothing is encoded here while the relay plays. The manager points it at the current leader and,
// when the relay breaks, checks the lease at once: the leader may be gone and the playout this
// replica's to take. A relay that stays quiet while the leader keeps its lease (it hangs, or the
// network between the two drops everything) puts the standby on air (standby.ts) until the relay
// has played again for a second. The standby starts rendering, held back, after a second of
// quiet, so that at three it goes on air at once.
import type { NowPlayingState, SegmentEntry, TrackEntry } from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import type { NowPlaying, PlayoutView } from '../playout/station-playout.ts';
import type { StationAudience, StationEvent } from './audience.ts';
import { HlsMirror } from './hls-mirror.ts';
import type { IcyBroadcaster } from './icy.ts';
import type { ListenerStats } from './listeners.ts';
import type { TaggedFrame } from './mp3-output.ts';
import { Mp3Relay } from './mp3-relay.ts';
import type { Standby } from './standby.ts';
import type { RuntimeOutputs } from './station-outputs.ts';

const RECONNECT_MS = 250;
const SAMPLES_PER_FRAME = 1152;
/** No relayed audio for this long: the standby starts rendering, held back from the listeners. */
export const STANDBY_PREPARE_MS = 1000;
/** No relayed audio for this long: the standby goes on air. */
export const STANDBY_AFTER_MS = 3000;
/** The relay must play this long without a break before the standby hands the listeners back. */
export const HAND_BACK_AFTER_MS = 1000;
/** A pause longer than this between relayed frames restarts that second. */
const RELAY_BREAK_MS = 500;
const WATCH_MS = 100;

export interface RelayOptions {
  stationId: string;
  audience: StationAudience;
  store: SegmentStore;
  sampleRate: number;
  hlsTargetSeconds?: number;
  /** The relay broke: the manager looks at the lease now rather than at its next round. */
  onLeaderLost: () => void;
  /** Renders the station here while the relay is quiet (standby.ts). */
  standby: Standby;
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
  /** Relayed frames given to the listeners. */
  private frames = 0;
  /** When the latest relayed frame arrived (given to the listeners or not). */
  private lastFrameMs = 0;
  /** Since when the relay has played without a break, while the standby is on air. */
  private backSinceMs = 0;
  private followedAtMs = 0;
  private retry: NodeJS.Timeout | null = null;
  private watch: NodeJS.Timeout | null = null;
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
    return Date.now() - this.lastFrameMs < 2000 || this.o.standby.playing;
  }

  /** Audio arrived from the leader within the last second. */
  get relaying(): boolean {
    return this.relay !== null && Date.now() - this.lastFrameMs < 1000;
  }

  get streamSeconds(): number {
    return (this.frames * SAMPLES_PER_FRAME) / this.o.sampleRate + this.o.standby.streamSeconds;
  }

  start(): void {
    this.hls.start();
    this.watch = setInterval(() => this.watchRelay(), WATCH_MS);
  }

  subscribe(fn: (e: StationEvent) => void): () => void {
    return this.o.audience.subscribe(fn);
  }

  /** Relays from `url` (the leader's base URL), reconnecting when it changes or breaks. */
  follow(url: string | null): void {
    if (this.closed || url === this.leaderUrl) return;
    this.leaderUrl = url;
    this.followedAtMs = Date.now();
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
    if (this.watch) clearInterval(this.watch);
    this.relay?.close();
    this.relay = null;
    this.o.standby.stop();
    this.hls.close();
  }

  /** The standby gets ready after STANDBY_PREPARE_MS of quiet, and goes on air at STANDBY_AFTER_MS. */
  private watchRelay(): void {
    const standby = this.o.standby;
    if (this.closed || standby.onAir || !this.leaderUrl) return;
    const quietSince = this.lastFrameMs || this.followedAtMs;
    const quietMs = Date.now() - quietSince;
    // Never relayed: nothing was heard here yet, so there is nothing to catch up.
    if (quietMs >= STANDBY_PREPARE_MS && !standby.running)
      standby.start(this.lastFrameMs || Date.now(), { history: this.history, segments: this.segments });
    if (quietMs < STANDBY_AFTER_MS || !standby.running) return;
    this.o.log.warn(
      { leader: this.leaderUrl, quietMs },
      'no audio from the leader although it holds the lease: standby',
    );
    standby.air();
  }

  /** A relayed frame: the listeners', unless the standby plays and the relay has not proven itself. */
  private relayed(f: TaggedFrame): void {
    const now = Date.now();
    const standby = this.o.standby;
    // A standby held back was never heard: the relay simply goes on.
    if (standby.running && !standby.onAir) standby.stop();
    if (standby.onAir) {
      if (this.backSinceMs === 0 || now - this.lastFrameMs > RELAY_BREAK_MS) this.backSinceMs = now;
      this.lastFrameMs = now;
      if (now - this.backSinceMs < HAND_BACK_AFTER_MS) return;
      standby.stop();
      this.o.log.warn({ leader: this.leaderUrl }, 'the relay plays again: standby handed back');
    }
    this.backSinceMs = 0;
    this.lastFrameMs = now;
    this.frames++;
    this.o.audience.icy.frame(f);
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
        this.relayed(f);
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
