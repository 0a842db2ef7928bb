import { type Config, TRACK_SECONDS_BOUNDS } from '@lofi/config';
import { PRESETS, presetById, STATION_ID_PATTERN } from '@lofi/contracts';
import {
  type ChainStore,
  type Keys,
  publish,
  type Station,
  type StationPatch,
  type StationRepo,
} from '@lofi/redis';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { errors } from '../errors.ts';
import { nowPlayingView, tracksView } from '../playout/on-air.ts';
import type { StationManager } from '../station-manager.ts';
import { isAdminRequest, requireAdmin, requireStationControl } from './auth.ts';
import { cleanPrompt, cleanText } from './prompt.ts';
import { type Bucket, rateLimiter } from './rate-limit.ts';
import { registerStream } from './stream.ts';

export interface RouteDeps {
  config: Config;
  adminToken: string;
  redis: Redis;
  keys: Keys;
  stations: StationRepo;
  chains: ChainStore;
  manager: StationManager;
}

/** Fields an owner may set, at creation or later; bounds that keep a station sane. */
const stationFields = {
  name: { type: 'string', maxLength: 400 },
  description: { type: 'string', maxLength: 2000 },
  backend: { type: 'string', enum: ['procedural', 'musicgen'] },
  model: { type: 'string', maxLength: 200 },
  lookaheadSeconds: { type: 'number', minimum: 10, maximum: 3600 },
  segmentSeconds: { type: 'number', minimum: 2, maximum: 60 },
  overlapSeconds: { type: 'number', minimum: 0.05, maximum: 10 },
  topK: { type: 'integer', minimum: 0, maximum: 2048 },
  topP: { type: 'number', minimum: 0, maximum: 1 },
  temperature: { type: 'number', exclusiveMinimum: 0, maximum: 4 },
  cfgCoef: { type: 'number', minimum: 0, maximum: 20 },
  // Tracks: who players show as the artist ('' = the station's name), and the length range.
  artist: { type: 'string', maxLength: 400 },
  trackSecondsMin: { type: 'number', minimum: TRACK_SECONDS_BOUNDS.min, maximum: TRACK_SECONDS_BOUNDS.max },
  trackSecondsMax: { type: 'number', minimum: TRACK_SECONDS_BOUNDS.min, maximum: TRACK_SECONDS_BOUNDS.max },
} as const;

/** A Hugging Face repo id (owner/name). Never a path: station owners do not choose files on workers. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** The mood asked for: a preset by id, or free text. */
function moodOf(body: { prompt?: string; preset?: string }): { prompt: string; preset: string } {
  if (body.preset !== undefined) {
    const preset = presetById(body.preset);
    if (!preset) throw errors.badRequest(`no preset ${JSON.stringify(body.preset)}; see GET /api/presets`);
    return { prompt: preset.prompt, preset: preset.id };
  }
  return { prompt: cleanPrompt(body.prompt), preset: '' };
}

/** Checks and normalises the fields common to creation and update; throws a 400 on bad values. */
function cleanPatch(
  patch: StationPatch,
  current: Pick<Station, 'segmentSeconds' | 'overlapSeconds' | 'trackSecondsMin' | 'trackSecondsMax'>,
): StationPatch {
  const out: StationPatch = { ...patch };
  if (out.name !== undefined) out.name = cleanText(out.name, 'name', 100);
  if (out.description !== undefined) {
    out.description = out.description.trim() ? cleanText(out.description, 'description', 500) : '';
  }
  if (out.model !== undefined) {
    out.model = out.model.trim();
    if (out.model && !MODEL_ID.test(out.model))
      throw errors.badRequest(
        'model must be a Hugging Face repo id such as facebook/musicgen-small, or empty',
      );
  }
  const segment = out.segmentSeconds ?? current.segmentSeconds;
  const overlap = out.overlapSeconds ?? current.overlapSeconds;
  if (overlap * 2 > segment) throw errors.badRequest('overlapSeconds must be at most half of segmentSeconds');
  if (out.artist !== undefined) out.artist = out.artist.trim() ? cleanText(out.artist, 'artist', 100) : '';
  if ((out.trackSecondsMin ?? current.trackSecondsMin) > (out.trackSecondsMax ?? current.trackSecondsMax))
    throw errors.badRequest('trackSecondsMin must be at most trackSecondsMax');
  return out;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: STATION_ID_PATTERN } },
} as const;

export function registerRoutes(app: FastifyInstance, d: RouteDeps): void {
  const limiter = rateLimiter(d.redis, d.keys, d.config.rateLimitPerMinute);
  // Counted before parsing and auth: a flood of bad bodies or wrong tokens is limited too.
  const limit = (bucket: Bucket) => async (req: FastifyRequest, reply: FastifyReply) =>
    limiter.take(bucket, req, reply);
  const load = async (id: string): Promise<Station> => {
    const s = await d.stations.get(id);
    if (!s) throw errors.stationNotFound(id);
    return s;
  };

  const view = async (s: Station) => {
    const chain = await d.chains.read(s.id);
    const rt = d.manager.get(s.id);
    return {
      id: s.id,
      name: s.name,
      description: s.description,
      prompt: s.prompt,
      preset: s.preset || null,
      promptVersion: s.promptVersion,
      backend: s.backend,
      model: s.model || null,
      status: chain.status,
      bufferedSeconds: Math.round(chain.bufferedSeconds * 10) / 10,
      lookaheadSeconds: s.lookaheadSeconds,
      segmentSeconds: s.segmentSeconds,
      overlapSeconds: s.overlapSeconds,
      artist: s.artist || s.name,
      trackSeconds: { min: s.trackSecondsMin, max: s.trackSecondsMax },
      params: { topK: s.topK, topP: s.topP, temperature: s.temperature, cfgCoef: s.cfgCoef },
      generationRealtimeFactor: chain.generationRealtimeFactor,
      // The station's own backend keeps failing and the procedural fallback is playing.
      fallback: chain.fallbackUntilMs > Date.now(),
      listeners: rt ? (await d.manager.listenersEverywhere(rt)).total : 0,
      underruns: rt?.playout.underruns ?? 0,
      nowPlaying: rt?.playout.nowPlaying ? nowPlayingView(rt.playout.nowPlaying) : null,
      streamUrl: `/stations/${s.id}/stream.mp3`,
    };
  };

  app.get('/healthz', async (_req, reply) => {
    const runtimes = d.manager.all();
    const playing = runtimes.filter((r) => r.playout.playing).map((r) => r.id);
    const ok = playing.length > 0;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'starting', playing });
  });

  app.get('/api/presets', async () => ({ presets: PRESETS }));

  app.get('/api/stations', async () => Promise.all((await d.stations.list()).map(view)));

  app.get<{ Params: { id: string } }>('/api/stations/:id', { schema: { params: idParams } }, async (req) =>
    view(await load(req.params.id)),
  );

  app.get<{ Params: { id: string } }>(
    '/api/stations/:id/now-playing',
    { schema: { params: idParams } },
    async (req) => {
      const s = await load(req.params.id);
      const np = d.manager.get(s.id)?.playout.nowPlaying ?? null;
      // The track on air, how long it has played, and its segment on air (`segment`).
      return { stationId: s.id, playing: np !== null, ...(np ? nowPlayingView(np) : {}) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/stations/:id/history',
    { schema: { params: idParams } },
    async (req) => {
      const s = await load(req.params.id);
      const playout = d.manager.get(s.id)?.playout;
      // The last 20 tracks (each with its start and duration), and the last 20 segments.
      return {
        stationId: s.id,
        history: tracksView(playout?.history ?? []),
        segments: playout?.segments ?? [],
      };
    },
  );

  app.put<{ Params: { id: string }; Body: { prompt?: string; preset?: string } }>(
    '/api/stations/:id/mood',
    {
      onRequest: limit('control'),
      bodyLimit: 8 * 1024,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
          properties: {
            prompt: { type: 'string', maxLength: 2000 },
            preset: { type: 'string', maxLength: 64 },
          },
        },
      },
    },
    async (req) => {
      await load(req.params.id);
      await requireStationControl(req, d.adminToken, d.stations, req.params.id);
      const { prompt, preset } = moodOf(req.body);
      const s = await d.stations.setMood(req.params.id, prompt, preset);
      if (!s) throw errors.stationNotFound(req.params.id);
      await publish(d.redis, d.keys, { type: 'mood', stationId: s.id, promptVersion: s.promptVersion });
      req.log.info({ stationId: s.id, promptVersion: s.promptVersion }, 'mood changed');
      return view(s);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/stations/:id/moods',
    { schema: { params: idParams } },
    async (req) => {
      const s = await load(req.params.id);
      return { stationId: s.id, moods: await d.stations.moods(s.id) };
    },
  );

  app.post<{ Body: StationPatch & { id: string; name: string; prompt?: string; preset?: string } }>(
    '/api/stations',
    {
      onRequest: limit('create'),
      bodyLimit: 8 * 1024,
      schema: {
        body: {
          type: 'object',
          required: ['id', 'name'],
          additionalProperties: false,
          properties: {
            ...stationFields,
            id: idParams.properties.id,
            name: { type: 'string', minLength: 1, maxLength: 400 },
            prompt: { type: 'string', maxLength: 2000 },
            preset: { type: 'string', maxLength: 64 },
          },
        },
      },
    },
    async (req, reply) => {
      requireAdmin(req, d.adminToken);
      const { id, prompt: _p, preset: _s, ...fields } = req.body;
      if (req.body.prompt === undefined && req.body.preset === undefined)
        throw errors.badRequest('a station needs a prompt or a preset');
      if (req.body.prompt !== undefined && req.body.preset !== undefined)
        throw errors.badRequest('give a prompt or a preset, not both');
      const mood = moodOf(req.body);
      const patch = cleanPatch(fields, {
        segmentSeconds: d.config.segmentSeconds,
        overlapSeconds: d.config.overlapSeconds,
        trackSecondsMin: d.config.trackSecondsMin,
        trackSecondsMax: d.config.trackSecondsMax,
      });
      const created = await d.stations.create({ ...patch, id, name: patch.name ?? id, ...mood });
      if (!created) throw errors.stationExists(id);
      await publish(d.redis, d.keys, { type: 'station', stationId: created.station.id });
      req.log.info({ stationId: created.station.id }, 'station created');
      // The owner key is shown once; only its hash is stored.
      return reply.code(201).send({ ...(await view(created.station)), key: created.key });
    },
  );

  app.patch<{ Params: { id: string }; Body: StationPatch }>(
    '/api/stations/:id',
    {
      onRequest: limit('control'),
      bodyLimit: 8 * 1024,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: stationFields,
        },
      },
    },
    async (req) => {
      const current = await load(req.params.id);
      await requireStationControl(req, d.adminToken, d.stations, req.params.id);
      const patch = cleanPatch(req.body, current);
      const s = await d.stations.update(current.id, patch);
      if (!s) throw errors.stationNotFound(current.id);
      await publish(d.redis, d.keys, { type: 'station', stationId: s.id });
      req.log.info({ stationId: s.id, fields: Object.keys(patch) }, 'station updated');
      return view(s);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/stations/:id/key',
    { onRequest: limit('control'), schema: { params: idParams } },
    async (req) => {
      await load(req.params.id);
      await requireStationControl(req, d.adminToken, d.stations, req.params.id);
      const key = await d.stations.rotateKey(req.params.id);
      if (!key) throw errors.stationNotFound(req.params.id);
      req.log.info({ stationId: req.params.id }, 'owner key rotated');
      return { stationId: req.params.id, key };
    },
  );

  // Checks a token without side effects (the console's sign-in): 200 with the role, or 401.
  app.get<{ Params: { id: string } }>(
    '/api/stations/:id/access',
    { onRequest: limit('control'), schema: { params: idParams } },
    async (req) => {
      await load(req.params.id);
      await requireStationControl(req, d.adminToken, d.stations, req.params.id);
      return { stationId: req.params.id, role: isAdminRequest(req, d.adminToken) ? 'admin' : 'owner' };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/stations/:id',
    { onRequest: limit('control'), schema: { params: idParams } },
    async (req, reply) => {
      requireAdmin(req, d.adminToken);
      await load(req.params.id);
      await d.stations.remove(req.params.id);
      await publish(d.redis, d.keys, { type: 'station', stationId: req.params.id });
      req.log.info({ stationId: req.params.id }, 'station deleted');
      return reply.code(204).send();
    },
  );

  registerStream(app, d, load);
}
