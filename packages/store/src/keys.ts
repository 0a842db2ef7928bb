// Store keys come from jobs and results, i.e. from Redis and the network: each store checks them
// again before they become a file path or an object name.
import { STATION_ID_PATTERN, STORE_KEY_PATTERN, segmentSchema } from '@lofi/contracts';

/** The worker's output (the contract's StoreKey). */
const SEGMENT_KEY = new RegExp(STORE_KEY_PATTERN);
/** The streamer's HLS window: the same shape under hls/ instead of segments/. */
const HLS_KEY = new RegExp(STORE_KEY_PATTERN.replace('/segments/', '/hls/'));
/** A station's melody for musicgen-melody (the contract's MelodyKey; the streamer's upload). */
const MELODY_KEY = new RegExp(segmentSchema.$defs.MelodyKey.pattern);
const STATION_ID = new RegExp(STATION_ID_PATTERN);

export class StoreKeyError extends Error {
  readonly code = 'STORE_KEY_INVALID';
}

/** Throws StoreKeyError unless `key` is a segment, HLS or melody key without `.`/`..` parts. */
export function checkKey(key: string): string {
  if (
    typeof key !== 'string' ||
    !(SEGMENT_KEY.test(key) || HLS_KEY.test(key) || MELODY_KEY.test(key)) ||
    key.split('/').some((p) => p === '..' || p === '.')
  ) {
    throw new StoreKeyError(`not a segment store key: ${JSON.stringify(key)}`);
  }
  return key;
}

export function checkStationId(stationId: string): string {
  if (typeof stationId !== 'string' || !STATION_ID.test(stationId)) {
    throw new StoreKeyError(`not a station id: ${JSON.stringify(stationId)}`);
  }
  return stationId;
}
