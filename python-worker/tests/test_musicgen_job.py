"""MusicGen segments end to end: process_job (mastering, quality gate, files) and the real BullMQ
worker on a real redis-server, with a tiny random model."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bullmq import Job, Queue

from lofi_worker.backends.musicgen import MusicGenBackend
from lofi_worker.config import backend_queue, load_config
from lofi_worker.contract import Contract
from lofi_worker.job import process_job
from lofi_worker.store import SegmentStore
from lofi_worker.worker import run_worker
from tests.conftest import make_job
from tests.test_advertise import _advert
from tests.test_worker_e2e import _wait_state

SR = 48000
OV, D = 1.0, 3.0


def mg_job(seq: int, station: str = "test-station", **over: Any) -> dict[str, Any]:
    job = make_job(
        seq, stationId=station, backend="musicgen", durationSeconds=D, overlapSeconds=OV,
        seed=100 + seq, audioKey=f"stations/{station}/segments/{seq:06d}.flac",
    )  # fmt: skip
    return {**job, **over}


def next_cont(result: dict[str, Any]) -> dict[str, Any]:
    """As the scheduler builds continueFrom: tokensKey copied from the predecessor's result."""
    return {
        "seq": result["seq"],
        "audioKey": result["audioKey"],
        "tokensKey": result["tokensKey"],
        "atSeconds": result["durationSeconds"] - OV,
        "state": result["state"],
    }


def test_chain_passes_the_gate_and_carries_tokens(
    musicgen: MusicGenBackend, store: SegmentStore, contract: Contract, musicgen_dir: Path
) -> None:
    results: list[dict[str, Any]] = []
    for seq in range(3):
        cont = next_cont(results[-1]) if results else None
        prompt = "rainy day slow jazz" if seq < 2 else "night city guitar"  # a mood change
        results.append(
            process_job(
                mg_job(seq, continueFrom=cont, prompt=prompt), store=store, contract=contract
            )
        )
    for seq, r in enumerate(results):
        contract.validate_result(r)
        assert r["backend"] == "musicgen" and r["model"] == str(musicgen_dir)
        assert r["headOverlapSeconds"] == OV
        assert r["durationSeconds"] == pytest.approx(OV + D, abs=1 / 50)
        assert abs(r["loudnessLufs"] + 16) <= 1 and r["truePeakDbtp"] <= -1
        assert r["tokensKey"] == f"stations/test-station/segments/{seq:06d}.tokens.npy"
        tokens = np.load(store.path(r["tokensKey"]))
        assert tokens.shape == (4, round(r["durationSeconds"] * 50))
        audio, sr = store.read_flac(r["audioKey"])
        assert sr == SR and audio.shape == (2, round(r["durationSeconds"] * SR))
        assert store.read_json(r["metaKey"]) == r
        assert r["state"]["contextSource"] == ("none" if seq == 0 else "tokens")
    for prev, cur in itertools.pairwise(results):
        assert cur["continuesSeq"] == prev["seq"]
        prev_tokens = np.load(store.path(prev["tokensKey"]))
        cur_tokens = np.load(store.path(cur["tokensKey"]))
        # The new file's first second is the predecessor's last second, token for token.
        assert np.array_equal(cur_tokens[:, :50], prev_tokens[:, -50:])
        # After mastering the two renderings still match (gain steps are small and smooth).
        a, _ = store.read_flac(prev["audioKey"])
        b, _ = store.read_flac(cur["audioKey"])
        tail, head = a[0, -SR:], b[0, :SR]
        assert np.corrcoef(tail[: -SR // 10], head[: -SR // 10])[0, 1] > 0.98


async def test_worker_runs_musicgen_jobs_from_the_queue(
    musicgen: MusicGenBackend, redis_url: str, prefix: str, tmp_path: Path, contract: Contract
) -> None:
    cfg = dataclasses.replace(
        load_config(
            {
                "REDIS_URL": redis_url,
                "DATA_DIR": str(tmp_path / "data"),
                "QUEUE_PREFIX": prefix,
                "WORKER_CONCURRENCY": "2",
                "WORKER_BACKENDS": "musicgen",
                "WORKER_METRICS_PORT": "0",
            }
        )
    )
    queue = Queue(
        backend_queue(cfg.queue_name, "musicgen"), {"connection": redis_url, "prefix": prefix}
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(cfg, stop))
    try:
        # It advertises MusicGen only, with its model and capacity, for the scheduler's routing.
        ad = await _advert(redis_url, prefix)
        assert ad[b"backends"] == b"musicgen" and ad[b"concurrency"] == b"2"
        assert ad[b"model"] == str(musicgen.settings.model).encode()
        added = [
            await queue.add("segment", mg_job(0, station), {"jobId": f"{station}:0:0"})
            for station in ("alpha", "beta")
        ]
        for job in added:
            assert await _wait_state(queue, job.id, {"completed", "failed"}, 90) == "completed"
        first = (await Job.fromId(queue, added[0].id)).returnvalue
        contract.validate_result(first)
        nxt = await queue.add(
            "segment", mg_job(1, "alpha", continueFrom=next_cont(first)), {"jobId": "alpha:0:1"}
        )
        assert await _wait_state(queue, nxt.id, {"completed", "failed"}, 90) == "completed"
        second = (await Job.fromId(queue, nxt.id)).returnvalue
        assert second["state"]["contextSource"] == "tokens"
        assert second["tokensKey"] == "stations/alpha/segments/000001.tokens.npy"
        assert SegmentStore(cfg.data_dir).exists(second["tokensKey"])
    finally:
        stop.set()
        assert await asyncio.wait_for(worker, 30) == 0
        await queue.obliterate(force=True)
        await queue.close()
