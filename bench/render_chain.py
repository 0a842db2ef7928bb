"""Renders a chain of N procedural segments the way the queue does (each continuing the last at
its end minus the overlap, through process_job: mastering and the quality gate included) into
OUT_DIR, and prints the results as one JSON line. Used by bench/seams.ts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lofi_worker.chain import continuation_job
from lofi_worker.config import DEFAULT_SCHEMA
from lofi_worker.contract import load_contract
from lofi_worker.job import process_job
from lofi_worker.store import SegmentStore

PROMPT = "rainy-day slow jazz with soft piano"


def main() -> None:
    n, out = int(sys.argv[1]), Path(sys.argv[2])
    store = SegmentStore(out)
    contract = load_contract(DEFAULT_SCHEMA)
    results: list[dict[str, Any]] = []
    prev: dict[str, Any] | None = None
    for seq in range(n):
        job = continuation_job(
            "bench", seq, PROMPT, "procedural", 1000 + seq, 8, 1.5, 48000, 2, prev
        )
        prev = process_job(job, store=store, contract=contract)
        results.append(prev)
    print(json.dumps({"dir": str(out), "segments": results}))


if __name__ == "__main__":
    main()
