"""Several stations' MusicGen jobs waiting together become one batched model call."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lofi_worker.backends.base import GenerationRequest, RenderedAudio
from lofi_worker.backends.musicgen import MusicGenBackend
from lofi_worker.backends.musicgen.batcher import Batcher
from lofi_worker.backends.musicgen.engine import GenItem
from lofi_worker.config import load_musicgen_settings
from lofi_worker.contract import Contract
from lofi_worker.job import process_job
from lofi_worker.store import SegmentStore
from tests.conftest import MUSICGEN_TEST_ENV, make_job


def test_batcher_collects_waiting_items_and_routes_results() -> None:
    seen: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        seen.append(list(items))
        return [i * 10 for i in items]

    b: Batcher[int, int] = Batcher(run, key=lambda i: i % 2, max_batch=2, window_s=5.0)
    started = time.monotonic()
    futures = [b.submit(i) for i in (1, 3, 2, 4, 5)]
    assert [f.result(timeout=10) for f in futures] == [10, 30, 20, 40, 50]
    # The first two filled a batch at once (no 5 s window); the rest joined while it ran or
    # waited for the window; odd and even keys never share a call; no call exceeds max_batch.
    assert time.monotonic() - started < 9
    assert all(len(c) <= 2 and len({i % 2 for i in c}) == 1 for c in seen)
    assert sorted(i for c in seen for i in c) == [1, 2, 3, 4, 5]
    assert seen[0] == [1, 3]


def test_batcher_failure_reaches_every_caller_of_that_call() -> None:
    def run(items: list[int]) -> list[int]:
        raise ValueError(f"model failed on {items}")

    b: Batcher[int, int] = Batcher(run, key=lambda i: 0, max_batch=2, window_s=1.0)
    futures = [b.submit(1), b.submit(2)]
    for f in futures:
        with pytest.raises(ValueError, match=r"model failed on \[1, 2\]"):
            f.result(timeout=10)


def test_two_stations_share_one_generation_call(
    musicgen_dir: Path, store: SegmentStore, contract: Contract, musicgen: MusicGenBackend,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    # Each station's first segment (made by the shared test backend), then both continuations
    # through a backend that waits up to 10 s for a batch of two.
    firsts = {}
    for station, prompt in (("alpha", "rainy day jazz"), ("beta", "night city guitar")):
        job = make_job(
            0, stationId=station, backend="musicgen", prompt=prompt, seed=len(station),
            durationSeconds=3.0, overlapSeconds=1.0,
            audioKey=f"stations/{station}/segments/000000.flac",
        )  # fmt: skip
        firsts[station] = process_job(job, store=store, contract=contract)
    env = {**MUSICGEN_TEST_ENV, "MUSICGEN_MODEL": str(musicgen_dir)}
    env |= {"MUSICGEN_BATCH": "2", "MUSICGEN_BATCH_WINDOW_MS": "10000"}
    backend = MusicGenBackend(load_musicgen_settings(env))
    backend.load()
    results: dict[str, RenderedAudio] = {}

    def run(station: str) -> None:
        first = firsts[station]
        cont: dict[str, Any] = {
            "seq": 0,
            "audioKey": first["audioKey"],
            "tokensKey": first["tokensKey"],
            "atSeconds": first["durationSeconds"] - 1.0,
            "state": first["state"],
        }
        results[station] = backend.generate(
            GenerationRequest(
                prompt=first["prompt"],
                seed=11,
                duration_seconds=3.0,
                overlap_seconds=1.0,
                sample_rate=48000,
                continue_from=cont,
                store=store,
            )
        )

    caplog.set_level(logging.INFO, logger="lofi_worker.musicgen")
    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(s,)) for s in firsts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert time.monotonic() - started < 8, "the batch ran when full, not after the window"
    assert backend.batcher.calls == [2]
    for station, first in firsts.items():
        prev = np.load(store.path(first["tokensKey"]))
        got = results[station].tokens
        assert got is not None
        # Each caller got the continuation of its own station's tokens.
        assert np.array_equal(got[:, :50], prev[:, -50:]), station
    a, b = results["alpha"].tokens, results["beta"].tokens
    assert a is not None and b is not None and not np.array_equal(a[:, 50:], b[:, 50:])
    batch_logs = [r for r in caplog.records if r.getMessage() == "musicgen batch"]
    assert any(getattr(r, "batchSize", 0) == 2 for r in batch_logs)
    logged = next(r for r in batch_logs if getattr(r, "batchSize", 0) == 2)
    fields = logged.__dict__
    assert fields["realtimeFactor"] > 0 and fields["tokensPerSecond"] > 0
    assert fields["audioSeconds"] == pytest.approx(6.0)


def test_a_row_does_not_depend_on_its_batch_mates(musicgen: MusicGenBackend) -> None:
    """Per-row sampling parameters and random streams: a batched row equals its request alone."""
    engine = musicgen.engine(musicgen.settings.model)
    rng = np.random.default_rng(0)
    ctx = [rng.integers(0, 2048, (4, 40)) for _ in range(2)]
    items = [
        GenItem(
            model=engine.model_id,
            prompt=prompt,
            context=ctx[i],
            context_audio=None,
            context_frames=40,
            new_frames=60,
            top_k=k,
            top_p=p,
            temperature=t,
            cfg_coef=cfg,
            seed=i,
        )
        for i, (prompt, k, p, t, cfg) in enumerate(
            [
                ("rainy day jazz", 250, 0.0, 1.0, 3.0),
                ("night city guitar soft piano", 50, 0.9, 0.8, 1.0),
            ]
        )
    ]
    both = engine.generate(items, np.stack(ctx), 60, [0, 1])
    for i, item in enumerate(items):
        alone = engine.generate([item], ctx[i][None], 60, [i])
        assert np.array_equal(both[i], alone[0])
        assert np.array_equal(both[i][:, :40], ctx[i])
