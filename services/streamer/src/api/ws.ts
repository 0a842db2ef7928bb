// GET /api/stations/:id/ws: a WebSocket that pushes what a listen page shows. On connect a
// `snapshot`; then `now-playing` as a segment goes on air, with the track it belongs to (the track's
// title, artist and startedAt change when a new track's first audio is heard; startedAt is on the
// stream clock, the clock of the HLS PROGRAM-DATE-TIME; `segment` is the segment on air), `mood` when the prompt changes, `buffer` when the
// generation buffer changes, `listeners` (at most once a second). Clients send nothing: incoming
// messages are ignored, and one larger than MAX_INCOMING closes the socket (ws enforces it).
import type { ChainState, ChainStore, Station, StationRepo } from '@lofi/redis';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { errors } from '../errors.ts';
import type { ListenerCounts } from '../outputs/listeners.ts';
import type { RuntimeOutputs, StationEvent } from '../outputs/station-outputs.ts';
import { nowPlayingView, tracksView } from '../playout/on-air.ts';
import type { StationManager } from '../station-manager.ts';
import type { RateLimiter } from './rate-limit.ts';
import { stationIdParams } from './station-runtime.ts';

export const MAX_INCOMING = 1024;
export const MAX_MESSAGE_BYTES = 16 * 1024;
const MAX_CLIENTS = 5000;
const MAX_BACKLOG_BYTES = 1024 * 1024;
const POLL_MS = 2000;
const LISTENERS_EVERY_MS = 1000;
const PING_MS = 30_000;
const SNAPSHOT_HISTORY = 10;

export interface SocketHubDeps {
  manager: StationManager;
  stations: StationRepo;
  chains: ChainStore;
  log: Logger;
}

type Message = Record<string, unknown> & { type: string };

const bufferMessage = (stationId: string, c: ChainState): Message => ({
  type: 'buffer',
  stationId,
  bufferedSeconds: Math.round(c.bufferedSeconds * 10) / 10,
  status: c.status,
  generationRealtimeFactor: c.generationRealtimeFactor,
});
const moodMessage = (s: Station): Message => ({
  type: 'mood',
  stationId: s.id,
  prompt: s.prompt,
  promptVersion: s.promptVersion,
});
const listenersMessage = (stationId: string, c: ListenerCounts): Message => ({
  type: 'listeners',
  stationId,
  ...c,
});

/** Sends one bounded message; a client too far behind is cut off rather than buffered for. */
function send(ws: WebSocket, msg: Message, log: Logger): boolean {
  if (ws.readyState !== ws.OPEN) return false;
  if (ws.bufferedAmount > MAX_BACKLOG_BYTES) {
    ws.terminate();
    return false;
  }
  const text = JSON.stringify(msg);
  if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
    log.warn({ type: msg.type, bytes: Buffer.byteLength(text) }, 'websocket message too large; not sent');
    return false;
  }
  ws.send(text);
  return true;
}

/** One station's WebSocket clients and the sources their messages come from. */
class Channel {
  readonly clients = new Set<WebSocket>();
  private attached: RuntimeOutputs | null = null;
  private detach: (() => void) | null = null;
  private readonly poller: NodeJS.Timeout;
  private polling: Promise<void> | null = null;
  private lastBuffer = '';
  private lastMood = -1;
  private listenersTimer: NodeJS.Timeout | null = null;
  private listenersSentAt = 0;
  private pendingListeners: ListenerCounts | null = null;

  constructor(
    readonly id: string,
    private readonly d: SocketHubDeps,
    private readonly onEmpty: () => void,
  ) {
    this.attach();
    this.poller = setInterval(() => this.poll(), POLL_MS);
  }

  async add(ws: WebSocket): Promise<void> {
    this.clients.add(ws);
    ws.on('close', () => {
      this.clients.delete(ws);
      if (this.clients.size === 0) this.close();
    });
    const [station, chain] = await Promise.all([this.d.stations.get(this.id), this.d.chains.read(this.id)]);
    if (!station) {
      ws.close(4404, 'station deleted');
      return;
    }
    const rt = this.d.manager.get(this.id);
    const playout = rt?.playout;
    const snapshot: Message = {
      type: 'snapshot',
      stationId: this.id,
      serverTime: new Date().toISOString(),
      nowPlaying: playout?.nowPlaying ? nowPlayingView(playout.nowPlaying) : null,
      // The last tracks, newest first, each with its start and duration.
      history: tracksView(playout?.history.slice(0, SNAPSHOT_HISTORY) ?? []),
      mood: moodMessage(station),
      buffer: bufferMessage(this.id, chain),
      listeners: rt ? listenersMessage(this.id, rt.outputs.listeners.sample()) : null,
      hls: `/stations/${this.id}/hls/live.m3u8`,
      mp3: `/stations/${this.id}/stream.mp3`,
    };
    // Long prompts in the history could pass the bound: older entries go first.
    const history = snapshot.history as unknown[];
    while (Buffer.byteLength(JSON.stringify(snapshot)) > MAX_MESSAGE_BYTES && history.length > 0)
      history.pop();
    send(ws, snapshot, this.d.log);
    if (this.lastMood < 0) this.lastMood = station.promptVersion;
    // Changes are reported against what the first snapshot showed.
    if (!this.lastBuffer) this.lastBuffer = JSON.stringify(snapshot.buffer);
  }

  /** Something changed in Redis (a pub/sub event): look now rather than at the next poll. */
  poll(): void {
    if (this.polling) return;
    this.polling = this.refresh()
      .catch((err: unknown) => this.d.log.warn({ err, stationId: this.id }, 'websocket poll failed'))
      .finally(() => {
        this.polling = null;
      });
  }

  close(): void {
    clearInterval(this.poller);
    if (this.listenersTimer) clearTimeout(this.listenersTimer);
    this.detach?.();
    for (const ws of this.clients) ws.close(1001, 'going away');
    this.clients.clear();
    this.onEmpty();
  }

  private broadcast(msg: Message): void {
    for (const ws of this.clients) send(ws, msg, this.d.log);
  }

  /** Follows the station's current outputs (a re-created station gets new ones). */
  private attach(): void {
    const outputs = this.d.manager.get(this.id)?.outputs ?? null;
    if (outputs === this.attached) return;
    this.detach?.();
    this.attached = outputs;
    this.detach = outputs?.subscribe((e) => this.onEvent(e)) ?? null;
  }

  private onEvent(e: StationEvent): void {
    if (e.type === 'now-playing') {
      this.broadcast({ type: 'now-playing', stationId: this.id, nowPlaying: nowPlayingView(e.nowPlaying) });
      return;
    }
    // Listener counts can change many times a second: at most one message a second, the latest.
    this.pendingListeners = e.listeners;
    if (this.listenersTimer) return;
    const wait = Math.max(0, this.listenersSentAt + LISTENERS_EVERY_MS - Date.now());
    this.listenersTimer = setTimeout(() => {
      this.listenersTimer = null;
      this.listenersSentAt = Date.now();
      if (this.pendingListeners) this.broadcast(listenersMessage(this.id, this.pendingListeners));
      this.pendingListeners = null;
    }, wait);
  }

  private async refresh(): Promise<void> {
    this.attach();
    const [station, chain] = await Promise.all([this.d.stations.get(this.id), this.d.chains.read(this.id)]);
    if (!station) {
      for (const ws of this.clients) ws.close(4404, 'station deleted');
      return;
    }
    if (station.promptVersion !== this.lastMood) {
      if (this.lastMood >= 0) this.broadcast(moodMessage(station));
      this.lastMood = station.promptVersion;
    }
    const buffer = bufferMessage(this.id, chain);
    const key = JSON.stringify(buffer);
    if (key !== this.lastBuffer) {
      if (this.lastBuffer) this.broadcast(buffer);
      this.lastBuffer = key;
    }
  }
}

export class SocketHub {
  private readonly channels = new Map<string, Channel>();
  private readonly pinger: NodeJS.Timeout;
  private readonly alive = new WeakMap<WebSocket, boolean>();

  constructor(private readonly d: SocketHubDeps) {
    this.pinger = setInterval(() => this.ping(), PING_MS);
  }

  get clientCount(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.clients.size;
    return n;
  }

  /** A pub/sub event for the station: its mood or settings may have changed. */
  nudge(stationId: string): void {
    this.channels.get(stationId)?.poll();
  }

  async add(stationId: string, ws: WebSocket): Promise<void> {
    if (this.clientCount >= MAX_CLIENTS) {
      ws.close(1013, 'too many clients; try again later');
      return;
    }
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    // Clients have nothing to say; what they send is read and dropped.
    ws.on('message', () => {});
    let channel = this.channels.get(stationId);
    if (!channel) {
      channel = new Channel(stationId, this.d, () => this.channels.delete(stationId));
      this.channels.set(stationId, channel);
    }
    await channel.add(ws);
  }

  close(): void {
    clearInterval(this.pinger);
    for (const c of [...this.channels.values()]) c.close();
  }

  /** A client that did not answer the last ping is gone (a dead peer or a dropped network). */
  private ping(): void {
    for (const c of this.channels.values()) {
      for (const ws of c.clients) {
        if (!this.alive.get(ws)) {
          ws.terminate();
          continue;
        }
        this.alive.set(ws, false);
        ws.ping();
      }
    }
  }
}

export function registerSocket(
  app: FastifyInstance,
  hub: SocketHub,
  stations: StationRepo,
  limiter: RateLimiter,
): void {
  app.get<{ Params: { id: string } }>(
    '/api/stations/:id/ws',
    {
      websocket: true,
      // Connections per IP are limited (in Redis, across replicas) before anything else happens.
      onRequest: async (req, reply) => limiter.take('ws', req, reply),
      schema: { params: stationIdParams },
      // Before the upgrade: an unknown station is a plain 404, not an opened-then-closed socket.
      preHandler: async (req) => {
        const { id } = req.params;
        if (!(await stations.get(id))) throw errors.stationNotFound(id);
      },
    },
    async (socket, req) => {
      await hub.add(req.params.id, socket);
    },
  );
}
