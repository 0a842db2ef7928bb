// Our own ICY client's core: splits a stream with `icy-metaint` into audio bytes and metadata
// blocks, whatever the chunking. Used where a test or benchmark needs to know exactly where in the
// audio each block sits (icecast-parser, in icy.ts, reports titles only).
export interface IcyDemuxHandlers {
  audio?: (bytes: Buffer) => void;
  /** A block with a StreamTitle, after `audioBytes` bytes of audio. */
  title?: (title: string, audioBytes: number) => void;
}

export class IcyDemuxer {
  private untilMeta: number;
  private metaLeft = -1;
  private meta: Buffer[] = [];
  audioBytes = 0;

  constructor(
    private readonly metaint: number,
    private readonly on: IcyDemuxHandlers,
  ) {
    this.untilMeta = metaint;
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.untilMeta > 0) {
        const n = Math.min(this.untilMeta, chunk.length - i);
        this.on.audio?.(chunk.subarray(i, i + n));
        this.audioBytes += n;
        this.untilMeta -= n;
        i += n;
      } else if (this.metaLeft < 0) {
        this.metaLeft = (chunk[i++] ?? 0) * 16;
        this.meta = [];
        if (this.metaLeft === 0) this.endBlock(false);
      } else {
        const n = Math.min(this.metaLeft, chunk.length - i);
        this.meta.push(chunk.subarray(i, i + n));
        this.metaLeft -= n;
        i += n;
        if (this.metaLeft === 0) this.endBlock(true);
      }
    }
  }

  private endBlock(hasText: boolean): void {
    if (hasText) {
      const m = /StreamTitle='(.*?)';/.exec(Buffer.concat(this.meta).toString('utf8'));
      if (m) this.on.title?.(m[1] ?? '', this.audioBytes);
    }
    this.metaLeft = -1;
    this.untilMeta = this.metaint;
  }
}
