// Ten minutes of the stream, recorded with ffmpeg as a client (SOAK_SECONDS overrides the length):
// audio the whole time, no silence run over 0.3 s, no stall, and as much audio as wall time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanupStack } from '../helpers/cleanup.ts';
import { record } from '../helpers/recorder.ts';
import { testStack, waitFor } from '../helpers/stack.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);

test(`${SECONDS} s of the live stream: no silence, no stall, real-time pace`, {
  timeout: (SECONDS + 180) * 1000,
}, async (t) => {
  const defer = cleanupStack(t);
  const stack = await testStack();
  defer(() => stack.stop());
  await waitFor(
    'the station to play',
    async () => (await fetch(`${stack.baseUrl}/healthz`)).status === 200,
    90_000,
  );
  const rec = await record(`${stack.baseUrl}/stations/lofi/stream.mp3`, SECONDS);
  // Audio after the first second (which holds the connect burst) against wall time after it.
  const audio = rec.seconds - rec.burstSeconds;
  const wall = rec.wallSeconds - 1;
  const drift = Math.abs(audio - wall) / wall;
  const station = (await (await fetch(`${stack.baseUrl}/api/stations/lofi`)).json()) as { underruns: number };
  t.diagnostic(
    `recorded ${rec.seconds.toFixed(1)} s in ${rec.wallSeconds.toFixed(1)} s (burst ${rec.burstSeconds.toFixed(2)} s), drift ${(drift * 100).toFixed(3)} %, longest silence ${rec.longestSilenceSeconds.toFixed(2)} s, longest stall ${rec.longestStallSeconds.toFixed(2)} s, underruns ${station.underruns}`,
  );
  assert.ok(rec.longestSilenceSeconds < 0.3, `silence run of ${rec.longestSilenceSeconds} s`);
  assert.ok(rec.longestStallSeconds < 1.5, `stall of ${rec.longestStallSeconds} s`);
  assert.ok(drift < 0.01, `decoded ${audio.toFixed(2)} s against ${wall.toFixed(2)} s of wall time`);
  assert.equal(station.underruns, 0, 'the lookahead kept up: no bridging was needed');
});
