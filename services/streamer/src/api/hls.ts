// HLS for browsers and phones: /stations/:id/hls/live.m3u8. Without `sid` it is a one-variant
// master playlist that mints a session id into the media playlist's URI; with `sid` it is the
// live media playlist, whose segment URIs carry the sid too, so every request of a session is
// counted as that one listener. Playlists are never cached (and gzipped when accepted);
// segments never change, so they are cacheable for ever.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { StationRepo } from '@lofi/redis';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errors } from '../errors.ts';
import { HLS_CODECS } from '../outputs/hls-output.ts';
import { masterPlaylist, mediaPlaylist } from '../outputs/hls-playlist.ts';
import { SID_PATTERN } from '../outputs/listeners.ts';
import type { StationManager } from '../station-manager.ts';
import { runtimeOf, stationIdParams } from './station-runtime.ts';

export interface HlsRouteDeps {
  manager: StationManager;
  stations: StationRepo;
}

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const sidQuery = {
  type: 'object',
  properties: { sid: { type: 'string', pattern: SID_PATTERN.source } },
} as const;

/** Whether the client takes gzip (and has not refused it with q=0). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  });
}

function sendPlaylist(req: FastifyRequest, reply: FastifyReply, text: string): FastifyReply {
  reply.headers({
    'content-type': PLAYLIST_TYPE,
    'cache-control': 'no-cache',
    'access-control-allow-origin': '*',
    vary: 'accept-encoding',
  });
  if (acceptsGzip(req.headers['accept-encoding'])) {
    return reply.header('content-encoding', 'gzip').send(gzipSync(text));
  }
  return reply.send(text);
}

export function registerHls(app: FastifyInstance, d: HlsRouteDeps): void {
  app.get<{ Params: { id: string }; Querystring: { sid?: string } }>(
    '/stations/:id/hls/live.m3u8',
    { schema: { params: stationIdParams, querystring: sidQuery } },
    async (req, reply) => {
      // Errors too must be readable cross-origin, or players see only a network failure.
      reply.header('access-control-allow-origin', '*');
      const rt = await runtimeOf(d.manager, d.stations, req.params.id);
      const hls = rt.outputs.hls;
      const sid = req.query.sid;
      if (sid === undefined) {
        const minted = randomBytes(12).toString('base64url');
        return sendPlaylist(req, reply, masterPlaylist(`live.m3u8?sid=${minted}`, hls.bandwidth, HLS_CODECS));
      }
      rt.outputs.listeners.hls.touch(sid);
      const window = hls.window();
      if (window.length === 0) throw errors.notReady(`the HLS stream of ${rt.id}`);
      return sendPlaylist(
        req,
        reply,
        mediaPlaylist(window, hls.targetSeconds, (seq) => `${seq}.ts?sid=${sid}`),
      );
    },
  );

  app.get<{ Params: { id: string; seq: string }; Querystring: { sid?: string } }>(
    '/stations/:id/hls/:seq(^\\d{1,15}).ts',
    {
      schema: {
        params: { ...stationIdParams, required: ['id', 'seq'] },
        querystring: sidQuery,
      },
    },
    async (req, reply) => {
      reply.header('access-control-allow-origin', '*');
      const rt = await runtimeOf(d.manager, d.stations, req.params.id);
      if (req.query.sid !== undefined) rt.outputs.listeners.hls.touch(req.query.sid);
      const seg = rt.outputs.hls.segment(Number(req.params.seq));
      if (!seg) {
        throw new ApiError(404, 'SEGMENT_GONE', `segment ${req.params.seq} is not in the live window`);
      }
      return reply
        .headers({
          'content-type': 'video/mp2t',
          'cache-control': 'public, max-age=31536000, immutable',
          'access-control-allow-origin': '*',
        })
        .send(seg.data);
    },
  );
}
