// The one MP3 encoder of a station: PCM from the playout in, whole frames out to the broadcaster,
// each frame tagged with the segment whose audio it carries. A dead encoder is restarted at once;
// listeners keep their connections and the frames continue.
import { type Mp3EncoderProcess, Mp3FrameSplitter, spawnMp3Encoder } from '@lofi/audio';
import type { SegmentResult } from '@lofi/contracts';
import type { Logger } from 'pino';
import type { PcmSink } from '../playout/station-playout.ts';

/** LAME's encoder delay as ffmpeg configures it (576 + 529 samples of priming). */
const ENCODER_DELAY = 1105;
const SAMPLES_PER_FRAME = 1152;
/** PCM queued for a stuck encoder beyond this is dropped rather than buffered without bound. */
const MAX_STDIN_BACKLOG = 4 * 1024 * 1024;
/** An encoder that takes PCM but gives no MP3 for this long is hung: it is killed and restarted. */
const HUNG_AFTER_MS = 3000;

export interface TaggedFrame {
  data: Buffer;
  meta: SegmentResult | null;
}

export class Mp3Output implements PcmSink {
  private enc: Mp3EncoderProcess | null = null;
  private splitter = new Mp3FrameSplitter();
  /** Stream frame (PCM) at which the running encoder instance started. */
  private encoderBase = 0;
  private mp3FramesFromEncoder = 0;
  private pcmFrames = 0;
  private marks: Array<{ frame: number; meta: SegmentResult }> = [];
  private closed = false;
  /** When PCM was first written after the encoder's latest output (null: output is current). */
  private waitingSince: number | null = null;
  restarts = 0;

  constructor(
    private readonly sampleRate: number,
    private readonly channels: number,
    private readonly bitrateKbps: number,
    private readonly onFrame: (f: TaggedFrame) => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.spawn();
  }

  encoderPid(): number | undefined {
    return this.enc?.pid();
  }

  close(): void {
    this.closed = true;
    this.enc?.stdin.end();
    this.enc?.kill();
  }

  mark(frame: number, meta: SegmentResult): void {
    this.marks.push({ frame, meta });
  }

  write(pcm: Float32Array): void {
    const enc = this.enc;
    this.pcmFrames += pcm.length / this.channels;
    if (!enc) return;
    const now = Date.now();
    this.waitingSince ??= now;
    if (now - this.waitingSince > HUNG_AFTER_MS) {
      this.log.error({ pid: enc.pid() }, 'mp3 encoder produces nothing; killing it');
      this.waitingSince = null;
      enc.kill();
      return;
    }
    if (enc.stdin.writableLength > MAX_STDIN_BACKLOG) {
      this.log.warn('mp3 encoder is not keeping up; dropping PCM');
      return;
    }
    enc.stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  }

  private spawn(): void {
    const enc = spawnMp3Encoder(this.sampleRate, this.channels, this.bitrateKbps);
    this.enc = enc;
    this.splitter = new Mp3FrameSplitter();
    this.encoderBase = this.pcmFrames;
    this.mp3FramesFromEncoder = 0;
    this.waitingSince = null;
    enc.stdout.on('data', (chunk: Buffer) => {
      this.waitingSince = null;
      for (const data of this.splitter.push(chunk)) this.onFrame({ data, meta: this.metaForNextFrame() });
    });
    void enc.exited.then(({ code, signal, error }) => {
      if (this.closed || this.enc !== enc) return;
      this.restarts++;
      this.log.error({ code, signal, err: error, restarts: this.restarts }, 'mp3 encoder exited; restarting');
      this.spawn();
    });
    this.log.info({ pid: enc.pid() }, 'mp3 encoder started');
  }

  /** The segment heard in the MP3 frame about to be emitted. */
  private metaForNextFrame(): SegmentResult | null {
    const frame = this.encoderBase + this.mp3FramesFromEncoder * SAMPLES_PER_FRAME - ENCODER_DELAY;
    this.mp3FramesFromEncoder++;
    let meta: SegmentResult | null = null;
    let drop = 0;
    for (let i = 0; i < this.marks.length; i++) {
      const m = this.marks[i];
      if (!m || m.frame > frame) break;
      meta = m.meta;
      drop = i;
    }
    // Marks before the current one are no longer needed.
    if (drop > 0) this.marks.splice(0, drop);
    return meta;
  }
}
