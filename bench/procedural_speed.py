"""Procedural backend speed on one core: seconds of new 48 kHz stereo music per second of compute.

Runs the worker's real job path (validate, render, master, quality gate, FLAC write) on a chain
of continuation segments in one warm process, pinned to one thread. Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from lofi_worker.contract import load_contract  # noqa: E402
from lofi_worker.job import process_job  # noqa: E402
from lofi_worker.store import SegmentStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEGMENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 8


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    contract = load_contract(ROOT / "packages/contracts/schema/segment.schema.json")
    store = SegmentStore(Path(tempfile.mkdtemp(prefix="lofi-bench-")))
    prev = None
    audio = 0.0
    compute = 0.0
    for seq in range(SEGMENTS + 1):
        job = {
            "stationId": "bench", "seq": seq, "promptVersion": 0,
            "prompt": "rainy-day slow jazz with soft piano and vinyl crackle",
            "backend": "procedural", "seed": 7, "durationSeconds": 16, "overlapSeconds": 1.5,
            "sampleRate": 48000, "channels": 2,
            "audioKey": f"stations/bench/segments/{seq:08d}-v0.flac",
            "continueFrom": None if prev is None else {
                "seq": prev["seq"], "audioKey": prev["audioKey"],
                "atSeconds": prev["durationSeconds"] - prev["headOverlapSeconds"], "state": prev["state"],
            },
        }
        t = time.perf_counter()
        prev = process_job(job, store=store, contract=contract)
        if seq > 0:  # the first job warms caches, as a long-lived worker's would be
            compute += time.perf_counter() - t
            audio += prev["durationSeconds"] - prev["headOverlapSeconds"]
    print(json.dumps({"audioSeconds": audio, "computeSeconds": compute, "realtimeFactor": audio / compute}))


if __name__ == "__main__":
    main()
