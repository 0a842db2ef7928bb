// GET /api/stations/:id/listeners: exact counts (see outputs/listeners.ts for what one listener is):
// this replica's (`here`, with its peak) and the station's on every replica (the top-level counts).
import type { StationRepo } from '@lofi/redis';
import type { FastifyInstance } from 'fastify';
import type { StationManager } from '../station-manager.ts';
import { runtimeOf, stationIdParams } from './station-runtime.ts';

export function registerListeners(
  app: FastifyInstance,
  d: { manager: StationManager; stations: StationRepo },
): void {
  app.get<{ Params: { id: string } }>(
    '/api/stations/:id/listeners',
    { schema: { params: stationIdParams } },
    async (req) => {
      const rt = await runtimeOf(d.manager, d.stations, req.params.id);
      const { mp3, hls, total, replicas, here } = await d.manager.listenersEverywhere(rt);
      return { stationId: rt.id, mp3, hls, total, peak: here.peak, replicas, here };
    },
  );
}
