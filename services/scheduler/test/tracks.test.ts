// Tracks over a station's chain: lengths from the station's range, the arc's parts, a mood change
// starting a new track at once, the artist, and a restart (planning from a stored segment) going on
// with the same track. Pure: the chain is walked the way the scheduler walks it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertSegmentJob, type Track } from '@lofi/contracts';
import type { Station } from '@lofi/redis';
import { driftFor } from '../src/prompt-drift.ts';
import { artistOf, nextTrack, partOf, trackSegments } from '../src/tracks.ts';

const station = (over: Partial<Station> = {}): Station => ({
  id: 'lofi',
  name: 'Endless Lo-Fi',
  prompt: 'rainy day slow jazz',
  preset: '',
  promptVersion: 0,
  backend: 'procedural',
  model: '',
  seed: 1234,
  segmentSeconds: 8,
  overlapSeconds: 1.5,
  lookaheadSeconds: 60,
  description: '',
  artist: '',
  trackSecondsMin: 120,
  trackSecondsMax: 240,
  topK: 250,
  topP: 0,
  temperature: 1,
  cfgCoef: 3,
  createdAt: '',
  updatedAt: '',
  ...over,
});

/** Walks `count` jobs of one chain; mood changes at the given job numbers. */
function walk(s: Station, count: number, moodAt: ReadonlySet<number> = new Set()): Track[] {
  const out: Track[] = [];
  let from: { promptVersion: number; track?: Track } | null = null;
  let last = -1;
  for (let i = 0; i < count; i++) {
    if (moodAt.has(i)) s.promptVersion++;
    const plan = nextTrack(s, from, last);
    last = plan.lastTrackIndex;
    out.push(plan.track);
    from = { promptVersion: s.promptVersion, track: plan.track };
  }
  return out;
}

test('track lengths are drawn from the station range, whole segments, deterministic per track', () => {
  const s = station();
  const lengths = Array.from({ length: 200 }, (_, i) => trackSegments(s, i));
  assert.deepEqual(
    lengths,
    Array.from({ length: 200 }, (_, i) => trackSegments(station(), i)),
  );
  for (const n of lengths) assert.ok(n >= 15 && n <= 30, `${n} segments of 8 s`);
  assert.ok(new Set(lengths).size >= 8, 'lengths vary');
  const other = Array.from({ length: 200 }, (_, i) => trackSegments(station({ seed: 99 }), i));
  assert.notDeepEqual(other, lengths);
  // A fixed length, a track of one long segment, and the cap.
  assert.equal(trackSegments(station({ trackSecondsMin: 180, trackSecondsMax: 180 }), 3), 23);
  assert.equal(
    trackSegments(station({ segmentSeconds: 60, trackSecondsMin: 60, trackSecondsMax: 60 }), 0),
    1,
  );
  assert.equal(
    trackSegments(station({ segmentSeconds: 2, trackSecondsMin: 1200, trackSecondsMax: 1200 }), 0),
    200,
  );
});

test('parts: intro first, outro last, development between', () => {
  assert.equal(partOf(0, 1), 'development');
  assert.deepEqual(
    [0, 1].map((p) => partOf(p, 2)),
    ['intro', 'outro'],
  );
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((p) => partOf(p, 5)),
    ['intro', 'development', 'development', 'development', 'outro'],
  );
  const long = Array.from({ length: 20 }, (_, p) => partOf(p, 20));
  assert.deepEqual(long.slice(0, 3), ['intro', 'intro', 'development']);
  assert.equal(long[19], 'outro');
});

test('a chain of one mood is a run of tracks: consecutive, each its planned length and name', () => {
  const tracks = walk(station(), 450); // an hour of 8 s segments
  let expectIndex = 0;
  for (let i = 0; i < tracks.length; ) {
    const first = tracks[i] as Track;
    assert.equal(first.index, expectIndex);
    assert.equal(first.position, 0);
    assert.equal(first.part, 'intro');
    const run = tracks.slice(i, i + first.segments);
    run.forEach((t, p) => {
      if (i + p >= tracks.length) return;
      assert.equal(t.index, first.index);
      assert.equal(t.position, p);
      assert.equal(t.name, first.name);
      assert.equal(t.artist, 'Endless Lo-Fi');
      assert.equal(t.part, partOf(p, first.segments));
    });
    i += first.segments;
    expectIndex++;
  }
  // 120-240 s tracks of 8 s segments: an hour has 15 to 30 of them, every name different.
  const names = new Set(tracks.map((t) => t.name));
  assert.equal(names.size, expectIndex);
  assert.ok(expectIndex >= 15 && expectIndex <= 31, `${expectIndex} tracks`);
  for (const t of tracks)
    assertSegmentJob({
      stationId: 'lofi',
      seq: 1,
      promptVersion: 0,
      prompt: 'x',
      backend: 'procedural',
      seed: 1,
      durationSeconds: 8,
      overlapSeconds: 1.5,
      sampleRate: 48000,
      channels: 2,
      audioKey: 'stations/lofi/segments/00000001-v0.flac',
      continueFrom: null,
      track: t,
    });
});

test('a mood change starts a new track at once; numbers never go back', () => {
  const tracks = walk(station(), 40, new Set([5, 6, 20]));
  assert.equal(tracks[4]?.index, 0);
  assert.equal(tracks[5]?.index, 1);
  assert.equal(tracks[5]?.position, 0);
  assert.equal(tracks[6]?.index, 2, 'a second change right after: another track');
  assert.equal(tracks[7]?.index, 2);
  assert.equal(tracks[7]?.position, 1);
  assert.equal(tracks[20]?.index, 3);
  assert.equal(tracks[20]?.position, 0);
  // A new chain joining an older segment after a mood change still gets a fresh number.
  const s = station({ promptVersion: 3 });
  const old: Track = { index: 4, name: 'Old', artist: 'a', position: 2, segments: 20, part: 'development' };
  assert.equal(nextTrack(s, { promptVersion: 2, track: old }, 9).track.index, 10);
});

test('a restart goes on with the same track: the plan follows from the stored segment', () => {
  const s = station();
  const tracks = walk(s, 30);
  const stored = tracks[7] as Track;
  // The scheduler restarted: it only has the stored segment and the chain's lastTrackIndex.
  const next = nextTrack(s, { promptVersion: 0, track: stored }, stored.index);
  assert.deepEqual(next.track, tracks[8]);
  // A settings change mid-track does not rename or re-plan the track that is playing.
  const renamed = station({ name: 'Other', artist: 'DJ Cloud', trackSecondsMin: 60, trackSecondsMax: 60 });
  assert.equal(nextTrack(renamed, { promptVersion: 0, track: stored }, stored.index).track.name, stored.name);
  assert.equal(
    nextTrack(renamed, { promptVersion: 0, track: stored }, stored.index).track.artist,
    stored.artist,
  );
});

test('a segment without a track (older data, an older worker) starts a new track', () => {
  const plan = nextTrack(station(), { promptVersion: 0 }, 6);
  assert.equal(plan.track.index, 7);
  assert.equal(plan.track.position, 0);
  assert.equal(nextTrack(station(), null, -1).track.index, 0);
});

test('the artist is the artist setting, else the station name', () => {
  assert.equal(artistOf(station()), 'Endless Lo-Fi');
  assert.equal(artistOf(station({ artist: '  DJ Cloud ' })), 'DJ Cloud');
  assert.equal(nextTrack(station({ artist: 'DJ Cloud' }), null, -1).track.artist, 'DJ Cloud');
});

test('drift follows the track arc: eases in, builds, winds down into the next track', () => {
  const s = station();
  const tracks = walk(s, 200);
  const drifts = tracks.map((track, index) =>
    driftFor({ prompt: s.prompt, seed: s.seed, promptVersion: 0, index, track }),
  );
  tracks.forEach((t, i) => {
    const d = drifts[i];
    assert.ok(d);
    if (t.part === 'intro') {
      assert.equal(d.section, 'intro');
      assert.match(d.prompt, /intro/);
    }
    if (t.part === 'outro') assert.match(d.prompt, /outro, winding down/);
    if (t.part === 'development') assert.doesNotMatch(d.prompt, /intro|outro/);
    assert.ok(d.prompt.startsWith('rainy day slow jazz, '));
  });
  // Within each full track, the energy peak is in the development, above both ends.
  for (let i = 0; i < tracks.length; ) {
    const t = tracks[i] as Track;
    if (i + t.segments > tracks.length) break;
    const e = drifts.slice(i, i + t.segments).map((d) => d.energy);
    const peak = Math.max(...e);
    const at = e.indexOf(peak);
    assert.ok(at > 0 && at < t.segments - 1, `peak at ${at} of ${t.segments}`);
    assert.ok(peak - (e[0] as number) >= 0.15 && peak - (e.at(-1) as number) >= 0.15, e.join(' '));
    i += t.segments;
  }
  // Tracks differ: the same position of two tracks does not read the same.
  const leads = new Set(drifts.map((d) => d.emphasis));
  assert.ok(leads.size >= 4);
});
