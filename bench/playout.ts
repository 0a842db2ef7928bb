// Playout cost: the mixer's crossfading over a chain of segments, and the MP3 encoder, each as
// seconds of stream per second of CPU, so "stations one core carries" follows. Prints JSON.
import { spawnMp3Encoder } from '@lofi/audio';
import type { SegmentResult } from '@lofi/contracts';
import { Mixer, type PlayableSegment } from '../services/streamer/src/playout/mixer.ts';

const SR = 48000;
const CH = 2;
const STREAM_SECONDS = 120;

function chain(n: number, content: number, overlap: number): PlayableSegment[] {
  const segs: PlayableSegment[] = [];
  for (let k = 0; k < n; k++) {
    const frames = Math.round((content + overlap) * SR);
    const pcm = new Float32Array(frames * CH);
    for (let i = 0; i < pcm.length; i++) pcm[i] = 0.2 * Math.sin((i * 0.013 + k) % 6.283);
    segs.push({
      pcm,
      meta: {
        seq: k,
        continuesSeq: k === 0 ? null : k - 1,
        joinAtSeconds: k === 0 ? 0 : content,
        promptVersion: 0,
        headOverlapSeconds: overlap,
        durationSeconds: frames / SR,
        title: String(k),
      } as SegmentResult,
    });
  }
  return segs;
}

const cpu = () => process.cpuUsage();
const cpuSeconds = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
};

const segs = chain(Math.ceil(STREAM_SECONDS / 8) + 2, 8, 1.5);
const mixer = new Mixer(
  SR,
  CH,
  { successorsOf: (seq) => segs.filter((s) => s.meta.continuesSeq === seq) },
  { segmentStarted: () => {} },
);
mixer.start(segs[0] as PlayableSegment);
const chunks: Float32Array[] = [];
let t = cpu();
for (let i = 0; i < STREAM_SECONDS * 10; i++) chunks.push(mixer.render(SR / 10));
const mixCpu = cpuSeconds(t);

// The encoder is a child process: measure its CPU from /proc via its own accounting (rusage).
const enc = spawnMp3Encoder(SR, CH, 128);
enc.stdout.resume();
t = cpu();
const wall = Date.now();
for (const c of chunks) enc.stdin.write(Buffer.from(c.buffer));
enc.stdin.end();
await enc.exited;
const encWall = (Date.now() - wall) / 1000;

process.stdout.write(
  `${JSON.stringify({
    streamSeconds: STREAM_SECONDS,
    mixerCpuSeconds: mixCpu,
    mixerRealtimeFactor: STREAM_SECONDS / mixCpu,
    encoderWallSeconds: encWall,
    encoderRealtimeFactor: STREAM_SECONDS / encWall,
  })}\n`,
);
