// `npm run bench`: runs every benchmark on this machine, prints one table and writes it to
// docs/BENCHMARKS.md with the machine and the date. Each figure is a ratio against a limit measured
// or fixed in the same run (real time), never a bare absolute time.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, setup, VENV_BIN } from './lib/setup.mjs';

setup({ needRedis: true, needIcecast: true });

// Each benchmark prints one JSON line; servers it started may print around it.
const json = (cmd, args) => {
  const out = execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = out
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`${args.join(' ')} printed no result`);
  return JSON.parse(line);
};

process.stderr.write('[bench] procedural backend (one core)…\n');
const proc = json(path.join(VENV_BIN, 'python'), ['bench/procedural_speed.py', '8']);
process.stderr.write('[bench] playout mixer and MP3 encoder…\n');
const play = json(process.execPath, ['--import', 'tsx', 'bench/playout.ts']);
process.stderr.write('[bench] mood change latency (20 changes, full stack)…\n');
const mood = json(process.execPath, ['--import', 'tsx', 'bench/mood-latency.ts', '20']);
// Fan-out — begin
process.stderr.write('[bench] listener fan-out, ours vs icecast2 (about 3 minutes)…\n');
const fan = json(process.execPath, ['--import', 'tsx', 'bench/fanout.ts']);
const ms = (x) => (x == null || !Number.isFinite(x) ? 'n/a' : `${Math.round(x)} ms`);
const heldText = (s) => `${s.held}${s.brokeAt ? ` (${s.brokeAt}: fewer than 99 %)` : ' (every step held)'}`;
const fanAt = fan.common;
const fanRows = [
  [
    'Listener fan-out: 128 kbps MP3 listeners held at real time (≥ 99 % within 1 s of the wall clock), ramp 250…16000',
    `ours ${heldText(fan.ours)}; icecast2 ${heldText(fan.icecast2)}; ours/icecast2 ${fan.heldRatio.toFixed(2)}×`,
    `${fan.icecastVersion} relaying the same stream, same run, same load generator`,
    'node --import tsx bench/fanout.ts',
  ],
  [
    `Fan-out CPU per 1,000 listeners (server process, at ${fanAt.n} listeners)`,
    `ours ${((fanAt.ours?.cpuCoresPer1000 ?? Number.NaN) * 100).toFixed(1)} % of a core; icecast2 ${((fanAt.icecast2?.cpuCoresPer1000 ?? Number.NaN) * 100).toFixed(1)} %`,
    `${fan.icecastVersion}, same run`,
    'node --import tsx bench/fanout.ts',
  ],
  [
    `Fan-out connect storm: ${fan.storm.ours[0]?.n} listeners within ${(fan.storm.ours[0]?.rampMs ?? 0) / 1000} s, time to first audio byte (each round)`,
    `ours ${fan.storm.ours.map((s) => `p50 ${ms(s.ttfaP50Ms)}, p99 ${ms(s.ttfaP99Ms)}`).join(' / ')}; icecast2 ${fan.storm.icecast2.map((s) => `p50 ${ms(s.ttfaP50Ms)}, p99 ${ms(s.ttfaP99Ms)}`).join(' / ')}`,
    `${fan.icecastVersion}, same run, same load generator, rounds alternating who goes first; a listener that never got audio counts as infinitely slow`,
    'node --import tsx bench/fanout.ts storm',
  ],
  [
    'Fan-out connect storm: listeners held at real time, and server CPU per 1,000 listeners over the 10 s hold (each round)',
    `ours ${fan.storm.ours.map((s) => `${(s.heldFraction * 100).toFixed(1)} % held, ${(s.cpuCoresPer1000 * 100).toFixed(1)} % of a core`).join(' / ')}; icecast2 ${fan.storm.icecast2.map((s) => `${(s.heldFraction * 100).toFixed(1)} % held, ${(s.cpuCoresPer1000 * 100).toFixed(1)} %`).join(' / ')}`,
    `${fan.icecastVersion}, same run`,
    'node --import tsx bench/fanout.ts storm',
  ],
  [
    `Fan-out time to first audio (at ${fanAt.n} listeners, connected over 2.5 s)`,
    `ours p50 ${ms(fanAt.ours?.ttfaP50Ms)}, p99 ${ms(fanAt.ours?.ttfaP99Ms)}; icecast2 p50 ${ms(fanAt.icecast2?.ttfaP50Ms)}, p99 ${ms(fanAt.icecast2?.ttfaP99Ms)}`,
    `${fan.icecastVersion}, same run`,
    'node --import tsx bench/fanout.ts',
  ],
];
// Fan-out — end
// Playout peer — begin
process.stderr.write('[bench] playout CPU per station, ours vs liquidsoap (about 1 minute)…\n');
const peer = json(process.execPath, ['--import', 'tsx', 'bench/playout-peer.ts']);
const playoutPeerRows = [
  [
    'Playout CPU per station: decode + 1.5 s crossfades + MP3 128k + AAC 128k MPEG-TS, 16 real segments',
    `ours ${(peer.oursCpuPerStreamSecond * 100).toFixed(1)} % of a core (${peer.stationsPerCoreOurs.toFixed(0)} stations per core); liquidsoap ${(peer.peerCpuPerStreamSecond * 100).toFixed(1)} % (${peer.stationsPerCorePeer.toFixed(0)}); ours carries ${peer.ratio.toFixed(2)}× as many`,
    `${peer.liquidsoapVersion} (Debian) crossfading the same files into the same encoders, same run`,
    'node --import tsx bench/playout-peer.ts',
  ],
];
// Playout peer — end
process.stderr.write('[bench] seams over 100 crossfades of real segments…\n');
const seams = json(process.execPath, ['--import', 'tsx', 'bench/seams.ts', '100']);
// Listening quality — begin
process.stderr.write(
  '[bench] listening quality: an hour of procedural music, three moods (about 4 minutes)…\n',
);
const lq = json(path.join(VENV_BIN, 'python'), ['bench/listening_quality.py', '20']);
const lqCmd = 'python-worker/.venv/bin/python bench/listening_quality.py 20';
const x2 = (v) => (v == null || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(2)}×`);
const seamText = (s) =>
  s
    ? `worst ${x2(s.stepRatio)}, p99 ${x2(s.stepP99Ratio)} (step); worst ${x2(s.fluxRatio)}, p99 ${x2(s.fluxP99Ratio)} (flux)`
    : 'n/a';
const dist = (kind, group, digits) => lq.distances[kind]?.[group]?.toFixed(digits) ?? 'n/a';
const baseDist = (kind, group, digits) => lq.baseline?.distances[kind]?.[group]?.toFixed(digits) ?? 'n/a';
const listeningRows = [
  [
    `Listening: per-segment loudness and true peak over ${(lq.audioSeconds / 60).toFixed(0)} min of three moods (${lq.segments} segments, ${lq.tracks} tracks)`,
    `${lq.segmentLufsMin.toFixed(2)} … ${lq.segmentLufsMax.toFixed(2)} LUFS (${lq.segmentsOutside1Lu} outside ±1 LU); true peak max ${lq.segmentTruePeakMax.toFixed(2)} dBTP; joined stream ${lq.streamLufs.toFixed(2)} LUFS, ${lq.streamTruePeak.toFixed(2)} dBTP`,
    'goal -16 ±1 LUFS, ≤ -1 dBTP',
    lqCmd,
  ],
  [
    'Listening: longest silence (< -60 dBFS) in the joined hour',
    `${(lq.longestSilenceSeconds * 1000).toFixed(1)} ms`,
    'goal: none over 0.3 s',
    lqCmd,
  ],
  [
    `Listening: seams of the hour vs the music elsewhere (${lq.seams.n} crossfades)`,
    `${seamText(lq.seams)}; against the same place in other bars: ${seamText(lq.seamsVsDownbeats)}`,
    'the same hour outside the seams; goal ≤ 1.0× at p99',
    lqCmd,
  ],
  [
    `Listening: track changes (${lq.trackChanges?.n ?? 0}, ring-out into the new downbeat) and mood changes (${lq.moodChanges?.n ?? 0})`,
    `tracks ${seamText(lq.trackChanges)}; moods ${seamText(lq.moodChanges)}`,
    'the same hour elsewhere',
    lqCmd,
  ],
  [
    'Listening: variety between tracks of one mood (median distance of consecutive tracks): chroma (1 − cos), timbre (RMS dB over 24 bands), tempo',
    `chroma ${dist('chroma', 'consecutive', 3)}, timbre ${dist('timbre', 'consecutive', 2)} dB, tempo ${dist('tempo', 'consecutive', 1)} BPM`,
    `tracks of different moods: ${dist('chroma', 'between', 3)}, ${dist('timbre', 'between', 2)} dB, ${dist('tempo', 'between', 1)} BPM; the arranger without tracks (same cuts): ${baseDist('chroma', 'consecutive', 3)}, ${baseDist('timbre', 'consecutive', 2)} dB, ${baseDist('tempo', 'consecutive', 1)} BPM`,
    lqCmd,
  ],
  [
    'Listening: longest passage repeated note for note in another track',
    `${lq.repeat.acrossTracksBars} bars (within a track: ${lq.repeat.withinTrackBars}), over ${lq.repeat.bars} bars`,
    `goal: none over 4 bars; without tracks: ${lq.baseline?.repeat.acrossTracksBars ?? 'n/a'} bars`,
    lqCmd,
  ],
];
// Listening quality — end
process.stderr.write('[bench] start-up (npm start to first audio, 3 runs)…\n');
const startup = json(process.execPath, ['--import', 'tsx', 'bench/startup.ts', '3']);

const rows = [
  [
    'Procedural generation, 48 kHz stereo, one core (job path incl. mastering + FLAC)',
    `${proc.realtimeFactor.toFixed(1)}× real time`,
    'real time (1×); target 100×',
    'python-worker/.venv/bin/python bench/procedural_speed.py 8',
  ],
  [
    'Playout mixer (crossfades, 48 kHz stereo)',
    `${play.mixerRealtimeFactor.toFixed(0)}× real time per core`,
    'real time (1×)',
    'node --import tsx bench/playout.ts',
  ],
  [
    `Mood change → new mood on air in the playout (${mood.onAir.n} changes)`,
    `p50 ${mood.onAir.p50.toFixed(1)} s, max ${mood.onAir.max.toFixed(1)} s`,
    'target 10 s',
    'node --import tsx bench/mood-latency.ts 20',
  ],
  [
    'Mood change → its first audio (in-band title) arriving at an ICY listener',
    `p50 ${mood.atListener.p50.toFixed(1)} s, max ${mood.atListener.max.toFixed(1)} s`,
    'target 10 s',
    'node --import tsx bench/mood-latency.ts 20',
  ],
  [
    'MP3 encoder (ffmpeg libmp3lame 128 kbps)',
    `${play.encoderRealtimeFactor.toFixed(0)}× real time`,
    'real time (1×)',
    'node --import tsx bench/playout.ts',
  ],
  // Playout peer — begin
  ...playoutPeerRows,
  // Playout peer — end
  ...fanRows,
  [
    `Seams: worst sample step in the crossfade vs anywhere else (${seams.seams} seams of real segments)`,
    `${seams.stepRatio.toFixed(2)}× the worst elsewhere; p99 ${seams.stepSeamP99Ratio.toFixed(2)}×`,
    'the same stream outside the crossfades (1×: a seam is like any other moment)',
    'node --import tsx bench/seams.ts 100',
  ],
  [
    'Seams: worst spectral jump (flux between 43 ms frames) in the crossfade vs anywhere else',
    `${seams.fluxRatio.toFixed(2)}× the worst elsewhere; p99 ${seams.fluxSeamP99Ratio.toFixed(2)}×`,
    'the same stream outside the crossfades',
    'node --import tsx bench/seams.ts 100',
  ],
  // Listening quality — begin
  ...listeningRows,
  // Listening quality — end
  [
    'Start-up: `npm start` (installed) to the first audio byte at a listener, fresh DATA_DIR',
    `median ${startup.firstAudioSeconds.toFixed(1)} s (HTTP up at ${startup.httpSeconds.toFixed(1)} s), ${startup.runs} runs`,
    'one segment of music is 8 s',
    'node --import tsx bench/startup.ts 3',
  ],
];
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = `Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}`;
const table = [
  '| benchmark | result | against | command |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
process.stdout.write(`\n${header}\n\n${table}\n`);

const file = path.join(ROOT, 'docs/BENCHMARKS.md');
const start = '<!-- bench:begin -->';
const end = '<!-- bench:end -->';
const doc = readFileSync(file, 'utf8');
const i = doc.indexOf(start);
const j = doc.indexOf(end);
if (i >= 0 && j > i) {
  writeFileSync(file, `${doc.slice(0, i + start.length)}\n${header}\n\n${table}\n${doc.slice(j)}`);
  process.stderr.write('[bench] docs/BENCHMARKS.md updated\n');
}
