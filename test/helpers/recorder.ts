// Records a live stream with ffmpeg as a real client, decoding to 16 kHz mono PCM as it arrives, and
// measures what a listener would notice: silence runs, stalls (no audio arriving), and how much audio
// arrived against the wall clock.
import { spawn } from 'node:child_process';
import { analyse } from '@lofi/audio';

export interface Recording {
  /** Seconds of decoded audio. */
  seconds: number;
  wallSeconds: number;
  longestSilenceSeconds: number;
  /** Longest wall-clock gap between two arrivals of audio. */
  longestStallSeconds: number;
  /** Decoded audio in the first `seconds` of wall time (the connect burst). */
  burstSeconds: number;
  pcm: Float32Array;
}

export const RATE = 16000;

export function record(
  url: string,
  wallSeconds: number,
  headers: Record<string, string> = {},
): Promise<Recording> {
  return new Promise((resolve, reject) => {
    const hdr = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      ...(hdr ? ['-headers', hdr] : []),
      '-i',
      url,
      '-f',
      's16le',
      '-ac',
      '1',
      '-ar',
      String(RATE),
      'pipe:1',
    ];
    const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let started = 0;
    let lastArrival = 0;
    let longestStall = 0;
    let burstBytes = 0;
    let stderr = '';
    ff.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    ff.stdout.on('data', (d: Buffer) => {
      const now = Date.now();
      if (!started) {
        started = now;
        lastArrival = now;
        setTimeout(() => ff.kill('SIGTERM'), wallSeconds * 1000);
      }
      longestStall = Math.max(longestStall, (now - lastArrival) / 1000);
      lastArrival = now;
      chunks.push(d);
      bytes += d.length;
      if (now - started < 1000) burstBytes = bytes;
    });
    ff.on('error', reject);
    ff.on('close', () => {
      const wall = started ? (Date.now() - started) / 1000 : 0;
      const buf = Buffer.concat(chunks);
      const pcm = new Float32Array(Math.floor(buf.length / 2));
      for (let i = 0; i < pcm.length; i++) pcm[i] = buf.readInt16LE(i * 2) / 32768;
      if (!started) return reject(new Error(`no audio arrived from ${url}: ${stderr}`));
      resolve({
        seconds: pcm.length / RATE,
        wallSeconds: wall,
        longestSilenceSeconds: analyse(pcm, RATE).longestSilenceSeconds,
        longestStallSeconds: longestStall,
        burstSeconds: burstBytes / 2 / RATE,
        pcm,
      });
    });
  });
}
