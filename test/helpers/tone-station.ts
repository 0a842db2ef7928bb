// A streamer whose station plays a known chain of pure tones, one frequency per segment, so a test
// can find in the received audio where each segment begins. The segments are real FLAC files in a
// real store and a real Redis index; only the Python worker is left out.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@lofi/config';
import { audioKeyFor, metaKeyFor, type SegmentResult } from '@lofi/contracts';
import { connect, Keys, SegmentIndex } from '@lofi/redis';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { build } from '../../services/streamer/src/app.ts';
import type { TestRedis } from './redis-server.ts';
import { uniquePrefix } from './redis-server.ts';

export interface ToneChain {
  freqs: readonly number[];
  /** Seconds from one segment's start to the next's. */
  contentSeconds: number;
  overlapSeconds: number;
  /** The track of each tone (its index); without it the segments carry no track (older data). */
  tracks?: readonly number[];
}

export const toneTitle = (k: number, freq: number): string => `Tone ${k} at ${freq} Hz`;
export const TONE_ARTIST = 'Tone FM';
export const toneTrackName = (index: number): string => `Tone Track ${index}`;

/** The contract's track of tone `k` in the chain (its position counted within its track). */
function toneTrack(chain: ToneChain, k: number): SegmentResult['track'] {
  const index = chain.tracks?.[k];
  if (index === undefined || !chain.tracks) return undefined;
  const members = chain.tracks.flatMap((t, i) => (t === index ? [i] : []));
  const position = members.indexOf(k);
  const part = position === 0 ? 'intro' : position === members.length - 1 ? 'outro' : 'development';
  return {
    index,
    name: toneTrackName(index),
    artist: TONE_ARTIST,
    position,
    segments: members.length,
    part,
  };
}

/** Writes the chain's FLAC files and metadata into the store and the index of station `lofi`. */
export async function writeToneChain(dataDir: string, index: SegmentIndex, chain: ToneChain): Promise<void> {
  const duration = chain.contentSeconds + chain.overlapSeconds;
  for (const [k, freq] of chain.freqs.entries()) {
    const audioKey = audioKeyFor('lofi', k, 0);
    const file = path.join(dataDir, audioKey);
    mkdirSync(path.dirname(file), { recursive: true });
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${freq}:sample_rate=48000:duration=${duration}`,
      '-ac',
      '2',
      '-c:a',
      'flac',
      file,
    ]);
    const meta: SegmentResult = {
      stationId: 'lofi',
      seq: k,
      promptVersion: 0,
      prompt: 'test tones',
      title: toneTitle(k, freq),
      backend: 'procedural',
      model: 'tone',
      audioKey,
      metaKey: metaKeyFor(audioKey),
      durationSeconds: duration,
      headOverlapSeconds: k === 0 ? 0 : chain.overlapSeconds,
      sampleRate: 48000,
      channels: 2,
      loudnessLufs: -16,
      truePeakDbtp: -1,
      generationSeconds: 0.1,
      continuesSeq: k === 0 ? null : k - 1,
      joinAtSeconds: k === 0 ? 0 : chain.contentSeconds,
      state: {},
    };
    const track = toneTrack(chain, k);
    if (track) meta.track = track;
    writeFileSync(path.join(dataDir, meta.metaKey), JSON.stringify(meta));
    await index.add(meta);
  }
}

export interface ToneStreamer {
  app: FastifyInstance;
  baseUrl: string;
  close(): Promise<void>;
}

/** Builds and starts the streamer (listening on a free port) over the tone chain. */
export async function toneStreamer(
  redis: TestRedis,
  chain: ToneChain,
  log: Logger,
  env: Record<string, string> = {},
): Promise<ToneStreamer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lofi-tones-'));
  const prefix = uniquePrefix('tones');
  const conn = connect(redis.url, 'tones');
  try {
    await writeToneChain(dataDir, new SegmentIndex(conn, new Keys(prefix)), chain);
  } finally {
    await conn.quit();
  }
  const config = loadConfig({
    REDIS_URL: redis.url,
    ADMIN_TOKEN: 'tone-admin-token-0123456789',
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
    ...env,
  });
  const app = await build({ config, log });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { app, baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}
