"""The S3 segment store against a real S3-protocol server (moto's, over HTTP on a free port)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lofi_worker.config import ConfigError, load_config, load_store_settings
from lofi_worker.contract import Contract, JobRejected
from lofi_worker.job import process_job
from lofi_worker.store import SegmentStore, Store, StoreKeyError, make_store
from lofi_worker.store_s3 import S3SegmentStore
from tests.conftest import _free_port, make_job, wait_for_port

SR = 48000
MOTO = Path(sys.executable).with_name("moto_server")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    if not MOTO.is_file():
        pytest.fail(f"{MOTO} is missing: install the dev extra (pip install -e '.[dev]')")
    port = _free_port()
    proc = subprocess.Popen(
        [str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(proc, port, 60, "moto_server")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


_buckets = iter(range(1_000_000))


def _env(endpoint: str, bucket: str, prefix: str = "") -> dict[str, str]:
    return {
        "STORE_URL": f"s3://{bucket}/{prefix}",
        "S3_ENDPOINT": endpoint,
        "S3_ACCESS_KEY_ID": "test-key",
        "S3_SECRET_ACCESS_KEY": "test-secret",
    }


@pytest.fixture()
def s3(s3_endpoint: str) -> S3SegmentStore:
    """A store on a fresh bucket, built through the worker's config, under a key prefix."""
    bucket = f"worker-test-{next(_buckets)}"
    store = make_store(load_config(_env(s3_endpoint, bucket, "radio/prod")))
    assert isinstance(store, S3SegmentStore)
    store.client.create_bucket(Bucket=bucket)
    return store


def _names(store: S3SegmentStore) -> list[str]:
    res = store.client.list_objects_v2(Bucket=store.bucket)
    return sorted(o["Key"] for o in res.get("Contents", []))


def test_flac_json_and_bytes_round_trip(s3: S3SegmentStore) -> None:
    key = "stations/a/segments/000001.flac"
    audio = (0.5 * np.sin(np.linspace(0, 200, 4800 * 2))).reshape(2, -1)
    s3.write_flac(key, audio, SR)
    back, sr = s3.read_flac(key)
    assert sr == SR and back.shape == audio.shape
    assert np.max(np.abs(back - audio)) < 1e-6  # 24-bit
    s3.write_json("stations/a/segments/000001.json", {"ok": True, "title": "Café"})
    assert s3.read_json("stations/a/segments/000001.json") == {"ok": True, "title": "Café"}
    blob = bytes(range(256)) * 100
    s3.write_bytes("stations/a/segments/000001.tokens.npy", blob)
    assert s3.read_bytes("stations/a/segments/000001.tokens.npy") == blob
    assert s3.exists(key)
    assert _names(s3) == [
        "radio/prod/stations/a/segments/000001.flac",
        "radio/prod/stations/a/segments/000001.json",
        "radio/prod/stations/a/segments/000001.tokens.npy",
    ]
    head = s3.client.head_object(Bucket=s3.bucket, Key="radio/prod/" + key)
    assert head["ContentType"] == "audio/flac"


def test_missing_key_and_missing_bucket(s3: S3SegmentStore, s3_endpoint: str) -> None:
    key = "stations/a/segments/nothing.flac"
    assert not s3.exists(key)
    with pytest.raises(FileNotFoundError):
        s3.read_bytes(key)
    with pytest.raises(FileNotFoundError):
        s3.read_flac(key)
    # A bucket that is not there is a configuration error, not a missing segment.
    other = make_store(load_config(_env(s3_endpoint, "no-such-bucket")))
    with pytest.raises(Exception, match="NoSuchBucket") as err:
        other.read_bytes(key)
    assert not isinstance(err.value, FileNotFoundError)


@pytest.mark.parametrize(
    "key",
    ["/abs/x.flac", "stations/a/../../x.flac", "stations/a/segments/..", "stations//x", "", "a b"],
)
def test_bad_keys_are_refused(s3: S3SegmentStore, key: str) -> None:
    with pytest.raises(StoreKeyError):
        s3.write_bytes(key, b"x")
    with pytest.raises(StoreKeyError):
        s3.read_bytes(key)
    with pytest.raises(StoreKeyError):
        s3.check_key(key)
    assert _names(s3) == []


def test_a_job_chain_writes_into_the_bucket(s3: S3SegmentStore, contract: Contract) -> None:
    first = process_job(make_job(0), store=s3, contract=contract)
    assert s3.read_json(first["metaKey"]) == first
    a, sr = s3.read_flac(first["audioKey"])
    assert sr == SR and a.shape[1] / SR == pytest.approx(first["durationSeconds"])
    at = first["durationSeconds"] - 1.5
    cont = {"seq": 0, "audioKey": first["audioKey"], "atSeconds": at, "state": first["state"]}
    second = process_job(make_job(1, seed=999, continueFrom=cont), store=s3, contract=contract)
    assert second["continuesSeq"] == 0
    b, _ = s3.read_flac(second["audioKey"])
    head = round(1.5 * SR)
    tail = a[:, round(at * SR) : round(at * SR) + head]
    # The continuation picked up the predecessor from the bucket: its head is the tail's music.
    assert np.corrcoef(tail.ravel(), b[:, :head].ravel())[0, 1] > 0.99
    assert _names(s3) == [
        "radio/prod/stations/test-station/segments/000000.flac",
        "radio/prod/stations/test-station/segments/000000.json",
        "radio/prod/stations/test-station/segments/000001.flac",
        "radio/prod/stations/test-station/segments/000001.json",
    ]
    with pytest.raises(JobRejected, match="unsafe component"):
        process_job(make_job(audioKey="stations/a/segments/.."), store=s3, contract=contract)


def test_make_store_defaults_to_the_data_dir(tmp_path: Path) -> None:
    store: Store = make_store(load_config({"DATA_DIR": str(tmp_path)}))
    assert isinstance(store, SegmentStore) and store.root == tmp_path.resolve()
    assert load_store_settings({"STORE_URL": "file:"}).kind == "local"


def test_store_settings_match_the_typescript_side() -> None:
    s = load_store_settings(
        {"STORE_URL": "s3://my.bucket", "S3_REGION": "eu-west-3"}  # AWS: no endpoint
    )
    assert (s.bucket, s.prefix, s.endpoint, s.region) == ("my.bucket", "", None, "eu-west-3")
    assert not s.force_path_style and s.access_key_id is None
    s = load_store_settings(
        {**_env("http://minio:9000/", "b12", "a/b/"), "S3_FORCE_PATH_STYLE": ""}
    )
    assert (s.prefix, s.endpoint, s.force_path_style) == ("a/b/", "http://minio:9000", True)
    assert "test-secret" not in repr(s)


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"STORE_URL": "http://bucket"}, "STORE_URL"),
        ({"STORE_URL": "file:///srv/data"}, "STORE_URL"),
        ({"STORE_URL": "s3://"}, "STORE_URL"),
        ({"STORE_URL": "s3://Upper_Case"}, "STORE_URL"),
        ({"STORE_URL": "s3://bucket/../x"}, "STORE_URL"),
        ({"STORE_URL": "s3://bucket", "S3_ENDPOINT": "ftp://k:secretkey@minio"}, "S3_ENDPOINT"),
        ({"STORE_URL": "s3://bucket", "S3_ENDPOINT": "http://k:secretkey@minio"}, "S3_ENDPOINT"),
        ({"STORE_URL": "s3://bucket", "S3_REGION": "Europe West"}, "S3_REGION"),
        ({"STORE_URL": "s3://bucket", "S3_FORCE_PATH_STYLE": "maybe"}, "S3_FORCE_PATH_STYLE"),
        ({"STORE_URL": "s3://bucket", "S3_SECRET_ACCESS_KEY": "secretkey"}, "S3_ACCESS_KEY_ID"),
        ({"STORE_URL": "s3://bucket", "S3_ACCESS_KEY_ID": "k"}, "S3_SECRET_ACCESS_KEY"),
    ],
)
def test_bad_store_settings_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_store_settings(env)
    assert str(err.value).startswith(name) and "secretkey" not in str(err.value)
