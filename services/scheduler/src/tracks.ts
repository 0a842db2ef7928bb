// Tracks: listeners hear runs of consecutive segments with a name, two to four minutes long by
// default, instead of a new title every segment. A track's length is counted in played seconds,
// not in segments: backends round a segment to whole bars (7.16 s for a nominal 8 s at 67 BPM),
// so fifteen "8 s" segments played 107 s. Each job's track carries the seconds the track has
// played before it (from the results of the chain it continues) and the track's target, so the
// next job's track follows from the segment it continues alone and a scheduler restart carries on
// the same track; only the highest track number ever given is kept in the chain state, so numbers
// are never reused. Pure and deterministic.
import { type SegmentResult, type Track, trackStartSeconds } from '@lofi/contracts';
import type { Station } from '@lofi/redis';
import { trackName } from './track-names.ts';

/** The schema's cap on a track's segments. */
export const MAX_TRACK_SEGMENTS = 200;
/** A bar at the slowest tempo the procedural moods play (60 BPM, moods.json `limits`). */
export const MAX_BAR_SECONDS = 4;
/** How far a segment's played length may stray from the expected: a backend rounds each segment
 * to whole bars, so by up to half a bar (MusicGen's are exact). */
export const ROUNDING_SECONDS = MAX_BAR_SECONDS / 2;

type Spacing = Pick<Station, 'segmentSeconds' | 'overlapSeconds'>;
type Range = Spacing & Pick<Station, 'seed' | 'trackSecondsMin' | 'trackSecondsMax'>;

/**
 * The most the next track's first segment adds to the track before it. After a track change of
 * one mood the procedural backend plays on past the head to the next bar line, rings the old
 * track out for one more bar and brings the new one in on the downbeat after it (that is where
 * the streamer titles it: trackStartSeconds). Other backends start the new track at once (0).
 */
export const tailMaxSeconds = (s: Spacing): number => s.overlapSeconds + 2 * MAX_BAR_SECONDS;
/** The tail the end rule expects: the middle of what it may be. */
const expectedTail = (s: Spacing): number => tailMaxSeconds(s) / 2;

/**
 * How far a finished track may come out under and over its target with the end rule of
 * `nextTrack` (the end falls within half a segment of the target, give or take the rounding of
 * the last two segments and the next track's tail).
 */
export function targetSlack(s: Spacing): { under: number; over: number } {
  const half = (Math.max(0.5, s.segmentSeconds) + ROUNDING_SECONDS) / 2;
  const tail = expectedTail(s);
  return { under: half + ROUNDING_SECONDS + tail, over: half + 2 * ROUNDING_SECONDS + tail };
}

function unit(seed: number, index: number): number {
  let h = Math.imul((seed ^ 0x5bd1e995) >>> 0, 0x27d4eb2d) ^ Math.imul(index + 1, 0x165667b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}

/**
 * Track `index`'s target played length, in seconds: drawn (deterministic from seed and index)
 * within the station's range less the slack of the end rule, so the played length lands in the
 * range. A range narrower than the slack gets its middle.
 */
export function plannedSeconds(station: Range, index: number): number {
  const lo = station.trackSecondsMin;
  const hi = Math.max(lo, station.trackSecondsMax);
  const { under, over } = targetSlack(station);
  const from = lo + under;
  const to = hi - over;
  const seconds = from <= to ? from + (to - from) * unit(station.seed, index) : (from + to) / 2;
  return round3(Math.max(0.5, seconds));
}

/** A segment's played length: the whole file less the head that crossfades into it. */
export const playedSeconds = (s: Pick<SegmentResult, 'durationSeconds' | 'headOverlapSeconds'>): number =>
  Math.max(0, s.durationSeconds - s.headOverlapSeconds);

/** Where a segment sits in its track's arc: its first segment(s) intro, the last outro. */
export function partOf(position: number, segments: number): Track['part'] {
  if (segments <= 1) return 'development';
  if (position >= segments - 1) return 'outro';
  const intro = segments >= 12 ? 2 : 1;
  return position < intro ? 'intro' : 'development';
}

/**
 * The expected number of segments of a track at `position`, which starts `played` seconds into
 * the track: this one and as many as bring the track nearest its target, where each is expected
 * to play `expected` seconds and the next track's first segment adds its tail. Exactly
 * `position + 1` makes this segment the last (the outro).
 */
export function segmentsOf(
  s: Spacing,
  position: number,
  played: number,
  planned: number,
  expected: number,
): number {
  const left = Math.max(1, Math.round((planned - expectedTail(s) - played) / Math.max(0.5, expected)));
  return Math.min(MAX_TRACK_SEGMENTS, position + left);
}

export interface TrackPlan {
  track: Track;
  /** The new highest track number (the chain state's lastTrackIndex). */
  lastTrackIndex: number;
}

/** The segment a new job continues, and where in it the new segment's file begins. */
export interface Continued {
  from: Pick<SegmentResult, 'promptVersion' | 'track' | 'durationSeconds' | 'headOverlapSeconds' | 'state'>;
  atSeconds: number;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Seconds the track of `c.from` has played when the new segment's file begins. */
function playedAt(c: Continued): number {
  const t = c.from.track as Track;
  // Older schedulers' segments carry no count: whole segments like this one are the best guess.
  const before = t.startSeconds ?? t.position * playedSeconds(c.from);
  return Math.max(0, before + c.atSeconds - trackStartSeconds(c.from));
}

/**
 * The track of the next job. It continues `join.from`'s track while the mood is the same and that
 * segment was not the track's last; otherwise (mood change, first segment, a track's end, or a
 * segment of an older version without a track) a new track starts at position 0.
 */
export function nextTrack(station: Station, join: Continued | null, lastTrackIndex: number): TrackPlan {
  const prev = join?.from.track;
  if (
    prev &&
    join &&
    join.from.promptVersion === station.promptVersion &&
    prev.position + 1 < prev.segments
  ) {
    const position = prev.position + 1;
    const played = round3(playedAt(join));
    // The settings of a track that is playing stay as they began (its target, its name).
    const planned = prev.plannedSeconds ?? plannedSeconds(station, prev.index);
    // Within a track the segments keep one tempo, so the one before says how long the next
    // will be; a track's first segment also holds the end of the track before it.
    const expected = prev.position >= 1 ? playedSeconds(join.from) : station.segmentSeconds;
    const segments = segmentsOf(station, position, played, planned, expected);
    return {
      track: {
        ...prev,
        position,
        segments,
        part: partOf(position, segments),
        startSeconds: played,
        plannedSeconds: planned,
      },
      lastTrackIndex: Math.max(lastTrackIndex, prev.index),
    };
  }
  const index = Math.max(lastTrackIndex, prev?.index ?? -1) + 1;
  const planned = plannedSeconds(station, index);
  const segments = segmentsOf(station, 0, 0, planned, station.segmentSeconds);
  const named = trackName({ seed: station.seed, index, prompt: station.prompt });
  return {
    track: {
      index,
      ...named,
      artist: artistOf(station),
      position: 0,
      segments,
      part: partOf(0, segments),
      startSeconds: 0,
      plannedSeconds: planned,
    },
    lastTrackIndex: index,
  };
}

/** Who players show as the artist: the station's artist setting, or its name. */
export const artistOf = (station: Pick<Station, 'artist' | 'name' | 'id'>): string =>
  (station.artist?.trim() || station.name.trim() || station.id).slice(0, 100);
