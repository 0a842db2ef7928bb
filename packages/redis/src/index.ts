export { type ChainState, ChainStore } from './chain.ts';
export { connect } from './connection.ts';
export { publish, type RadioEvent, subscribe } from './events.ts';
export { Keys } from './keys.ts';
export { type LeaseHolder, PlayoutLeases } from './lease.ts';
export { COUNTS_FRESH_MS, ListenerCountStore, type ReplicaCounts } from './listener-counts.ts';
export {
  type NowPlayingEntry,
  type NowPlayingState,
  NowPlayingStore,
  type SegmentEntry,
  type TrackEntry,
} from './now-playing.ts';
export { type Playhead, PlayheadStore, positionNow } from './playhead.ts';
export {
  BACKENDS,
  enqueueSegment,
  type FoundJob,
  SegmentQueues,
  segmentQueue,
  segmentQueueEvents,
  segmentQueueName,
} from './queue.ts';
export { SegmentIndex } from './segments.ts';
export {
  GENERATION_DEFAULTS,
  type NewStation,
  type Station,
  type StationDefaults,
  type StationPatch,
  StationRepo,
} from './stations.ts';
export {
  type BackendCapacity,
  capacityByBackend,
  liveWorkers,
  type WorkerAd,
  workerKey,
  workersIndexKey,
} from './workers.ts';
