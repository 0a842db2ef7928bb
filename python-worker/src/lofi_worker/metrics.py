"""The worker's Prometheus metrics (prometheus-client), served on WORKER_METRICS_PORT (0: off).

Each run_worker call gets its own registry, so tests can run several workers in one process.
Labels are the backend only: a handful of values.
"""

from __future__ import annotations

import contextlib
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from lofi_worker.logs import get_logger

log = get_logger("lofi_worker.metrics")

# Render times from a fraction of a second (procedural) to minutes (a MusicGen batch on a CPU).
RENDER_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300)


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.jobs_done = Counter(
            "lofi_worker_jobs_done", "Segment jobs completed", ["backend"], registry=r
        )
        self.jobs_failed = Counter(
            "lofi_worker_jobs_failed",
            "Segment jobs that failed (reason: rejected = bad input or missing backend, error)",
            ["backend", "reason"],
            registry=r,
        )
        self.render_seconds = Histogram(
            "lofi_worker_render_seconds",
            "Wall time of one segment job",
            ["backend"],
            buckets=RENDER_BUCKETS,
            registry=r,
        )
        self.realtime_factor = Gauge(
            "lofi_worker_realtime_factor",
            "New audio seconds per second of generation, last job",
            ["backend"],
            registry=r,
        )
        self.busy = Gauge("lofi_worker_busy_slots", "Jobs in hand", ["backend"], registry=r)
        self.capacity = Gauge(
            "lofi_worker_capacity", "Jobs this worker runs at once", ["backend"], registry=r
        )
        self._server: Any = None
        self.url: str | None = None

    def advertise(self, backend: str, capacity: int) -> None:
        self.capacity.labels(backend).set(capacity)
        self.busy.labels(backend).set(0)
        self.jobs_done.labels(backend)
        for reason in ("rejected", "error"):
            self.jobs_failed.labels(backend, reason)

    def serve(self, host: str, port: int) -> str | None:
        """Starts the HTTP server (a daemon thread). A taken port is logged, not fatal."""
        if port == 0:
            return None
        try:
            self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as err:
            log.error(
                "worker metrics server could not listen; running without it",
                extra={"host": host, "port": port, "reason": str(err)},
            )
            return None
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self._server.server_port}/metrics"
        return self.url

    def close(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.shutdown()
                self._server.server_close()
            self._server = None
