// Prometheus metrics: what an operator watches (listeners, buffer ahead, generation speed,
// underruns, encoder restarts), read at scrape time from the live objects.
import type { ChainStore } from '@lofi/redis';
import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { StationManager } from '../station-manager.ts';

export function registerMetrics(
  app: FastifyInstance,
  d: { manager: StationManager; chains: ChainStore },
): void {
  const registry = new Registry();
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['station'], registers: [registry] });
  const listeners = gauge('lofi_listeners', 'Open MP3 stream connections');
  const dropped = gauge('lofi_listeners_dropped_total', 'Listeners dropped for falling too far behind');
  const underruns = gauge('lofi_underruns_total', 'Times the playout bridged a late segment');
  const streamed = gauge('lofi_stream_seconds_total', 'Seconds of audio the playout has rendered');
  const restarts = gauge('lofi_encoder_restarts_total', 'MP3 encoder restarts');
  const buffered = gauge('lofi_buffered_seconds', 'Generated audio ahead of the playhead');
  const rtf = gauge('lofi_generation_realtime_factor', 'Seconds of audio generated per second of compute');

  app.get('/metrics', async (_req, reply) => {
    for (const rt of d.manager.all()) {
      const station = rt.id;
      listeners.set({ station }, rt.icy.count);
      dropped.set({ station }, rt.icy.dropped);
      underruns.set({ station }, rt.playout.underruns);
      streamed.set({ station }, rt.playout.streamSeconds);
      restarts.set({ station }, rt.mp3.restarts);
      const chain = await d.chains.read(station);
      buffered.set({ station }, chain.bufferedSeconds);
      if (chain.generationRealtimeFactor !== null) rtf.set({ station }, chain.generationRealtimeFactor);
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
