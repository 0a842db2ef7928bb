import { assertSegmentJob, jobIdFor, type SegmentJob } from '@lofi/contracts';
import { Queue, QueueEvents } from 'bullmq';

export const SEGMENT_QUEUE = 'segments';

// BullMQ opens (and on close() closes) its own connections from the URL.
const options = (url: string) => ({ url, maxRetriesPerRequest: null });

export function segmentQueue(redisUrl: string, prefix: string): Queue<SegmentJob> {
  return new Queue<SegmentJob>(SEGMENT_QUEUE, { connection: options(redisUrl), prefix });
}

export function segmentQueueEvents(redisUrl: string, prefix: string): QueueEvents {
  return new QueueEvents(SEGMENT_QUEUE, { connection: options(redisUrl), prefix });
}

/**
 * Enqueues a segment job after validating it against the contract. The id is deterministic, so a
 * second add of the same (station, version, seq) after a restart is a no-op in BullMQ.
 */
export async function enqueueSegment(
  queue: Queue<SegmentJob>,
  job: SegmentJob,
  bufferedSeconds = 0,
): Promise<string> {
  const data = assertSegmentJob(job);
  const id = jobIdFor(data.stationId, data.promptVersion, data.seq);
  await queue.add('segment', data, {
    jobId: id,
    // The station with the least audio ahead goes first (BullMQ: lower number, higher priority).
    priority: 1 + Math.min(2_000_000, Math.max(0, Math.floor(bufferedSeconds))),
    attempts: 3,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: { age: 3600, count: 5000 },
    removeOnFail: { age: 24 * 3600 },
  });
  return id;
}
