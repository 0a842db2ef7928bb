// The HLS output of a station: one supervised ffmpeg AAC encoder fed the same PCM as the MP3
// output, its transport stream cut here into segments of about `targetSeconds` at PES boundaries,
// kept in memory (a bounded window). Sequence numbers are ours: a restarted encoder continues the
// count after a discontinuity, never a gap or a reused number.
import type { SegmentResult } from '@lofi/contracts';
import type { Logger } from 'pino';
import type { PcmSink } from '../playout/station-playout.ts';
import { AAC_ENCODER_DELAY, spawnAacTsEncoder } from './aac-ts-encoder.ts';
import type { HlsPersistence } from './hls-persist.ts';
import type { HlsSegment } from './hls-playlist.ts';
import { SegmentMarks } from './marks.ts';
import { packetPid, patPmtPid, pesStartPts, ptsSeconds, TsPacketizer } from './mpegts.ts';
import { SupervisedEncoder } from './supervised-encoder.ts';

export const HLS_TARGET_SECONDS = 6;
export const HLS_WINDOW_SEGMENTS = 10;
export const HLS_AAC_KBPS = 128;
export const HLS_CODECS = 'mp4a.40.2';
/** How long a restarted (or promoted) output waits for the saved window before starting anew. */
const RESUME_BOUND_MS = 2000;
/** Segments older than the window stay fetchable this long, for clients a reload behind. */
const EXTRA_KEPT = 6;
const SDT_PID = 0x11;

export interface HlsOutputOptions {
  sampleRate: number;
  channels: number;
  log: Logger;
  /** Stream clock: wall time (ms since epoch) at which stream frame `frame` is on air. */
  clock: (frame: number) => number;
  targetSeconds?: number;
  windowSegments?: number;
  bitrateKbps?: number;
  /** The first media sequence number (default: seconds since the epoch, see below). */
  firstSequence?: number;
  /** Keeps the window in the store, for a restart and for the other replicas (none: memory only). */
  persist?: HlsPersistence;
}

export class HlsOutput implements PcmSink {
  readonly targetSeconds: number;
  readonly windowSegments: number;
  readonly bitrateKbps: number;
  private readonly encoder: SupervisedEncoder;
  private readonly marks = new SegmentMarks();
  private readonly kept: HlsSegment[] = [];
  private packetizer = new TsPacketizer();
  private nextSeq: number;
  private discontinuities = 0;
  private discontinuityPending = false;
  // The running encoder instance's transport stream.
  private encoderBase = 0;
  private firstPts: number | null = null;
  private pmtPid: number | null = null;
  private psi: Buffer[] = [];
  // The segment being gathered.
  private pending: Buffer[] = [];
  private pendingPts: number | null = null;
  /** Where a run of PSI packets began after the last audio packet: the clean place to cut. */
  private psiRunAt: number | null = null;
  onSegment: ((s: HlsSegment) => void) | null = null;
  private readonly persist: HlsPersistence | null;

  constructor(private readonly o: HlsOutputOptions) {
    this.targetSeconds = o.targetSeconds ?? HLS_TARGET_SECONDS;
    this.windowSegments = o.windowSegments ?? HLS_WINDOW_SEGMENTS;
    this.bitrateKbps = o.bitrateKbps ?? HLS_AAC_KBPS;
    // Seconds since the epoch: segments are longer than a second, so a restarted streamer starts
    // above any number the previous process used and clients never see a number reused.
    this.nextSeq = o.firstSequence ?? Math.floor(Date.now() / 1000);
    this.persist = o.persist ?? null;
    this.encoder = new SupervisedEncoder({
      name: 'hls',
      channels: o.channels,
      log: o.log,
      spawn: () => spawnAacTsEncoder(o.sampleRate, o.channels, this.bitrateKbps),
      onSpawn: (base, restart) => this.onSpawn(base, restart),
      onData: (chunk) => {
        for (const p of this.packetizer.push(chunk)) this.packet(p);
      },
    });
  }

  /** Bits per second on the wire, for the master playlist: AAC plus transport overhead. */
  get bandwidth(): number {
    return this.bitrateKbps * 1000 * 1.15;
  }

  get restarts(): number {
    return this.encoder.restarts;
  }

  encoderPid(): number | undefined {
    return this.encoder.pid();
  }

  /** Continues the window a previous process saved, if it is recent; call before start(). */
  async resume(): Promise<void> {
    // A slow store must not hold the playout back: past the bound, a new window (numbers from the
    // clock, above the old ones) is better than listeners waiting.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<HlsSegment[]>((resolve) => {
      timer = setTimeout(() => {
        this.o.log.warn(
          { ms: RESUME_BOUND_MS },
          'the saved HLS window took too long to read; starting a new one',
        );
        resolve([]);
      }, RESUME_BOUND_MS);
    });
    const saved = this.persist ? await Promise.race([this.persist.load(), bound]) : [];
    clearTimeout(timer);
    const last = saved.at(-1);
    if (!last || this.kept.length > 0) return;
    // A restarted streamer: the old window stays, numbering goes on after a discontinuity.
    this.kept.push(...saved);
    this.nextSeq = last.seq + 1;
    this.discontinuities = last.discontinuities;
    this.discontinuityPending = true;
    this.o.log.info({ resumedSegments: saved.length, nextSeq: this.nextSeq }, 'HLS window resumed');
  }

  /** Resolves when the window is written to the store (tests, clean shutdown). */
  async flush(): Promise<void> {
    await this.persist?.flush();
  }

  start(): void {
    this.encoder.start();
  }

  close(): void {
    this.encoder.close();
  }

  write(pcm: Float32Array): void {
    this.encoder.write(pcm);
  }

  mark(frame: number, meta: SegmentResult): void {
    this.marks.push(frame, meta);
  }

  /** The live window, oldest first. */
  window(): HlsSegment[] {
    return this.kept.slice(-this.windowSegments);
  }

  segment(seq: number): HlsSegment | undefined {
    const first = this.kept[0];
    return first ? this.kept[seq - first.seq] : undefined;
  }

  private onSpawn(base: number, restart: boolean): void {
    this.packetizer = new TsPacketizer();
    this.encoderBase = base;
    this.firstPts = null;
    this.pmtPid = null;
    this.psi = [];
    // The dead encoder's unfinished segment is lost; the next one starts new timestamps.
    this.pending = [];
    this.pendingPts = null;
    this.psiRunAt = null;
    if (restart) this.discontinuityPending = true;
  }

  private packet(p: Buffer): void {
    const pid = packetPid(p);
    const pmt = patPmtPid(p);
    if (pmt !== null) this.pmtPid = pmt;
    if (pid === 0 || pid === this.pmtPid || pid === SDT_PID) {
      // The first PAT/PMT are kept to open a segment that would otherwise start without them.
      if (this.firstPts === null && pid !== SDT_PID) this.psi.push(p);
      this.psiRunAt ??= this.pending.length;
      this.pending.push(p);
      return;
    }
    const pts = pesStartPts(p);
    if (pts !== null) {
      if (this.firstPts === null) this.firstPts = pts;
      if (this.pendingPts === null) this.pendingPts = pts;
      else if (ptsSeconds(this.pendingPts, pts) >= this.targetSeconds - 0.1) this.cut(pts);
    }
    this.psiRunAt = null;
    this.pending.push(p);
  }

  /** Ends the pending segment where the PES with `pts` begins (before its PAT/PMT, if any). */
  private cut(pts: number): void {
    const at = this.psiRunAt ?? this.pending.length;
    const packets = this.pending.slice(0, at);
    const rest = this.pending.slice(at);
    const startPts = this.pendingPts ?? pts;
    this.pending = rest.length > 0 && packetPid(rest[0] as Buffer) === 0 ? rest : [...this.psi, ...rest];
    this.pendingPts = pts;
    this.psiRunAt = null;
    const startFrame =
      this.encoderBase -
      AAC_ENCODER_DELAY +
      Math.round(ptsSeconds(this.firstPts ?? startPts, startPts) * this.o.sampleRate);
    const discontinuity = this.discontinuityPending;
    if (discontinuity) this.discontinuities++;
    this.discontinuityPending = false;
    const seg: HlsSegment = {
      seq: this.nextSeq++,
      data: Buffer.concat(packets),
      durationSeconds: ptsSeconds(startPts, pts),
      programDateTimeMs: Math.round(this.o.clock(startFrame)),
      discontinuity,
      discontinuities: this.discontinuities,
      title: this.marks.at(startFrame)?.title ?? null,
    };
    this.kept.push(seg);
    const dropped = this.kept.length > this.windowSegments + EXTRA_KEPT ? this.kept.splice(0, 1) : [];
    this.persist?.save(seg, this.kept, dropped);
    this.onSegment?.(seg);
  }
}
