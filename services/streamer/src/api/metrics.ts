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
  const listeners = gauge('lofi_listeners', 'Listeners: open MP3 connections plus active HLS sessions');
  const mp3Listeners = gauge('lofi_listeners_mp3', 'Open MP3 stream connections');
  const hlsListeners = gauge(
    'lofi_listeners_hls',
    'Active HLS sessions (a request within two target durations)',
  );
  const peak = gauge('lofi_listeners_peak', 'Highest listener total since the station started');
  const dropped = gauge('lofi_listeners_dropped_total', 'Listeners dropped for falling too far behind');
  const underruns = gauge('lofi_underruns_total', 'Times the playout bridged a late segment');
  const streamed = gauge('lofi_stream_seconds_total', 'Seconds of audio the playout has rendered');
  const restarts = new Gauge({
    name: 'lofi_encoder_restarts_total',
    help: 'Encoder restarts (output: mp3 or hls)',
    labelNames: ['station', 'output'],
    registers: [registry],
  });
  const leader = gauge('lofi_station_leader', '1 where this replica runs the playout, 0 where it relays it');
  const standby = gauge(
    'lofi_station_standby',
    '1 where this replica, not the leader, renders the station because the relay from the leader is quiet',
  );
  const standbyStarts = gauge(
    'lofi_station_standby_starts_total',
    'Times this replica went on standby for the station since it began following it',
  );
  const hlsSegments = gauge('lofi_hls_segments', 'HLS segments in the live playlist');
  const buffered = gauge('lofi_buffered_seconds', 'Generated audio ahead of the playhead');
  const rtf = gauge('lofi_generation_realtime_factor', 'Seconds of audio generated per second of compute');

  app.get('/metrics', async (_req, reply) => {
    for (const rt of d.manager.all()) {
      const station = rt.id;
      const counts = rt.outputs.listeners.sample();
      listeners.set({ station }, counts.total);
      mp3Listeners.set({ station }, counts.mp3);
      hlsListeners.set({ station }, counts.hls);
      peak.set({ station }, counts.peak);
      hlsSegments.set({ station }, rt.outputs.hls.window().length);
      dropped.set({ station }, rt.icy.dropped);
      underruns.set({ station }, rt.playout.underruns);
      streamed.set({ station }, rt.playout.streamSeconds);
      restarts.set({ station, output: 'mp3' }, rt.outputs.mp3?.restarts ?? 0);
      leader.set({ station }, rt.role === 'leader' ? 1 : 0);
      standby.set({ station }, rt.standby?.onAir ? 1 : 0);
      standbyStarts.set({ station }, rt.standby?.starts ?? 0);
      restarts.set({ station, output: 'hls' }, rt.outputs.hls.restarts);
      const chain = await d.chains.read(station);
      buffered.set({ station }, chain.bufferedSeconds);
      if (chain.generationRealtimeFactor !== null) rtf.set({ station }, chain.generationRealtimeFactor);
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
