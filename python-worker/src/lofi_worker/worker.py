"""The BullMQ consumer (Python `bullmq` package, option names as in its WorkerOptions).

Facts this relies on, checked against bullmq 2.26 (Python):
- Worker(name, processor, {"connection", "prefix", "concurrency", "lockDuration",
  "stalledInterval", "maxStalledCount", "autorun", ...}); the processor is `async (job, token)`.
- The Python Worker runs the stalled-jobs check itself (a Timer calls moveStalledJobsToWait every
  stalledInterval ms), so a killed worker's active job returns to wait and is re-run.
- A processor exception marks the job failed with failedReason = str(exception);
  UnrecoverableError skips any remaining `attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from typing import Any

from bullmq import UnrecoverableError, Worker

from lofi_worker.backends import BackendUnavailable, get_backend
from lofi_worker.config import Config
from lofi_worker.contract import JobRejected, load_contract
from lofi_worker.job import process_job
from lofi_worker.logs import get_logger
from lofi_worker.store import SegmentStore

log = get_logger("lofi_worker.worker")


def worker_options(cfg: Config) -> dict[str, Any]:
    return {
        "connection": cfg.redis_url,
        "prefix": cfg.queue_prefix,
        "concurrency": cfg.concurrency,
        "lockDuration": cfg.lock_ms,
        "stalledInterval": cfg.stalled_interval_ms,
        "autorun": False,  # started explicitly inside the running loop below
    }


def make_processor(cfg: Config) -> Any:
    contract = load_contract(cfg.contract_schema)
    store = SegmentStore(cfg.data_dir)

    async def processor(job: Any, token: str) -> dict[str, Any]:
        ctx = {
            "jobId": job.id,
            "stationId": _get(job.data, "stationId"),
            "seq": _get(job.data, "seq"),
        }
        log.info("job started", extra=ctx)
        try:
            # Rendering is CPU-bound: a thread keeps the event loop (lock renewal) responsive.
            return await asyncio.to_thread(
                process_job, job.data, store=store, contract=contract, job_id=job.id
            )
        except (JobRejected, BackendUnavailable) as err:
            # Retrying cannot help bad input or a missing backend: fail for good, with the reason.
            log.warning("job rejected", extra={**ctx, "reason": str(err)})
            raise UnrecoverableError(str(err)) from err
        except Exception as err:
            log.exception("job failed", extra={**ctx, "reason": str(err)})
            raise

    return processor


def _get(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


CLOSE_TIMEOUT_S = 30.0


async def _stop_when_orphaned(stop: asyncio.Event, supervisor: int | None) -> None:
    """A supervisor killed with SIGKILL cannot stop its workers: they notice the re-parenting."""
    parent = supervisor or os.getppid()
    if parent <= 1:
        return
    while not stop.is_set():
        await asyncio.sleep(2)
        if os.getppid() != parent:
            log.warning("supervisor gone; stopping")
            stop.set()


async def run_worker(cfg: Config, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Only the main thread may install handlers; tests run the worker elsewhere.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    get_backend("procedural")  # load before the first job so it is not billed to a job
    worker = Worker(cfg.queue_name, make_processor(cfg), worker_options(cfg))
    worker.on("error", lambda err, *_: log.error("worker error", extra={"reason": str(err)}))
    worker.on(
        "stalled", lambda job_id, *_: log.warning("stalled job re-queued", extra={"jobId": job_id})
    )
    runner = asyncio.ensure_future(worker.run())
    log.info(
        "worker started",
        extra={"queue": cfg.queue_name, "prefix": cfg.queue_prefix, "concurrency": cfg.concurrency},
    )
    stopped = asyncio.ensure_future(stop.wait())
    orphan_watch = asyncio.ensure_future(_stop_when_orphaned(stop, cfg.supervisor_pid))
    await asyncio.wait({runner, stopped}, return_when=asyncio.FIRST_COMPLETED)
    log.info("worker stopping: finishing the job in hand")
    orphan_watch.cancel()
    # close() stops fetching, waits for active jobs to complete, then closes connections. With
    # Redis gone it would wait for ever: the job in hand is re-run elsewhere (stalled) anyway.
    try:
        await asyncio.wait_for(worker.close(), timeout=CLOSE_TIMEOUT_S)
    except TimeoutError:
        log.warning("worker close timed out; leaving the job to the stalled check")
    stopped.cancel()
    try:
        await asyncio.wait_for(runner, timeout=15)
    except TimeoutError:
        runner.cancel()
    # bullmq leaves Redis clients for the garbage collector; collect them while the loop still
    # runs, or their __del__ fails at exit with "Event loop is closed".
    gc.collect()
    log.info("worker stopped")
    return 0
