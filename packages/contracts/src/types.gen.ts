/* Generated from packages/contracts/schema/segment.schema.json by `npm run contracts:gen`. Do not edit. */

/**
 * Lower-case slug; safe as a path component and a Redis key part.
 *
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "StationId".
 */
export type StationId = string;
/**
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "Backend".
 */
export type Backend = 'procedural' | 'musicgen';
/**
 * Path of a file relative to the segment store root (DATA_DIR or a bucket). Never absolute, never '..'.
 *
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "StoreKey".
 */
export type StoreKey = string;
/**
 * Store key of a station's melody file (musicgen-melody conditions on its chroma).
 *
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "MelodyKey".
 */
export type MelodyKey = string;

export interface SegmentContract {
  SegmentJob?: SegmentJob;
  SegmentResult?: SegmentResult;
}
/**
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "SegmentJob".
 */
export interface SegmentJob {
  stationId: StationId;
  /**
   * Station-wide sequence number; unique per station across prompt versions.
   */
  seq: number;
  promptVersion: number;
  prompt: string;
  backend: Backend;
  model?: string;
  params?: GenerationParams;
  drift?: Drift;
  seed: number;
  /**
   * Seconds of new music wanted after the head overlap; a backend may round to whole bars.
   */
  durationSeconds: number;
  /**
   * Length of the head overlap.
   */
  overlapSeconds: number;
  sampleRate: 44100 | 48000;
  channels: 1 | 2;
  /**
   * Where the worker writes the FLAC; the metadata goes beside it with .json in place of .flac.
   */
  audioKey: string;
  continueFrom: null | ContinueFrom;
  enqueuedAt?: string;
  track?: Track;
  /**
   * A melody for musicgen-melody to condition on (its chroma).
   */
  melodyKey?: string;
}
/**
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "GenerationParams".
 */
export interface GenerationParams {
  topK?: number;
  topP?: number;
  temperature?: number;
  cfgCoef?: number;
}
/**
 * How this segment varies within its mood, so an hour has shape and does not loop. Chosen by the scheduler, deterministic from the station's seed, mood and seq. `prompt` is the text a text-conditioned model (MusicGen) is given; `energy` and `emphasis` steer the procedural arranger (density, dynamics, which voice leads). A backend applies a new drift from the first bar after the head overlap, so the overlap stays the same music as its predecessor's.
 *
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "Drift".
 */
export interface Drift {
  prompt: string;
  energy: number;
  emphasis: 'keys' | 'piano' | 'guitar' | 'pads' | 'bass' | 'drums';
  section: 'intro' | 'groove' | 'lift' | 'breakdown' | 'variation';
}
/**
 * The segment this one continues. The new segment's head overlap renders the same music as the predecessor's audio from atSeconds to atSeconds + overlapSeconds, so the playout crossfades two renderings of the same bars.
 *
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "ContinueFrom".
 */
export interface ContinueFrom {
  seq: number;
  audioKey: StoreKey;
  /**
   * Path of a file relative to the segment store root (DATA_DIR or a bucket). Never absolute, never '..'.
   */
  tokensKey?: string;
  /**
   * Where, in the predecessor's audio, the new segment's head overlap begins.
   */
  atSeconds: number;
  state: MusicalState;
}
/**
 * Backend-specific continuation state, carried from each segment's result into the next job. For the procedural backend: seed, tempo, key, mode, beat position at the start of the file, section.
 *
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "MusicalState".
 */
export interface MusicalState {
  [k: string]: unknown;
}
/**
 * The track this segment belongs to. A track is a run of consecutive segments of one station whose played length (from its first audio to the next track's first audio) is two to four minutes by default (TRACK_SECONDS), with a name and an arc: intro, development, outro into the next track. Chosen by the scheduler, deterministic from the station's seed and the track index: its end is decided from the seconds the track has played so far (the segments actually generated, not a count of nominal ones) and the expected length of the next segment; a mood change starts a new track at once. Listeners see tracks (titles, now-playing, history); segments stay the unit of generation and crossfade.
 *
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "Track".
 */
export interface Track {
  /**
   * Station-wide track number, counting up across moods.
   */
  index: number;
  /**
   * The track's English name, e.g. 'Late Bus Home'.
   */
  name: string;
  /**
   * Optional second-language name (Chinese moods).
   */
  subtitle?: string;
  /**
   * The station's name or its artist setting: StreamTitle is 'artist - name'.
   */
  artist: string;
  /**
   * This segment's index within the track (0: the track's first segment).
   */
  position: number;
  /**
   * Expected number of segments in the track, revised at each segment from the seconds played so far; always more than position, and exactly position + 1 for the track's last segment (its outro).
   */
  segments: number;
  /**
   * Seconds of the track heard before this segment's first audio (the start of its file, where its crossfade begins): 0 for the track's first segment. Absent in segments of older schedulers.
   */
  startSeconds?: number;
  /**
   * The track's target played length, drawn within TRACK_SECONDS from the station's seed and the track index when the track began; the track ends with the segment that brings it nearest. Absent in segments of older schedulers.
   */
  plannedSeconds?: number;
  /**
   * Where in the track's arc this segment sits.
   */
  part: 'intro' | 'development' | 'outro';
}
/**
 * This interface was referenced by `SegmentContract`'s JSON-Schema
 * via the `definition` "SegmentResult".
 */
export interface SegmentResult {
  stationId: StationId;
  seq: number;
  promptVersion: number;
  prompt: string;
  title: string;
  backend: Backend;
  model: string;
  audioKey: StoreKey;
  metaKey: StoreKey;
  tokensKey?: StoreKey;
  /**
   * Length of the whole file, head overlap included.
   */
  durationSeconds: number;
  headOverlapSeconds: number;
  sampleRate: 44100 | 48000;
  channels: 1 | 2;
  loudnessLufs: number;
  truePeakDbtp: number;
  generationSeconds: number;
  /**
   * The seq of the predecessor (null for the first segment of a station).
   */
  continuesSeq: null | number;
  /**
   * Where in the predecessor's audio this segment's head overlap begins (0 without predecessor).
   */
  joinAtSeconds: number;
  qualityRetries?: number;
  state: MusicalState;
  createdAt?: string;
  track?: Track;
}
