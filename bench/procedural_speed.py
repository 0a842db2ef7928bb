"""Procedural backend speed on one core: seconds of new 48 kHz stereo music per second of compute.

Runs the worker's real job path (validate, render, master, quality gate, FLAC write) on a chain
of continuation segments in one warm process, pinned to one core and one thread. Prints one JSON
object. `realtimeFactor` is the whole job path (what a worker sustains), the median of `passes`
runs of the chain; the stage fields split the same runs into rendering (the backend alone),
mastering + quality gate, and the rest (FLAC encode + fsync, metadata, validation).
`cpuRealtimeFactor` divides by the process's CPU time instead of wall time: on a shared machine
the wall figure also counts time other processes held the core.

Usage: procedural_speed.py [SEGMENTS=8] [PASSES=3]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from lofi_worker import quality  # noqa: E402
from lofi_worker.backends import get_backend  # noqa: E402
from lofi_worker.contract import load_contract  # noqa: E402
from lofi_worker.job import process_job  # noqa: E402
from lofi_worker.store import SegmentStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEGMENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 8
PASSES = int(sys.argv[2]) if len(sys.argv) > 2 else 3
PROMPT = "rainy-day slow jazz with soft piano and vinyl crackle"


class Stage:
    """Wall time spent inside one function, summed over calls."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t

        return timed


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    contract = load_contract(ROOT / "packages/contracts/schema/segment.schema.json")
    store = SegmentStore(Path(tempfile.mkdtemp(prefix="lofi-bench-")))
    render, gate = Stage(), Stage()
    backend: Any = get_backend("procedural")
    backend.generate = render.wrap(backend.generate)
    quality.master = gate.wrap(quality.master)
    quality.check = gate.wrap(quality.check)

    prev: dict[str, Any] | None = None
    seq = 0

    def next_segment() -> dict[str, Any]:
        nonlocal prev, seq
        job = {
            "stationId": "bench", "seq": seq, "promptVersion": 0, "prompt": PROMPT,
            "backend": "procedural", "seed": 7, "durationSeconds": 16, "overlapSeconds": 1.5,
            "sampleRate": 48000, "channels": 2,
            "audioKey": f"stations/bench/segments/{seq:08d}-v0.flac",
            "continueFrom": None if prev is None else {
                "seq": prev["seq"], "audioKey": prev["audioKey"],
                "atSeconds": prev["durationSeconds"] - prev["headOverlapSeconds"],
                "state": prev["state"],
            },
        }  # fmt: skip
        prev = process_job(job, store=store, contract=contract)
        seq += 1
        return prev

    next_segment()  # warms caches, as a long-lived worker's would be
    runs = []
    for _ in range(PASSES):
        render.seconds = gate.seconds = 0.0
        audio = 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(SEGMENTS):
            r = next_segment()
            audio += r["durationSeconds"] - r["headOverlapSeconds"]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        runs.append(
            {
                "realtimeFactor": audio / wall,
                "cpuRealtimeFactor": audio / cpu,
                "renderRealtimeFactor": audio / render.seconds,
                "renderSeconds": render.seconds,
                "masterAndGateSeconds": gate.seconds,
                "restSeconds": wall - render.seconds - gate.seconds,
                "computeSeconds": wall,
                "audioSeconds": audio,
            }
        )
    median = sorted(runs, key=lambda r: r["realtimeFactor"])[len(runs) // 2]
    print(
        json.dumps(
            {
                **{k: round(v, 3) for k, v in median.items()},
                "realtimeFactorBest": round(max(r["realtimeFactor"] for r in runs), 3),
                "realtimeFactors": [round(r["realtimeFactor"], 1) for r in runs],
                "cpuRealtimeFactorMedian": round(
                    statistics.median(r["cpuRealtimeFactor"] for r in runs), 3
                ),
                "passes": PASSES,
                "segmentsPerPass": SEGMENTS,
            }
        )
    )


if __name__ == "__main__":
    main()
