// Tracks over a station's chain: played lengths within the station's range whatever the tempo
// (segments are whole bars, a new track of one mood starts after a ring-out bar), the arc's parts,
// a mood change starting a new track at once, the artist, and a restart (planning from a stored
// segment) going on with the same track. Pure: the chain is walked the way the scheduler walks it,
// each result as long as the backend makes it (track-sim.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertSegmentJob, type Track } from '@lofi/contracts';
import type { Station } from '@lofi/redis';
import { driftFor } from '../src/prompt-drift.ts';
import { artistOf, nextTrack, partOf, plannedSeconds, targetSlack } from '../src/tracks.ts';
import { type PlayedTrack, playedTracks, simulate } from './track-sim.ts';

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

/** A tempo per track, 60-95 BPM (the procedural moods' range), drawn from the index. */
const drawnTempo = (seed: number) => (index: number) =>
  60 + (((Math.imul(index + 7, 0x9e3779b1) ^ seed) >>> 0) % 36);

const tracksOf = (s: Station, count: number, tempoOf?: (i: number) => number, moodAt?: Set<number>) =>
  simulate(s, { count, ...(tempoOf ? { tempoOf } : {}), ...(moodAt ? { moodAt } : {}) });

function assertInRange(played: readonly PlayedTrack[], lo: number, hi: number, what: string): void {
  for (const p of played) {
    if (p.cut) continue;
    assert.ok(
      p.seconds >= lo - 1e-6 && p.seconds <= hi + 1e-6,
      `${what}: track ${p.track.index} (${p.tempo ?? '-'} BPM) played ${p.seconds.toFixed(2)} s`,
    );
  }
}

test('every finished track plays 120-240 s at every tempo of the moods, with 8 s nominal segments', (t) => {
  const all: number[] = [];
  for (let tempo = 60; tempo <= 95; tempo++) {
    const s = station({ seed: 1000 + tempo });
    const played = playedTracks(
      tracksOf(s, 700, () => tempo),
      () => tempo,
    );
    assert.ok(played.length >= 20, `${played.length} tracks at ${tempo} BPM`);
    assertInRange(played, 120, 240, `${tempo} BPM`);
    all.push(...played.map((p) => p.seconds));
  }
  // Each track its own tempo, as the procedural backend plays them.
  for (const seed of [1, 2, 3, 99, 1234]) {
    const tempoOf = drawnTempo(seed);
    const played = playedTracks(tracksOf(station({ seed }), 1500, tempoOf), tempoOf);
    assertInRange(played, 120, 240, `seed ${seed}`);
    all.push(...played.map((p) => p.seconds));
  }
  const sorted = [...all].sort((a, b) => a - b);
  t.diagnostic(
    `${sorted.length} tracks: ${sorted[0]?.toFixed(1)}-${sorted.at(-1)?.toFixed(1)} s, p50 ${sorted[sorted.length >> 1]?.toFixed(1)} s`,
  );
  // The range is used, not one corner of it.
  assert.ok(Math.min(...all) < 140 && Math.max(...all) > 220, `${Math.min(...all)}..${Math.max(...all)}`);
});

test('other segment lengths, overlaps and ranges, and MusicGen segments (exact, no bars)', () => {
  const cases: Array<[Partial<Station>, boolean]> = [
    [{ segmentSeconds: 4, overlapSeconds: 1 }, true],
    [{ segmentSeconds: 10, overlapSeconds: 2 }, true],
    [{ segmentSeconds: 15, overlapSeconds: 3, trackSecondsMin: 150, trackSecondsMax: 300 }, true],
    [{ segmentSeconds: 8, overlapSeconds: 1.5, trackSecondsMin: 90, trackSecondsMax: 150 }, true],
    [{ backend: 'musicgen', segmentSeconds: 8, overlapSeconds: 1.5 }, false],
    [{ backend: 'musicgen', segmentSeconds: 30, overlapSeconds: 2 }, false],
  ];
  for (const [over, bars] of cases) {
    for (const seed of [5, 6, 7]) {
      const s = station({ seed, ...over });
      const tempoOf = bars ? drawnTempo(seed) : undefined;
      const played = playedTracks(tracksOf(s, 3600 / s.segmentSeconds, tempoOf), tempoOf);
      assert.ok(played.length >= 5, JSON.stringify(over));
      assertInRange(played, s.trackSecondsMin, s.trackSecondsMax, JSON.stringify(over));
    }
  }
});

test('a range narrower than a segment: the track lands as near it as whole segments allow', () => {
  const s = station({ trackSecondsMin: 180, trackSecondsMax: 180 });
  const tempoOf = drawnTempo(3);
  const played = playedTracks(tracksOf(s, 600, tempoOf), tempoOf);
  const { under, over } = targetSlack(s);
  assertInRange(played, 180 - (under + over) / 2, 180 + (under + over) / 2, 'fixed 180 s');
  assert.equal(plannedSeconds(s, 0), plannedSeconds(s, 9), 'one target for every track');
});

test('targets are deterministic per track and vary; another seed plans other lengths', () => {
  const s = station();
  const targets = Array.from({ length: 200 }, (_, i) => plannedSeconds(s, i));
  assert.deepEqual(
    targets,
    Array.from({ length: 200 }, (_, i) => plannedSeconds(station(), i)),
  );
  const { under, over } = targetSlack(s);
  for (const t of targets) assert.ok(t >= 120 + under && t <= 240 - over, `${t}`);
  assert.ok(new Set(targets).size >= 150, 'targets vary');
  assert.notDeepEqual(
    Array.from({ length: 200 }, (_, i) => plannedSeconds(station({ seed: 99 }), i)),
    targets,
  );
  // The same chain renders the same tracks twice.
  const a = tracksOf(station(), 300, drawnTempo(1)).map((g) => g.result.track);
  const b = tracksOf(station(), 300, drawnTempo(1)).map((g) => g.result.track);
  assert.deepEqual(a, b);
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

test('a chain of one mood is a run of tracks: consecutive, one name each, the outro planned last', () => {
  const segs = tracksOf(station(), 500, drawnTempo(4)); // an hour and more of ~7.5 s segments
  const tracks = segs.map((g) => g.result.track as Track);
  let expectIndex = 0;
  for (let i = 0; i < tracks.length; ) {
    const first = tracks[i] as Track;
    assert.equal(first.index, expectIndex);
    assert.equal(first.position, 0);
    assert.equal(first.part, 'intro');
    assert.equal(first.startSeconds, 0);
    let p = 0;
    while (i + p < tracks.length && tracks[i + p]?.index === first.index) {
      const t = tracks[i + p] as Track;
      assert.equal(t.position, p);
      assert.equal(t.name, first.name);
      assert.equal(t.artist, 'Endless Lo-Fi');
      assert.equal(t.plannedSeconds, first.plannedSeconds);
      assert.ok(t.segments > t.position);
      assert.equal(t.part, partOf(p, t.segments));
      // Only the last segment says it is the last, and it is the outro.
      const last = i + p + 1 < tracks.length ? tracks[i + p + 1]?.index !== first.index : null;
      if (last !== null) assert.equal(t.segments === t.position + 1, last, `track ${t.index} at ${p}`);
      if (last) assert.equal(t.part, 'outro');
      if (p > 0) assert.ok((t.startSeconds ?? 0) > (tracks[i + p - 1]?.startSeconds ?? 0));
      p++;
    }
    i += p;
    expectIndex++;
  }
  const names = new Set(tracks.map((t) => t.name));
  assert.equal(names.size, expectIndex);
  // An hour of 120-240 s tracks is 15 to 30 of them.
  const hour = playedTracks(segs).filter(
    (_, k, all) => all.slice(0, k).reduce((a, p) => a + p.seconds, 0) < 3600,
  );
  assert.ok(hour.length >= 15 && hour.length <= 31, `${hour.length} tracks`);
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

test('a track counts the seconds played, the ring-out bar of its first segment excepted', () => {
  const s = station();
  const segs = tracksOf(s, 120, () => 67);
  const second = segs.findIndex((g) => g.result.track?.index === 1);
  const first = segs[second] as (typeof segs)[number];
  const next = segs[second + 1] as (typeof segs)[number];
  const fadeIn = first.result.state.fadeIn as [number, number];
  const startsAt = (fadeIn[1] - (first.result.state.startSample as number)) / 48000;
  assert.ok(startsAt > first.result.durationSeconds / 2, 'the downbeat lies past the middle of the file');
  assert.ok(
    Math.abs((next.result.track?.startSeconds ?? 0) - (next.result.joinAtSeconds - startsAt)) < 0.002,
  );
  // At 67 BPM an "8 s" segment is two bars, 7.16 s: a track of 120 s or more needs 17 of them.
  const played = playedTracks(segs);
  assert.ok(played.every((p) => p.seconds >= 120));
  assert.ok(segs.filter((g) => g.result.track?.index === 1).length >= 16);
});

test('a mood change starts a new track at once; numbers never go back', () => {
  const s = station();
  const tracks = tracksOf(s, 40, drawnTempo(2), new Set([5, 6, 20])).map((g) => g.result.track);
  assert.equal(tracks[4]?.index, 0);
  assert.equal(tracks[5]?.index, 1);
  assert.equal(tracks[5]?.position, 0);
  assert.equal(tracks[6]?.index, 2, 'a second change right after: another track');
  assert.equal(tracks[7]?.index, 2);
  assert.equal(tracks[7]?.position, 1);
  assert.equal(tracks[20]?.index, 3);
  assert.equal(tracks[20]?.position, 0);
  // A new chain joining an older segment after a mood change still gets a fresh number.
  const s3 = station({ promptVersion: 3 });
  const old: Track = { index: 4, name: 'Old', artist: 'a', position: 2, segments: 20, part: 'development' };
  const from = { promptVersion: 2, track: old, durationSeconds: 9, headOverlapSeconds: 1.5, state: {} };
  assert.equal(nextTrack(s3, { from, atSeconds: 3 }, 9).track.index, 10);
});

test('a restart goes on with the same track: the plan follows from the stored segment', () => {
  const s = station();
  const segs = tracksOf(s, 60, drawnTempo(8));
  for (const k of [0, 7, 20, 33]) {
    const stored = segs[k]?.result;
    assert.ok(stored?.track);
    // The scheduler restarted: it only has the stored segment and the chain's lastTrackIndex.
    const join = { from: stored, atSeconds: stored.durationSeconds - s.overlapSeconds };
    assert.deepEqual(nextTrack(s, join, stored.track.index).track, segs[k + 1]?.result.track);
  }
  // A settings change mid-track does not rename or re-plan the track that is playing.
  const stored = segs[7]?.result;
  assert.ok(stored?.track);
  const join = { from: stored, atSeconds: stored.durationSeconds - 1.5 };
  const renamed = station({ name: 'Other', artist: 'DJ Cloud', trackSecondsMin: 60, trackSecondsMax: 60 });
  const after = nextTrack(renamed, join, stored.track.index).track;
  assert.equal(after.name, stored.track.name);
  assert.equal(after.artist, stored.track.artist);
  assert.equal(after.plannedSeconds, stored.track.plannedSeconds);
});

test('a segment of an older scheduler (no played seconds) goes on by its own length', () => {
  const s = station();
  const old: Track = { index: 2, name: 'Old', artist: 'a', position: 5, segments: 20, part: 'development' };
  const from = { promptVersion: 0, track: old, durationSeconds: 9, headOverlapSeconds: 1.5, state: {} };
  const t = nextTrack(s, { from, atSeconds: 7.5 }, 2).track;
  assert.equal(t.index, 2);
  assert.equal(t.position, 6);
  assert.equal(t.startSeconds, 5 * 7.5 + 7.5);
  assert.equal(t.plannedSeconds, plannedSeconds(s, 2));
});

test('a segment without a track (older data, an older worker) starts a new track', () => {
  const from = { promptVersion: 0, durationSeconds: 9, headOverlapSeconds: 1.5, state: {} };
  const plan = nextTrack(station(), { from, atSeconds: 7.5 }, 6);
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
  const tracks = tracksOf(s, 200, drawnTempo(5)).map((g) => g.result.track as Track);
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
    let n = 0;
    while (tracks[i + n]?.index === t.index) n++;
    if (i + n >= tracks.length) break;
    const e = drifts.slice(i, i + n).map((d) => d.energy);
    const peak = Math.max(...e);
    const at = e.indexOf(peak);
    assert.ok(at > 0 && at < n - 1, `peak at ${at} of ${n}`);
    assert.ok(peak - (e[0] as number) >= 0.15 && peak - (e.at(-1) as number) >= 0.15, e.join(' '));
    i += n;
  }
  // Tracks differ: the same position of two tracks does not read the same.
  const leads = new Set(drifts.map((d) => d.emphasis));
  assert.ok(leads.size >= 4);
});
