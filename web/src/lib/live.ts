// What is on air, kept current: the station's WebSocket when it connects, else polling the REST
// API every few seconds (and trying the socket again now and then).
import { getJson, listenerCount, type NowPlaying, type StationView } from './api.ts';

export interface LiveState {
  stationId: string;
  name: string;
  description: string;
  prompt: string;
  promptVersion: number;
  nowPlaying: NowPlaying | null;
  /** Newest first; includes what is playing now. */
  history: NowPlaying[];
  listeners: number;
  bufferedSeconds: number | null;
  status: string | null;
  generationRealtimeFactor: number | null;
  via: 'websocket' | 'polling' | 'connecting';
}

const POLL_MS = 4000;
const HISTORY_KEEP = 20;
const WS_RETRY_MS = 30_000;

/** How long a track played (to `now` for the one on air), in seconds. */
export function playedSeconds(e: NowPlaying, now = Date.now()): number {
  const end = e.endedAt ? Date.parse(e.endedAt) : now;
  return Math.max(0, (end - Date.parse(e.startedAt)) / 1000);
}

/** The history entry heard at stream time `at` (ms): the newest that had started by then. */
export function heardEntry(history: readonly NowPlaying[], at: number | null): NowPlaying | null {
  if (history.length === 0) return null;
  if (at === null) return history[0] ?? null;
  for (const h of history) if (Date.parse(h.startedAt) <= at) return h;
  return history[history.length - 1] ?? null;
}

type Msg = { type?: string } & Record<string, unknown>;

export class LiveFeed {
  readonly state: LiveState;
  private ws: WebSocket | null = null;
  private pollTimer: number | null = null;
  private lastHistoryFetch = 0;
  private readonly subs = new Set<(s: LiveState) => void>();

  constructor(stationId: string) {
    this.state = {
      stationId,
      name: stationId,
      description: '',
      prompt: '',
      promptVersion: 0,
      nowPlaying: null,
      history: [],
      listeners: 0,
      bufferedSeconds: null,
      status: null,
      generationRealtimeFactor: null,
      via: 'connecting',
    };
    void this.pollOnce(true);
    this.connect();
  }

  subscribe(fn: (s: LiveState) => void): void {
    this.subs.add(fn);
    fn(this.state);
  }

  /** Re-reads the station now (after a mood change, say) instead of waiting for the next tick. */
  refresh(): Promise<void> {
    return this.pollOnce(true);
  }

  private emit(): void {
    for (const fn of this.subs) fn(this.state);
  }

  private connect(): void {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws: WebSocket;
    try {
      ws = new WebSocket(
        `${proto}//${location.host}/api/stations/${encodeURIComponent(this.state.stationId)}/ws`,
      );
    } catch {
      this.startPolling();
      return;
    }
    this.ws = ws;
    let opened = false;
    const giveUp = window.setTimeout(() => {
      if (!opened) ws.close();
    }, 5000);
    ws.onopen = () => {
      opened = true;
      window.clearTimeout(giveUp);
      this.stopPolling();
      this.state.via = 'websocket';
      this.emit();
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      try {
        this.onMessage(JSON.parse(e.data) as Msg);
      } catch {
        // A message we cannot read is skipped; the next one or the poll corrects the page.
      }
    };
    ws.onclose = () => {
      window.clearTimeout(giveUp);
      if (this.ws !== ws) return;
      this.ws = null;
      this.state.via = 'polling';
      this.startPolling();
      this.emit();
      window.setTimeout(() => this.connect(), WS_RETRY_MS);
    };
  }

  private onMessage(m: Msg): void {
    const s = this.state;
    switch (m.type) {
      case 'snapshot': {
        const np = (m.nowPlaying as NowPlaying | null) ?? null;
        const hist = Array.isArray(m.history) ? (m.history as NowPlaying[]) : [];
        s.history = hist.length > 0 ? hist : np ? [np] : [];
        s.nowPlaying = np;
        const mood = m.mood as Msg | undefined;
        if (mood) this.onMessage(mood);
        const buffer = m.buffer as Msg | undefined;
        if (buffer) this.onMessage(buffer);
        const listeners = m.listeners as Msg | undefined;
        if (listeners) this.onMessage(listeners);
        break;
      }
      case 'now-playing':
        this.addNowPlaying((m.nowPlaying as NowPlaying | null) ?? null);
        break;
      case 'mood':
        if (typeof m.prompt === 'string') s.prompt = m.prompt;
        if (typeof m.promptVersion === 'number') s.promptVersion = m.promptVersion;
        break;
      case 'buffer':
        if (typeof m.bufferedSeconds === 'number') s.bufferedSeconds = m.bufferedSeconds;
        if (typeof m.status === 'string') s.status = m.status;
        if (typeof m.generationRealtimeFactor === 'number')
          s.generationRealtimeFactor = m.generationRealtimeFactor;
        break;
      case 'listeners':
        if (typeof m.total === 'number') s.listeners = m.total;
        break;
      default:
        return;
    }
    this.emit();
  }

  /** A segment or a track went on air: the entry of its track is replaced, the last one ended. */
  private addNowPlaying(np: NowPlaying | null): void {
    this.state.nowPlaying = np;
    if (!np) return;
    const rest = this.state.history
      .filter((h) => h.seq !== np.seq)
      .map((h) =>
        h.endedAt === null && Date.parse(h.startedAt) < Date.parse(np.startedAt)
          ? { ...h, endedAt: np.startedAt }
          : h,
      );
    this.state.history = [np, ...rest].slice(0, HISTORY_KEEP);
  }

  private startPolling(): void {
    if (this.pollTimer !== null) return;
    this.pollTimer = window.setInterval(() => void this.pollOnce(false), POLL_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) window.clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private async pollOnce(full: boolean): Promise<void> {
    const id = encodeURIComponent(this.state.stationId);
    try {
      const v = await getJson<StationView>(`/api/stations/${id}`);
      const s = this.state;
      s.name = v.name;
      s.description = v.description ?? '';
      s.prompt = v.prompt;
      s.promptVersion = v.promptVersion;
      s.bufferedSeconds = v.bufferedSeconds;
      s.status = v.status;
      s.generationRealtimeFactor = v.generationRealtimeFactor;
      if (this.ws === null || full) s.listeners = listenerCount(v.listeners);
      const changed = v.nowPlaying && v.nowPlaying.seq !== s.nowPlaying?.seq;
      if (this.ws === null || full) this.addNowPlaying(v.nowPlaying);
      if (full || (this.ws === null && (changed || Date.now() - this.lastHistoryFetch > 20_000))) {
        this.lastHistoryFetch = Date.now();
        const { history } = await getJson<{ history: NowPlaying[] }>(`/api/stations/${id}/history`);
        if (history.length > 0) s.history = history.slice(0, HISTORY_KEEP);
      }
      if (s.via === 'connecting' && this.ws === null) s.via = 'polling';
      this.emit();
    } catch {
      // The server restarting or the network gone: the next tick tries again.
    }
  }
}
