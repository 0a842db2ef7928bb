// ffmpeg adapters. Everything that spawns ffmpeg lives here so the rest of the code deals in PCM and
// frames. fluent-ffmpeg builds the encoder's command line; the processes are real ffmpeg.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { type DecodedAudio, flacDecoder, isFlac } from './flac.ts';

export const PCM_FORMAT = 'f32le';

/**
 * Decodes an audio file to interleaved Float32 PCM at the given rate and channel count. `input` is
 * a file path, or the file's bytes (from a segment store without local files). FLAC at that rate
 * and channel count (every segment the worker writes) is decoded in-process, on the decoder
 * thread; anything else goes through ffmpeg.
 */
export async function decodeToFloat32(
  input: string | Buffer,
  sampleRate: number,
  channels: number,
  /** Lower goes first on the decoder threads: the wall time (ms) it is needed by; 0 is now. */
  priority = 0,
): Promise<Float32Array> {
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  if (!isFlac(bytes)) return decodeWithFfmpeg(bytes, sampleRate, channels, input);
  const file = typeof input === 'string' ? input : `<${input.length} bytes>`;
  let d: DecodedAudio;
  try {
    d = await flacDecoder().decode(bytes, priority);
  } catch (err) {
    throw new Error(`could not decode ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (d.sampleRate === sampleRate && d.channels === channels) return d.pcm;
  // Another rate or layout (not what the worker writes): ffmpeg resamples.
  return decodeWithFfmpeg(bytes, sampleRate, channels, input);
}

/**
 * Decodes any audio file through one ffmpeg process: a path, or the bytes fed on stdin.
 * Spawned directly rather than through fluent-ffmpeg: piping its output into a stream races the
 * stream's close against ffmpeg's exit and, under load, fails a good file with "Output stream
 * closed" (seen in CI), which left a station without its next segment.
 */
export function decodeWithFfmpeg(
  input: string | Buffer,
  sampleRate: number,
  channels: number,
  name: string | Buffer = input,
): Promise<Float32Array> {
  const file = typeof name === 'string' ? name : `<${name.length} bytes>`;
  return new Promise((resolve, reject) => {
    const args = [
      '-v',
      'error',
      '-i',
      typeof input === 'string' ? input : 'pipe:0',
      '-vn',
      '-ac',
      String(channels),
      '-ar',
      String(sampleRate),
      '-f',
      PCM_FORMAT,
      'pipe:1',
    ];
    const proc = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // ffmpeg may stop reading early (a corrupt file): its exit code reports that, not EPIPE.
    proc.stdin.on('error', () => {});
    if (typeof input === 'string') proc.stdin.end();
    else proc.stdin.end(input);
    const chunks: Buffer[] = [];
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => chunks.push(c));
    proc.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    proc.on('error', (err) => reject(new Error(`ffmpeg could not decode ${file}: ${err.message}`)));
    proc.on('close', (code, signal) => {
      if (code !== 0) {
        return reject(new Error(`ffmpeg could not decode ${file}: exit ${code ?? signal} ${stderr.trim()}`));
      }
      const buf = Buffer.concat(chunks);
      // Copy into an aligned buffer: Buffer.concat may return a view at an odd offset.
      const pcm = new Float32Array(Math.floor(buf.length / 4));
      new Uint8Array(pcm.buffer).set(buf.subarray(0, pcm.length * 4));
      resolve(pcm);
    });
  });
}

export interface Mp3EncoderProcess {
  stdin: Writable;
  stdout: Readable;
  /** Resolves when the process exits, for whatever reason. */
  exited: Promise<{ code: number | null; signal: string | null; error?: Error }>;
  kill(): void;
  pid(): number | undefined;
}

/** A long-running ffmpeg: Float32 PCM in on stdin, CBR MP3 frames out on stdout. */
export function spawnMp3Encoder(
  sampleRate: number,
  channels: number,
  bitrateKbps: number,
): Mp3EncoderProcess {
  const input = new PassThrough();
  const output = new PassThrough();
  let pid: number | undefined;
  const cmd = ffmpeg(input)
    .inputFormat(PCM_FORMAT)
    .inputOptions([`-ar ${sampleRate}`, `-ac ${channels}`])
    .audioCodec('libmp3lame')
    .audioBitrate(bitrateKbps)
    .audioChannels(channels)
    .audioFrequency(sampleRate)
    // No ID3 or Xing header: the output is an endless sequence of plain frames.
    .outputOptions(['-write_xing 0', '-id3v2_version 0', '-flush_packets 1', '-fflags +flush_packets'])
    .format('mp3');
  const exited = new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    cmd.on('start', () => {
      pid = (cmd as unknown as { ffmpegProc?: { pid?: number } }).ffmpegProc?.pid;
    });
    cmd.on('error', (error: Error) => resolve({ code: null, signal: null, error }));
    cmd.on('end', () => resolve({ code: 0, signal: null }));
  });
  cmd.pipe(output, { end: true });
  // ffmpeg going away must not crash us through EPIPE on its stdin.
  input.on('error', () => {});
  return {
    stdin: input,
    stdout: output,
    exited,
    kill: () => cmd.kill('SIGKILL'),
    pid: () => pid,
  };
}
