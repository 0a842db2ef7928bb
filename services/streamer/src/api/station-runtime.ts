// The running station behind a request: 404 for a station that does not exist, 503 for one that
// exists but whose playout has not been launched yet (created within the last sync).
import { STATION_ID_PATTERN } from '@lofi/contracts';
import type { StationRepo } from '@lofi/redis';
import { errors } from '../errors.ts';
import type { StationManager, StationRuntime } from '../station-manager.ts';

export const stationIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: STATION_ID_PATTERN } },
} as const;

export async function runtimeOf(
  manager: StationManager,
  stations: StationRepo,
  id: string,
): Promise<StationRuntime> {
  const rt = manager.get(id);
  if (rt) return rt;
  if (await stations.get(id)) throw errors.notReady(`station ${id}`);
  throw errors.stationNotFound(id);
}
