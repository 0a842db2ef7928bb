// A station's chain as the scheduler plans it and the backends render it, in seconds only: each
// job's track comes from nextTrack over the result it continues, each result has the length the
// backend gives it, and a track's played length is measured as the streamer measures it (from
// its first audio, trackStartSeconds into its first segment, to the next track's).
//
// The procedural lengths follow python-worker/src/lofi_worker/backends/procedural/__init__.py:
// a segment's new audio is whole bars (round half to even, at least one) at the track's tempo;
// a new track of the same mood first plays the old track on to its bar line after the head
// (epochs.hand_over: when the head ends on a bar line, float rounding makes that either this one
// or the next, both happen), then a ring-out bar, then the new track from its downbeat, with
// whole bars of the new tempo for what is left of the segment. MusicGen segments are exact.
import type { SegmentResult, Track } from '@lofi/contracts';
import { trackStartSeconds } from '@lofi/contracts';
import type { Station } from '@lofi/redis';
import { nextTrack } from '../src/tracks.ts';

export const SR = 48000;

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function hash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  return (Math.imul(h, 0x27d4eb2d) >>> 0) / 2 ** 32;
}

export interface SimOptions {
  /** Segments to render. */
  count: number;
  /** The tempo (BPM) of track `index`; absent: a MusicGen station (no bars). */
  tempoOf?: (index: number) => number;
  /** Job numbers at which the mood changes (the new chain joins the playing segment). */
  moodAt?: ReadonlySet<number>;
  /** Replaces the planner (e.g. a restarted one); default nextTrack. */
  plan?: typeof nextTrack;
}

export interface SimSegment {
  result: SegmentResult;
  /** Stream second at which the file's first sample plays. */
  at: number;
}

export interface PlayedTrack {
  track: Track;
  seconds: number;
  /** The track ended because the mood changed (it may be short). */
  cut: boolean;
  tempo: number | null;
}

function result(
  s: Station,
  seq: number,
  track: Track,
  durationSeconds: number,
  state: Record<string, unknown>,
  joinAtSeconds: number,
): SegmentResult {
  return {
    stationId: s.id,
    seq,
    promptVersion: s.promptVersion,
    prompt: s.prompt,
    title: track.name,
    backend: s.backend,
    model: 'sim',
    audioKey: `stations/${s.id}/segments/${seq}.flac`,
    metaKey: `stations/${s.id}/segments/${seq}.json`,
    durationSeconds,
    headOverlapSeconds: s.overlapSeconds,
    sampleRate: SR,
    channels: 2,
    loudnessLufs: -16,
    truePeakDbtp: -1.5,
    generationSeconds: 0.1,
    continuesSeq: seq === 0 ? null : seq - 1,
    joinAtSeconds,
    state,
    track,
  };
}

/** Renders the chain; mutates `s.promptVersion` at mood changes. */
export function simulate(s: Station, o: SimOptions): SimSegment[] {
  const plan = o.plan ?? nextTrack;
  const out: SimSegment[] = [];
  const head = s.overlapSeconds;
  let last = -1;
  let prev: SimSegment | undefined;
  // The bar grid of the track playing: a bar line at `anchor` (stream seconds), `bar` long.
  let anchor = 0;
  let bar = 0;
  for (let seq = 0; seq < o.count; seq++) {
    let atInPrev = 0;
    if (prev) atInPrev = prev.result.durationSeconds - head;
    const moodChange = o.moodAt?.has(seq) ?? false;
    if (moodChange && prev) {
      s.promptVersion++;
      // The new chain joins a moment into the playing segment (joinPoint), not at its end.
      atInPrev = Math.min(atInPrev, head + 2.5);
    }
    const join = prev ? { from: prev.result, atSeconds: atInPrev } : null;
    const p = plan(s, join, last);
    last = p.lastTrackIndex;
    const t = p.track;
    const start = prev ? prev.at + atInPrev : 0;
    const state: Record<string, unknown> = {};
    let duration: number;
    if (!o.tempoOf) {
      duration = head + s.segmentSeconds;
    } else {
      const tempo = o.tempoOf(t.index);
      const newBar = 240 / tempo;
      const sameTrack = prev?.result.track?.index === t.index;
      if (sameTrack || !prev || moodChange) {
        // The first segment of a station or a mood starts its track (and bar grid) at once.
        if (!sameTrack) {
          anchor = start;
          bar = newBar;
        }
        // Whole bars after the head, wherever the grid puts the head's end.
        const bars = Math.max(1, roundHalfEven((s.segmentSeconds * tempo) / 240));
        duration = head + bars * bar;
      } else {
        // hand_over: the old track plays to its bar line at or after the head, rings out a bar.
        const headEnd = start + head;
        const pos = (headEnd - anchor) / bar;
        let endBar = Math.ceil(pos - 1e-6);
        if (Math.abs(pos - Math.round(pos)) < 1e-6)
          endBar = Math.round(pos) + (hash(s.seed, seq) < 0.5 ? 0 : 1);
        const ring = anchor + endBar * bar;
        const downbeat = ring + bar;
        const newSeconds = s.segmentSeconds - (downbeat - headEnd);
        const bars = Math.max(1, roundHalfEven((newSeconds * tempo) / 240));
        duration = downbeat - start + bars * newBar;
        state.fadeIn = [Math.round(ring * SR), Math.round(downbeat * SR)];
        state.startSample = Math.round(start * SR);
        state.sampleRate = SR;
        anchor = downbeat;
        bar = newBar;
      }
    }
    const seg = { result: result(s, seq, t, duration, state, atInPrev), at: start };
    out.push(seg);
    prev = seg;
  }
  return out;
}

/** The tracks as the streamer puts them on air: each from its first audio to the next one's. */
export function playedTracks(
  segs: readonly SimSegment[],
  tempoOf?: (index: number) => number,
): PlayedTrack[] {
  const starts: Array<{ track: Track; at: number; promptVersion: number }> = [];
  segs.forEach((g, i) => {
    const t = g.result.track as Track;
    if (t.position !== 0) return;
    starts.push({
      track: t,
      at: g.at + (i > 0 ? trackStartSeconds(g.result) : 0),
      promptVersion: g.result.promptVersion,
    });
  });
  return starts.slice(0, -1).map((st, i) => {
    const next = starts[i + 1] as (typeof starts)[number];
    return {
      track: st.track,
      seconds: next.at - st.at,
      cut: next.promptVersion !== st.promptVersion,
      tempo: tempoOf ? tempoOf(st.track.index) : null,
    };
  });
}
