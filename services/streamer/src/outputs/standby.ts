// A follower's own rendering of a station whose relay has gone quiet while the leader still holds
// the lease (a hung leader, a network black hole between the replicas): the same playout and mixer
// the leader runs, from the point this replica's listeners last heard, into their ICY fan-out
// only. It writes nothing: no playhead, no now-playing or history, no HLS, no Icecast push, so
// the leader stays the station's truth and nothing is left to clean up when the relay takes the
// listeners back. It starts rendering before it goes on air (held back, ready), so that going on
// air is instant; relay-outputs.ts decides when it starts, airs and stops.
import type { PlayheadStore, SegmentEntry, SegmentIndex, TrackEntry } from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import { StationPlayout } from '../playout/station-playout.ts';
import { streamPointAt } from '../playout/stream-point.ts';
import type { IcyBroadcaster } from './icy.ts';
import { Mp3Output, type TaggedFrame } from './mp3-output.ts';

/**
 * The last relayed frame reached this replica about this long after the leader rendered it (its
 * MP3 encoder and the network; the last frame of a batch leaves as soon as it is made). Measured
 * with tones (test/standby-position.test.ts): 150 ms repeated 0.08-0.12 s at the switch.
 */
const RELAY_DELAY_MS = 50;
/** The most audio given at once to catch the listeners up (a player's buffer is a few s). */
const MAX_CATCH_UP_MS = 6000;
/** After a standby that could not start, wait this long before the next try. */
const RETRY_MS = 1000;
const SAMPLES_PER_FRAME = 1152;

export interface StandbyOptions {
  stationId: string;
  index: SegmentIndex;
  playheads: PlayheadStore;
  store: SegmentStore;
  /** The station's listeners on this replica. */
  icy: IcyBroadcaster;
  sampleRate: number;
  channels: number;
  mp3Kbps: number;
  log: Logger;
}

/** What the metrics read of a station's standby on this replica. */
export interface StandbyView {
  /** The listeners here hear the standby. */
  readonly onAir: boolean;
  /** Times the standby went on air here. */
  readonly starts: number;
}

export interface SeenOnAir {
  history: readonly TrackEntry[];
  segments: readonly SegmentEntry[];
}

interface Run {
  playout: StationPlayout | null;
  mp3: Mp3Output | null;
  /** Frames rendered before going on air; null once on air. */
  held: TaggedFrame[] | null;
}

export class Standby implements StandbyView {
  starts = 0;
  /** MP3 frames the standby gave the listeners, all runs together. */
  private frames = 0;
  private run: Run | null = null;
  private failedAt = 0;
  private readonly maxHeld: number;

  constructor(private readonly o: StandbyOptions) {
    this.maxHeld = Math.ceil((MAX_CATCH_UP_MS / 1000) * (o.sampleRate / SAMPLES_PER_FRAME));
  }

  /** Rendering, on air or held back. */
  get running(): boolean {
    return this.run !== null;
  }

  get onAir(): boolean {
    return this.run !== null && this.run.held === null;
  }

  get playing(): boolean {
    return this.onAir && this.run?.playout?.playing === true;
  }

  get streamSeconds(): number {
    return (this.frames * SAMPLES_PER_FRAME) / this.o.sampleRate;
  }

  /**
   * Starts rendering, held back from the listeners until air(): the stream from what they last
   * heard, the relayed audio that arrived at `heardUntilMs`. `seen`: the tracks the relay
   * followed, so the titles continue the leader's.
   */
  start(heardUntilMs: number, seen: SeenOnAir): void {
    if (this.run || Date.now() - this.failedAt < RETRY_MS) return;
    const run: Run = { playout: null, mp3: null, held: [] };
    this.run = run;
    this.begin(run, heardUntilMs, seen).catch((err: unknown) => {
      this.o.log.error({ err }, 'standby playout could not start; retrying');
      this.failedAt = Date.now();
      if (this.run === run) this.stop();
    });
  }

  /** On air: the listeners get what was rendered since what they last heard, then real time. */
  air(): void {
    const run = this.run;
    if (!run?.held) return;
    const held = run.held;
    run.held = null;
    this.starts++;
    for (const f of held) this.give(f);
    this.o.log.warn(
      { caughtUpSeconds: (held.length * SAMPLES_PER_FRAME) / this.o.sampleRate },
      'standby on air: the station plays from here until the relay from the leader plays again',
    );
  }

  /** Off air and stopped: the relay plays again, or this replica's role for the station changed. */
  stop(): void {
    const run = this.run;
    this.run = null;
    run?.playout?.stop();
    run?.mp3?.close();
  }

  private give(f: TaggedFrame): void {
    this.frames++;
    this.o.icy.frame(f);
  }

  private async begin(run: Run, heardUntilMs: number, seen: SeenOnAir): Promise<void> {
    const { stationId, log } = this.o;
    // Reads only: the leader's playhead says where its stream is; the index, what follows.
    const [ph, metas] = await Promise.all([this.o.playheads.read(stationId), this.o.index.all(stationId)]);
    if (this.run !== run) return;
    const renderedAt = Math.max(heardUntilMs, Date.now() - MAX_CATCH_UP_MS) - RELAY_DELAY_MS;
    const from = ph ? streamPointAt(ph, metas, renderedAt) : null;
    const mp3: Mp3Output = new Mp3Output(
      this.o.sampleRate,
      this.o.channels,
      this.o.mp3Kbps,
      (f) => {
        // Frames still coming out of a stopped run's encoder are not the listeners' any more.
        if (this.run !== run) return;
        if (!run.held) return this.give(f);
        run.held.push(f);
        if (run.held.length > this.maxHeld) run.held.shift();
      },
      log,
    );
    const playout = new StationPlayout({
      stationId,
      index: this.o.index,
      playheads: this.o.playheads,
      store: this.o.store,
      sink: mp3,
      log,
      history: seen.history,
      segments: seen.segments,
      readOnly: true,
      resumeFrom: from ?? undefined,
    });
    Object.assign(run, { playout, mp3 });
    mp3.start();
    await playout.start();
    log.info({ from }, 'standby rendering, held back until it goes on air');
  }
}
