// Playout cost per station, ours vs Debian's liquidsoap: the same chain of real procedural segments
// (FLAC, 48 kHz stereo) decoded, crossfaded over their 1.5 s head overlap and encoded to MP3 128 kbps
// and AAC 128 kbps in MPEG-TS, as fast as each can. The figure is CPU seconds (process + children)
// per second of stream, so "stations one core carries" is its inverse. Each side runs a short chain
// (2 segments) and the full one; the difference is the marginal cost per stream second, free of
// start-up (liquidsoap type-checks its whole standard library first, about 2 s of CPU). Both sides'
// outputs are measured with ffprobe. Usage: bench/playout-peer.ts [SEGMENTS=16] [REPS=3] [DECODE=thread|ffmpeg]
// (ffmpeg: one ffmpeg process per segment, as the streamer decoded before). Prints JSON.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { decodeToFloat32, decodeWithFfmpeg, spawnMp3Encoder } from '@lofi/audio';
import { assertSegmentResult, type SegmentResult } from '@lofi/contracts';
import { spawnAacTsEncoder } from '../services/streamer/src/outputs/aac-ts-encoder.ts';
import { Mixer, type PlayableSegment } from '../services/streamer/src/playout/mixer.ts';

const SR = 48000;
const CH = 2;
const KBPS = 128;
/** The playout's render quantum (station-playout.ts CHUNK_SECONDS). */
const CHUNK = Math.round(0.1 * SR);
const SEGMENTS = Number(process.argv[2] ?? 16);
const REPS = Number(process.argv[3] ?? 3);
const DECODE = process.argv[4] === 'ffmpeg' ? decodeWithFfmpeg : decodeToFloat32;
const SHORT = 2;
const ROOT = path.resolve(import.meta.dirname, '..');
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds of this process plus every child it has reaped (utime, stime, cutime, cstime). */
function cpuWithChildren(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((t, i) => t + Number(f[i]), 0) / TICK;
}

function probeSeconds(file: string): number {
  const out = execFileSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file],
    {
      encoding: 'utf8',
    },
  );
  return Number(out.trim());
}

function liquidsoapVersion(): string {
  const probe = () => spawnSync('liquidsoap', ['--version'], { encoding: 'utf8' });
  let v = probe();
  if (v.status !== 0) {
    if (process.getuid?.() !== 0) throw new Error('liquidsoap is not installed (apt-get install liquidsoap)');
    process.stderr.write('[playout-peer] installing Debian liquidsoap…\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'liquidsoap'], {
        env,
        stdio: 'ignore',
      });
    if (install().status !== 0) {
      spawnSync('apt-get', ['update'], { env, stdio: 'ignore' });
      if (install().status !== 0) throw new Error('apt-get install liquidsoap failed');
    }
    v = probe();
  }
  return (v.stdout.split('\n')[0] ?? '').trim();
}

async function pump(from: Readable, file: string): Promise<void> {
  const to = createWriteStream(file);
  from.pipe(to);
  await finished(to);
}

async function feed(to: Writable, buf: Buffer): Promise<void> {
  if (!to.write(buf)) await once(to, 'drain');
}

interface Run {
  cpuSeconds: number;
  mp3Seconds: number;
  tsSeconds: number;
}

/** Our per-station path: decode (the segment cache's decoder thread), Mixer, both encoders. */
async function ours(metas: SegmentResult[], dir: string, out: string): Promise<Run> {
  mkdirSync(out, { recursive: true });
  const t0 = cpuWithChildren();
  const segs: PlayableSegment[] = [];
  for (const meta of metas) segs.push({ meta, pcm: await DECODE(path.join(dir, meta.audioKey), SR, CH) });
  const mixer = new Mixer(
    SR,
    CH,
    { successorsOf: (seq) => segs.filter((s) => s.meta.continuesSeq === seq) },
    { segmentStarted: () => {} },
  );
  // The stream ends where the last segment does: its start (the sum of the joins) plus its length.
  const last = segs.at(-1) as PlayableSegment;
  const total =
    segs.slice(1).reduce((t, s) => t + Math.round(s.meta.joinAtSeconds * SR), 0) + last.pcm.length / CH;
  const mp3 = spawnMp3Encoder(SR, CH, KBPS);
  const aac = spawnAacTsEncoder(SR, CH, KBPS);
  const written = [pump(mp3.stdout, path.join(out, 'ours.mp3')), pump(aac.stdout, path.join(out, 'ours.ts'))];
  mixer.start(segs[0] as PlayableSegment);
  while (mixer.framesOut < total) {
    const pcm = mixer.render(Math.min(CHUNK, total - mixer.framesOut));
    const buf = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    await Promise.all([feed(mp3.stdin, buf), feed(aac.stdin, buf)]);
  }
  mp3.stdin.end();
  aac.stdin.end();
  const exits = await Promise.all([mp3.exited, aac.exited]);
  await Promise.all(written);
  const cpuSeconds = cpuWithChildren() - t0;
  for (const e of exits) if (e.code !== 0 || e.error) throw new Error(`encoder: ${JSON.stringify(e)}`);
  return {
    cpuSeconds,
    mp3Seconds: probeSeconds(path.join(out, 'ours.mp3')),
    tsSeconds: probeSeconds(path.join(out, 'ours.ts')),
  };
}

/** Liquidsoap playing the same files in order through bench/playout-peer.liq. */
async function peer(metas: SegmentResult[], dir: string, out: string): Promise<Run> {
  mkdirSync(out, { recursive: true });
  const list = path.join(out, 'list.m3u');
  writeFileSync(list, `${metas.map((m) => path.join(dir, m.audioKey)).join('\n')}\n`);
  const t0 = cpuWithChildren();
  const proc = spawn('liquidsoap', [path.join(ROOT, 'bench/playout-peer.liq'), '--', list, out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (c: Buffer) => {
    log = (log + c.toString()).slice(-4000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const [code] = (await once(proc, 'close')) as [number | null];
  const cpuSeconds = cpuWithChildren() - t0;
  if (code !== 0) throw new Error(`liquidsoap exited ${code}: ${log}`);
  return {
    cpuSeconds,
    mp3Seconds: probeSeconds(path.join(out, 'peer.mp3')),
    tsSeconds: probeSeconds(path.join(out, 'peer.ts')),
  };
}

/** Marginal CPU per stream second between the short and the full chain; checks both did the work. */
function marginal(name: string, short: Run, full: Run, expectShort: number, expectFull: number): number {
  for (const [r, want] of [
    [short, expectShort],
    [full, expectFull],
  ] as const) {
    // Encoder priming and padding, and liquidsoap's 40 ms frames (its overlaps are 1.44 s), allow
    // a little slack; a missing segment (7 s) or a stream cut short would not pass.
    for (const got of [r.mp3Seconds, r.tsSeconds])
      if (!(Math.abs(got - want) < 1.5))
        throw new Error(`${name}: output ${got} s, expected ${want.toFixed(2)} s`);
  }
  return (full.cpuSeconds - short.cpuSeconds) / (full.mp3Seconds - short.mp3Seconds);
}

const version = liquidsoapVersion();
const tmp = mkdtempSync(path.join(tmpdir(), 'lofi-playout-peer-'));
try {
  const raw = execFileSync(
    path.join(ROOT, 'python-worker/.venv/bin/python'),
    [path.join(ROOT, 'bench/render_chain.py'), String(SEGMENTS), tmp],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const { segments } = JSON.parse(raw.trim().split('\n').at(-1) as string) as { segments: unknown[] };
  const metas = segments.map((s) => assertSegmentResult(s));
  const expect = (ms: SegmentResult[]) =>
    ms.slice(1).reduce((t, m) => t + m.joinAtSeconds, 0) + (ms.at(-1) as SegmentResult).durationSeconds;
  const short = metas.slice(0, SHORT);
  const oursRuns: number[] = [];
  const peerRuns: number[] = [];
  let streamSeconds = 0;
  for (let rep = 0; rep < REPS; rep++) {
    process.stderr.write(`[playout-peer] round ${rep + 1}/${REPS}…\n`);
    const o = (n: string) => path.join(tmp, `r${rep}`, n);
    const oFull = await ours(metas, tmp, o('ours-full'));
    const oShort = await ours(short, tmp, o('ours-short'));
    const pFull = await peer(metas, tmp, o('peer-full'));
    const pShort = await peer(short, tmp, o('peer-short'));
    oursRuns.push(marginal('ours', oShort, oFull, expect(short), expect(metas)));
    peerRuns.push(marginal('liquidsoap', pShort, pFull, expect(short), expect(metas)));
    streamSeconds = oFull.mp3Seconds;
  }
  // The least disturbed round: the machine is shared, and interference only ever adds CPU time.
  const oursCpu = Math.min(...oursRuns);
  const peerCpu = Math.min(...peerRuns);
  process.stdout.write(
    `${JSON.stringify({
      segments: SEGMENTS,
      decode: process.argv[4] === 'ffmpeg' ? 'ffmpeg' : 'thread',
      streamSeconds,
      oursCpuPerStreamSecond: oursCpu,
      peerCpuPerStreamSecond: peerCpu,
      stationsPerCoreOurs: 1 / oursCpu,
      stationsPerCorePeer: 1 / peerCpu,
      ratio: peerCpu / oursCpu,
      oursRounds: oursRuns,
      peerRounds: peerRuns,
      liquidsoapVersion: version,
    })}\n`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
