// The one MP3 encoder of a station: PCM from the playout in, whole frames out to the broadcaster,
// each frame tagged with the segment whose audio it carries. A dead or hung encoder is replaced
// (SupervisedEncoder); listeners keep their connections and the frames continue.
import { Mp3FrameSplitter, spawnMp3Encoder } from '@lofi/audio';
import type { SegmentResult } from '@lofi/contracts';
import type { Logger } from 'pino';
import type { PcmSink } from '../playout/station-playout.ts';
import { SegmentMarks } from './marks.ts';
import { SupervisedEncoder } from './supervised-encoder.ts';

/** LAME's encoder delay as ffmpeg configures it (576 + 529 samples of priming). */
const ENCODER_DELAY = 1105;
const SAMPLES_PER_FRAME = 1152;

export interface TaggedFrame {
  data: Buffer;
  /** From this frame on, the music is this (a segment's result, or a relayed title). */
  meta: { readonly title: string } | null;
}

export class Mp3Output implements PcmSink {
  private readonly encoder: SupervisedEncoder;
  private splitter = new Mp3FrameSplitter();
  /** Stream frame (PCM) at which the running encoder instance started. */
  private encoderBase = 0;
  private mp3FramesFromEncoder = 0;
  private readonly marks = new SegmentMarks();

  constructor(
    sampleRate: number,
    channels: number,
    bitrateKbps: number,
    private readonly onFrame: (f: TaggedFrame) => void,
    log: Logger,
  ) {
    this.encoder = new SupervisedEncoder({
      name: 'mp3',
      channels,
      log,
      spawn: () => spawnMp3Encoder(sampleRate, channels, bitrateKbps),
      onSpawn: (base) => {
        this.splitter = new Mp3FrameSplitter();
        this.encoderBase = base;
        this.mp3FramesFromEncoder = 0;
      },
      onData: (chunk) => {
        for (const data of this.splitter.push(chunk)) this.onFrame({ data, meta: this.metaForNextFrame() });
      },
    });
  }

  get restarts(): number {
    return this.encoder.restarts;
  }

  start(): void {
    this.encoder.start();
  }

  encoderPid(): number | undefined {
    return this.encoder.pid();
  }

  close(): void {
    this.encoder.close();
  }

  mark(frame: number, meta: SegmentResult): void {
    this.marks.push(frame, meta);
  }

  write(pcm: Float32Array): void {
    this.encoder.write(pcm);
  }

  /** The segment heard in the MP3 frame about to be emitted. */
  private metaForNextFrame(): SegmentResult | null {
    const frame = this.encoderBase + this.mp3FramesFromEncoder * SAMPLES_PER_FRAME - ENCODER_DELAY;
    this.mp3FramesFromEncoder++;
    return this.marks.at(frame);
  }
}
