export { audioKeyFor, jobIdFor, melodyKeyFor, metaKeyFor } from './keys.ts';
export { PRESETS, type Preset, presetById } from './presets.ts';
export { SCHEMA_PATH, STATION_ID_PATTERN, STORE_KEY_PATTERN, segmentSchema } from './schema.ts';
export { trackStartSeconds } from './tracks.ts';
export type * from './types.gen.ts';
export { assertSegmentJob, assertSegmentResult, ContractError } from './validate.ts';
