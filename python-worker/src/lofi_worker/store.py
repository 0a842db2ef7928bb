"""Segment store adapter for a local folder (DATA_DIR).

Keys come from jobs, i.e. from the network: they are resolved defensively even though the schema
already restricts them, because the schema is the other team's file and may be loosened one day.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import numpy as np
import soundfile as sf

_KEY_PART = re.compile(r"^[A-Za-z0-9._-]+$")


class StoreKeyError(ValueError):
    """A store key that would escape the store root or is malformed."""


class SegmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        if not key or "\\" in key or "\x00" in key:
            raise StoreKeyError(f"bad store key {key!r}")
        pure = PurePosixPath(key)
        if pure.is_absolute() or key.startswith("/"):
            raise StoreKeyError(f"store key must be relative, got {key!r}")
        # Split the raw key: PurePosixPath would silently normalise "a//b" and "a/./b".
        if any(part in ("", ".", "..") or not _KEY_PART.match(part) for part in key.split("/")):
            raise StoreKeyError(f"store key has an unsafe component: {key!r}")
        resolved = (self.root / pure).resolve()
        # Symlinks inside the store could still point outside it.
        if not resolved.is_relative_to(self.root):
            raise StoreKeyError(f"store key escapes the store root: {key!r}")
        return resolved

    def write_bytes(self, key: str, data: bytes) -> Path:
        return self._write_atomic(key, lambda fh: fh.write(data))

    def write_json(self, key: str, obj: Any) -> Path:
        data = json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        return self.write_bytes(key, data)

    def write_flac(self, key: str, audio: np.ndarray, sample_rate: int) -> Path:
        """audio: (channels, frames) float in [-1, 1]; written as 24-bit FLAC."""
        return self._write_atomic(
            key,
            lambda fh: sf.write(
                fh, np.ascontiguousarray(audio.T), sample_rate, format="FLAC", subtype="PCM_24"
            ),
        )

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
        return read_flac_path(self.path(key))

    def read_json(self, key: str) -> Any:
        return json.loads(self.path(key).read_text(encoding="utf-8"))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


def read_flac_path(path: Path) -> tuple[np.ndarray, int]:
    data, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return np.ascontiguousarray(data.T), int(sr)


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
