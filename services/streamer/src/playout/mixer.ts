// The playout's sample engine: plays the current segment, crossfades into the chosen successor at
// its join point, and when no successor is ready in time, bridges by looping the current segment's
// body (the loop length is whole bars, so the beat goes on) until one is. It never returns silence
// once started. Pure and synchronous: the clock and the I/O live elsewhere.
import { correlation, crossfadeGains } from '@lofi/audio';
import type { SegmentResult } from '@lofi/contracts';

export interface PlayableSegment {
  meta: SegmentResult;
  /** Interleaved Float32 PCM at the playout's rate and channel count. */
  pcm: Float32Array;
}

export interface SegmentProvider {
  /** Decoded, ready segments whose head continues `seq`. */
  successorsOf(seq: number): readonly PlayableSegment[];
}

export interface MixerEvents {
  /** The first sample of `segment` is mixed at output frame `frame` (a crossfade begins there). */
  segmentStarted(segment: PlayableSegment, frame: number, bridged: boolean): void;
}

interface Cursor {
  seg: PlayableSegment;
  /** Position in frames. */
  pos: number;
}

interface Fade {
  from: Cursor;
  to: Cursor;
  length: number;
  done: number;
  r: number;
}

const START_FADE_SECONDS = 0.03;
/** The shortest crossfade that still hides a seam (about 10 ms at 48 kHz). */
const MIN_FADE_FRAMES = 480;

export class Mixer {
  private cur: Cursor | null = null;
  private fade: Fade | null = null;
  private startFadeLeft = 0;
  /** Total frames rendered since construction: the playout's stream clock. */
  framesOut = 0;
  underruns = 0;

  constructor(
    readonly sampleRate: number,
    readonly channels: number,
    private readonly provider: SegmentProvider,
    private readonly events: MixerEvents,
  ) {}

  get started(): boolean {
    return this.cur !== null;
  }

  /** The segment the listener hears most of, and the position in it (seconds). */
  position(): { seq: number; positionSeconds: number; nextSeq: number | null } | null {
    if (!this.cur) return null;
    const c = this.fade ? this.fade.from : this.cur;
    return {
      seq: c.seg.meta.seq,
      positionSeconds: c.pos / this.sampleRate,
      nextSeq: this.fade && this.fade.to.seg !== this.fade.from.seg ? this.fade.to.seg.meta.seq : null,
    };
  }

  start(seg: PlayableSegment, positionSeconds = 0): void {
    const frames = this.frames(seg);
    const pos = Math.max(0, Math.min(Math.round(positionSeconds * this.sampleRate), frames - 1));
    this.cur = { seg, pos };
    this.fade = null;
    this.startFadeLeft = Math.round(START_FADE_SECONDS * this.sampleRate);
    this.events.segmentStarted(seg, this.framesOut, false);
  }

  /** Renders `n` frames. Only call after start(). */
  render(n: number): Float32Array {
    const ch = this.channels;
    const out = new Float32Array(n * ch);
    let w = 0;
    while (w < n) {
      if (!this.cur) throw new Error('mixer not started');
      if (this.fade) {
        w += this.renderFade(out, w, n - w);
        continue;
      }
      const plan = this.plan(this.cur);
      if (this.cur.pos >= plan.at) {
        this.beginFade(this.cur, plan.to, plan.toPos, plan.bridged, this.framesOut + w);
        continue;
      }
      const k = Math.min(n - w, plan.at - this.cur.pos);
      out.set(this.cur.seg.pcm.subarray(this.cur.pos * ch, (this.cur.pos + k) * ch), w * ch);
      this.cur.pos += k;
      w += k;
    }
    this.applyStartFade(out);
    this.framesOut += n;
    return out;
  }

  private frames(seg: PlayableSegment): number {
    return Math.floor(seg.pcm.length / this.channels);
  }

  private overlapFrames(seg: PlayableSegment): number {
    return Math.round(seg.meta.headOverlapSeconds * this.sampleRate);
  }

  /** Where the current segment hands over, and to what. */
  private plan(cur: Cursor): { at: number; to: PlayableSegment; toPos: number; bridged: boolean } {
    const total = this.frames(cur.seg);
    let best: { at: number; seg: PlayableSegment } | null = null;
    for (const s of this.provider.successorsOf(cur.seg.meta.seq)) {
      const at = Math.round(s.meta.joinAtSeconds * this.sampleRate);
      // Rounding may leave the predecessor a few frames short of a full overlap: the fade shortens.
      const fits = at >= cur.pos && at + Math.min(this.overlapFrames(s), MIN_FADE_FRAMES) <= total;
      if (!fits) continue;
      // The newest mood wins; within a mood, the earliest join.
      if (
        !best ||
        s.meta.promptVersion > best.seg.meta.promptVersion ||
        (s.meta.promptVersion === best.seg.meta.promptVersion && at < best.at)
      ) {
        best = { at, seg: s };
      }
    }
    if (best) return { at: best.at, to: best.seg, toPos: 0, bridged: false };
    // Bridge: crossfade the tail back into the segment's own head. The body between is whole bars.
    const overlap = Math.max(
      1,
      Math.min(this.overlapFrames(cur.seg) || this.sampleRate, Math.floor(total / 3)),
    );
    return { at: total - overlap, to: cur.seg, toPos: 0, bridged: true };
  }

  private beginFade(from: Cursor, to: PlayableSegment, toPos: number, bridged: boolean, frame: number): void {
    const ch = this.channels;
    const length = Math.max(
      1,
      Math.min(
        bridged ? this.frames(from.seg) - from.pos : this.overlapFrames(to) || 1,
        this.frames(from.seg) - from.pos,
        this.frames(to) - toPos,
      ),
    );
    const r = correlation(from.seg.pcm, from.pos * ch, to.pcm, toPos * ch, length * ch);
    this.fade = { from: { seg: from.seg, pos: from.pos }, to: { seg: to, pos: toPos }, length, done: 0, r };
    if (bridged) this.underruns++;
    this.events.segmentStarted(to, frame, bridged);
  }

  private renderFade(out: Float32Array, w: number, want: number): number {
    const f = this.fade;
    if (!f) return 0;
    const ch = this.channels;
    const k = Math.min(want, f.length - f.done);
    const a = f.from.seg.pcm;
    const b = f.to.seg.pcm;
    for (let i = 0; i < k; i++) {
      const [ga, gb] = crossfadeGains((f.done + i + 0.5) / f.length, f.r);
      const ia = (f.from.pos + i) * ch;
      const ib = (f.to.pos + i) * ch;
      const io = (w + i) * ch;
      for (let c = 0; c < ch; c++) out[io + c] = ga * (a[ia + c] ?? 0) + gb * (b[ib + c] ?? 0);
    }
    f.from.pos += k;
    f.to.pos += k;
    f.done += k;
    if (f.done >= f.length) {
      this.cur = f.to;
      this.fade = null;
    }
    return k;
  }

  private applyStartFade(out: Float32Array): void {
    if (this.startFadeLeft <= 0) return;
    const total = Math.round(START_FADE_SECONDS * this.sampleRate);
    const ch = this.channels;
    const n = Math.min(this.startFadeLeft, out.length / ch);
    for (let i = 0; i < n; i++) {
      const g = (total - this.startFadeLeft + i) / total;
      for (let c = 0; c < ch; c++) out[i * ch + c] = (out[i * ch + c] ?? 0) * g;
    }
    this.startFadeLeft -= n;
  }
}
