// The segment store adapters: a local folder (DATA_DIR) or an S3-compatible bucket, both behind
// SegmentStore (types.ts). Services build theirs with createSegmentStore(config.store).
import type { StoreConfig } from '@lofi/config';
import { LocalSegmentStore } from './local.ts';
import { S3SegmentStore } from './s3.ts';
import type { SegmentStore } from './types.ts';

export { checkKey, checkStationId, StoreKeyError } from './keys.ts';
export { LocalSegmentStore } from './local.ts';
export { S3SegmentStore, type S3StoreOptions } from './s3.ts';
export type { SegmentStore } from './types.ts';

/** What createSegmentStore needs: @lofi/config's StoreConfig. */
export type SegmentStoreOptions = StoreConfig;

export function createSegmentStore(o: SegmentStoreOptions): SegmentStore {
  return o.kind === 's3' ? new S3SegmentStore(o) : new LocalSegmentStore(o.root);
}
