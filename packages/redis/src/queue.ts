import { assertSegmentJob, type Backend, jobIdFor, type SegmentJob } from '@lofi/contracts';
import { type Job, Queue, QueueEvents } from 'bullmq';

/** Every backend a job may name; a worker consumes only the queues of the backends it runs. */
export const BACKENDS = ['procedural', 'musicgen'] as const satisfies readonly Backend[];
// A new backend in the contract fails to compile here until it is listed above.
const _everyBackend: Record<Backend, true> = { procedural: true, musicgen: true };
void _everyBackend;

/**
 * One queue per backend, so a job only ever reaches a worker that can run it. The Python worker
 * derives the same name (lofi_worker.config.backend_queue): keep the two in step.
 */
export const segmentQueueName = (backend: Backend): string => `segments-${backend}`;

// BullMQ opens (and on close() closes) its own connections from the URL.
const options = (url: string) => ({ url, maxRetriesPerRequest: null });

export function segmentQueue(redisUrl: string, prefix: string, backend: Backend): Queue<SegmentJob> {
  return new Queue<SegmentJob>(segmentQueueName(backend), { connection: options(redisUrl), prefix });
}

export function segmentQueueEvents(redisUrl: string, prefix: string, backend: Backend): QueueEvents {
  return new QueueEvents(segmentQueueName(backend), { connection: options(redisUrl), prefix });
}

export interface FoundJob {
  backend: Backend;
  queue: Queue<SegmentJob>;
  job: Job<SegmentJob>;
  state: string;
}

/** The queues of every backend, for those (scheduler, tests, audits) that look at all jobs. */
export class SegmentQueues {
  readonly byBackend: ReadonlyMap<Backend, Queue<SegmentJob>>;

  constructor(redisUrl: string, prefix: string) {
    this.byBackend = new Map(BACKENDS.map((b) => [b, segmentQueue(redisUrl, prefix, b)]));
  }

  for(backend: Backend): Queue<SegmentJob> {
    return this.byBackend.get(backend) as Queue<SegmentJob>;
  }

  all(): Queue<SegmentJob>[] {
    return [...this.byBackend.values()];
  }

  /** The job with this id in whichever backend's queue holds it, or null. */
  async find(id: string): Promise<FoundJob | null> {
    for (const [backend, queue] of this.byBackend) {
      // State first, then the job: read the other way round, a job finishing in between would
      // show 'completed' without its return value.
      const state = await queue.getJobState(id);
      if (state === 'unknown') continue;
      const job = await queue.getJob(id);
      if (job) return { backend, queue, job, state };
    }
    return null;
  }

  /** Jobs in the given states across every backend's queue. */
  async jobs(states: Parameters<Queue['getJobs']>[0]): Promise<Job<SegmentJob>[]> {
    const lists = await Promise.all(this.all().map((q) => q.getJobs(states)));
    return lists.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
  }
}

/**
 * Enqueues a segment job after validating it against the contract, on the queue of the job's
 * backend. The id is deterministic, so a second add of the same (station, version, seq) after a
 * restart is a no-op in BullMQ.
 */
export async function enqueueSegment(
  queues: SegmentQueues,
  job: SegmentJob,
  bufferedSeconds = 0,
): Promise<string> {
  const data = assertSegmentJob(job);
  const id = jobIdFor(data.stationId, data.promptVersion, data.seq);
  // Routing may differ after a restart (a worker came or went): a job already added under this id
  // to another backend's queue is the same job, not a second render of the same file.
  const existing = await queues.find(id);
  if (existing) return id;
  await queues.for(data.backend).add('segment', data, {
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
