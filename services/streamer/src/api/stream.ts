import type { Station } from '@lofi/redis';
import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.ts';
import { ICY_METAINT } from '../outputs/icy.ts';
import { RELAY_HEADER } from '../outputs/mp3-relay.ts';
import { MP3_BITRATE_KBPS } from '../station-manager.ts';
import type { RouteDeps } from './routes.ts';

/** Header values must be Latin-1 without line breaks; prompts may be anything. */
const headerSafe = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);

export function registerStream(
  app: FastifyInstance,
  d: RouteDeps,
  load: (id: string) => Promise<Station>,
): void {
  app.get<{ Params: { id: string } }>('/stations/:id/stream.mp3', async (req, reply) => {
    const s = await load(req.params.id);
    const rt = d.manager.get(s.id);
    if (!rt) throw errors.notReady(`station ${s.id}`);
    const metadata = req.headers['icy-metadata'] === '1';
    const headers: Record<string, string> = {
      'content-type': 'audio/mpeg',
      'cache-control': 'no-cache, no-store',
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'icy-metaint, icy-name, icy-br',
      connection: 'close',
      'icy-name': headerSafe(s.name),
      'icy-description': headerSafe(s.prompt),
      'icy-genre': 'Lo-Fi',
      'icy-url': d.config.publicUrl ?? `http://${req.headers.host ?? 'localhost'}`,
      'icy-br': String(MP3_BITRATE_KBPS),
      'icy-pub': '0',
    };
    if (metadata) headers['icy-metaint'] = String(ICY_METAINT);
    reply.hijack();
    const res = reply.raw;
    // A plain byte stream until close, as Icecast sends it: ICY clients count metaint in raw bytes.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, headers);
    res.flushHeaders();
    // Another replica relaying this station: after a reconnect it has the burst's audio already.
    const relay = req.headers[RELAY_HEADER];
    rt.icy.add(res, metadata, { burst: relay !== 'resume', relay: relay !== undefined });
    req.log.info({ stationId: s.id, metadata, listeners: rt.icy.count }, 'listener connected');
    res.on('close', () => req.log.info({ stationId: s.id, listeners: rt.icy.count }, 'listener left'));
  });
}
