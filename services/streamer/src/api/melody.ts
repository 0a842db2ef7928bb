// A station's melody for musicgen-melody: `PUT /api/stations/:id/melody` with the audio file as the
// body (admin token or the station's owner key). ffprobe checks it is one known audio format of
// bounded length; ffmpeg stores it as mono 32 kHz FLAC (MusicGen's rate) under
// stations/<id>/melody/melody.flac, the job's `melodyKey`. Bad files are 400s that change nothing.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { melodyKeyFor, STATION_ID_PATTERN } from '@lofi/contracts';
import type { StationRepo } from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.ts';
import { requireStationControl } from './auth.ts';

export const MELODY_MAX_BYTES = 8 * 1024 * 1024;
export const MELODY_MAX_SECONDS = 30; // musicgen-melody's chroma covers its 30 s window
export const MELODY_MIN_SECONDS = 1;
/** ffprobe format names accepted (a file's container, not its extension). */
const FORMATS = new Set(['wav', 'flac', 'mp3', 'ogg', 'aiff']);

export interface MelodyDeps {
  adminToken: string;
  stations: StationRepo;
  store: SegmentStore;
}

interface Probe {
  format: string;
  seconds: number;
  audioStreams: number;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: Buffer; err: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    proc.stdout.on('data', (b: Buffer) => out.push(b));
    proc.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, out: Buffer.concat(out), err }));
  });
}

async function probe(file: string): Promise<Probe | undefined> {
  const r = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=format_name,duration:stream=codec_type',
    '-of',
    'json',
    file,
  ]);
  if (r.code !== 0) return undefined;
  const j = JSON.parse(r.out.toString()) as {
    format?: { format_name?: string; duration?: string };
    streams?: Array<{ codec_type?: string }>;
  };
  return {
    format: j.format?.format_name ?? '',
    seconds: Number(j.format?.duration ?? Number.NaN),
    audioStreams: (j.streams ?? []).filter((s) => s.codec_type === 'audio').length,
  };
}

/** Decodes to mono 32 kHz FLAC in a file (seekable, so its header holds the exact length). */
async function toFlac(file: string, out: string): Promise<Buffer> {
  // At most one second over the limit is decoded: a file claiming hours costs no more.
  const limit = String(MELODY_MAX_SECONDS + 1);
  const r = await run('ffmpeg', [
    '-v',
    'error',
    '-i',
    file,
    '-t',
    limit,
    '-vn',
    '-ac',
    '1',
    '-ar',
    '32000',
    '-c:a',
    'flac',
    '-y',
    out,
  ]);
  if (r.code !== 0) throw errors.badRequest(`melody could not be decoded: ${r.err.trim().split('\n')[0]}`);
  return readFile(out);
}

/** Checks an uploaded melody and returns it as FLAC; throws a 400 saying what is wrong. */
export async function checkMelody(body: Buffer): Promise<{ flac: Buffer; format: string; seconds: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lofi-melody-'));
  const file = path.join(dir, randomBytes(6).toString('hex'));
  try {
    await writeFile(file, body);
    // The container's own duration is missing for streamed files: the decoded length decides.
    const input = await probe(file);
    const format = input?.format.split(',').find((f) => FORMATS.has(f));
    if (!input || !format || input.audioStreams !== 1)
      throw errors.badRequest(`melody must be one audio stream in ${[...FORMATS].join(', ')}`);
    const flac = await toFlac(file, `${file}.flac`);
    const seconds = (await probe(`${file}.flac`))?.seconds ?? Number.NaN;
    if (!Number.isFinite(seconds) || seconds < MELODY_MIN_SECONDS || seconds > MELODY_MAX_SECONDS)
      throw errors.badRequest(
        `melody must be ${MELODY_MIN_SECONDS}-${MELODY_MAX_SECONDS} s long (this one: ${Number.isFinite(seconds) ? `${seconds > MELODY_MAX_SECONDS ? 'over ' : ''}${Math.min(seconds, MELODY_MAX_SECONDS).toFixed(1)}` : 'unknown'} s)`,
      );
    return { flac, format, seconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: STATION_ID_PATTERN } },
} as const;

export function registerMelody(app: FastifyInstance, d: MelodyDeps): void {
  // Raw audio bodies only in this scope; the rest of the API stays JSON.
  void app.register(async (scope) => {
    for (const type of [/^audio\//, 'application/octet-stream']) {
      scope.addContentTypeParser(
        type,
        { parseAs: 'buffer', bodyLimit: MELODY_MAX_BYTES },
        (_req, body, done) => done(null, body),
      );
    }
    scope.put<{ Params: { id: string }; Body: Buffer }>(
      '/api/stations/:id/melody',
      { bodyLimit: MELODY_MAX_BYTES, schema: { params: idParams } },
      async (req) => {
        if (!(await d.stations.get(req.params.id))) throw errors.stationNotFound(req.params.id);
        await requireStationControl(req, d.adminToken, d.stations, req.params.id);
        if (!Buffer.isBuffer(req.body) || req.body.length === 0)
          throw errors.badRequest(
            'send the melody file as the body (Content-Type audio/* or application/octet-stream)',
          );
        const m = await checkMelody(req.body);
        const key = melodyKeyFor(req.params.id);
        await d.store.put(key, m.flac, 'audio/flac');
        req.log.info({ stationId: req.params.id, format: m.format, seconds: m.seconds }, 'melody stored');
        return { melodyKey: key, format: m.format, durationSeconds: Math.round(m.seconds * 100) / 100 };
      },
    );
    scope.delete<{ Params: { id: string } }>(
      '/api/stations/:id/melody',
      { schema: { params: idParams } },
      async (req, reply) => {
        if (!(await d.stations.get(req.params.id))) throw errors.stationNotFound(req.params.id);
        await requireStationControl(req, d.adminToken, d.stations, req.params.id);
        await d.store.remove(melodyKeyFor(req.params.id));
        return reply.code(204).send();
      },
    );
  });
}
