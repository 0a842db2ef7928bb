// Runs the stations on this streamer replica, kept in step with Redis. Each station's playout runs
// on exactly one replica, the holder of its lease (lease.ts): there it is rendered and encoded
// (StationOutputs); on every other replica it is relayed from the leader and its HLS window read
// from the store (RelayOutputs), or rendered here on standby, writing nothing, while the relay is
// quiet and the leader still holds the lease (Standby). Listeners stay connected to whichever
// replica they reached while the roles change underneath them: a replica whose leader dies takes
// the playout over.
import type { Config } from '@lofi/config';
import type {
  LeaseHolder,
  ListenerCountStore,
  NowPlayingStore,
  PlayheadStore,
  PlayoutLeases,
  SegmentIndex,
  StationRepo,
} from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import { StationAudience } from './outputs/audience.ts';
import { HLS_TARGET_SECONDS } from './outputs/hls-output.ts';
import { HlsPersistence } from './outputs/hls-persist.ts';
import { type IcecastSource, startIcecastSource } from './outputs/icecast-source.ts';
import type { IcyBroadcaster } from './outputs/icy.ts';
import type { ListenerCounts } from './outputs/listeners.ts';
import { RelayOutputs } from './outputs/relay-outputs.ts';
import { Standby, type StandbyView } from './outputs/standby.ts';
import { type RuntimeOutputs, StationOutputs } from './outputs/station-outputs.ts';
import { type PlayoutView, StationPlayout } from './playout/station-playout.ts';
import { refusesConnections } from './replicas.ts';

export const MP3_BITRATE_KBPS = 128;
const SAMPLE_RATE = 48000;
const CHANNELS = 2;
/** Station list refresh (events nudge it sooner). */
const SYNC_MS = 2000;

export interface StationRuntime {
  id: string;
  /** 'leader': the playout runs here; 'follower': relayed from the replica that holds the lease. */
  role: 'leader' | 'follower';
  playout: PlayoutView;
  icy: IcyBroadcaster;
  /** MP3 + HLS outputs, listener counts, and the events WebSocket clients get. */
  outputs: RuntimeOutputs;
  /** Push to Icecast (ICECAST_PUSH_URL), null when this station is not pushed (or not led here). */
  icecast: IcecastSource | null;
  /** Follower only: the standby that plays while the relay is quiet. */
  standby: StandbyView | null;
}

export interface ManagerDeps {
  config: Config;
  stations: StationRepo;
  index: SegmentIndex;
  playheads: PlayheadStore;
  leases: PlayoutLeases;
  nowPlaying: NowPlayingStore;
  /** Listener counts of every replica, so any of them can report a station's whole audience. */
  counts: ListenerCountStore;
  store: SegmentStore;
  log: Logger;
  /** HLS segment target duration; 6 s unless a test shortens it. */
  hlsTargetSeconds?: number;
}

interface Entry {
  /** Null only while the first role is being set up. */
  rt: StationRuntime | null;
  audience: StationAudience;
  log: Logger;
  /** Leader only. */
  playout: StationPlayout | null;
  leaderOutputs: StationOutputs | null;
  /** Follower only. */
  relay: RelayOutputs | null;
}

export class StationManager {
  private readonly entries = new Map<string, Entry>();
  private syncTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  /** One lease round at a time; role changes happen only inside it. */
  private leasing: Promise<void> | null = null;
  private urgent = false;
  /** Set by stop(): a sync still awaiting Redis must not launch anything afterwards. */
  private stopped = false;
  private me: LeaseHolder;

  constructor(private readonly d: ManagerDeps) {
    this.me = { replica: d.config.replicaId, url: d.config.replicaUrl ?? '' };
  }

  get replicaId(): string {
    return this.me.replica;
  }

  /** The URL the other replicas relay this one's stations from (known once it listens). */
  advertise(url: string): void {
    this.me = { ...this.me, url: this.d.config.replicaUrl ?? url };
  }

  /**
   * A station's listeners on every replica: this one's, counted now, plus what the others last
   * published (at most a lease round old). Redis unreachable: this replica's alone.
   */
  async listenersEverywhere(
    rt: StationRuntime,
  ): Promise<{ mp3: number; hls: number; total: number; replicas: number; here: ListenerCounts }> {
    const here = rt.outputs.listeners.sample();
    let mp3 = here.mp3;
    let hls = here.hls;
    let replicas = 1;
    try {
      const others = await this.d.counts.read(rt.id);
      for (const [replica, c] of Object.entries(others)) {
        if (replica === this.me.replica) continue;
        mp3 += c.mp3;
        hls += c.hls;
        replicas++;
      }
    } catch (err) {
      this.d.log.warn({ err, stationId: rt.id }, "could not read the other replicas' listener counts");
    }
    return { mp3, hls, total: mp3 + hls, replicas, here };
  }

  get(id: string): StationRuntime | undefined {
    return this.entries.get(id)?.rt ?? undefined;
  }

  all(): StationRuntime[] {
    return [...this.entries.values()].flatMap((e) => (e.rt ? [e.rt] : []));
  }

  async start(): Promise<void> {
    await this.sync();
    this.syncTimer = setInterval(() => this.nudge(), SYNC_MS);
    // Renewed several times per TTL, so one slow round does not lose a lease.
    this.leaseTimer = setInterval(
      () => this.leaseRound(),
      Math.max(100, Math.floor(this.d.config.leaseTtlMs / 5)),
    );
  }

  /** A segment or station event arrived: refresh quickly instead of waiting for the poll. */
  nudge(stationId?: string): void {
    if (this.stopped) return;
    if (stationId) this.entries.get(stationId)?.playout?.nudge();
    if (this.syncing) return;
    this.syncing = this.sync()
      .catch((err: unknown) => this.d.log.warn({ err }, 'station sync failed; will retry'))
      .finally(() => {
        this.syncing = null;
      });
  }

  /** Stops every station here and hands their leases over (the other replicas take them at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    // A launch or role change in flight finishes first, so nothing it starts outlives the stop.
    await Promise.all([this.leasing, this.syncing]);
    // Taken before halt(), which forgets the outputs: the HLS window queued so far is written
    // before the lease goes, so the replica taking over resumes all of it.
    const leading = [...this.entries.entries()].flatMap(([id, e]) =>
      e.leaderOutputs ? [{ id, hls: e.leaderOutputs.hls }] : [],
    );
    for (const e of this.entries.values()) this.halt(e);
    this.entries.clear();
    await Promise.all(
      leading.map(async ({ id, hls }) => {
        await hls.flush();
        await this.d.leases.release(id);
      }),
    ).catch((err: unknown) => this.d.log.warn({ err }, 'could not hand the leases over'));
  }

  private async sync(): Promise<void> {
    const ids = new Set((await this.d.stations.list()).map((s) => s.id));
    if (this.stopped) return;
    for (const id of ids) if (!this.entries.has(id)) await this.launch(id);
    for (const [id, e] of this.entries) {
      if (ids.has(id)) continue;
      // Deleted: its listeners are let go and its music (and HLS window) removed from the store.
      this.entries.delete(id);
      this.halt(e);
      await this.d.leases.release(id);
      await this.d.store.removeStation(id);
      e.log.info('station stopped');
    }
  }

  /** A new station here: its audience, then the role its lease gives this replica. */
  private async launch(id: string): Promise<void> {
    if (this.stopped) return;
    const log = this.d.log.child({ stationId: id });
    const audience = new StationAudience(
      2 * (this.d.hlsTargetSeconds ?? HLS_TARGET_SECONDS) * 1000,
      (err, what) => log.error({ err }, `${what} failed`),
    );
    const holder = await this.d.leases.claim(id, this.me);
    const entry: Entry = {
      rt: null,
      audience,
      log,
      playout: null,
      leaderOutputs: null,
      relay: null,
    };
    this.entries.set(id, entry);
    if (holder?.replica === this.me.replica) await this.lead(id, entry);
    else this.follow(id, entry, holder);
  }

  private halt(e: Entry): void {
    this.stopLeading(e);
    e.relay?.close();
    e.relay = null;
    e.audience.close();
  }

  // ---- roles ----

  private async lead(id: string, e: Entry): Promise<void> {
    e.relay?.close();
    e.relay = null;
    const log = e.log;
    // Icecast push — begin
    const stream = { bitrateKbps: MP3_BITRATE_KBPS, sampleRate: SAMPLE_RATE, channels: CHANNELS };
    const icecast = startIcecastSource(
      this.d.config.icecastPush,
      id,
      () => this.d.stations.get(id),
      stream,
      log,
    );
    // Icecast push — end
    const outputs: StationOutputs = new StationOutputs({
      sampleRate: SAMPLE_RATE,
      channels: CHANNELS,
      mp3Kbps: MP3_BITRATE_KBPS,
      audience: e.audience,
      hlsTargetSeconds: this.d.hlsTargetSeconds,
      hlsPersist: new HlsPersistence(this.d.store, id, log),
      clock: (frame) => playout.frameTimeMs(frame),
      onMp3Frame: (f) => icecast?.frame(f),
      log,
    });
    const history = e.rt?.playout.history ?? [];
    const segments = e.rt?.playout.segments ?? [];
    const playout: StationPlayout = new StationPlayout({
      stationId: id,
      index: this.d.index,
      playheads: this.d.playheads,
      store: this.d.store,
      sink: outputs,
      log,
      history,
      segments,
      onNowPlaying: (state) => {
        outputs.nowPlayingChanged(state.nowPlaying);
        this.d.nowPlaying
          .write(id, state)
          .catch((err: unknown) => log.warn({ err }, 'could not publish now-playing'));
      },
    });
    Object.assign(e, { playout, leaderOutputs: outputs });
    e.rt = { id, role: 'leader', playout, icy: e.audience.icy, outputs, icecast, standby: null };
    await outputs.start();
    await playout.start();
    log.info({ replica: this.me.replica }, 'station playout running here');
  }

  private stopLeading(e: Entry): void {
    e.playout?.stop();
    e.leaderOutputs?.close();
    e.rt?.icecast?.close();
    Object.assign(e, { playout: null, leaderOutputs: null });
  }

  private follow(id: string, e: Entry, holder: LeaseHolder | null): void {
    this.stopLeading(e);
    const standby = new Standby({
      stationId: id,
      index: this.d.index,
      playheads: this.d.playheads,
      store: this.d.store,
      icy: e.audience.icy,
      sampleRate: SAMPLE_RATE,
      channels: CHANNELS,
      mp3Kbps: MP3_BITRATE_KBPS,
      log: e.log.child({ standby: true }),
    });
    const relay = new RelayOutputs({
      stationId: id,
      audience: e.audience,
      store: this.d.store,
      sampleRate: SAMPLE_RATE,
      hlsTargetSeconds: this.d.hlsTargetSeconds,
      onLeaderLost: () => this.leaderLost(),
      standby,
      log: e.log,
    });
    relay.history = [...(e.rt?.playout.history ?? [])];
    relay.segments = [...(e.rt?.playout.segments ?? [])];
    e.relay = relay;
    e.rt = {
      id,
      role: 'follower',
      playout: relay,
      icy: e.audience.icy,
      outputs: relay,
      icecast: null,
      standby,
    };
    relay.start();
    relay.follow(holder?.url || null);
    e.log.info({ leader: holder?.replica ?? null }, 'station relayed from its leader');
  }

  // ---- leases ----

  /** A relay broke: look at the leases now (the leader may be dead), not at the next round. */
  private leaderLost(): void {
    this.urgent = true;
    this.leaseRound();
  }

  private leaseRound(): void {
    if (this.stopped) return;
    if (this.leasing) return;
    this.leasing = this.renewAll()
      .catch((err: unknown) => this.d.log.warn({ err }, 'lease round failed; roles unchanged'))
      .finally(() => {
        this.leasing = null;
        if (this.urgent) {
          this.urgent = false;
          setTimeout(() => this.leaseRound(), 50);
        }
      });
  }

  /**
   * Renews this replica's leases and claims free ones. A Redis error changes nothing: a leader
   * keeps playing through a Redis outage (the listeners must not pay for it); only a lease seen
   * held by another replica makes this one step down.
   */
  private async renewAll(): Promise<void> {
    // One probe per leader address per round: a black-holed leader takes a second to answer (a
    // timeout), and its stations must not each wait for it, or this replica's own renewals would.
    const probes = new Map<string, Promise<boolean>>();
    const refuses = (url: string) => {
      const known = probes.get(url);
      if (known) return known;
      const probe = refusesConnections(url);
      probes.set(url, probe);
      return probe;
    };
    for (const [id, e] of this.entries) {
      if (this.stopped) return;
      // A follower whose relay plays leaves a lapsed lease to its leader, which takes it back on
      // its next renewal (after a Redis restart, say): roles flip only when the music needs it.
      const relayed = e.relay?.relaying === true;
      let holder = relayed ? await this.d.leases.holder(id) : await this.d.leases.claim(id, this.me);
      if (holder && holder.replica !== this.me.replica && e.relay && !e.relay.relaying) {
        // The relay is down: if nothing listens at the leader's address any more, it is dead.
        if (holder.url && (await refuses(holder.url)) && (await this.d.leases.breakIfHeldBy(id, holder))) {
          e.log.warn({ leader: holder.replica }, 'leader refuses connections: taking its lease');
          holder = await this.d.leases.claim(id, this.me);
        }
      }
      if (this.entries.get(id) !== e || this.stopped) continue;
      if (e.rt) {
        const { mp3, hls } = e.rt.outputs.listeners.sample();
        await this.d.counts.publish(id, this.me.replica, { mp3, hls });
      }
      const mine = holder?.replica === this.me.replica;
      if (mine && e.rt?.role === 'follower') {
        e.log.warn('taking the station playout over');
        await this.lead(id, e);
      } else if (holder && !mine && e.rt?.role === 'leader') {
        e.log.warn({ leader: holder.replica }, 'another replica holds the lease: relaying it instead');
        this.follow(id, e, holder);
      } else if (e.relay) {
        // A lapsed lease (null) or one without a URL yet: keep the relay there is.
        if (holder?.url) e.relay.follow(holder.url);
        const state = await this.d.nowPlaying.read(id);
        if (state) e.relay.setNowPlaying(state);
      }
    }
  }
}
