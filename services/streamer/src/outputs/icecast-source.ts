// Pushes a station's MP3 frames to an Icecast 2 server as its source client (an HTTP PUT that stays
// open, as Icecast 2.4 accepts) and each new segment's title through the server's admin metadata
// endpoint. It consumes the encoder's frames like an ICY listener and never makes the station wait:
// frames go into a bounded queue whose oldest are dropped while the server is away or slow, and a
// lost connection is retried with capped exponential backoff. The password never reaches the logs.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { IcecastPush } from '@lofi/config';
import type { Logger } from 'pino';
import type { TaggedFrame } from './mp3-output.ts';

/** About 4 s at 128 kbps: what a reconnecting source sends first, so Icecast's burst is recent audio. */
const QUEUE_BYTES = 64 * 1024;
/** Unsent bytes in the socket beyond this mean Icecast is not reading: frames are dropped. */
const MAX_SOCKET_BACKLOG = 256 * 1024;
/** A server that reads nothing for this long is given up on and reconnected to. */
const STALLED_MS = 10_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A connection that streamed this long resets the backoff. */
const STABLE_MS = 10_000;
/** RFC 9110: a client sending `Expect: 100-continue` need not wait indefinitely for the 100. */
const CONTINUE_WAIT_MS = 1000;
const ANSWER_TIMEOUT_MS = 5000;
const METADATA_TIMEOUT_MS = 5000;
const METADATA_RETRY_MS = 2000;

export interface StreamInfo {
  name: string;
  description: string;
  genre: string;
  bitrateKbps: number;
  sampleRate: number;
  channels: number;
}

/** The mount a station is pushed to, or null when this station is not pushed. */
export function icecastMountFor(push: IcecastPush | undefined, stationId: string): string | null {
  if (!push) return null;
  if (push.station === '*') return `/${stationId}.mp3`;
  return push.station === stationId ? push.mount : null;
}

/** Header values must be printable Latin-1 on one line. */
const headerSafe = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);

type State = 'waiting' | 'connecting' | 'streaming' | 'closed';

export class IcecastSource {
  private state: State = 'waiting';
  private socket: net.Socket | null = null;
  private queue: Buffer[] = [];
  private queueBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private connectedAt = 0;
  private backlogSince: number | null = null;
  private title = '';
  /** Title Icecast has confirmed; differs from `title` while an update is due. */
  private sentTitle: string | null = null;
  private metadataBusy = false;
  /** Counts connections: a title confirmed by an earlier connection is unknown to the current one. */
  private generation = 0;
  private metadataTimer: NodeJS.Timeout | null = null;
  /** Frames not sent (queue overflow, slow server). */
  dropped = 0;
  connects = 0;

  constructor(
    private readonly push: IcecastPush,
    private readonly mount: string,
    private readonly info: () => Promise<StreamInfo>,
    private readonly log: Logger,
  ) {}

  /** Where the stream goes, for logs: never the credentials. */
  get target(): string {
    return `${this.push.server}${this.mount}`;
  }

  get connected(): boolean {
    return this.state === 'streaming';
  }

  start(): void {
    this.connect();
  }

  close(): void {
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    if (this.metadataTimer) clearTimeout(this.metadataTimer);
    this.socket?.destroy();
    this.socket = null;
    this.queue = [];
    this.queueBytes = 0;
  }

  /** One whole MP3 frame of the station. Never blocks. */
  frame(f: TaggedFrame): void {
    if (this.state === 'closed') return;
    if (f.meta && f.meta.title !== this.title) this.title = f.meta.title;
    if (this.state !== 'streaming' || !this.socket) {
      this.enqueue(f.data);
      return;
    }
    this.send(this.socket, f.data);
    if (this.title && this.title !== this.sentTitle) this.updateTitle();
  }

  private enqueue(data: Buffer): void {
    this.queue.push(data);
    this.queueBytes += data.length;
    while (this.queueBytes > QUEUE_BYTES) {
      this.queueBytes -= this.queue.shift()?.length ?? 0;
      this.dropped++;
    }
  }

  private send(socket: net.Socket, data: Buffer): void {
    if (socket.writableLength <= MAX_SOCKET_BACKLOG) {
      this.backlogSince = null;
      // The encoder's frames come several at a time: one write for them all, not one per 384 bytes.
      if (!socket.writableCorked) {
        socket.cork();
        process.nextTick(() => socket.uncork());
      }
      socket.write(data);
      return;
    }
    this.dropped++;
    const now = Date.now();
    this.backlogSince ??= now;
    if (now - this.backlogSince > STALLED_MS) {
      this.log.warn({ target: this.target, dropped: this.dropped }, 'icecast reads nothing; reconnecting');
      socket.destroy();
    }
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.info().then(
      (info) => this.open(info),
      (err: unknown) => this.fail(`station info unavailable: ${String(err)}`),
    );
  }

  private open(info: StreamInfo): void {
    if (this.state !== 'connecting') return;
    const u = new URL(this.push.server);
    const secure = u.protocol === 'https:';
    const port = Number(u.port) || (secure ? 443 : 80);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const socket = secure ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    const auth = Buffer.from(`${this.push.user}:${this.push.password}`).toString('base64');
    const head = [
      `PUT ${this.mount} HTTP/1.1`,
      `Host: ${u.host}`,
      `Authorization: Basic ${auth}`,
      'User-Agent: endless-lofi-radio',
      'Content-Type: audio/mpeg',
      `Ice-Name: ${headerSafe(info.name)}`,
      `Ice-Description: ${headerSafe(info.description)}`,
      `Ice-Genre: ${headerSafe(info.genre)}`,
      `Ice-Public: ${this.push.public ? 1 : 0}`,
      `Ice-Bitrate: ${info.bitrateKbps}`,
      `Ice-Audio-Info: ice-samplerate=${info.sampleRate};ice-bitrate=${info.bitrateKbps};ice-channels=${info.channels}`,
      'Expect: 100-continue',
      '',
      '',
    ].join('\r\n');
    let answer = Buffer.alloc(0);
    let settled = false;
    const answerTimer = setTimeout(() => {
      if (!settled) socket.destroy(new Error(`no answer in ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    // Icecast 2.4 answers `100 Continue` then `200 OK`; a server that sends no 100 is not waited for.
    const continueTimer = setTimeout(() => {
      if (!settled) this.streaming(socket);
    }, CONTINUE_WAIT_MS);
    const ready = (): void => {
      settled = true;
      clearTimeout(answerTimer);
      clearTimeout(continueTimer);
    };
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(head));
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      answer = Buffer.concat([answer, chunk]);
      for (;;) {
        const end = answer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = answer.subarray(0, answer.indexOf('\r\n')).toString('latin1');
        answer = answer.subarray(end + 4);
        const code = Number(/^HTTP\/\d\.\d (\d{3})/.exec(status)?.[1] ?? 0);
        if (code === 100) {
          this.streaming(socket);
          continue;
        }
        ready();
        if (code >= 200 && code < 300) {
          this.streaming(socket);
          this.connects++;
          this.log.info({ target: this.target }, 'pushing to icecast');
        } else {
          socket.destroy(new Error(`icecast refused the source: ${status || 'no status line'}`));
        }
        return;
      }
    });
    socket.on('error', (err) => {
      ready();
      this.drop(socket, err.message);
    });
    socket.on('close', () => {
      ready();
      this.drop(socket, 'connection closed');
    });
  }

  /** The server takes audio now: the queue goes first. Idempotent per socket. */
  private streaming(socket: net.Socket): void {
    if (this.socket !== socket || this.state !== 'connecting') return;
    this.state = 'streaming';
    this.generation++;
    this.connectedAt = Date.now();
    this.backlogSince = null;
    for (const data of this.queue) this.send(socket, data);
    this.queue = [];
    this.queueBytes = 0;
    // Icecast knows no title for a fresh source.
    this.sentTitle = null;
    if (this.title) this.updateTitle();
  }

  private drop(socket: net.Socket, reason: string): void {
    if (this.socket !== socket || this.state === 'closed') return;
    socket.destroy();
    this.socket = null;
    if (this.state === 'streaming' && Date.now() - this.connectedAt > STABLE_MS) this.failures = 0;
    this.fail(reason);
  }

  private fail(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'waiting';
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.failures);
    this.failures++;
    this.log.warn(
      { target: this.target, reason, retryInMs: delay, dropped: this.dropped },
      'icecast push down',
    );
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Sends the latest title; one request at a time, a failed one retried while streaming. */
  private updateTitle(): void {
    if (this.metadataBusy || this.metadataTimer || this.state !== 'streaming') return;
    const title = this.title;
    const generation = this.generation;
    this.metadataBusy = true;
    this.requestMetadata(title).then(
      () => {
        this.metadataBusy = false;
        if (generation === this.generation) this.sentTitle = title;
        if (this.title !== this.sentTitle) this.updateTitle();
      },
      (err: unknown) => {
        this.metadataBusy = false;
        if (this.state === 'closed') return;
        this.log.warn({ target: this.target, err: String(err) }, 'icecast title update failed; will retry');
        this.metadataTimer = setTimeout(() => {
          this.metadataTimer = null;
          if (this.title !== this.sentTitle) this.updateTitle();
        }, METADATA_RETRY_MS);
      },
    );
  }

  private requestMetadata(song: string): Promise<void> {
    const q = new URLSearchParams({ mount: this.mount, mode: 'updinfo', song, charset: 'UTF-8' });
    const url = new URL(`/admin/metadata?${q}`, this.push.server);
    const get = url.protocol === 'https:' ? https.get : http.get;
    return new Promise((resolve, reject) => {
      const req = get(
        url,
        {
          agent: false,
          auth: `${this.push.user}:${this.push.password}`,
          timeout: METADATA_TIMEOUT_MS,
          headers: { 'user-agent': 'endless-lofi-radio' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () =>
            res.statusCode === 200 && body.includes('<return>1</return>')
              ? resolve()
              : reject(new Error(`HTTP ${res.statusCode}: ${body.replace(/\s+/g, ' ').slice(0, 200)}`)),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer in ${METADATA_TIMEOUT_MS} ms`)));
      req.on('error', reject);
    });
  }
}

/** The station's push, started, or null when the configuration pushes this station nowhere. */
export function startIcecastSource(
  push: IcecastPush | undefined,
  stationId: string,
  station: () => Promise<{ name: string; prompt: string } | null>,
  stream: Omit<StreamInfo, 'name' | 'description' | 'genre'>,
  log: Logger,
): IcecastSource | null {
  const mount = icecastMountFor(push, stationId);
  if (!push || !mount) return null;
  const info = async (): Promise<StreamInfo> => {
    const s = await station();
    return { name: s?.name ?? stationId, description: s?.prompt ?? '', genre: 'Lo-Fi', ...stream };
  };
  const source = new IcecastSource(push, mount, info, log);
  source.start();
  return source;
}
