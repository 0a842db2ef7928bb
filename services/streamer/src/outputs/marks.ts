// Which segment is heard at a given stream frame, from the playout's marks, for an output whose
// encoded units come out in stream order (MP3 frames, HLS segments).
import type { SegmentResult } from '@lofi/contracts';

export class SegmentMarks {
  private marks: Array<{ frame: number; meta: SegmentResult }> = [];

  /** From `frame` on, the audio is `meta`'s: marks at or after it (a title due later) are superseded. */
  push(frame: number, meta: SegmentResult): void {
    while ((this.marks.at(-1)?.frame ?? -1) >= frame) this.marks.pop();
    this.marks.push({ frame, meta });
  }

  /**
   * The segment heard at `frame`. Queries must come in non-decreasing frame order: marks before
   * the answer are dropped, as no later query needs them.
   */
  at(frame: number): SegmentResult | null {
    let meta: SegmentResult | null = null;
    let drop = 0;
    for (let i = 0; i < this.marks.length; i++) {
      const m = this.marks[i];
      if (!m || m.frame > frame) break;
      meta = m.meta;
      drop = i;
    }
    if (drop > 0) this.marks.splice(0, drop);
    return meta;
  }
}
