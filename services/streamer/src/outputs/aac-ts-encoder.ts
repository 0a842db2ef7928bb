// A long-running ffmpeg: Float32 PCM in on stdin, AAC-LC (ADTS) in an MPEG transport stream out on
// stdout, for HLS. Spawned directly: the stream is cut into segments by the HLS output, not ffmpeg,
// so segment numbers and timing stay ours across encoder restarts.
import { spawn } from 'node:child_process';
import { PCM_FORMAT } from '@lofi/audio';
import type { EncoderProcess } from './supervised-encoder.ts';

/** Samples of priming the AAC encoder puts before the first input sample. */
export const AAC_ENCODER_DELAY = 1024;

export function spawnAacTsEncoder(sampleRate: number, channels: number, bitrateKbps: number): EncoderProcess {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    PCM_FORMAT,
    '-ar',
    String(sampleRate),
    '-ac',
    String(channels),
    '-i',
    'pipe:0',
    '-c:a',
    'aac',
    '-b:a',
    `${bitrateKbps}k`,
    '-ar',
    String(sampleRate),
    '-ac',
    String(channels),
    '-f',
    'mpegts',
    // Each PES goes out as soon as it is muxed: the output is live, and its pace shows health.
    '-flush_packets',
    '1',
    'pipe:1',
  ];
  const proc = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    proc.once('error', (error) => resolve({ code: null, signal: null, error }));
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // ffmpeg going away must not crash us through EPIPE on its stdin.
  proc.stdin.on('error', () => {});
  return {
    stdin: proc.stdin,
    stdout: proc.stdout,
    exited,
    kill: () => {
      proc.kill('SIGKILL');
    },
    pid: () => proc.pid,
  };
}
