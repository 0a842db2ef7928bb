// Where a station's stream was at a given moment, worked out from the leader's playhead and the
// segment index: the same playhead read a second later, or three seconds earlier, lies in another
// segment once a join is crossed. A standby playout on a follower (outputs/standby.ts) starts
// from here, at the point its listeners last heard from the relay. Pure.
import type { SegmentResult } from '@lofi/contracts';
import type { Playhead } from '@lofi/redis';

/** The render position of a station's stream: `positionSeconds` into segment `seq`'s file at `atMs`. */
export interface StreamPoint {
  seq: number;
  positionSeconds: number;
  atMs: number;
}

/**
 * The successor the leader's mixer takes after `meta` (mixer.ts): the one it committed to when
 * the playhead names it, else the newest mood's earliest join that fits in the segment.
 */
function successorOf(
  meta: SegmentResult,
  bySeq: ReadonlyMap<number, SegmentResult>,
  committed: number | null,
): SegmentResult | undefined {
  const pick = committed !== null ? bySeq.get(committed) : undefined;
  if (pick && pick.continuesSeq === meta.seq) return pick;
  let best: SegmentResult | undefined;
  for (const s of bySeq.values()) {
    if (s.continuesSeq !== meta.seq || s.joinAtSeconds >= meta.durationSeconds) continue;
    if (
      !best ||
      s.promptVersion > best.promptVersion ||
      (s.promptVersion === best.promptVersion && s.joinAtSeconds < best.joinAtSeconds)
    )
      best = s;
  }
  return best;
}

/**
 * The stream's render position at wall time `atMs`, from playhead `ph` (the playout renders at
 * real time). Walks forward over joins and back over them while the predecessor is still indexed;
 * a point before the oldest indexed segment becomes that segment's start (later, at the time it
 * was rendered), one past a segment with no successor its last frame (the leader bridged there).
 * Null when the playhead's segment is not in the index.
 */
export function streamPointAt(
  ph: Playhead,
  metas: readonly SegmentResult[],
  atMs: number,
): StreamPoint | null {
  const bySeq = new Map(metas.map((m) => [m.seq, m]));
  const onAir = bySeq.get(ph.seq);
  if (!onAir) return null;
  let meta: SegmentResult = onAir;
  let pos = ph.positionSeconds + (atMs - ph.atMs) / 1000;
  let at = atMs;
  if (pos < 0) {
    // Back over joins: the point is before the playhead's segment began.
    while (pos < 0) {
      const pred: SegmentResult | undefined =
        meta.continuesSeq === null ? undefined : bySeq.get(meta.continuesSeq);
      if (!pred) {
        at -= pos * 1000;
        pos = 0;
        break;
      }
      pos += meta.joinAtSeconds;
      meta = pred;
    }
  } else {
    // Forward over them: the playhead is older than the point.
    for (;;) {
      const next = successorOf(meta, bySeq, meta.seq === ph.seq ? ph.nextSeq : null);
      if (!next) {
        pos = Math.min(pos, Math.max(0, meta.durationSeconds - 0.001));
        break;
      }
      if (pos < next.joinAtSeconds) break;
      pos -= next.joinAtSeconds;
      meta = next;
    }
  }
  return { seq: meta.seq, positionSeconds: pos, atMs: at };
}
