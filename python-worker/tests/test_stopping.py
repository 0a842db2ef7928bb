"""SIGTERM of a worker process (stopping.py): it stops at once when idle, and a job it cannot finish
within the grace goes back to the queue, uncounted, for the next worker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bullmq import Job, Queue

from lofi_worker.worker import STOP_GRACE_S
from tests.conftest import make_job

# A render that takes far longer than the grace, as a MusicGen generation does: the real render,
# after a sleep, in a real worker process.
SLOW = """
import sys, time
import lofi_worker.worker as w
real = w.process_job
def slow(*args, **kwargs):
    time.sleep(60)
    return real(*args, **kwargs)
w.process_job = slow
from lofi_worker.cli import main
sys.exit(main(["run"]))
"""


def _spawn(
    redis_url: str, prefix: str, data: Path, code: str | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "QUEUE_PREFIX": prefix,
        "DATA_DIR": str(data),
        "WORKER_METRICS_PORT": "0",
    }
    args = ["-c", code] if code else ["-m", "lofi_worker.cli", "run"]
    return subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def _state(queue: Queue, job_id: str, want: set[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while (state := str(await queue.getJobState(job_id))) not in want:
        assert time.monotonic() < deadline, f"job {job_id} stuck in {state}, wanted {want}"
        await asyncio.sleep(0.02)
    return state


def _stop(proc: subprocess.Popen[bytes]) -> tuple[int, float]:
    """SIGTERM; returns the exit code and the seconds until the process was gone."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(30)
    return code, time.monotonic() - started


async def test_idle_worker_stops_at_once(redis_url: str, prefix: str, tmp_path: Path) -> None:
    queue = Queue("segments-procedural", {"connection": redis_url, "prefix": prefix})
    proc = _spawn(redis_url, prefix, tmp_path / "data")
    try:
        job = await queue.add("segment", make_job(0), {"jobId": "idle:0"})
        await _state(queue, job.id, {"completed"}, 60)
        # The worker's next fetch now blocks on the queue for bullmq's drainDelay (5 s): stopping
        # used to wait out the rest of it.
        await asyncio.sleep(0.5)
        code, seconds = _stop(proc)
        print(f"idle worker: SIGTERM to exit {seconds * 1000:.0f} ms")
        assert code == 0
        assert seconds < 1.5, f"an idle worker took {seconds:.2f} s to stop"
    finally:
        if proc.poll() is None:
            proc.kill()
        await queue.obliterate(force=True)
        await queue.close()


async def test_job_in_hand_is_given_back(redis_url: str, prefix: str, tmp_path: Path) -> None:
    queue = Queue("segments-procedural", {"connection": redis_url, "prefix": prefix})
    slow = _spawn(redis_url, prefix, tmp_path / "data", SLOW)
    second = None
    try:
        job = await queue.add("segment", make_job(0), {"jobId": "long:0", "attempts": 2})
        await _state(queue, job.id, {"active"}, 60)
        code, seconds = _stop(slow)
        print(f"worker with a job in hand: SIGTERM to exit {seconds * 1000:.0f} ms")
        assert code == 0
        # The grace, then the job goes back; the render thread is not waited for.
        assert seconds < STOP_GRACE_S + 1.5, f"took {seconds:.2f} s to stop"
        assert await queue.getJobState(job.id) == "waiting"
        back = await Job.fromId(queue, job.id)
        assert back.attemptsMade == 0 and not back.failedReason  # not counted as a failure
        # The next worker runs it from the start.
        second = _spawn(redis_url, prefix, tmp_path / "data")
        await _state(queue, job.id, {"completed"}, 60)
        done = await Job.fromId(queue, job.id)
        assert done.returnvalue["audioKey"] == make_job(0)["audioKey"]
        assert _stop(second)[0] == 0
    finally:
        for proc in (slow, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
        await queue.obliterate(force=True)
        await queue.close()
