// Which jobs carry the station's melody (musicgen-melody conditions on its chroma). The streamer's
// upload (services/streamer/src/api/melody.ts) stores it at one key per station; a job names it
// only when the job runs on the station's own MusicGen model and that model is a melody one
// (`facebook/musicgen-melody`, or any name containing "melody"): a text-only model would fail the
// job for a melody it cannot use, and the procedural fallback takes none.
import { melodyKeyFor } from '@lofi/contracts';
import type { Station } from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { Route } from './routing.ts';

/** `{ melodyKey }` for a job that should condition on the station's melody, else `{}`. */
export async function melodyFor(
  store: SegmentStore,
  station: Pick<Station, 'id' | 'backend' | 'model'>,
  route: Pick<Route, 'backend'>,
): Promise<{ melodyKey?: string }> {
  if (station.backend !== 'musicgen' || route.backend !== 'musicgen') return {};
  if (!/melody/i.test(station.model ?? '')) return {};
  const key = melodyKeyFor(station.id);
  // Read per job (a melody is at most ~1 MB of FLAC): a new or deleted upload counts at once.
  return (await store.get(key)) ? { melodyKey: key } : {};
}
