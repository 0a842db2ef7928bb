from __future__ import annotations

from typing import Any

import pytest

from lofi_worker.contract import Contract, JobRejected
from tests.conftest import make_job


def test_good_job_passes(contract: Contract) -> None:
    job = make_job()
    assert contract.validate_job(job) is job
    cont = make_job(
        seq=1,
        continueFrom={
            "seq": 0,
            "audioKey": "stations/test-station/segments/000000.flac",
            "atSeconds": 6.5,
            "state": {"seed": 1},
        },
    )
    contract.validate_job(cont)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stationId": "Bad Station!"}, "$.stationId"),
        ({"durationSeconds": 600}, "$.durationSeconds"),
        ({"sampleRate": 22050}, "$.sampleRate"),
        ({"audioKey": "/etc/passwd"}, "$.audioKey"),
        ({"audioKey": "stations/x/segments/../../../etc"}, "$.audioKey"),
        ({"unexpected": True}, "unexpected"),
        (
            {
                "continueFrom": {
                    "seq": 0,
                    "audioKey": "stations/a/segments/p.flac",
                    "atSeconds": -1,
                    "state": {},
                }
            },
            "$.continueFrom.atSeconds",
        ),
    ],
)
def test_bad_jobs_are_rejected_with_the_field(
    contract: Contract, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(JobRejected) as err:
        contract.validate_job(make_job(**change))
    assert field in str(err.value)
    assert str(err.value).startswith("invalid SegmentJob")


def test_missing_field_and_non_object(contract: Contract) -> None:
    job = make_job()
    del job["prompt"]
    with pytest.raises(JobRejected, match="'prompt' is a required property"):
        contract.validate_job(job)
    with pytest.raises(JobRejected, match="JSON object"):
        contract.validate_job("nope")
