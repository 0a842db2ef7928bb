// Playlist files for desktop players (VLC, Winamp, iTunes, foobar2000): /stations/:id/listen.m3u
// and /stations/:id/listen.pls point at the MP3 stream, under PUBLIC_URL or else the host the
// request came to.
import type { Config } from '@lofi/config';
import type { StationRepo } from '@lofi/redis';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';
import { stationIdParams } from './station-runtime.ts';

/** A Host header is the client's to write: only a plain host[:port] becomes part of a URL. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export function publicBase(config: Config, req: FastifyRequest): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const host =
    req.headers.host && HOST.test(req.headers.host) ? req.headers.host : `${config.host}:${config.port}`;
  return `${req.protocol}://${host}`;
}

/** One line, no control characters: player titles are line-based. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we remove
const oneLine = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200);

export function registerListenFiles(
  app: FastifyInstance,
  d: { config: Config; stations: StationRepo },
): void {
  const station = async (id: string) => {
    const s = await d.stations.get(id);
    if (!s) throw errors.stationNotFound(id);
    return s;
  };

  app.get<{ Params: { id: string } }>(
    '/stations/:id/listen.m3u',
    { schema: { params: stationIdParams } },
    async (req, reply) => {
      const s = await station(req.params.id);
      const url = `${publicBase(d.config, req)}/stations/${s.id}/stream.mp3`;
      return reply
        .type('audio/x-mpegurl; charset=utf-8')
        .header('content-disposition', `inline; filename="${s.id}.m3u"`)
        .header('access-control-allow-origin', '*')
        .send(`#EXTM3U\n#EXTINF:-1,${oneLine(s.name)}\n${url}\n`);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/stations/:id/listen.pls',
    { schema: { params: stationIdParams } },
    async (req, reply) => {
      const s = await station(req.params.id);
      const url = `${publicBase(d.config, req)}/stations/${s.id}/stream.mp3`;
      const body = [
        '[playlist]',
        `File1=${url}`,
        `Title1=${oneLine(s.name)}`,
        'Length1=-1',
        'NumberOfEntries=1',
        'Version=2',
        '',
      ].join('\n');
      return reply
        .type('audio/x-scpls; charset=utf-8')
        .header('content-disposition', `inline; filename="${s.id}.pls"`)
        .header('access-control-allow-origin', '*')
        .send(body);
    },
  );
}
