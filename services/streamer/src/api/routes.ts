import type { Config } from '@lofi/config';
import { PRESETS, presetById, STATION_ID_PATTERN } from '@lofi/contracts';
import {
  type ChainStore,
  type Keys,
  publish,
  type Station,
  type StationPatch,
  type StationRepo,
} from '@lofi/redis';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { errors } from '../errors.ts';
import type { StationManager } from '../station-manager.ts';
import { requireAdmin, requireStationControl } from './auth.ts';
import { cleanPrompt, cleanText } from './prompt.ts';
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

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: STATION_ID_PATTERN } },
} as const;

export function registerRoutes(app: FastifyInstance, d: RouteDeps): void {
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
      promptVersion: s.promptVersion,
      backend: s.backend,
      status: chain.status,
      bufferedSeconds: Math.round(chain.bufferedSeconds * 10) / 10,
      lookaheadSeconds: s.lookaheadSeconds,
      segmentSeconds: s.segmentSeconds,
      overlapSeconds: s.overlapSeconds,
      params: { topK: s.topK, topP: s.topP, temperature: s.temperature, cfgCoef: s.cfgCoef },
      generationRealtimeFactor: chain.generationRealtimeFactor,
      listeners: rt?.icy.count ?? 0,
      underruns: rt?.playout.underruns ?? 0,
      nowPlaying: rt?.playout.nowPlaying ?? null,
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
      return { stationId: s.id, playing: np !== null, ...(np ?? {}), history: undefined };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/stations/:id/history',
    { schema: { params: idParams } },
    async (req) => {
      const s = await load(req.params.id);
      return { stationId: s.id, history: d.manager.get(s.id)?.playout.history ?? [] };
    },
  );

  app.put<{ Params: { id: string }; Body: { prompt?: string; preset?: string } }>(
    '/api/stations/:id/mood',
    {
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
      let prompt: string;
      if (req.body.preset !== undefined) {
        const preset = presetById(req.body.preset);
        if (!preset)
          throw errors.badRequest(`no preset ${JSON.stringify(req.body.preset)}; see GET /api/presets`);
        prompt = preset.prompt;
      } else prompt = cleanPrompt(req.body.prompt);
      const s = await d.stations.setMood(req.params.id, prompt);
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

  app.post<{ Body: { id: string; name: string; prompt: string } }>(
    '/api/stations',
    {
      bodyLimit: 8 * 1024,
      schema: {
        body: {
          type: 'object',
          required: ['id', 'name', 'prompt'],
          additionalProperties: false,
          properties: {
            id: idParams.properties.id,
            name: { type: 'string', minLength: 1, maxLength: 100 },
            prompt: { type: 'string', maxLength: 2000 },
          },
        },
      },
    },
    async (req, reply) => {
      requireAdmin(req, d.adminToken);
      const prompt = cleanPrompt(req.body.prompt);
      const name = cleanText(req.body.name, 'name', 100);
      const created = await d.stations.create({ id: req.body.id, name, prompt });
      if (!created) throw errors.stationExists(req.body.id);
      await publish(d.redis, d.keys, { type: 'station', stationId: created.station.id });
      req.log.info({ stationId: created.station.id }, 'station created');
      // The owner key is shown once; only its hash is stored.
      return reply.code(201).send({ ...(await view(created.station)), key: created.key });
    },
  );

  app.patch<{ Params: { id: string }; Body: StationPatch }>(
    '/api/stations/:id',
    {
      bodyLimit: 8 * 1024,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            name: { type: 'string', maxLength: 400 },
            description: { type: 'string', maxLength: 2000 },
            backend: { type: 'string', enum: ['procedural', 'musicgen'] },
            lookaheadSeconds: { type: 'number', minimum: 10, maximum: 3600 },
            segmentSeconds: { type: 'number', minimum: 2, maximum: 60 },
            overlapSeconds: { type: 'number', minimum: 0.05, maximum: 10 },
            topK: { type: 'integer', minimum: 0, maximum: 2048 },
            topP: { type: 'number', minimum: 0, maximum: 1 },
            temperature: { type: 'number', exclusiveMinimum: 0, maximum: 4 },
            cfgCoef: { type: 'number', minimum: 0, maximum: 20 },
          },
        },
      },
    },
    async (req) => {
      const current = await load(req.params.id);
      await requireStationControl(req, d.adminToken, d.stations, req.params.id);
      const patch: StationPatch = { ...req.body };
      if (patch.name !== undefined) patch.name = cleanText(patch.name, 'name', 100);
      if (patch.description !== undefined) {
        patch.description = patch.description.trim() ? cleanText(patch.description, 'description', 500) : '';
      }
      const segment = patch.segmentSeconds ?? current.segmentSeconds;
      const overlap = patch.overlapSeconds ?? current.overlapSeconds;
      if (overlap * 2 > segment)
        throw errors.badRequest('overlapSeconds must be at most half of segmentSeconds');
      const s = await d.stations.update(current.id, patch);
      if (!s) throw errors.stationNotFound(current.id);
      await publish(d.redis, d.keys, { type: 'station', stationId: s.id });
      req.log.info({ stationId: s.id, fields: Object.keys(patch) }, 'station updated');
      return view(s);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/stations/:id',
    { schema: { params: idParams } },
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
