import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The one contract file, shared with the Python worker. */
export const SCHEMA_PATH = fileURLToPath(new URL('../schema/segment.schema.json', import.meta.url));

export const segmentSchema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown> & {
  $id: string;
};
