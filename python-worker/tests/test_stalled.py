"""A worker killed mid-job: BullMQ's stalled check (run by the Python Worker) re-queues the job."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bullmq import Job, Queue

from tests.conftest import make_job


def _spawn(redis_url: str, prefix: str, data: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "QUEUE_PREFIX": prefix,
        "DATA_DIR": str(data),
        "WORKER_LOCK_MS": "2000",
        "WORKER_STALLED_INTERVAL_MS": "1000",
        "WORKER_METRICS_PORT": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "lofi_worker.cli", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_killed_worker_job_is_rerun(redis_url: str, prefix: str, tmp_path: Path) -> None:
    queue = Queue("segments-procedural", {"connection": redis_url, "prefix": prefix})
    first = _spawn(redis_url, prefix, tmp_path / "data")
    second = None
    try:
        job = await queue.add("segment", make_job(0, durationSeconds=60.0), {"jobId": "kill-me"})
        deadline = time.monotonic() + 60
        while await queue.getJobState(job.id) != "active":
            assert time.monotonic() < deadline, "job never became active"
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = _spawn(redis_url, prefix, tmp_path / "data")
        deadline = time.monotonic() + 90
        while (state := await queue.getJobState(job.id)) != "completed":
            assert state != "failed", (await Job.fromId(queue, job.id)).failedReason
            assert time.monotonic() < deadline, f"job stuck in {state}"
            await asyncio.sleep(0.2)
        # SIGTERM: graceful stop, exit code 0.
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
        await queue.obliterate(force=True)
        await queue.close()
