// The web pages: listen (/ and /stations/:id), embed (/embed/:id, embed.js), owner console
// (/admin, /stations/:id/admin), their bundled assets, cover images, and the OpenAPI docs. Only
// the embed may be framed, by the origins EMBED_FRAME_ANCESTORS names (every origin by default);
// every other response says DENY.

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { STATION_ID_PATTERN } from '@lofi/contracts';
import type { StationRepo } from '@lofi/redis';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { registerCovers } from './api/cover.ts';
import type { StationManager } from './station-manager.ts';
import { buildWeb, type PageName, type WebBundle } from './web/bundle.ts';
import { contentSecurityPolicy, FAVICON, shell } from './web/html.ts';

const PAGE_CACHE = 'no-cache'; // the shells are tiny and name the current hashed assets

export interface PagesDeps {
  stations: StationRepo;
  manager: StationManager;
  /** CSP frame-ancestors sources for the embed: '*' or a list of origins. */
  embedFrameAncestors: string;
}

/**
 * OpenAPI at /docs and the no-framing default. Registered before the API routes, so
 * @fastify/swagger sees every route's schema.
 */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_req, reply, payload) => {
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string' && csp.includes('frame-ancestors')) return payload;
    if (typeof csp === 'string') reply.header('content-security-policy', `${csp}; frame-ancestors 'none'`);
    reply.header('x-frame-options', 'DENY');
    return payload;
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Endless Lo-Fi Radio',
        version: '0.1.0',
        description:
          'Stations, moods, now playing and history. Control endpoints take `Authorization: Bearer <ADMIN_TOKEN or station key>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: STATION_ID_PATTERN } },
} as const;

export function registerPages(app: FastifyInstance, d: PagesDeps): WebBundle {
  const web = buildWeb();
  app.log.info({ buildMs: web.buildMs, assets: web.assets.size }, 'web pages bundled');
  const pageCsp = contentSecurityPolicy("'none'");
  const embedCsp = contentSecurityPolicy(d.embedFrameAncestors);

  const send = (reply: FastifyReply, page: PageName, title: string, streamUrl?: string) => {
    const { js, css } = web.pages[page];
    const embed = page === 'embed';
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', PAGE_CACHE)
      .header('content-security-policy', embed ? embedCsp : pageCsp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'strict-origin-when-cross-origin');
    if (!embed) reply.header('x-frame-options', 'DENY');
    return reply.send(shell({ title, js, css, bodyClass: `page-${page}`, streamUrl }));
  };
  const known = async (id: string): Promise<boolean> => (await d.stations.get(id)) !== null;
  const missing = (reply: FastifyReply, id: string) =>
    reply.code(404).type('text/plain; charset=utf-8').send(`No station called ${id}.\n`);

  const hide = { hide: true };
  app.get('/', { schema: hide }, async (_req, reply) => send(reply, 'listen', 'Endless Lo-Fi Radio'));
  app.get('/admin', { schema: hide }, async (_req, reply) => send(reply, 'console', 'Owner console'));
  app.get<{ Params: { id: string } }>(
    '/stations/:id',
    { schema: { ...hide, params: idParams } },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await known(id))) return missing(reply, id);
      return send(reply, 'listen', 'Endless Lo-Fi Radio', `/stations/${id}/stream.mp3`);
    },
  );
  app.get<{ Params: { id: string } }>(
    '/stations/:id/admin',
    { schema: { ...hide, params: idParams } },
    async (req, reply) => {
      if (!(await known(req.params.id))) return missing(reply, req.params.id);
      return send(reply, 'console', 'Owner console');
    },
  );
  app.get<{ Params: { id: string } }>(
    '/embed/:id',
    { schema: { ...hide, params: idParams } },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await known(id))) return missing(reply, id);
      return send(reply, 'embed', 'Endless Lo-Fi Radio', `/stations/${id}/stream.mp3`);
    },
  );

  const asset = (url: string, cache: string, cors: boolean) =>
    app.get(url, { schema: hide }, async (_req, reply) => {
      const a = web.assets.get(url);
      if (!a) return reply.callNotFound();
      if (cors) reply.header('access-control-allow-origin', '*');
      return reply
        .type(a.type)
        .header('cache-control', cache)
        .header('x-content-type-options', 'nosniff')
        .send(a.body);
    });
  for (const url of web.assets.keys()) {
    // Hashed names never change content; embed.js keeps its name, so it is only cached briefly.
    if (url === '/embed.js') asset(url, 'public, max-age=300', true);
    else asset(url, 'public, max-age=31536000, immutable', false);
  }
  app.get('/favicon.svg', { schema: hide }, async (_req, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON),
  );

  registerCovers(app, { manager: d.manager, stations: d.stations });
  return web;
}
