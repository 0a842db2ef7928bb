// A station's audience on this replica: its MP3 listeners (the ICY fan-out), its HLS sessions, the
// counts, and the WebSocket subscribers of its events. It outlives the station's role here: when a
// relaying replica takes the playout over (or hands it back), the same listeners stay connected.
import type { NowPlaying } from '../playout/station-playout.ts';
import { IcyBroadcaster } from './icy.ts';
import { HlsSessions, type ListenerCounts, ListenerStats } from './listeners.ts';

export type StationEvent =
  | { type: 'now-playing'; nowPlaying: NowPlaying }
  | { type: 'listeners'; listeners: ListenerCounts };

export class StationAudience {
  readonly icy = new IcyBroadcaster();
  readonly listeners: ListenerStats;
  private readonly subscribers = new Set<(e: StationEvent) => void>();

  constructor(
    /** An HLS session counts while it fetched something within this long (two target durations). */
    hlsActiveMs: number,
    private readonly onError: (err: unknown, what: string) => void,
  ) {
    this.listeners = new ListenerStats(
      () => this.icy.count,
      new HlsSessions(hlsActiveMs),
      (listeners) => this.emit({ type: 'listeners', listeners }),
    );
  }

  /** Returns the unsubscribe function. */
  subscribe(fn: (e: StationEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  emit(e: StationEvent): void {
    for (const fn of this.subscribers) {
      try {
        fn(e);
      } catch (err) {
        this.onError(err, 'station event');
      }
    }
  }

  /** The station is gone from this replica: let everyone go. */
  close(): void {
    this.icy.closeAll();
    this.subscribers.clear();
  }
}
