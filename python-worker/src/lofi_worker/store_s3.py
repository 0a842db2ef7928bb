"""The segment store as an S3-compatible bucket (STORE_URL=s3://bucket/prefix), for workers and
streamers on different machines. Object names are the store keys under the optional prefix.

A PUT of a whole object is atomic in S3 (readers see the old object or the new), which is what
the local store gets from its rename; the FLAC is encoded in memory and sent in one request.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import boto3
import numpy as np
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from lofi_worker.config import StoreSettings
from lofi_worker.store import check_key, flac_bytes, json_bytes, read_flac_from

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}


class S3SegmentStore:
    def __init__(self, settings: StoreSettings) -> None:
        if settings.kind != "s3" or not settings.bucket:
            raise ValueError("S3SegmentStore needs s3 settings with a bucket")
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        extra: dict[str, Any] = {}
        if settings.endpoint:
            # Several S3-compatible servers reject checksums on every request (botocore's newer
            # default); send them only where the S3 API requires one.
            extra = {
                "request_checksum_calculation": "when_required",
                "response_checksum_validation": "when_required",
            }
        config = BotoConfig(
            s3={"addressing_style": "path" if settings.force_path_style else "auto"},
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            **extra,
        )
        self.client: S3Client = boto3.client(
            "s3",
            endpoint_url=settings.endpoint,
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            config=config,
        )

    def check_key(self, key: str) -> str:
        return check_key(key)

    def object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def write_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        name = self.object_key(key)
        self.client.put_object(
            Bucket=self.bucket,
            Key=name,
            Body=data,
            ContentType=content_type or _content_type(key),
        )
        return name

    def write_json(self, key: str, obj: Any) -> str:
        return self.write_bytes(key, json_bytes(obj), "application/json")

    def write_flac(self, key: str, audio: np.ndarray, sample_rate: int) -> str:
        return self.write_bytes(key, flac_bytes(audio, sample_rate), "audio/flac")

    def read_bytes(self, key: str) -> bytes:
        name = self.object_key(key)
        try:
            res = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as err:
            if _code(err) in _NOT_FOUND:
                raise FileNotFoundError(f"no object s3://{self.bucket}/{name}") from err
            raise
        return res["Body"].read()

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_bytes(key).decode("utf-8"))

    def read_flac(self, key: str) -> tuple[np.ndarray, int]:
        return read_flac_from(io.BytesIO(self.read_bytes(key)))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as err:
            if _code(err) in _NOT_FOUND:
                return False
            raise
        return True


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _content_type(key: str) -> str:
    if key.endswith(".flac"):
        return "audio/flac"
    if key.endswith(".json"):
        return "application/json"
    return "application/octet-stream"
