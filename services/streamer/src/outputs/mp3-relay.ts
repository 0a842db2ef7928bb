// The MP3 stream of a station this replica does not play, relayed from the replica that does: one
// connection to the leader, split into whole frames and handed to this replica's ICY fan-out, so
// listeners here hear the leader's audio. Titles come from the leader's now-playing (Redis), since
// the relay asks for no in-band metadata. When the connection ends, the owner decides what next
// (reconnect to the same leader, another one, or take the playout over).
import http from 'node:http';
import { Mp3FrameSplitter } from '@lofi/audio';
import type { TaggedFrame } from './mp3-output.ts';

/** Sent by a relay: 'first' on its first connection, 'resume' after (no burst wanted then). */
export const RELAY_HEADER = 'x-lofi-relay';
/** No byte for this long from a leader that looks connected: treat it as gone. */
const SILENCE_TIMEOUT_MS = 1500;

export interface Mp3RelayOptions {
  url: string;
  resume: boolean;
  onFrame: (f: TaggedFrame) => void;
  /** The connection ended (or never opened); `frames` relayed over it. */
  onEnd: (frames: number, reason: string) => void;
}

export class Mp3Relay {
  private req: http.ClientRequest | null = null;
  private ended = false;
  private frames = 0;
  private watchdog: NodeJS.Timeout | null = null;

  constructor(private readonly o: Mp3RelayOptions) {}

  start(): void {
    const splitter = new Mp3FrameSplitter();
    const req = http.get(
      this.o.url,
      { agent: false, headers: { [RELAY_HEADER]: this.o.resume ? 'resume' : 'first' } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          this.end(`leader answered ${res.statusCode}`);
          return;
        }
        res.on('data', (chunk: Buffer) => {
          this.arm();
          for (const data of splitter.push(chunk)) {
            this.frames++;
            this.o.onFrame({ data, meta: null });
          }
        });
        res.on('end', () => this.end('leader closed the stream'));
        res.on('error', (err) => this.end(err.message));
      },
    );
    req.on('error', (err) => this.end(err.message));
    req.on('close', () => this.end('connection closed'));
    this.req = req;
    this.arm();
  }

  close(): void {
    this.ended = true;
    this.clearWatchdog();
    this.req?.destroy();
  }

  /** A leader that stops sending (hung, or its host gone without a reset) is as good as dead. */
  private arm(): void {
    this.clearWatchdog();
    this.watchdog = setTimeout(() => this.end('no audio from the leader'), SILENCE_TIMEOUT_MS);
  }

  private clearWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.clearWatchdog();
    this.req?.destroy();
    this.o.onEnd(this.frames, reason);
  }
}
