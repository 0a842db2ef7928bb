"""The BullMQ consumer (Python `bullmq` package, option names as in its WorkerOptions).

Facts this relies on, checked against bullmq 2.26 (Python):
- Worker(name, processor, {"connection", "prefix", "concurrency", "lockDuration",
  "stalledInterval", "maxStalledCount", "autorun", ...}); the processor is `async (job, token)`.
- The Python Worker runs the stalled-jobs check itself (a Timer calls moveStalledJobsToWait every
  stalledInterval ms), so a killed worker's active job returns to wait and is re-run.
- A processor exception marks the job failed with failedReason = str(exception);
  UnrecoverableError skips any remaining `attempts`.

One Worker per backend this process runs (WORKER_BACKENDS), each on that backend's own queue, so
a job only reaches a process that can run it; the process advertises its backends in Redis
(advertise.py) for the scheduler's routing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bullmq import UnrecoverableError

from lofi_worker.advertise import Advertisement, new_worker_id
from lofi_worker.backends import BackendUnavailable, get_backend
from lofi_worker.config import BACKENDS, Config, backend_queue
from lofi_worker.contract import JobRejected, load_contract
from lofi_worker.job import process_job
from lofi_worker.logs import get_logger
from lofi_worker.metrics import WorkerMetrics
from lofi_worker.stopping import StoppableWorker
from lofi_worker.store import make_store

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


RENDER_THREAD = "lofi-render"


def make_processor(
    cfg: Config,
    backend: str = "procedural",
    metrics: WorkerMetrics | None = None,
    renders: ThreadPoolExecutor | None = None,
) -> Any:
    contract = load_contract(cfg.contract_schema)
    metrics = metrics or WorkerMetrics()
    store = make_store(cfg)

    async def processor(job: Any, token: str) -> dict[str, Any]:
        ctx = {
            "jobId": job.id,
            "stationId": _get(job.data, "stationId"),
            "seq": _get(job.data, "seq"),
        }
        log.info("job started", extra={**ctx, "backend": backend})
        started = time.monotonic()
        metrics.busy.labels(backend).inc()
        try:
            named = _get(job.data, "backend")
            # (Missing or unknown names are left to the contract check, which says more.)
            if named in BACKENDS and named != backend:
                # Only a misrouted add can do this: this queue's worker may not run other backends.
                raise JobRejected(f"job for backend {named!r} on the {backend!r} queue")
            # Rendering is CPU-bound: a thread keeps the event loop (lock renewal) responsive.
            # Not asyncio's default executor: asyncio.run() waits for that one at exit, and a
            # stop must not wait for a render whose job was given back (stopping.py).
            result: dict[str, Any] = await asyncio.get_running_loop().run_in_executor(
                renders,
                functools.partial(
                    process_job, job.data, store=store, contract=contract, job_id=job.id
                ),
            )
        except (JobRejected, BackendUnavailable) as err:
            # Retrying cannot help bad input or a missing backend: fail for good, with the reason.
            metrics.jobs_failed.labels(backend, "rejected").inc()
            log.warning("job rejected", extra={**ctx, "reason": str(err)})
            raise UnrecoverableError(str(err)) from err
        except Exception as err:
            metrics.jobs_failed.labels(backend, "error").inc()
            log.exception("job failed", extra={**ctx, "reason": str(err)})
            raise
        finally:
            metrics.busy.labels(backend).dec()
        seconds = time.monotonic() - started
        metrics.jobs_done.labels(backend).inc()
        metrics.render_seconds.labels(backend).observe(seconds)
        new_audio = float(result["durationSeconds"]) - float(result["headOverlapSeconds"])
        metrics.realtime_factor.labels(backend).set(
            new_audio / max(1e-3, float(result["generationSeconds"]))
        )
        return result

    return processor


def _get(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


# How long the jobs in hand may take to finish once stopping; after that they are given back to
# the queue (stopping.py). A procedural job usually finishes within it, a MusicGen one does not;
# short, because the whole `npm start` stop must take under 3 s.
STOP_GRACE_S = 1.0


def abandoned_renders() -> bool:
    """Whether a render thread still runs after run_worker returned (its job was given back)."""
    return any(t.name.startswith(RENDER_THREAD) and t.is_alive() for t in threading.enumerate())


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
    backends = _load_backends(cfg)
    if not backends:
        log.error("no backend of WORKER_BACKENDS could load", extra={"backends": cfg.backends})
        return 1
    metrics = WorkerMetrics()
    renders = ThreadPoolExecutor(
        max_workers=cfg.concurrency * len(backends), thread_name_prefix=RENDER_THREAD
    )
    workers: list[StoppableWorker] = []
    for backend in backends:
        worker = StoppableWorker(
            backend_queue(cfg.queue_name, backend),
            make_processor(cfg, backend, metrics, renders),
            worker_options(cfg),
        )
        worker.on("error", lambda err, *_: log.error("worker error", extra={"reason": str(err)}))
        worker.on(
            "stalled",
            lambda job_id, *_: log.warning("stalled job re-queued", extra={"jobId": job_id}),
        )
        metrics.advertise(backend, cfg.concurrency)
        workers.append(worker)
    runners = [asyncio.ensure_future(w.run()) for w in workers]
    metrics_url = metrics.serve(cfg.metrics_host, cfg.metrics_port)
    ad = Advertisement(
        cfg.redis_url, cfg.queue_prefix, new_worker_id(), _ad_fields(cfg, backends),
        cfg.heartbeat_ms,
    )  # fmt: skip
    await ad.start()
    log.info(
        "worker started",
        extra={
            "queues": [backend_queue(cfg.queue_name, b) for b in backends],
            "prefix": cfg.queue_prefix,
            "concurrency": cfg.concurrency,
            "workerId": ad.worker_id,
            "metricsUrl": metrics_url,
        },
    )
    stopped = asyncio.ensure_future(stop.wait())
    orphan_watch = asyncio.ensure_future(_stop_when_orphaned(stop, cfg.supervisor_pid))
    await asyncio.wait({*runners, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopping_at = time.monotonic()
    log.info("worker stopping", extra={"graceSeconds": STOP_GRACE_S})
    orphan_watch.cancel()
    # Withdrawn first, so the scheduler routes no more work here while the jobs in hand finish.
    with contextlib.suppress(Exception):  # Redis gone: the advertisement expires by itself
        await asyncio.wait_for(ad.stop(), timeout=1.0)
    # Fetching stops at once; what is still running after the grace goes back to the queue.
    await asyncio.gather(*(w.stop(STOP_GRACE_S) for w in workers))
    stopped.cancel()
    # A run loop ends by itself once its worker stopped; one whose job was given back ends
    # cancelled (bullmq lets the cancelled job task's CancelledError out of run()).
    _, late = await asyncio.wait(runners, timeout=1.0)
    for runner in late:
        runner.cancel()
    renders.shutdown(wait=False, cancel_futures=True)
    metrics.close()
    # bullmq leaves Redis clients for the garbage collector; collect them while the loop still
    # runs, or their __del__ fails at exit with "Event loop is closed".
    gc.collect()
    log.info(
        "worker stopped",
        extra={
            "stopMs": round((time.monotonic() - stopping_at) * 1000),
            "givenBack": [j for w in workers for j in w.given_back],
        },
    )
    return 0


def _load_backends(cfg: Config) -> list[str]:
    """Loads each configured backend before the first job (so loading is not billed to a job);
    one that cannot load here (no torch, no weights) is not consumed nor advertised."""
    loaded = []
    for name in cfg.backends:
        try:
            get_backend(name)
        except Exception as err:
            log.error(
                "backend unavailable; not advertising it",
                extra={"backend": name, "reason": str(err)},
            )
            continue
        loaded.append(name)
    return loaded


def _ad_fields(cfg: Config, backends: list[str]) -> dict[str, Any]:
    musicgen = "musicgen" in backends
    # The loaded backend's own settings (an embedding or test may install one): what it runs.
    settings = getattr(get_backend("musicgen"), "settings", cfg.musicgen) if musicgen else None
    return {
        "backends": ",".join(backends),
        "concurrency": cfg.concurrency,
        "batch": settings.max_batch if settings else 1,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "model": settings.model if settings else "procedural",
        "device": settings.device if settings else "cpu",
    }
