// One scheduling step for one station: collect the finished job, measure the lookahead along the
// chain from the real playhead, and enqueue the next segment (or the first segment of a new mood,
// joined where the music will be a moment from now). Idempotent: it may run any number of times.
import {
  assertSegmentResult,
  audioKeyFor,
  type Backend,
  metaKeyFor,
  type SegmentJob,
  type SegmentResult,
} from '@lofi/contracts';
import {
  type ChainState,
  type ChainStore,
  enqueueSegment,
  type Keys,
  type Playhead,
  type PlayheadStore,
  positionNow,
  publish,
  type SegmentIndex,
  type SegmentQueues,
  type Station,
} from '@lofi/redis';
import type { SegmentStore } from '@lofi/store';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ancestry, bufferedAhead, type JoinPoint, joinPoint, type Metas } from './chain-math.ts';
import { melodyFor } from './melody.ts';
import type { SchedulerMetrics } from './metrics.ts';
import { driftFor } from './prompt-drift.ts';
import { NO_WORKER_HOLD_MS, type Route, type RouteReason, routeFor } from './routing.ts';
import { nextTrack } from './tracks.ts';

export interface SchedulerDeps {
  redis: Redis;
  keys: Keys;
  /** One queue per backend: a job goes to the queue of the backend it names. */
  queues: SegmentQueues;
  /** Backends with a live worker now (worker advertisements); absent: unknown, no routing. */
  liveBackends?: () => ReadonlySet<Backend> | null;
  /** Each station's route at the last pass, so a change is logged once. */
  routes?: Map<string, RouteReason>;
  metrics?: SchedulerMetrics;
  chains: ChainStore;
  index: SegmentIndex;
  playheads: PlayheadStore;
  store: SegmentStore;
  retainSegments: number;
  /** Played segments leave the index but their files stay in the store. */
  archive?: boolean;
  log: Logger;
}

/** Seconds between a mood request and the join: render + decode + commit, with room to spare. */
export const MOOD_JOIN_MARGIN = 2;
const WAITING = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

function jobSeed(station: Station, seq: number): number {
  return (station.seed + Math.imul(seq + 1, 0x9e3779b1)) >>> 0;
}

function bestSuccessor(metas: Metas, seg: SegmentResult): SegmentResult | undefined {
  let best: SegmentResult | undefined;
  for (const m of metas.values()) {
    if (m.continuesSeq !== seg.seq) continue;
    if (
      !best ||
      m.promptVersion > best.promptVersion ||
      (m.promptVersion === best.promptVersion && m.joinAtSeconds < best.joinAtSeconds)
    )
      best = m;
  }
  return best;
}

export async function scheduleStation(d: SchedulerDeps, station: Station): Promise<ChainState> {
  const log = d.log.child({ stationId: station.id });
  const st = await d.chains.read(station.id);
  const metas = new Map((await d.index.all(station.id)).map((m) => [m.seq, m]));
  const live = d.liveBackends?.() ?? null;
  let route = routeStation(d, station, st, live, log);

  if (st.inflightJobId) {
    await collect(d, station, st, metas, log, route, live);
    // Collecting may have started a failure fallback: the next job must already follow it.
    route = routeStation(d, station, st, live, log);
  }

  const ph = await d.playheads.read(station.id);
  const phNow = ph && metas.has(ph.seq) ? { ...ph, positionSeconds: positionNow(ph) } : null;
  const chain = ancestry(metas, st.tipSeq);
  const buffered = bufferedAhead(chain, phNow, station.overlapSeconds);
  const tip = st.tipSeq === null ? undefined : metas.get(st.tipSeq);
  const moodChanged = tip !== undefined && station.promptVersion > st.tipVersion;
  const offChain = tip !== undefined && buffered === null;

  if (!st.inflightJobId && Date.now() >= st.retryAfterMs) {
    let from: JoinPoint | null | undefined; // undefined: nothing to do
    if (!tip) from = null;
    else if ((moodChanged || offChain) && phNow) {
      from = joinPoint(
        metas,
        phNow,
        (s) => bestSuccessor(metas, s),
        station.overlapSeconds,
        MOOD_JOIN_MARGIN,
      );
      if (from)
        log.info(
          { joinSeq: from.from.seq, atSeconds: from.atSeconds, moodChanged },
          'new chain joins the music',
        );
    } else if (moodChanged || (buffered ?? 0) < station.lookaheadSeconds) {
      from = { from: tip, atSeconds: Math.max(0, tip.durationSeconds - station.overlapSeconds) };
    }
    if (from !== undefined) await enqueue(d, station, st, from, buffered ?? 0, route);
  }

  st.bufferedSeconds = (buffered ?? 0) + (st.inflightJobId ? st.inflightSeconds : 0);
  const previous = st.status;
  st.status = statusOf(st, station);
  if (st.status !== previous) {
    const fields = { status: st.status, bufferedSeconds: Math.round(st.bufferedSeconds * 10) / 10 };
    if (st.status === 'starving') log.warn(fields, 'station is starving: generation is behind');
    else log.info(fields, 'station status');
  }
  await d.chains.write(station.id, st);
  d.metrics?.station(station, st);
  if (ph) await retain(d, station, metas, ph);
  return st;
}

/**
 * Picks the queue of the station's next job from the live workers, and keeps the chain's fallback
 * state (what the station view shows) in step with it. A change of route is logged with its reason.
 */
function routeStation(
  d: SchedulerDeps,
  station: Station,
  st: ChainState,
  live: ReadonlySet<Backend> | null,
  log: Logger,
): Route {
  const now = Date.now();
  // A worker of the station's own backend is back: a no-worker hold ends now. (A failure
  // fallback's last seconds end with it, which is harmless.)
  if (
    live?.has(station.backend) &&
    st.fallbackUntilMs > now &&
    st.fallbackUntilMs - now <= NO_WORKER_HOLD_MS
  ) {
    st.fallbackUntilMs = 0;
  }
  const route = routeFor(station.backend, fallbackActive(st), live);
  if (route.reason === 'no-worker')
    st.fallbackUntilMs = Math.max(st.fallbackUntilMs, now + NO_WORKER_HOLD_MS);
  const previous = d.routes?.get(station.id);
  if (previous !== route.reason) {
    d.routes?.set(station.id, route.reason);
    const fields = { backend: station.backend, routedTo: route.backend, reason: route.reason };
    if (route.reason === 'no-worker')
      log.warn(fields, 'no live worker runs the station backend; playing the procedural fallback meanwhile');
    else if (route.reason === 'no-worker-at-all')
      log.warn(fields, 'no live worker for the station backend nor the fallback; jobs wait for one');
    else if (previous !== undefined) log.info(fields, 'station routing changed');
  }
  return route;
}

function statusOf(st: ChainState, station: Station): ChainState['status'] {
  if (st.tipSeq === null) return 'starting';
  if (st.bufferedSeconds >= station.lookaheadSeconds - station.segmentSeconds) return 'ok';
  if (st.bufferedSeconds < Math.min(20, station.lookaheadSeconds / 3)) return 'starving';
  return 'filling';
}

/** Failures of a station's own backend in a row before its jobs go to the procedural fallback. */
export const FALLBACK_AFTER_FAILURES = 2;
/** How long the fallback lasts before the station's own backend is tried again. */
export const FALLBACK_MS = 120_000;

/** A job that produced no usable segment: the chain moves on after a growing pause. */
function failed(st: ChainState, station: Station, log: Logger, fields: object, msg: string): void {
  st.failures++;
  st.inflightJobId = null;
  st.retryAfterMs = Date.now() + Math.min(30_000, 500 * 2 ** st.failures);
  log.error({ ...fields, failures: st.failures }, msg);
  if (station.backend !== 'procedural' && st.failures >= FALLBACK_AFTER_FAILURES && !fallbackActive(st)) {
    st.fallbackUntilMs = Date.now() + FALLBACK_MS;
    st.retryAfterMs = Date.now();
    log.warn(
      { backend: station.backend, fallbackSeconds: FALLBACK_MS / 1000 },
      'station backend keeps failing; playing the procedural fallback meanwhile',
    );
  }
}

const fallbackActive = (st: ChainState): boolean => Date.now() < st.fallbackUntilMs;

/** Looks at the job in flight: records its segment, notes its failure, or drops it if superseded. */
async function collect(
  d: SchedulerDeps,
  station: Station,
  st: ChainState,
  metas: Map<number, SegmentResult>,
  log: Logger,
  route: Route,
  live: ReadonlySet<Backend> | null,
): Promise<void> {
  const id = st.inflightJobId as string;
  const found = await d.queues.find(id);
  if (!found) {
    log.warn({ jobId: id }, 'job in flight vanished; scheduling again');
    st.inflightJobId = null;
    return;
  }
  const { job, state, backend } = found;
  if (state === 'completed') {
    let result: SegmentResult;
    try {
      result = assertSegmentResult(job.returnvalue);
    } catch (err) {
      // A worker that returns garbage must not wedge the chain: it counts as a failed job.
      failed(st, station, log, { err, jobId: id }, 'job completed with an invalid result');
      return;
    }
    await d.index.add(result);
    metas.set(result.seq, result);
    await publish(d.redis, d.keys, { type: 'segment', stationId: station.id, seq: result.seq });
    const rtf =
      (result.durationSeconds - result.headOverlapSeconds) / Math.max(1e-3, result.generationSeconds);
    st.generationRealtimeFactor =
      st.generationRealtimeFactor === null ? rtf : 0.8 * st.generationRealtimeFactor + 0.2 * rtf;
    if (result.promptVersion >= st.tipVersion) {
      st.tipSeq = result.seq;
      st.tipVersion = result.promptVersion;
    }
    st.inflightJobId = null;
    st.failures = 0;
    d.metrics?.completed(backend);
    log.info(
      {
        seq: result.seq,
        seconds: result.durationSeconds,
        realtimeFactor: Math.round(rtf),
        title: result.title,
        ...(result.track ? { track: result.track.index, position: result.track.position } : {}),
      },
      'segment ready',
    );
  } else if (state === 'failed') {
    d.metrics?.failed(backend);
    failed(st, station, log, { jobId: id, reason: job.failedReason }, 'segment job failed');
  } else if (WAITING.has(state) && job.data.promptVersion < station.promptVersion) {
    // A newer mood superseded it before any worker started it: drop it instead of wasting a render.
    await job.remove().catch(() => undefined);
    st.inflightJobId = null;
    log.info({ jobId: id }, 'superseded job dropped');
  } else if (
    live &&
    !live.has(backend) &&
    backend !== route.backend &&
    live.has(route.backend) &&
    (WAITING.has(state) || (state === 'active' && !(await d.redis.exists(`${found.queue.toKey(id)}:lock`))))
  ) {
    // It waits in the queue of a backend no live worker runs, or was taken by a worker that died
    // (its lock expired, and no worker of that queue is left to run the stalled check): the next
    // pass enqueues it afresh (new seq) where a worker is. A live lock makes remove() throw: then
    // it stays, collected on a later pass.
    try {
      await job.remove();
      st.inflightJobId = null;
      d.metrics?.rerouted();
      log.warn({ jobId: id, state, from: backend, to: route.backend }, 'job rerouted to a live worker');
    } catch {
      // Taken by a worker after all.
    }
  }
}

async function enqueue(
  d: SchedulerDeps,
  station: Station,
  st: ChainState,
  from: JoinPoint | null,
  bufferedSeconds: number,
  route: Route,
): Promise<void> {
  const seq = st.lastSeq + 1;
  if (!from || from.from.promptVersion < station.promptVersion) st.moodStartSeq = seq;
  // The track goes on from the segment it continues, counted in the seconds played up to the join.
  const { track, lastTrackIndex } = nextTrack(station, from, st.lastTrackIndex);
  const drift = driftFor({
    prompt: station.prompt,
    seed: station.seed,
    promptVersion: station.promptVersion,
    index: seq - st.moodStartSeq,
    track,
  });
  const job: SegmentJob = {
    stationId: station.id,
    seq,
    promptVersion: station.promptVersion,
    prompt: station.prompt,
    ...(route.backend !== station.backend
      ? { backend: route.backend }
      : { backend: station.backend, ...(station.model ? { model: station.model } : {}) }),
    drift,
    params: {
      topK: station.topK,
      topP: station.topP,
      temperature: station.temperature,
      cfgCoef: station.cfgCoef,
    },
    seed: jobSeed(station, seq),
    durationSeconds: station.segmentSeconds,
    overlapSeconds: station.overlapSeconds,
    ...(await melodyFor(d.store, station, route)), // musicgen-melody stations (melody.ts)
    sampleRate: 48000,
    channels: 2,
    audioKey: audioKeyFor(station.id, seq, station.promptVersion),
    continueFrom: from && {
      seq: from.from.seq,
      audioKey: from.from.audioKey,
      ...(from.from.tokensKey ? { tokensKey: from.from.tokensKey } : {}),
      atSeconds: from.atSeconds,
      state: from.from.state,
    },
    enqueuedAt: new Date().toISOString(),
    track,
  };
  // Add first, then record: a crash between the two re-adds the same id, which BullMQ ignores.
  st.inflightJobId = await enqueueSegment(d.queues, job, bufferedSeconds);
  st.inflightSeconds = station.segmentSeconds;
  st.lastSeq = seq;
  st.lastTrackIndex = lastTrackIndex;
  if (track.position === 0)
    d.log.info(
      {
        stationId: station.id,
        seq,
        track: track.index,
        name: track.name,
        plannedSeconds: track.plannedSeconds,
        segments: track.segments,
      },
      'new track',
    );
  d.metrics?.enqueued(job.backend);
}

/** Removes played segments beyond the retention count from the index, and from the store unless archiving. */
async function retain(d: SchedulerDeps, station: Station, metas: Metas, ph: Playhead): Promise<void> {
  const played = [...metas.values()].filter((m) => m.seq < ph.seq).sort((a, b) => b.seq - a.seq);
  const old = played.slice(d.retainSegments);
  if (old.length === 0) return;
  await d.index.remove(
    station.id,
    old.map((m) => m.seq),
  );
  if (d.archive) return;
  for (const m of old) {
    for (const key of [m.audioKey, m.metaKey, metaKeyFor(m.audioKey), m.tokensKey]) {
      if (key)
        await d.store
          .remove(key)
          .catch((err: unknown) => d.log.warn({ err, key }, 'could not remove segment file'));
    }
  }
}
