export { audioKeyFor, jobIdFor, metaKeyFor } from './keys.ts';
export { PRESETS, type Preset, presetById } from './presets.ts';
export { SCHEMA_PATH, segmentSchema } from './schema.ts';
export type * from './types.gen.ts';
export { assertSegmentJob, assertSegmentResult, ContractError } from './validate.ts';
