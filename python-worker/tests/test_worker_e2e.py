from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
from bullmq import Job, Queue

from lofi_worker.config import backend_queue, load_config
from lofi_worker.contract import Contract
from lofi_worker.store import SegmentStore
from lofi_worker.worker import run_worker
from tests.conftest import make_job


async def _wait_state(queue: Queue, job_id: str, states: set[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = await queue.getJobState(job_id)
        if state in states:
            return str(state)
        await asyncio.sleep(0.1)
    raise TimeoutError(f"job {job_id} never reached {states}")


async def test_worker_processes_jobs_and_survives_bad_input(
    redis_url: str, prefix: str, tmp_path: Path, contract: Contract
) -> None:
    cfg = dataclasses.replace(
        load_config(
            {
                "REDIS_URL": redis_url,
                "DATA_DIR": str(tmp_path / "data"),
                "QUEUE_PREFIX": prefix,
                "WORKER_STALLED_INTERVAL_MS": "1000",
                "WORKER_METRICS_PORT": "0",
            }
        )
    )
    queue = Queue(
        backend_queue(cfg.queue_name, "procedural"), {"connection": redis_url, "prefix": prefix}
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(cfg, stop))
    try:
        good = await queue.add("segment", make_job(0), {"jobId": "test-station:0:0"})
        bad = make_job(1)
        bad["durationSeconds"] = "thirty"
        bad_job = await queue.add("segment", bad, {"jobId": "test-station:0:1", "attempts": 3})
        after = await queue.add("segment", make_job(2), {"jobId": "test-station:0:2"})

        assert await _wait_state(queue, good.id, {"completed", "failed"}, 60) == "completed"
        assert await _wait_state(queue, bad_job.id, {"completed", "failed"}, 60) == "failed"
        assert await _wait_state(queue, after.id, {"completed", "failed"}, 60) == "completed"

        failed = await Job.fromId(queue, bad_job.id)
        assert "$.durationSeconds" in failed.failedReason
        assert "not of type 'number'" in failed.failedReason
        assert failed.attemptsMade == 1  # unrecoverable: no retries for bad input

        done = await Job.fromId(queue, good.id)
        result = done.returnvalue
        contract.validate_result(result)
        audio, sr = SegmentStore(cfg.data_dir).read_flac(result["audioKey"])
        assert sr == 48000 and audio.shape[0] == 2
        assert audio.shape[1] / sr == pytest.approx(result["durationSeconds"], abs=1e-6)
        assert np.max(np.abs(audio)) < 1.0
    finally:
        stop.set()
        assert await asyncio.wait_for(worker, 30) == 0
        await queue.obliterate(force=True)
        await queue.close()
