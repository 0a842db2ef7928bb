// What a station's leader is playing, kept in Redis for the replicas that relay it: their API,
// WebSocket events and ICY titles follow the leader's without running a playout. Listeners see
// tracks (a name, an artist, two to four minutes); segments, the unit of generation, stay
// available beside them with their musical detail.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

/** A track as it went on air. */
export interface TrackEntry {
  /** The seq of the track's first segment on air: identifies the entry (covers: `?seq=`). */
  seq: number;
  /** Station-wide track number; null for segments made before tracks existed. */
  trackIndex: number | null;
  /** The track's name ("Late Bus Home"). */
  title: string;
  /** A second-language name (Chinese moods), or null. */
  subtitle: string | null;
  /** The station's name or its artist setting ('' for segments made before tracks existed). */
  artist: string;
  /** What players show, the ICY StreamTitle and the HLS EXTINF title: `artist - title`. */
  streamTitle: string;
  prompt: string;
  promptVersion: number;
  backend: string;
  model: string;
  /** When its first audio reached the listener, on the stream clock (HLS PROGRAM-DATE-TIME's). */
  startedAt: string;
  /** When the next track began; null while it plays. */
  endedAt: string | null;
  /** The number of segments the scheduler planned for it (null: unknown). */
  plannedSegments: number | null;
}

/** A segment as it went on air (its musical detail is for the curious: the console). */
export interface SegmentEntry {
  seq: number;
  /** The worker's description of the segment: mood, chord, section. */
  detail: string;
  trackIndex: number | null;
  /** Its index within the track, and where in the track's arc it sits (null: no track). */
  position: number | null;
  part: 'intro' | 'development' | 'outro' | null;
  promptVersion: number;
  startedAt: string;
}

/** The track on air, with the segment on air now. */
export interface NowPlayingEntry extends TrackEntry {
  segment: SegmentEntry;
}

export interface NowPlayingState {
  nowPlaying: NowPlayingEntry | null;
  /** The last tracks, newest first (the first is the one on air). */
  history: TrackEntry[];
  /** The last segments, newest first. */
  segments: SegmentEntry[];
}

/** A state nobody updated for this long is a dead leader's: readers stop trusting it. */
const TTL_SECONDS = 24 * 3600;

/** An entry written before tracks existed has no streamTitle: it is not shown as a track. */
const isTrack = (e: unknown): e is TrackEntry =>
  typeof e === 'object' && e !== null && typeof (e as TrackEntry).streamTitle === 'string';

export class NowPlayingStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async write(stationId: string, state: NowPlayingState): Promise<void> {
    await this.redis.set(this.keys.nowPlaying(stationId), JSON.stringify(state), 'EX', TTL_SECONDS);
  }

  async read(stationId: string): Promise<NowPlayingState | null> {
    const raw = await this.redis.get(this.keys.nowPlaying(stationId));
    if (!raw) return null;
    try {
      const s = JSON.parse(raw) as Partial<NowPlayingState>;
      const np = isTrack(s.nowPlaying) && s.nowPlaying.segment ? s.nowPlaying : null;
      return {
        nowPlaying: np,
        history: Array.isArray(s.history) ? s.history.filter(isTrack) : [],
        segments: Array.isArray(s.segments) ? s.segments : [],
      };
    } catch {
      return null;
    }
  }
}
