// Cover images, one per track. `/api/stations/:id/cover.svg[?seq=N]` names the picture of the track on
// air (or of a recent track: N is its first segment's seq, or any recent segment of it) and redirects to `/covers/<hash>.svg?title=…&mood=…`, whose bytes are a pure
// function of its URL and so are cached for ever.
import { createHash } from 'node:crypto';
import { STATION_ID_PATTERN } from '@lofi/contracts';
import type { StationRepo } from '@lofi/redis';
import type { FastifyInstance } from 'fastify';
import { ApiError, errors } from '../errors.ts';
import type { StationManager } from '../station-manager.ts';
import { renderCover } from './cover-art.ts';

const VERSION = 'v1'; // bump when the renderer's output changes: new URLs, no stale caches
const MAX_TITLE = 400;
const MAX_MOOD = 2000;

export const coverHash = (title: string, mood: string): string =>
  createHash('sha256').update(`${VERSION}\n${title}\n${mood}`).digest('hex').slice(0, 20);

export function coverUrl(title: string, mood: string): string {
  const q = new URLSearchParams({ title, mood });
  return `/covers/${coverHash(title, mood)}.svg?${q}`;
}

/** Rendered pictures by hash: rendering is cheap, but pages ask for the same few again and again. */
class Lru {
  private readonly map = new Map<string, string>();
  constructor(private readonly size: number) {}
  get(k: string): string | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: string): void {
    this.map.set(k, v);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }
}

export interface CoverDeps {
  manager: StationManager;
  stations: StationRepo;
}

export function registerCovers(app: FastifyInstance, d: CoverDeps): void {
  const cache = new Lru(256);

  app.get<{ Params: { hash: string }; Querystring: { title?: string; mood?: string } }>(
    '/covers/:hash.svg',
    {
      schema: {
        hide: true,
        params: { type: 'object', properties: { hash: { type: 'string', pattern: '^[0-9a-f]{20}$' } } },
        querystring: {
          type: 'object',
          required: ['title', 'mood'],
          properties: {
            title: { type: 'string', maxLength: MAX_TITLE },
            mood: { type: 'string', maxLength: MAX_MOOD },
          },
        },
      },
    },
    async (req, reply) => {
      const { title = '', mood = '' } = req.query;
      const hash = req.params.hash;
      if (coverHash(title, mood) !== hash)
        throw errors.badRequest('cover hash does not match title and mood');
      let svg = cache.get(hash);
      if (svg === undefined) {
        svg = renderCover(title, mood);
        cache.set(hash, svg);
      }
      return reply
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('access-control-allow-origin', '*')
        .type('image/svg+xml')
        .send(svg);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { seq?: string } }>(
    '/api/stations/:id/cover.svg',
    {
      schema: {
        summary:
          "The cover of the track on air, or of a recent track (?seq= of one of its segments): a redirect to the picture's permanent URL",
        tags: ['pages'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: STATION_ID_PATTERN } },
        },
        // Query values are strings (the app does not coerce types).
        querystring: { type: 'object', properties: { seq: { type: 'string', pattern: '^[0-9]{1,15}$' } } },
      },
    },
    async (req, reply) => {
      const s = await d.stations.get(req.params.id);
      if (!s) throw errors.stationNotFound(req.params.id);
      const playout = d.manager.get(s.id)?.playout;
      const seq = req.query.seq === undefined ? undefined : Number(req.query.seq);
      let title = s.name;
      let mood = s.prompt;
      if (seq !== undefined) {
        const seg = playout?.segments.find((g) => g.seq === seq);
        const item =
          playout?.history.find((h) => h.seq === seq) ??
          (seg &&
            playout?.history.find(
              (h) => h.trackIndex === seg.trackIndex && h.promptVersion === seg.promptVersion,
            ));
        if (!item)
          throw new ApiError(
            404,
            'NOT_FOUND',
            `segment ${seq} of station ${s.id} is not in the recent history`,
          );
        ({ title, prompt: mood } = item);
      } else if (playout?.nowPlaying) {
        ({ title, prompt: mood } = playout.nowPlaying);
      }
      // A track's cover never changes; "now" changes with the track.
      const maxAge = seq === undefined ? 'no-cache' : 'public, max-age=300';
      return reply.header('cache-control', maxAge).redirect(coverUrl(title, mood), 302);
    },
  );
}
