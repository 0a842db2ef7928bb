// Pure arithmetic over a station's chain of segments: how much audio is buffered ahead of the
// playhead, and where a new chain (after a mood change) should join the music that is playing.
import type { SegmentResult } from '@lofi/contracts';

export type Metas = ReadonlyMap<number, SegmentResult>;

/** The chain from the tip back to the first segment, oldest first. */
export function ancestry(metas: Metas, tipSeq: number | null): SegmentResult[] {
  const out: SegmentResult[] = [];
  const seen = new Set<number>();
  let s = tipSeq === null ? undefined : metas.get(tipSeq);
  while (s && !seen.has(s.seq)) {
    out.push(s);
    seen.add(s.seq);
    s = s.continuesSeq === null ? undefined : metas.get(s.continuesSeq);
  }
  return out.reverse();
}

/** Seconds of a segment heard before its successor takes over (or before its own normal join). */
function span(seg: SegmentResult, next: SegmentResult | undefined, overlap: number): number {
  return next ? next.joinAtSeconds : Math.max(0, seg.durationSeconds - overlap);
}

/**
 * Audio ahead of the playhead along the chain ending at the tip, or null when the playhead is not
 * on that chain (the playout went another way, so the chain must rejoin it).
 */
export function bufferedAhead(
  chain: readonly SegmentResult[],
  playhead: { seq: number; positionSeconds: number } | null,
  overlap: number,
): number | null {
  if (chain.length === 0) return 0;
  let start = 0;
  let pos = 0;
  if (playhead) {
    start = chain.findIndex((s) => s.seq === playhead.seq);
    if (start < 0) return null;
    pos = playhead.positionSeconds;
  }
  let total = -pos;
  for (let i = start; i < chain.length; i++) {
    const seg = chain[i] as SegmentResult;
    total += span(seg, chain[i + 1], overlap);
  }
  return Math.max(0, total);
}

export interface JoinPoint {
  from: SegmentResult;
  atSeconds: number;
}

/**
 * Where a new chain joins the playing music so it is heard as soon as possible: `margin` seconds
 * from now (time to render, decode and commit), in the segment that will be playing then.
 * Walks from the playhead through the segments the playout will surely take.
 */
export function joinPoint(
  metas: Metas,
  playhead: { seq: number; positionSeconds: number; nextSeq: number | null },
  successorOf: (seg: SegmentResult) => SegmentResult | undefined,
  overlap: number,
  margin: number,
): JoinPoint | null {
  let seg = metas.get(playhead.seq);
  if (!seg) return null;
  // Time left in `seg` until we want to join, measured in its own timeline.
  let at = playhead.positionSeconds + margin;
  // The playout already crossfades into nextSeq: the join must be in that segment.
  if (playhead.nextSeq !== null) {
    const next = metas.get(playhead.nextSeq);
    if (next) {
      at = Math.max(next.headOverlapSeconds, at - next.joinAtSeconds);
      seg = next;
    }
  }
  for (let hops = 0; hops < 8; hops++) {
    const latest = seg.durationSeconds - 2 * overlap;
    const next = successorOf(seg);
    const handover = next ? next.joinAtSeconds : seg.durationSeconds - overlap;
    if (at <= Math.min(latest, handover - overlap)) return { from: seg, atSeconds: Math.max(0, at) };
    if (!next) {
      // Nothing after it: the playout will loop its body, so join on the next pass.
      const loopAt = seg.headOverlapSeconds + Math.max(0, at - handover);
      return { from: seg, atSeconds: Math.min(Math.max(seg.headOverlapSeconds, loopAt), latest) };
    }
    at = Math.max(next.headOverlapSeconds, at - next.joinAtSeconds);
    seg = next;
  }
  return { from: seg, atSeconds: Math.max(0, seg.durationSeconds - 2 * overlap) };
}
