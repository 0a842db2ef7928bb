// Runs one playout + encoder + ICY fan-out per station, and keeps that set in step with Redis.
import type { Config } from '@lofi/config';
import type { PlayheadStore, SegmentIndex, StationRepo } from '@lofi/redis';
import type { LocalSegmentStore } from '@lofi/store';
import type { Logger } from 'pino';
import { IcyBroadcaster } from './outputs/icy.ts';
import { Mp3Output } from './outputs/mp3-output.ts';
import { StationPlayout } from './playout/station-playout.ts';

export const MP3_BITRATE_KBPS = 128;

export interface StationRuntime {
  id: string;
  playout: StationPlayout;
  mp3: Mp3Output;
  icy: IcyBroadcaster;
}

export interface ManagerDeps {
  config: Config;
  stations: StationRepo;
  index: SegmentIndex;
  playheads: PlayheadStore;
  store: LocalSegmentStore;
  log: Logger;
}

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
      this.d.log.info({ stationId: id }, 'station playout stopped');
    }
  }

  private halt(rt: StationRuntime): void {
    rt.playout.stop();
    rt.mp3.close();
    rt.icy.closeAll();
  }

  private async launch(id: string): Promise<void> {
    if (this.stopped) return;
    const log = this.d.log.child({ stationId: id });
    const icy = new IcyBroadcaster();
    const mp3 = new Mp3Output(48000, 2, MP3_BITRATE_KBPS, (f) => icy.frame(f), log);
    const playout = new StationPlayout({
      stationId: id,
      index: this.d.index,
      playheads: this.d.playheads,
      store: this.d.store,
      sink: mp3,
      log,
    });
    this.runtimes.set(id, { id, playout, mp3, icy });
    mp3.start();
    await playout.start();
    log.info('station playout running');
  }
}
