// A long-running ffmpeg fed with the station's PCM, kept alive: one that exits is restarted at once,
// one that takes PCM but gives nothing back for a while is killed (and so restarted), and PCM for
// one that cannot keep up is dropped rather than buffered without bound. The MP3 and HLS outputs
// both run on this; what they do with the bytes is theirs.
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';

export interface EncoderProcess {
  stdin: Writable;
  stdout: Readable;
  /** Resolves when the process exits, for whatever reason. */
  exited: Promise<{ code: number | null; signal: string | null; error?: Error }>;
  kill(): void;
  pid(): number | undefined;
}

export interface SupervisedEncoderOptions {
  /** For logs: 'mp3', 'hls'. */
  name: string;
  channels: number;
  spawn: () => EncoderProcess;
  /** A new instance is running; its first input sample is stream frame `baseFrame`. */
  onSpawn: (baseFrame: number, restart: boolean) => void;
  onData: (chunk: Buffer) => void;
  log: Logger;
  /** No output for this long while PCM goes in: hung. */
  hungAfterMs?: number;
  maxBacklogBytes?: number;
}

const HUNG_AFTER_MS = 3000;
const MAX_STDIN_BACKLOG = 4 * 1024 * 1024;

export class SupervisedEncoder {
  private enc: EncoderProcess | null = null;
  private closed = false;
  /** When PCM was first written after the encoder's latest output (null: output is current). */
  private waitingSince: number | null = null;
  /** Stream frames written so far (dropped ones included: the stream clock does not stop). */
  private frames = 0;
  restarts = 0;

  constructor(private readonly o: SupervisedEncoderOptions) {}

  start(): void {
    this.spawn(false);
  }

  pid(): number | undefined {
    return this.enc?.pid();
  }

  close(): void {
    this.closed = true;
    this.enc?.stdin.end();
    this.enc?.kill();
  }

  write(pcm: Float32Array): void {
    const enc = this.enc;
    this.frames += pcm.length / this.o.channels;
    if (!enc) return;
    const now = Date.now();
    this.waitingSince ??= now;
    if (now - this.waitingSince > (this.o.hungAfterMs ?? HUNG_AFTER_MS)) {
      this.o.log.error({ pid: enc.pid(), encoder: this.o.name }, 'encoder produces nothing; killing it');
      this.waitingSince = null;
      enc.kill();
      return;
    }
    if (enc.stdin.writableLength > (this.o.maxBacklogBytes ?? MAX_STDIN_BACKLOG)) {
      this.o.log.warn({ encoder: this.o.name }, 'encoder is not keeping up; dropping PCM');
      return;
    }
    enc.stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  }

  private spawn(restart: boolean): void {
    const enc = this.o.spawn();
    this.enc = enc;
    this.waitingSince = null;
    this.o.onSpawn(this.frames, restart);
    enc.stdout.on('data', (chunk: Buffer) => {
      if (this.enc !== enc) return;
      this.waitingSince = null;
      this.o.onData(chunk);
    });
    void enc.exited.then(({ code, signal, error }) => {
      if (this.closed || this.enc !== enc) return;
      this.restarts++;
      this.o.log.error(
        { code, signal, err: error, restarts: this.restarts, encoder: this.o.name },
        'encoder exited; restarting',
      );
      this.spawn(true);
    });
    this.o.log.info({ pid: enc.pid(), encoder: this.o.name }, 'encoder started');
  }
}
