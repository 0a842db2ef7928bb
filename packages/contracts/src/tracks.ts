// Where a track begins inside its first segment: one rule for the streamer (which titles the
// stream from that frame) and the scheduler (which counts a track's played seconds from it), so
// the length the scheduler plans is the length listeners hear.
import type { SegmentResult } from './types.gen.ts';

/**
 * Seconds into a track's first segment at which the new track begins, when that segment opens
 * with the end of the previous track of the same mood (the procedural backend renders a ring-out
 * bar of the old track there and brings the new one in on the downbeat after it: `fadeIn` is
 * that span in the backend's samples; another backend may say `trackStartSeconds`). 0 when the
 * track begins where the segment does.
 */
export function trackStartSeconds(
  meta: Pick<SegmentResult, 'track' | 'state' | 'durationSeconds' | 'headOverlapSeconds'>,
): number {
  if (meta.track?.position !== 0) return 0;
  const s = meta.state as Record<string, unknown>;
  let at = 0;
  if (typeof s.trackStartSeconds === 'number') at = s.trackStartSeconds;
  else if (Array.isArray(s.fadeIn) && typeof s.startSample === 'number' && typeof s.sampleRate === 'number') {
    const downbeat = Number(s.fadeIn[1]);
    if (Number.isFinite(downbeat) && s.sampleRate > 0) at = (downbeat - s.startSample) / s.sampleRate;
  }
  // Only a start before the next segment's join (its end minus the overlap) is believed. The
  // ring-out segment is mostly old track (head, the way to the bar line, the ring-out bar), so
  // the downbeat often lies past the file's middle.
  return Number.isFinite(at) && at > 0 && at < meta.durationSeconds - meta.headOverlapSeconds ? at : 0;
}
