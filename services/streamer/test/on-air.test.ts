// Tracks as listeners see them: segments grouped into tracks, the outputs' title changing with the
// track (at the new track's first audio, also when it begins inside a segment), the history of
// tracks with starts and durations, and segments without a track (older data) still titled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SegmentResult, Track } from '@lofi/contracts';
import type { NowPlayingState } from '@lofi/redis';
import { SegmentMarks } from '../src/outputs/marks.ts';
import { durationSeconds, OnAir, trackLabel, trackStartSeconds } from '../src/playout/on-air.ts';

const SR = 48000;
const T0 = Date.parse('2026-01-01T10:00:00Z');
const timeOf = (frame: number): string => new Date(T0 + (frame / SR) * 1000).toISOString();

function seg(seq: number, track: Partial<Track> | null, extra: Partial<SegmentResult> = {}): SegmentResult {
  return {
    stationId: 'lofi',
    seq,
    promptVersion: 0,
    prompt: 'rainy night',
    title: `Rainy Night · Cmaj9 · A section ${seq}`,
    backend: 'procedural',
    model: 'procedural-v1',
    audioKey: `stations/lofi/segments/${seq}.flac`,
    metaKey: `stations/lofi/segments/${seq}.json`,
    durationSeconds: 9,
    headOverlapSeconds: 1,
    sampleRate: SR,
    channels: 2,
    loudnessLufs: -16,
    truePeakDbtp: -1,
    generationSeconds: 1,
    continuesSeq: seq === 0 ? null : seq - 1,
    joinAtSeconds: 8,
    state: { detail: `Rainy Night · Cmaj9 · A section ${seq}` },
    ...(track
      ? {
          track: {
            index: 0,
            name: 'Rain on the Window',
            artist: 'Night Owl FM',
            position: 0,
            segments: 3,
            part: 'intro',
            ...track,
          } as Track,
        }
      : {}),
    ...extra,
  };
}

function onAir(init: Partial<NowPlayingState> = {}) {
  const events: NowPlayingState[] = [];
  const o = new OnAir({
    sampleRate: SR,
    timeOf,
    changed: (s) => events.push(s),
    history: init.history,
    segments: init.segments,
  });
  return { o, events };
}

test('the segments of a track are one track: one title, one history entry, every segment listed', () => {
  const { o, events } = onAir();
  const marks = [
    ...o.segmentStarted(seg(0, { position: 0, part: 'intro' }), 0),
    ...o.segmentStarted(seg(1, { position: 1, part: 'development' }), 8 * SR),
    ...o.segmentStarted(seg(2, { position: 2, part: 'outro' }), 16 * SR),
  ];
  assert.deepEqual(
    marks.map((m) => m.title),
    [
      'Night Owl FM - Rain on the Window',
      'Night Owl FM - Rain on the Window',
      'Night Owl FM - Rain on the Window',
    ],
  );
  assert.equal(o.history.length, 1);
  const t = o.history[0];
  assert.equal(t?.title, 'Rain on the Window');
  assert.equal(t?.artist, 'Night Owl FM');
  assert.equal(t?.seq, 0, 'a track is named by its first segment');
  assert.equal(t?.startedAt, timeOf(0));
  assert.equal(t?.endedAt, null);
  assert.equal(t?.plannedSegments, 3);
  assert.equal(o.nowPlaying?.segment.seq, 2);
  assert.equal(o.nowPlaying?.segment.part, 'outro');
  assert.equal(o.nowPlaying?.segment.detail, 'Rainy Night · Cmaj9 · A section 2');
  assert.deepEqual(
    o.segments.map((s) => s.seq),
    [2, 1, 0],
  );
  assert.equal(events.length, 3, 'every segment is an event (the console shows its detail)');
});

test('a new track that begins with its segment takes over at that frame; the last one gets its end', () => {
  const { o } = onAir();
  o.segmentStarted(seg(0, { index: 4 }), 0);
  const marks = o.segmentStarted(
    seg(1, { index: 5, name: 'Late Bus Home', position: 0 }, { promptVersion: 1, prompt: 'late bus' }),
    8 * SR,
  );
  assert.deepEqual(marks, [{ frame: 8 * SR, title: 'Night Owl FM - Late Bus Home' }]);
  assert.deepEqual(
    o.history.map((h) => [h.title, h.startedAt, h.endedAt]),
    [
      ['Late Bus Home', timeOf(8 * SR), null],
      ['Rain on the Window', timeOf(0), timeOf(8 * SR)],
    ],
  );
  assert.equal(durationSeconds(o.history[1] as never, Date.now()), 8);
  assert.equal(o.nowPlaying?.prompt, 'late bus');
});

test('a track that begins inside its first segment (after a ring-out bar) is titled from its downbeat', () => {
  const { o, events } = onAir();
  o.segmentStarted(seg(0, { index: 0, position: 0 }), 0);
  // The new track's bar 0 is 2.5 s into the file (the backend's fadeIn ends there).
  const next = seg(
    1,
    { index: 1, name: 'Paper Lanterns', position: 0 },
    {
      state: { detail: 'x', fadeIn: [100_000, 100_000 + 2.5 * SR], startSample: 100_000, sampleRate: SR },
    },
  );
  assert.equal(trackStartSeconds(next), 2.5);
  const start = 8 * SR;
  const marks = o.segmentStarted(next, start);
  assert.deepEqual(marks, [
    { frame: start, title: 'Night Owl FM - Rain on the Window' },
    { frame: start + 2.5 * SR, title: 'Night Owl FM - Paper Lanterns' },
  ]);
  assert.equal(o.nowPlaying?.title, 'Rain on the Window', 'the old track plays on until the downbeat');
  assert.equal(o.nowPlaying?.segment.seq, 1);
  o.advance(start + 2.5 * SR - 1);
  assert.equal(o.nowPlaying?.title, 'Rain on the Window');
  const before = events.length;
  o.advance(start + 2.5 * SR + 4800);
  assert.equal(o.nowPlaying?.title, 'Paper Lanterns');
  assert.equal(events.length, before + 1);
  assert.equal(
    o.history[0]?.startedAt,
    timeOf(start + 2.5 * SR),
    'started at its downbeat, not the render time',
  );
  assert.equal(o.history[1]?.endedAt, timeOf(start + 2.5 * SR));
  assert.equal(o.history[0]?.seq, 1);
  o.advance(start + 10 * SR);
  assert.equal(o.history.length, 2, 'advancing further changes nothing');
});

test('a segment that starts before a pending track begins makes it begin there; marks supersede', () => {
  const { o } = onAir();
  const marks = new SegmentMarks();
  const mark = (ms: { frame: number; title: string }[], meta: SegmentResult) => {
    for (const m of ms) marks.push(m.frame, { ...meta, title: m.title });
  };
  const a = seg(0, { index: 0 });
  mark(o.segmentStarted(a, 0), a);
  const b = seg(
    1,
    { index: 1, name: 'Paper Lanterns' },
    {
      state: { fadeIn: [0, 4 * SR], startSample: 0, sampleRate: SR },
    },
  );
  mark(o.segmentStarted(b, SR), b);
  // An earlier successor (the mixer's choice) starts at 3 s, before the pending downbeat at 5 s.
  const c = seg(2, { index: 1, name: 'Paper Lanterns', position: 1, part: 'development' });
  mark(o.segmentStarted(c, 3 * SR), c);
  assert.equal(o.nowPlaying?.title, 'Paper Lanterns');
  assert.equal(o.history[0]?.startedAt, timeOf(3 * SR));
  assert.equal(marks.at(2 * SR)?.title, 'Night Owl FM - Rain on the Window');
  assert.equal(marks.at(4 * SR)?.title, 'Night Owl FM - Paper Lanterns');
  assert.equal(marks.at(6 * SR)?.seq, 2, 'the superseded mark at 5 s is gone');
});

test('segments without a track (older data, older workers) read as their mood, one title per mood', () => {
  const { o } = onAir();
  const a = seg(0, null);
  assert.deepEqual(trackLabel(a), {
    trackIndex: null,
    title: 'Rainy Night',
    subtitle: null,
    artist: '',
    streamTitle: 'Rainy Night',
    plannedSegments: null,
  });
  const titles = [...o.segmentStarted(a, 0), ...o.segmentStarted(seg(1, null), 8 * SR)].map((m) => m.title);
  assert.deepEqual(titles, ['Rainy Night', 'Rainy Night']);
  assert.equal(o.history.length, 1);
  assert.equal(o.nowPlaying?.segment.trackIndex, null);
  // A title without a chord part is kept whole.
  assert.equal(trackLabel({ ...a, title: 'Tone 1 at 500 Hz' }).title, 'Tone 1 at 500 Hz');
});

test('a restarted playout continues the track its history ends with', () => {
  const first = onAir();
  first.o.segmentStarted(seg(0, { index: 7, position: 0 }), 0);
  first.o.segmentStarted(seg(1, { index: 7, position: 1, part: 'development' }), 8 * SR);
  const { o } = onAir({ history: first.o.history, segments: first.o.segments });
  o.segmentStarted(seg(1, { index: 7, position: 1, part: 'development' }), 0);
  assert.equal(o.history.length, 1);
  assert.equal(o.history[0]?.startedAt, timeOf(0));
  assert.equal(o.segments.length, 2, 'the resumed segment is not listed twice');
  o.segmentStarted(seg(2, { index: 8, name: 'Quiet Platform' }), 8 * SR);
  assert.equal(o.history.length, 2);
});

test('the history keeps the last 20 tracks and 20 segments', () => {
  const { o } = onAir();
  for (let k = 0; k < 30; k++) o.segmentStarted(seg(k, { index: k, name: `Track ${k}` }), k * 8 * SR);
  assert.equal(o.history.length, 20);
  assert.equal(o.segments.length, 20);
  assert.equal(o.history[0]?.title, 'Track 29');
  assert.equal(o.history[19]?.title, 'Track 10');
});

test('a start at or after the next segment’s join is not believed; one past the middle is', () => {
  // 9 s files with a 1 s head: the next segment joins 8 s in.
  const s = seg(1, { index: 1 }, { state: { fadeIn: [0, 8 * SR], startSample: 0, sampleRate: SR } });
  assert.equal(trackStartSeconds(s), 0);
  // A procedural ring-out segment is mostly the old track: its downbeat is often past the middle.
  const late = seg(1, { index: 1 }, { state: { fadeIn: [0, 6.5 * SR], startSample: 0, sampleRate: SR } });
  assert.equal(trackStartSeconds(late), 6.5);
  const later = seg(
    1,
    { index: 1, position: 1 },
    { state: { fadeIn: [0, SR], startSample: 0, sampleRate: SR } },
  );
  assert.equal(trackStartSeconds(later), 0, 'only a track’s first segment can hold its start');
  assert.equal(trackStartSeconds(seg(1, { index: 1 }, { state: { trackStartSeconds: 1.5 } })), 1.5);
});
