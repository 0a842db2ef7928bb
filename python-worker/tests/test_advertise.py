"""Worker advertising and metrics against a real redis-server: the hash the scheduler routes by,
its TTL after a SIGKILL, the per-backend queues, and /metrics over real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from bullmq import Job, Queue
from redis.asyncio import Redis

from lofi_worker.config import ConfigError, backend_queue, load_config
from lofi_worker.worker import run_worker
from tests.conftest import _free_port, make_job
from tests.test_worker_e2e import _wait_state


async def _advert(redis_url: str, prefix: str, timeout: float = 30) -> dict[bytes, bytes]:
    """The one worker advertisement under `prefix`, once there."""
    redis: Any = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ids = await redis.smembers(f"{prefix}:workers")
            for wid in ids:
                h = await redis.hgetall(f"{prefix}:workers:{wid.decode()}")
                if h:
                    return {b"id": wid, **h}
            await asyncio.sleep(0.05)
        raise TimeoutError("no worker advertisement")
    finally:
        await redis.aclose()


def _scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=5) as res:
        assert res.status == 200
        text = res.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_worker_backends_config() -> None:
    assert load_config({}).backends == ("procedural",)
    cfg = load_config({"WORKER_BACKENDS": " musicgen, procedural,musicgen"})
    assert cfg.backends == ("musicgen", "procedural")
    with pytest.raises(ConfigError, match="WORKER_BACKENDS"):
        load_config({"WORKER_BACKENDS": "procedural,jukebox"})
    assert backend_queue(cfg.queue_name, "musicgen") == "segments-musicgen"


async def test_procedural_worker_advertises_serves_metrics_and_never_takes_musicgen_jobs(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    port = _free_port()
    cfg = load_config(
        {
            "REDIS_URL": redis_url,
            "DATA_DIR": str(tmp_path / "data"),
            "QUEUE_PREFIX": prefix,
            "WORKER_BACKENDS": "procedural",
            "WORKER_CONCURRENCY": "2",
            "WORKER_HEARTBEAT_MS": "200",
            "WORKER_METRICS_PORT": str(port),
        }
    )
    conn = {"connection": redis_url, "prefix": prefix}
    procedural = Queue(backend_queue(cfg.queue_name, "procedural"), conn)
    musicgen = Queue(backend_queue(cfg.queue_name, "musicgen"), conn)
    redis: Any = Redis.from_url(redis_url)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(cfg, stop))
    try:
        ad = await _advert(redis_url, prefix)
        assert ad[b"backends"] == b"procedural"
        assert ad[b"concurrency"] == b"2" and int(ad[b"pid"]) == os.getpid()
        key = f"{prefix}:workers:{ad[b'id'].decode()}"
        assert 0 < await redis.pttl(key) <= 600  # three heartbeats
        first_beat = int(ad[b"heartbeat"])
        await asyncio.sleep(0.5)
        assert int(await redis.hget(key, "heartbeat")) > first_beat, "the heartbeat refreshes it"

        url = f"http://127.0.0.1:{port}/metrics"
        before = _scrape(url)
        assert before['lofi_worker_jobs_done_total{backend="procedural"}'] == 0
        assert before['lofi_worker_capacity{backend="procedural"}'] == 2

        # A MusicGen job on its own queue: this worker does not consume that queue.
        mg = await musicgen.add("segment", make_job(0, backend="musicgen"), {"jobId": "mg:0:0"})
        good = await procedural.add("segment", make_job(1), {"jobId": "p:0:1"})
        assert await _wait_state(procedural, good.id, {"completed", "failed"}, 60) == "completed"
        # A misrouted add (MusicGen job on the procedural queue) fails with the reason.
        wrong = await procedural.add(
            "segment", make_job(2, backend="musicgen"), {"jobId": "p:0:2", "attempts": 3}
        )
        assert await _wait_state(procedural, wrong.id, {"completed", "failed"}, 60) == "failed"
        assert (
            "'musicgen' on the 'procedural' queue"
            in (await Job.fromId(procedural, wrong.id)).failedReason
        )
        await asyncio.sleep(1)
        assert await musicgen.getJobState(mg.id) == "waiting", "never received"

        after = _scrape(url)
        assert after['lofi_worker_jobs_done_total{backend="procedural"}'] == 1
        assert after['lofi_worker_jobs_failed_total{backend="procedural",reason="rejected"}'] == 1
        assert after['lofi_worker_render_seconds_count{backend="procedural"}'] == 1
        assert after['lofi_worker_realtime_factor{backend="procedural"}'] > 1
        assert after['lofi_worker_busy_slots{backend="procedural"}'] == 0
    finally:
        stop.set()
        assert await asyncio.wait_for(worker, 30) == 0
        # A clean stop withdraws the advertisement at once.
        assert await redis.smembers(f"{prefix}:workers") == set()
        assert await redis.keys(f"{prefix}:workers:*") == []
        await redis.aclose()
        for q in (procedural, musicgen):
            await q.obliterate(force=True)
            await q.close()


async def test_advertisement_expires_after_a_sigkill(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "QUEUE_PREFIX": prefix,
        "DATA_DIR": str(tmp_path / "data"),
        "WORKER_HEARTBEAT_MS": "300",
        "WORKER_METRICS_PORT": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "lofi_worker.cli", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    redis: Any = Redis.from_url(redis_url)
    try:
        ad = await _advert(redis_url, prefix)
        assert int(ad[b"pid"]) == proc.pid
        key = f"{prefix}:workers:{ad[b'id'].decode()}"
        await asyncio.sleep(1.5)  # outlives one TTL (900 ms): the heartbeat keeps it
        assert await redis.exists(key) == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed = time.monotonic()
        while await redis.exists(key):
            assert time.monotonic() - killed < 5, "advertisement outlived its TTL"
            await asyncio.sleep(0.05)
        assert time.monotonic() - killed <= 1.5
    finally:
        if proc.poll() is None:
            proc.kill()
        await redis.aclose()
