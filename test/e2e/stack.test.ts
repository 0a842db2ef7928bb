// The whole station as `npm start` runs it: supervisor, private Redis, scheduler, Python worker,
// streamer. Real clients listen while things go wrong on purpose.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { segmentQueue, segmentQueueEvents } from '@lofi/redis';
import { cleanupStack } from '../helpers/cleanup.ts';
import { icyTitle } from '../helpers/icy.ts';
import { record } from '../helpers/recorder.ts';
import { alive, testStack, waitFor } from '../helpers/stack.ts';

interface StationView {
  promptVersion: number;
  bufferedSeconds: number;
  underruns: number;
  nowPlaying: {
    seq: number;
    title: string;
    streamTitle: string;
    promptVersion: number;
    prompt: string;
  } | null;
}

test('one command plays, survives a killed worker, changes mood, and stops cleanly', {
  timeout: 300_000,
}, async (t) => {
  const defer = cleanupStack(t);
  const stack = await testStack();
  defer(() => stack.stop());
  const base = stack.baseUrl;
  const stream = `${base}/stations/lofi/stream.mp3`;
  const station = async (): Promise<StationView> =>
    (await (await fetch(`${base}/api/stations/lofi`)).json()) as StationView;

  await waitFor('the station to play', async () => (await fetch(`${base}/healthz`)).status === 200, 90_000);
  const probe = execFileSync(
    'ffprobe',
    ['-v', 'error', '-read_intervals', '%+2', '-show_streams', '-of', 'json', stream],
    { encoding: 'utf8', timeout: 20_000 },
  );
  const s0 = (JSON.parse(probe) as { streams: Array<Record<string, unknown>> }).streams[0];
  assert.equal(s0?.codec_name, 'mp3');
  assert.equal(s0?.channels, 2);
  assert.equal(s0?.sample_rate, '48000');
  assert.equal(s0?.bit_rate, '128000');
  assert.ok((await icyTitle(stream)).length > 0, 'ICY title present');

  // Listen for 70 s while a worker is killed mid-job and the mood changes.
  const listening = record(stream, 70);

  // The lofi station is procedural: its jobs are in that backend's queue.
  const queue = segmentQueue(stack.redisUrl, stack.config.queuePrefix, 'procedural');
  const events = segmentQueueEvents(stack.redisUrl, stack.config.queuePrefix, 'procedural');
  // Both reconnect on their own; an error event without a listener would be thrown.
  queue.on('error', () => {});
  events.on('error', () => {});
  defer(async () => {
    await events.close();
    await queue.close();
  });
  await events.waitUntilReady();
  const worker = stack.children.get('worker-1');
  assert.ok(worker);
  const killed = await new Promise<{ jobId: string; pid: number; at: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no job became active to kill the worker on')), 60_000);
    const onActive = ({ jobId }: { jobId: string }) => {
      const pid = worker.pid;
      if (!pid) return;
      process.kill(pid, 'SIGKILL');
      events.off('active', onActive);
      clearTimeout(timer);
      resolve({ jobId, pid, at: Date.now() });
    };
    events.on('active', onActive);
  });
  // The supervisor restarts the worker; BullMQ's stalled-job check hands the job to it.
  await waitFor(
    'the worker to be restarted',
    async () => worker.pid !== undefined && worker.pid !== killed.pid,
    20_000,
  );
  assert.equal(alive(killed.pid), false);
  const job = await waitFor(
    'the killed job to complete',
    async () => {
      const j = await queue.getJob(killed.jobId);
      return j && (await j.getState()) === 'completed' ? j : null;
    },
    60_000,
  );
  // If the kill landed before the render finished, the job was started again after the kill.
  assert.ok(job.finishedOn && job.finishedOn > killed.at - 1000);

  const before = await station();
  const changed = await fetch(`${base}/api/stations/lofi/mood`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'rainy-day slow jazz with soft piano' }),
  });
  assert.equal(changed.status, 200);
  const requested = Date.now();
  const after = await waitFor(
    'the new mood on air',
    async () => {
      const s = await station();
      return s.nowPlaying && s.nowPlaying.promptVersion > before.promptVersion ? s : null;
    },
    30_000,
  );
  const latency = (Date.now() - requested) / 1000;
  assert.ok(latency < 15, `mood heard after ${latency} s`);
  // In-band: ICY listeners get the new mood's track too, as `artist - title`.
  await waitFor(
    'the ICY title of the new mood',
    async () => (await icyTitle(stream)) === after.nowPlaying?.streamTitle,
    30_000,
    1000,
  );

  const rec = await listening;
  assert.ok(rec.longestSilenceSeconds < 0.3, `silence run of ${rec.longestSilenceSeconds} s`);
  assert.ok(rec.longestStallSeconds < 1.5, `stall of ${rec.longestStallSeconds} s`);
  assert.ok(
    rec.seconds >= rec.wallSeconds - 0.5,
    `received ${rec.seconds} s of audio in ${rec.wallSeconds} s`,
  );

  // Ctrl-C: every child (and its children: ffmpeg, Python) is gone.
  await events.close();
  await queue.close();
  const pids = [...stack.children.values()].map((c) => c.pid).filter((p): p is number => p !== undefined);
  await stack.stop();
  for (const pid of pids) {
    assert.equal(alive(pid), false, `child ${pid} still alive`);
    assert.deepEqual(runningInGroup(pid), [], `process group ${pid} still has members`);
  }
});

/**
 * The group's members that still run. Not kill(-pgid, 0): that also counts zombies, and a child
 * whose parent exited first (a service's ffmpeg) is a zombie until pid 1 reaps it, which the init
 * of some machines and containers does only every second or two.
 */
function runningInGroup(pgid: number): string[] {
  const members: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(group) === pgid && state !== 'Z') members.push(stat.slice(0, stat.lastIndexOf(')') + 1));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}
