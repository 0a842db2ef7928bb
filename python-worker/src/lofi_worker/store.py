"""Segment store: a local folder (DATA_DIR) or an S3-compatible bucket (store_s3.py).

Keys come from jobs, i.e. from the network: they are checked defensively even though the schema
already restricts them, because the schema is the other team's file and may be loosened one day.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

import numpy as np
import soundfile as sf

if TYPE_CHECKING:
    from lofi_worker.config import Config

_KEY_PART = re.compile(r"^[A-Za-z0-9._-]+$")


class StoreKeyError(ValueError):
    """A store key that would escape the store root or is malformed."""


def check_key(key: str) -> str:
    """The key when it is a safe relative key (a/b/c without '', '.', '..'); else StoreKeyError."""
    if not isinstance(key, str) or not key or "\\" in key or "\x00" in key:
        raise StoreKeyError(f"bad store key {key!r}")
    if PurePosixPath(key).is_absolute() or key.startswith("/"):
        raise StoreKeyError(f"store key must be relative, got {key!r}")
    # Split the raw key: PurePosixPath would silently normalise "a//b" and "a/./b".
    if any(part in ("", ".", "..") or not _KEY_PART.match(part) for part in key.split("/")):
        raise StoreKeyError(f"store key has an unsafe component: {key!r}")
    return key


class Store(Protocol):
    """What jobs and backends use; the local and the S3 store both provide it.

    Writes are whole and atomic (a reader sees the old object or the new, never a part). Reading
    a missing key raises FileNotFoundError; a bad key raises StoreKeyError.
    """

    def check_key(self, key: str) -> str: ...
    def write_bytes(self, key: str, data: bytes) -> object: ...
    def write_json(self, key: str, obj: Any) -> object: ...
    def write_flac(self, key: str, audio: np.ndarray, sample_rate: int) -> object: ...
    def read_bytes(self, key: str) -> bytes: ...
    def read_json(self, key: str) -> Any: ...
    def read_flac(self, key: str) -> tuple[np.ndarray, int]: ...
    def exists(self, key: str) -> bool: ...


def make_store(cfg: Config) -> Store:
    """The store the configuration names (STORE_URL): the DATA_DIR folder or an S3 bucket."""
    if cfg.store.kind == "s3":
        from lofi_worker.store_s3 import S3SegmentStore

        return S3SegmentStore(cfg.store)
    return SegmentStore(cfg.data_dir)


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def write_flac_to(fh: BinaryIO, audio: np.ndarray, sample_rate: int) -> None:
    """audio: (channels, frames) float in [-1, 1]; written as 24-bit FLAC."""
    sf.write(fh, np.ascontiguousarray(audio.T), sample_rate, format="FLAC", subtype="PCM_24")


def flac_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    buf = io.BytesIO()
    write_flac_to(buf, audio, sample_rate)
    return buf.getvalue()


def read_flac_from(src: Path | BinaryIO) -> tuple[np.ndarray, int]:
    data, sr = sf.read(str(src) if isinstance(src, Path) else src, dtype="float64", always_2d=True)
    return np.ascontiguousarray(data.T), int(sr)


class SegmentStore:
    """The local folder store (DATA_DIR)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def check_key(self, key: str) -> str:
        self.path(key)
        return key

    def path(self, key: str) -> Path:
        resolved = (self.root / PurePosixPath(check_key(key))).resolve()
        # Symlinks inside the store could still point outside it.
        if not resolved.is_relative_to(self.root):
            raise StoreKeyError(f"store key escapes the store root: {key!r}")
        return resolved

    def write_bytes(self, key: str, data: bytes) -> Path:
        return self._write_atomic(key, lambda fh: fh.write(data))

    def write_json(self, key: str, obj: Any) -> Path:
        return self.write_bytes(key, json_bytes(obj))

    def write_flac(self, key: str, audio: np.ndarray, sample_rate: int) -> Path:
        """audio: (channels, frames) float in [-1, 1]; written as 24-bit FLAC."""
        return self._write_atomic(key, lambda fh: write_flac_to(fh, audio, sample_rate))

    def _write_atomic(self, key: str, write: Callable[[BinaryIO], object]) -> Path:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same directory as the target so os.replace is an atomic rename on one filesystem;
        # readers (the streamer) never see a half-written file.
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; the streamer may run as another user
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return target

    def read_flac(self, key: str) -> tuple[np.ndarray, int]:
        return read_flac_from(self.path(key))

    def read_json(self, key: str) -> Any:
        return json.loads(self.path(key).read_text(encoding="utf-8"))

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


def read_flac_path(path: Path) -> tuple[np.ndarray, int]:
    return read_flac_from(path)


def meta_key_for(audio_key: str) -> str:
    if not audio_key.endswith(".flac"):
        raise StoreKeyError(f"audioKey must end in .flac, got {audio_key!r}")
    return audio_key[: -len(".flac")] + ".json"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
