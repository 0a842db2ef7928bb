export { type ChainState, ChainStore } from './chain.ts';
export { connect } from './connection.ts';
export { publish, type RadioEvent, subscribe } from './events.ts';
export { Keys } from './keys.ts';
export { type Playhead, PlayheadStore, positionNow } from './playhead.ts';
export { enqueueSegment, SEGMENT_QUEUE, segmentQueue, segmentQueueEvents } from './queue.ts';
export { SegmentIndex } from './segments.ts';
export {
  GENERATION_DEFAULTS,
  type NewStation,
  type Station,
  type StationDefaults,
  type StationPatch,
  StationRepo,
} from './stations.ts';
