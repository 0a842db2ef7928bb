// Which backend's queue a station's next job goes to. A station keeps its own backend; its jobs go
// to the procedural fallback while (a) its own backend kept failing (FALLBACK_AFTER_FAILURES), or
// (b) no live worker advertises its backend but a procedural one does: music from the fallback at
// once beats a loop of the last bars while a job waits for a worker that is not there.
import type { Backend } from '@lofi/contracts';

export type RouteReason =
  /** The station's own backend, with a live worker (or liveness unknown). */
  | 'own'
  /** The own backend failed FALLBACK_AFTER_FAILURES times in a row: procedural for a while. */
  | 'failures'
  /** No live worker runs the own backend; a procedural one does. */
  | 'no-worker'
  /** No live worker runs the own backend nor the procedural one: the job waits in its own queue. */
  | 'no-worker-at-all';

export interface Route {
  backend: Backend;
  reason: RouteReason;
}

/**
 * How long a no-worker fallback holds after the last pass that saw no worker. It is written into
 * the chain's `fallbackUntilMs` (what the station view shows as `fallback`), so it must outlast a
 * scheduler pass; a worker coming back clears it at once.
 */
export const NO_WORKER_HOLD_MS = 3000;

/**
 * @param failureFallback the chain's fallbackUntilMs is in the future.
 * @param live backends with at least one live worker; null: unknown (treated as all live).
 */
export function routeFor(own: Backend, failureFallback: boolean, live: ReadonlySet<Backend> | null): Route {
  if (own === 'procedural') return { backend: own, reason: 'own' };
  if (live && !live.has(own)) {
    return live.has('procedural')
      ? { backend: 'procedural', reason: 'no-worker' }
      : { backend: own, reason: 'no-worker-at-all' };
  }
  if (failureFallback) return { backend: 'procedural', reason: 'failures' };
  return { backend: own, reason: 'own' };
}
