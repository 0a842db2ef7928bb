// Tracks, end to end: the whole stack (scheduler, Python worker, streamer) plays one mood for four
// minutes while a real ICY client listens. Players must see what a radio shows: one `Artist -
// Title` per track of two to four minutes (so one to three in 240 s, never one per segment), each
// a track name that now-playing also shows, and a history of tracks with starts and durations.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { cleanupStack } from '../helpers/cleanup.ts';
import { IcyDemuxer } from '../helpers/icy-demux.ts';
import { testStack, waitFor } from '../helpers/stack.ts';

const LISTEN_SECONDS = 240;

interface Track {
  seq: number;
  title: string;
  artist: string;
  streamTitle: string;
  prompt: string;
  startedAt: string;
  endedAt: string | null;
  durationSeconds: number;
}
interface NowPlaying extends Partial<Track> {
  playing: boolean;
  segment?: { seq: number; detail: string; part: string | null };
}

/** Every StreamTitle an ICY listener gets, in order, for `seconds`. */
function listenIcy(url: string, seconds: number): Promise<{ titles: string[]; audioBytes: number }> {
  return new Promise((resolve, reject) => {
    const titles: string[] = [];
    const req = http.get(url, { headers: { 'icy-metadata': '1' } }, (res) => {
      const demux = new IcyDemuxer(Number(res.headers['icy-metaint']), {
        title: (title) => {
          if (title) titles.push(title);
        },
      });
      res.on('data', (chunk: Buffer) => demux.push(chunk));
      res.on('error', () => undefined);
      setTimeout(() => {
        req.destroy();
        resolve({ titles, audioBytes: demux.audioBytes });
      }, seconds * 1000);
    });
    req.on('error', reject);
  });
}

test('an ICY listener over 240 s of one mood sees one to three track titles, as now-playing shows them', {
  timeout: (LISTEN_SECONDS + 180) * 1000,
}, async (t) => {
  const defer = cleanupStack(t);
  const stack = await testStack();
  defer(() => stack.stop());
  const base = stack.baseUrl;
  await waitFor('the station to play', async () => (await fetch(`${base}/healthz`)).status === 200, 90_000);
  const station = (await (await fetch(`${base}/api/stations/lofi`)).json()) as {
    name: string;
    prompt: string;
  };

  // What now-playing shows while the listener listens, polled every two seconds.
  const shown = new Set<string>();
  const segmentSeqs = new Set<number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const np = (await (await fetch(`${base}/api/stations/lofi/now-playing`)).json()) as NowPlaying;
      if (np.streamTitle) shown.add(np.streamTitle);
      if (np.segment?.detail) segmentSeqs.add(np.segment.seq);
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  const heard = await listenIcy(`${base}/stations/lofi/stream.mp3`, LISTEN_SECONDS);
  polling = false;
  await poller;
  const history = (
    (await (await fetch(`${base}/api/stations/lofi/history`)).json()) as {
      history: Track[];
      segments: Array<{ seq: number; detail: string }>;
    }
  ).history;
  t.diagnostic(`ICY titles: ${JSON.stringify(heard.titles)}`);
  t.diagnostic(
    `history: ${JSON.stringify(history.map((h) => [h.streamTitle, h.startedAt, h.durationSeconds]))}`,
  );

  assert.ok(heard.audioBytes > (LISTEN_SECONDS - 5) * 16000, `only ${heard.audioBytes} bytes of audio`);
  // A block with a title comes only when the title changes: these are the tracks heard.
  assert.ok(
    heard.titles.length >= 1 && heard.titles.length <= 3,
    `${heard.titles.length} titles in ${LISTEN_SECONDS} s: ${JSON.stringify(heard.titles)}`,
  );
  assert.equal(new Set(heard.titles).size, heard.titles.length, 'a track name came twice');
  for (const title of heard.titles) {
    assert.ok(shown.has(title), `ICY title ${JSON.stringify(title)} never shown by now-playing`);
    const track = history.find((h) => h.streamTitle === title);
    assert.ok(track, `ICY title ${JSON.stringify(title)} not in the history`);
    assert.equal(track.artist, station.name, 'the artist is the station');
    assert.equal(title, `${track.artist} - ${track.title}`);
    // A name, not the music theory nor the mood text.
    assert.doesNotMatch(track.title, /·|section|\b[A-G][#b♭♯]?(maj|min|m|dim|sus|add)?\d+\b/);
    assert.notEqual(track.title.toLowerCase(), station.prompt.toLowerCase());
    const words = track.title.split(/\s+/).length;
    assert.ok(words >= 2 && words <= 5, `track name ${JSON.stringify(track.title)}`);
  }
  // Tracks that ended in the history played two to four minutes (TRACK_SECONDS 120-240), from
  // their first audio to the next one's: the scheduler counts played seconds, not segments.
  const ended = history.filter((x) => x.endedAt !== null);
  t.diagnostic(`ended tracks: ${JSON.stringify(ended.map((h) => h.durationSeconds))}`);
  for (const h of ended) {
    assert.ok(
      h.durationSeconds >= 120 && h.durationSeconds <= 240,
      `track ${h.title} lasted ${h.durationSeconds} s`,
    );
  }
  // The segments went on under the tracks, with their musical detail kept for the console.
  assert.ok(segmentSeqs.size >= LISTEN_SECONDS / 20, `only ${segmentSeqs.size} segments seen`);
});
