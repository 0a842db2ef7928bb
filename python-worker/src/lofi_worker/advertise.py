"""The worker's advertisement in Redis: which backends it runs and how many jobs at once.

A hash `<prefix>:workers:<workerId>` with a TTL of three heartbeats, rewritten on every heartbeat,
and the id in the set `<prefix>:workers`. The scheduler (packages/redis/src/workers.ts, same key
names and fields) routes a station's jobs to the procedural fallback while no live worker runs
its backend. A clean stop deletes the hash; a killed worker's hash expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from typing import Any

from redis.asyncio import Redis

from lofi_worker.logs import get_logger

log = get_logger("lofi_worker.advertise")


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def workers_index_key(prefix: str) -> str:
    return f"{prefix}:workers"


def worker_key(prefix: str, worker_id: str) -> str:
    return f"{prefix}:workers:{worker_id}"


class Advertisement:
    def __init__(
        self,
        redis_url: str,
        prefix: str,
        worker_id: str,
        fields: dict[str, Any],
        heartbeat_ms: int,
    ) -> None:
        self.redis: Redis = Redis.from_url(redis_url)
        self.prefix = prefix
        self.worker_id = worker_id
        self.heartbeat_ms = heartbeat_ms
        self.ttl_ms = 3 * heartbeat_ms
        self.fields = {
            **{k: str(v) for k, v in fields.items()},
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "ttl": str(self.ttl_ms),
        }
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        key = worker_key(self.prefix, self.worker_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            # The whole hash each time: after a Redis restart (or an expiry) it comes back whole.
            pipe.hset(key, mapping={**self.fields, "heartbeat": str(int(time.time() * 1000))})
            pipe.pexpire(key, self.ttl_ms)
            pipe.sadd(workers_index_key(self.prefix), self.worker_id)
            await pipe.execute()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_ms / 1000)
            try:
                await self._beat()
            except Exception as err:  # Redis away: the next beat retries
                log.warning("advertisement heartbeat failed", extra={"reason": str(err)})

    async def start(self) -> None:
        try:
            await self._beat()
        except Exception as err:  # Redis not there yet: the heartbeat loop registers it later
            log.warning("could not advertise yet", extra={"reason": str(err)})
        self._task = asyncio.ensure_future(self._loop())
        log.info(
            "worker advertised",
            extra={"workerId": self.worker_id, **self.fields, "heartbeatMs": self.heartbeat_ms},
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(worker_key(self.prefix, self.worker_id))
                pipe.srem(workers_index_key(self.prefix), self.worker_id)
                await pipe.execute()
        except Exception as err:  # Redis away: the hash expires by itself
            log.warning("could not withdraw the advertisement", extra={"reason": str(err)})
        await self.redis.aclose()
