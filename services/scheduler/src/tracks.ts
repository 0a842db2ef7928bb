// Tracks: listeners hear runs of consecutive segments with a name, two to four minutes long by
// default, instead of a new title every segment. The next job's track follows from the segment
// it continues (its track, position and planned length travel in every result), so a scheduler
// restart carries on the same track; only the highest track number ever given is kept in the
// chain state, so numbers are never reused. Pure and deterministic.
import type { SegmentResult, Track } from '@lofi/contracts';
import type { Station } from '@lofi/redis';
import { trackName } from './track-names.ts';

/** The schema's cap on a track's planned segments. */
export const MAX_TRACK_SEGMENTS = 200;

/** Who players show as the artist: the station's artist setting, or its name. */
export const artistOf = (station: Pick<Station, 'artist' | 'name' | 'id'>): string =>
  (station.artist?.trim() || station.name.trim() || station.id).slice(0, 100);

function unit(seed: number, index: number): number {
  let h = Math.imul((seed ^ 0x5bd1e995) >>> 0, 0x27d4eb2d) ^ Math.imul(index + 1, 0x165667b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}

/**
 * Planned segments of track `index`: a length drawn from the station's range (deterministic from
 * seed and index), in whole segments, never shorter than the range allows.
 */
export function trackSegments(
  station: Pick<Station, 'seed' | 'segmentSeconds' | 'trackSecondsMin' | 'trackSecondsMax'>,
  index: number,
): number {
  const lo = station.trackSecondsMin;
  const hi = Math.max(lo, station.trackSecondsMax);
  const seconds = lo + (hi - lo) * unit(station.seed, index);
  const seg = Math.max(0.5, station.segmentSeconds);
  const n = Math.max(Math.round(seconds / seg), Math.ceil(lo / seg - 1e-9));
  return Math.min(MAX_TRACK_SEGMENTS, Math.max(1, n));
}

/** Where a segment sits in its track's arc: its first segment(s) intro, the last outro. */
export function partOf(position: number, segments: number): Track['part'] {
  if (segments <= 1) return 'development';
  if (position >= segments - 1) return 'outro';
  const intro = segments >= 12 ? 2 : 1;
  return position < intro ? 'intro' : 'development';
}

export interface TrackPlan {
  track: Track;
  /** The new highest track number (the chain state's lastTrackIndex). */
  lastTrackIndex: number;
}

/**
 * The track of the next job. It continues `from`'s track while the mood is the same and the
 * track has segments left; otherwise (mood change, first segment, a track's end, or a segment of
 * an older version without a track) a new track starts at position 0.
 */
export function nextTrack(
  station: Station,
  from: Pick<SegmentResult, 'promptVersion' | 'track'> | null,
  lastTrackIndex: number,
): TrackPlan {
  const prev = from?.track;
  if (prev && from && from.promptVersion === station.promptVersion && prev.position + 1 < prev.segments) {
    const position = prev.position + 1;
    return {
      track: { ...prev, position, part: partOf(position, prev.segments) },
      lastTrackIndex: Math.max(lastTrackIndex, prev.index),
    };
  }
  const index = Math.max(lastTrackIndex, prev?.index ?? -1) + 1;
  const segments = trackSegments(station, index);
  const named = trackName({ seed: station.seed, index, prompt: station.prompt });
  return {
    track: {
      index,
      ...named,
      artist: artistOf(station),
      position: 0,
      segments,
      part: partOf(0, segments),
    },
    lastTrackIndex: index,
  };
}
