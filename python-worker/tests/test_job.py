from __future__ import annotations

import numpy as np
import pytest

from lofi_worker.contract import Contract, JobRejected
from lofi_worker.job import process_job
from lofi_worker.quality import MAX_GAIN_STEP_DB
from lofi_worker.store import SegmentStore
from tests.conftest import make_job

SR = 48000


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x**2)))


def test_chain_of_segments_joins_seamlessly(store: SegmentStore, contract: Contract) -> None:
    first = process_job(make_job(0), store=store, contract=contract)
    assert first["continuesSeq"] is None and first["joinAtSeconds"] == 0
    assert first["headOverlapSeconds"] == 1.5 and first["state"]["section"] == "intro"
    a, sr = store.read_flac(first["audioKey"])
    assert sr == SR and a.shape[0] == 2
    assert a.shape[1] / SR == pytest.approx(first["durationSeconds"])
    assert store.read_json(first["metaKey"]) == first

    at = first["durationSeconds"] - 1.5
    job = make_job(
        1,
        seed=999,
        continueFrom={
            "seq": 0,
            "audioKey": first["audioKey"],
            "atSeconds": at,
            "state": first["state"],
        },
    )
    second = process_job(job, store=store, contract=contract)
    assert second["continuesSeq"] == 0 and second["joinAtSeconds"] == at
    b, _ = store.read_flac(second["audioKey"])
    head = round(1.5 * SR)
    tail = a[:, round(at * SR) : round(at * SR) + head]
    # The written files differ by at most the mastering gain step between segments.
    assert np.corrcoef(tail.ravel(), b[:, :head].ravel())[0, 1] > 0.99
    # At most the smoothing step, plus a correction if the exact meter asked for one.
    assert abs(_db(tail) - _db(b[:, :head])) < MAX_GAIN_STEP_DB + 0.3
    gain = 10 ** ((second["state"]["masterGainDb"] - first["state"]["masterGainDb"]) / 20)
    assert np.max(np.abs(tail * gain - b[:, :head])) < 0.02
    for r in (first, second):
        assert abs(r["loudnessLufs"] + 16) <= 1 and r["truePeakDbtp"] <= -1


def test_bad_key_and_missing_backend_are_rejected(store: SegmentStore, contract: Contract) -> None:
    # The schema pattern lets ".." through as a file name; the store does not.
    with pytest.raises(JobRejected, match="unsafe component"):
        process_job(make_job(audioKey="stations/a/segments/.."), store=store, contract=contract)
    with pytest.raises(JobRejected, match=r"must end in \.flac"):
        process_job(make_job(audioKey="stations/a/segments/x.wav"), store=store, contract=contract)
    with pytest.raises(Exception, match="musicgen backend unavailable"):
        process_job(make_job(backend="musicgen"), store=store, contract=contract)


def test_mono_job(store: SegmentStore, contract: Contract) -> None:
    r = process_job(make_job(channels=1, sampleRate=44100), store=store, contract=contract)
    audio, sr = store.read_flac(r["audioKey"])
    assert audio.shape[0] == 1 and sr == 44100
