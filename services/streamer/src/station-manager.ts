// Runs one playout and its outputs (MP3/ICY, HLS, listeners) per station, kept in step with Redis.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '@lofi/config';
import type { PlayheadStore, SegmentIndex, StationRepo } from '@lofi/redis';
import type { LocalSegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import { type IcecastSource, startIcecastSource } from './outputs/icecast-source.ts';
import type { IcyBroadcaster } from './outputs/icy.ts';
import type { Mp3Output } from './outputs/mp3-output.ts';
import { StationOutputs } from './outputs/station-outputs.ts';
import { StationPlayout } from './playout/station-playout.ts';

export const MP3_BITRATE_KBPS = 128;

export interface StationRuntime {
  id: string;
  playout: StationPlayout;
  mp3: Mp3Output;
  icy: IcyBroadcaster;
  /** MP3 + HLS outputs, listener counts, and the events WebSocket clients get. */
  outputs: StationOutputs;
  /** Push to Icecast (ICECAST_PUSH_URL), null when this station is not pushed. */
  icecast: IcecastSource | null;
}

export interface ManagerDeps {
  config: Config;
  stations: StationRepo;
  index: SegmentIndex;
  playheads: PlayheadStore;
  store: LocalSegmentStore;
  log: Logger;
  /** HLS segment target duration; 6 s unless a test shortens it. */
  hlsTargetSeconds?: number;
}

/** The station's HLS window on disk; the id is a checked slug (STATION_ID_PATTERN). */
const hlsDirOf = (dataDir: string, id: string): string => path.join(dataDir, 'hls', id);

export class StationManager {
  private readonly runtimes = new Map<string, StationRuntime>();
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  /** Set by stop(): a sync still awaiting Redis must not launch anything afterwards. */
  private stopped = false;

  constructor(private readonly d: ManagerDeps) {}

  get(id: string): StationRuntime | undefined {
    return this.runtimes.get(id);
  }

  all(): StationRuntime[] {
    return [...this.runtimes.values()];
  }

  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => this.nudge(), 2000);
  }

  /** A segment or station event arrived: refresh quickly instead of waiting for the poll. */
  nudge(stationId?: string): void {
    if (this.stopped) return;
    if (stationId) this.runtimes.get(stationId)?.playout.nudge();
    if (this.syncing) return;
    this.syncing = this.sync()
      .catch((err: unknown) => this.d.log.warn({ err }, 'station sync failed; will retry'))
      .finally(() => {
        this.syncing = null;
      });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const r of this.runtimes.values()) this.halt(r);
    this.runtimes.clear();
  }

  private async sync(): Promise<void> {
    const ids = new Set((await this.d.stations.list()).map((s) => s.id));
    if (this.stopped) return;
    for (const id of ids) if (!this.runtimes.has(id)) await this.launch(id);
    for (const [id, rt] of this.runtimes) {
      if (ids.has(id)) continue;
      // Deleted: its listeners are let go and its music removed from the store.
      this.runtimes.delete(id);
      this.halt(rt);
      await this.d.store.removeStation(id);
      rmSync(hlsDirOf(this.d.config.dataDir, id), { recursive: true, force: true });
      this.d.log.info({ stationId: id }, 'station playout stopped');
    }
  }

  private halt(rt: StationRuntime): void {
    rt.playout.stop();
    rt.outputs.close();
    rt.icecast?.close();
  }

  private async launch(id: string): Promise<void> {
    if (this.stopped) return;
    const log = this.d.log.child({ stationId: id });
    // Icecast push — begin
    const stream = { bitrateKbps: MP3_BITRATE_KBPS, sampleRate: 48000, channels: 2 };
    const station = () => this.d.stations.get(id);
    const icecast = startIcecastSource(this.d.config.icecastPush, id, station, stream, log);
    // Icecast push — end
    // Outputs (MP3, HLS, listener counts, events) — begin
    const outputs: StationOutputs = new StationOutputs({
      sampleRate: 48000,
      channels: 2,
      mp3Kbps: MP3_BITRATE_KBPS,
      hlsTargetSeconds: this.d.hlsTargetSeconds,
      hlsDir: hlsDirOf(this.d.config.dataDir, id),
      clock: (frame) => playout.frameTimeMs(frame),
      nowPlaying: () => playout.nowPlaying,
      onMp3Frame: (f) => icecast?.frame(f),
      log,
    });
    const { mp3, icy } = outputs;
    // Outputs — end
    const playout: StationPlayout = new StationPlayout({
      stationId: id,
      index: this.d.index,
      playheads: this.d.playheads,
      store: this.d.store,
      sink: outputs,
      log,
    });
    this.runtimes.set(id, { id, playout, mp3, icy, outputs, icecast });
    outputs.start();
    await playout.start();
    log.info('station playout running');
  }
}
