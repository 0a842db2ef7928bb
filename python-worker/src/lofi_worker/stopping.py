"""A BullMQ Worker that stops in milliseconds, and gives back the jobs it cannot finish in time.

Why: bullmq 2.26's Worker.close() waits for every task in `processing`, and that set holds the
job fetch too, which is blocked in BZPOPMIN on the queue's marker for up to drainDelay (5 s) when
the queue is idle. A worker asked to stop therefore sat there 0-5 s (0.5-4.7 s measured under
`npm start`) doing nothing, although a procedural job takes about a second. Here:
- the blocked fetch is abandoned at once (the BZPOPMIN is cancelled; redis-py drops that
  connection, which close() closes anyway), and no job is taken once stopping began;
- the jobs in hand get `grace_s` to finish (a procedural one usually does);
- a job still running after that (a MusicGen generation takes tens of seconds) is given back:
  moved from active to the head of its queue's waiting list by BullMQ's own
  moveJobFromActiveToWait script, checked against our lock token, without counting an attempt,
  so another worker takes it at once, or this one's successor after a restart. Its render thread
  cannot be interrupted; whatever it returns later is not reported (forceClosing), and the CLI ends
  the process without waiting for it (abandoned_renders()).
If Redis is gone the job cannot be given back: its lock then expires and BullMQ's stalled check
re-queues it (as for a worker killed with SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bullmq import Worker
from bullmq.redis_connection import loadScript

from lofi_worker.logs import get_logger

log = get_logger("lofi_worker.stopping")

# The keys moveJobFromActiveToWait-9.lua takes, in its order (bullmq does not wrap this script).
_GIVE_BACK_KEYS = (
    "active", "wait", "stalled", "paused", "meta", "limiter", "prioritized", "marker", "events",
)  # fmt: skip
_GIVE_BACK_LUA = loadScript("moveJobFromActiveToWait-9.lua")


class StoppableWorker(Worker):
    def __init__(self, name: str, processor: Any, opts: dict[str, Any]) -> None:
        super().__init__(name, processor, opts)
        self._stopping = asyncio.Event()
        self._give_back_script = self.client.register_script(_GIVE_BACK_LUA)
        self.given_back: list[str] = []

    async def waitForJob(self) -> int:
        """The blocking fetch, abandoned as soon as stopping begins."""
        fetch = asyncio.ensure_future(super().waitForJob())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if fetch.done():
            return int(fetch.result())
        fetch.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await fetch
        return 0

    async def moveToActive(self, token: str) -> Any:
        # Once stopping, take nothing more: it would only have to be given back.
        if self.closing:
            return None
        return await super().moveToActive(token)

    async def processJob(self, job: Any, token: str) -> None:
        # A job whose fetch was already under way when the grace ran out goes straight back.
        if self.forceClosing:
            await self._give_back(job.id, token)
            return
        await super().processJob(job, token)

    async def stop(self, grace_s: float, close_timeout_s: float = 1.0) -> None:
        """Stops fetching now, lets the jobs in hand finish within grace_s, gives back the rest."""
        self.closing = True
        self._stopping.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        # `processing` is replaced by the run loop as fetches turn into jobs: read it afresh.
        while pending := {t for t in self.processing if not t.done()}:
            left = deadline - loop.time()
            if left <= 0:
                break
            await asyncio.wait(pending, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        if any(not t.done() for t in self.processing):
            self.forceClosing = True  # a render that ends after this reports nothing
            for job, token in list(self.jobs):
                await self._give_back(job.id, token)
            self.cancelProcessing()
            await asyncio.wait(set(self.processing), timeout=close_timeout_s)
        # Everything in hand is done or given back, so close() only closes the connections.
        try:
            await asyncio.wait_for(super().close(), timeout=close_timeout_s)
        except TimeoutError:
            log.warning("worker connections did not close in time", extra={"queue": self.name})

    async def _give_back(self, job_id: str, token: str) -> None:
        keys = [self.scripts.keys[k] for k in _GIVE_BACK_KEYS]
        try:
            # Bounded: with Redis gone, redis-py would retry for minutes.
            code = await asyncio.wait_for(
                self._give_back_script(keys=keys, args=[job_id, token, self.scripts.toKey(job_id)]),
                timeout=1.0,
            )
        except Exception as err:
            # Redis unreachable: the lock expires and the stalled check re-queues the job.
            log.warning(
                "could not give the job back; the stalled check will re-queue it",
                extra={"jobId": job_id, "reason": str(err)},
            )
            return
        if isinstance(code, int) and code < 0:
            # -1 no such job, -2/-6 the lock is gone or another worker's: not ours to move.
            log.warning("job not given back", extra={"jobId": job_id, "code": code})
            return
        self.given_back.append(job_id)
        log.warning(
            "stopping before the job finished: given back to the queue for another worker",
            extra={"jobId": job_id, "queue": self.name},
        )
