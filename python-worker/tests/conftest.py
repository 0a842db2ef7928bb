from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lofi_worker.config import DEFAULT_SCHEMA
from lofi_worker.contract import Contract, load_contract
from lofi_worker.store import SegmentStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(proc: subprocess.Popen[bytes], port: int, seconds: float, name: str) -> None:
    """Returns once `proc` accepts connections on `port`; kills it and raises if it never does."""
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{name} did not start")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(proc, port, 10, "redis-server")
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def contract() -> Contract:
    return load_contract(DEFAULT_SCHEMA)


@pytest.fixture()
def store(tmp_path: Path) -> SegmentStore:
    return SegmentStore(tmp_path / "data")


@pytest.fixture(scope="session")
def musicgen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random MusicGen saved as a folder (torch is imported only by tests that use it)."""
    from tests.musicgen_tiny import build_tiny_musicgen

    return build_tiny_musicgen(tmp_path_factory.mktemp("musicgen-tiny"))


MUSICGEN_TEST_ENV = {
    "MUSICGEN_ENGINE": "transformers",
    "MUSICGEN_DEVICE": "cpu",
    "MUSICGEN_BATCH": "4",
    "MUSICGEN_BATCH_WINDOW_MS": "20",
    "MUSICGEN_CONTEXT_SECONDS": "10",
}


@pytest.fixture(scope="session")
def musicgen_backend(musicgen_dir: Path) -> Any:
    """One loaded backend for the session, through the real config and loading code."""
    from lofi_worker.backends.musicgen import MusicGenBackend
    from lofi_worker.config import load_musicgen_settings

    backend = MusicGenBackend(
        load_musicgen_settings({**MUSICGEN_TEST_ENV, "MUSICGEN_MODEL": str(musicgen_dir)})
    )
    backend.load()
    return backend


@pytest.fixture()
def musicgen(musicgen_backend: Any) -> Iterator[Any]:
    """The session's MusicGen backend installed as the one get_backend('musicgen') returns."""
    from lofi_worker.backends import set_backend

    set_backend("musicgen", musicgen_backend)
    musicgen_backend.batcher.calls.clear()
    yield musicgen_backend
    set_backend("musicgen", None)


def make_job(seq: int = 0, **over: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "stationId": "test-station",
        "seq": seq,
        "promptVersion": 0,
        "prompt": "rainy day slow jazz with soft piano",
        "backend": "procedural",
        "seed": 1234,
        "durationSeconds": 8.0,
        "overlapSeconds": 1.5,
        "sampleRate": 48000,
        "channels": 2,
        "audioKey": f"stations/test-station/segments/{seq:06d}.flac",
        "continueFrom": None,
    }
    job.update(over)
    return job
