"""A job's track travels into its result; listeners see the track's name as the title."""

from __future__ import annotations

from lofi_worker.contract import Contract
from lofi_worker.job import process_job
from lofi_worker.store import SegmentStore
from tests.conftest import make_job

TRACK = {
    "index": 3,
    "name": "Late Bus Home",
    "subtitle": "末班车",
    "artist": "Lo-Fi Hours",
    "position": 0,
    "segments": 20,
    "part": "intro",
}


def test_result_carries_the_track_and_its_name(store: SegmentStore, contract: Contract) -> None:
    result = process_job(make_job(0, track=TRACK), store=store, contract=contract)
    assert result["track"] == TRACK
    assert result["title"] == "Late Bus Home"
    # The segment's musical detail stays for the curious, never as the title.
    detail = result["state"]["detail"]
    assert " · " in detail and "Late Bus Home" not in detail
    assert store.read_json(result["metaKey"]) == result


def test_a_job_without_a_track_keeps_the_segment_title(
    store: SegmentStore, contract: Contract
) -> None:
    result = process_job(make_job(0), store=store, contract=contract)
    assert "track" not in result
    assert result["title"] == result["state"]["detail"] and " · " in result["title"]
