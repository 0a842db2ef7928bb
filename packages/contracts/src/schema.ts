import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The one contract file, shared with the Python worker. */
export const SCHEMA_PATH = fileURLToPath(new URL('../schema/segment.schema.json', import.meta.url));

export const segmentSchema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown> & {
  $id: string;
  $defs: { StationId: { pattern: string }; StoreKey: { pattern: string }; MelodyKey: { pattern: string } };
};

/** Station ids and store keys, as the contract defines them: every check uses these. */
export const STATION_ID_PATTERN = segmentSchema.$defs.StationId.pattern;
export const STORE_KEY_PATTERN = segmentSchema.$defs.StoreKey.pattern;
