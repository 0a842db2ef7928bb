// Did a fault lose or duplicate work? Reads the station's segments, chain state and the queue's
// jobs from Redis and checks the chain: every seq the scheduler allocated is a segment, a failed job
// (reported with its reason), or still in flight; no segment has two successors of the same mood.
import { type ChainStore, type SegmentIndex, SegmentQueues } from '@lofi/redis';

export interface JobAudit {
  allocated: number;
  segments: number;
  failed: number;
  inFlight: number;
  /** Seqs with neither a segment, nor a job in any state. */
  lost: number[];
  /** Segments continuing the same predecessor within one mood: work done twice. */
  duplicated: number[];
  failedReasons: string[];
}

/**
 * The audit, taken twice when the first look finds a completed job without its segment: the
 * scheduler records a finished job's segment on its next pass (a quarter of a second later).
 */
export async function auditJobs(
  stationId: string,
  redisUrl: string,
  prefix: string,
  index: SegmentIndex,
  chains: ChainStore,
): Promise<JobAudit> {
  const first = await auditOnce(stationId, redisUrl, prefix, index, chains);
  if (first.lost.length === 0) return first;
  await new Promise((r) => setTimeout(r, 2000));
  const again = await auditOnce(stationId, redisUrl, prefix, index, chains);
  return { ...again, lost: again.lost.filter((seq) => first.lost.includes(seq)) };
}

async function auditOnce(
  stationId: string,
  redisUrl: string,
  prefix: string,
  index: SegmentIndex,
  chains: ChainStore,
): Promise<JobAudit> {
  const segs = await index.all(stationId);
  const chain = await chains.read(stationId);
  const queues = new SegmentQueues(redisUrl, prefix);
  try {
    const jobs = (
      await queues.jobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized'])
    ).filter((j) => j.data.stationId === stationId);
    const states = new Map<number, string[]>();
    for (const j of jobs) {
      const s = await j.getState();
      states.set(j.data.seq, [...(states.get(j.data.seq) ?? []), s]);
    }
    const bySeq = new Set(segs.map((s) => s.seq));
    const lost: number[] = [];
    let failed = 0;
    let inFlight = 0;
    const failedReasons: string[] = [];
    for (let seq = 0; seq <= chain.lastSeq; seq++) {
      if (bySeq.has(seq)) continue;
      const st = states.get(seq) ?? [];
      if (st.includes('failed')) failed++;
      else if (st.some((s) => s !== 'completed')) inFlight++;
      else lost.push(seq);
    }
    for (const j of jobs) if (j.failedReason) failedReasons.push(j.failedReason);
    const successors = new Map<string, number>();
    const duplicated: number[] = [];
    for (const s of segs) {
      if (s.continuesSeq === null) continue;
      const k = `${s.continuesSeq}:${s.promptVersion}:${s.joinAtSeconds.toFixed(3)}`;
      if (successors.has(k)) duplicated.push(s.seq);
      successors.set(k, s.seq);
    }
    return {
      allocated: chain.lastSeq + 1,
      segments: segs.length,
      failed,
      inFlight,
      lost,
      duplicated,
      failedReasons: [...new Set(failedReasons)],
    };
  } finally {
    await queues.close();
  }
}
