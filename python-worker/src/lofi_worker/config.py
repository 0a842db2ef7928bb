"""Worker configuration. The only module that reads os.environ.

Every value is parsed and validated once; a bad value raises ConfigError naming the variable,
so a misconfigured deployment fails at start instead of on the first job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # python-worker/
DEFAULT_SCHEMA = _PACKAGE_ROOT.parent / "packages" / "contracts" / "schema" / "segment.schema.json"
LOG_LEVELS = ("debug", "info", "warning", "error")
# The services share one LOG_LEVEL; pino's names map onto Python's.
PINO_LEVELS = {"trace": "debug", "warn": "warning", "fatal": "error"}


class ConfigError(ValueError):
    """A configuration variable has an unusable value."""


@dataclass(frozen=True)
class Config:
    redis_url: str
    data_dir: Path
    queue_prefix: str
    queue_name: str
    concurrency: int
    lock_ms: int
    stalled_interval_ms: int
    log_level: str
    contract_schema: Path
    musicgen: MusicGenSettings
    # The supervisor that started this process (LOFI_SUPERVISOR_PID), so a worker whose supervisor
    # died even before the worker finished starting still notices; None: the parent at start.
    supervisor_pid: int | None = None


MUSICGEN_ENGINES = ("auto", "audiocraft", "transformers")


@dataclass(frozen=True)
class MusicGenSettings:
    """The MusicGen backend's settings (docs/MUSICGEN.md explains each)."""

    engine: str  # auto | audiocraft | transformers
    model: str  # Hugging Face repo id (from the local cache, never downloaded) or a local path
    device: str  # auto | cpu | cuda | cuda:N
    max_batch: int  # most stations' jobs in one generation call
    batch_window_ms: int  # how long the first waiting job waits for others to join its batch
    context_seconds: float  # token context carried from the previous segment


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def load_musicgen_settings(env: Mapping[str, str] | None = None) -> MusicGenSettings:
    env = os.environ if env is None else env
    engine = (env.get("MUSICGEN_ENGINE", "").strip() or "auto").lower()
    if engine not in MUSICGEN_ENGINES:
        raise ConfigError(
            f"MUSICGEN_ENGINE must be one of {', '.join(MUSICGEN_ENGINES)}, got {engine!r}"
        )
    device = (env.get("MUSICGEN_DEVICE", "").strip() or "auto").lower()
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
        raise ConfigError(f"MUSICGEN_DEVICE must be auto, cpu, cuda or cuda:N, got {device!r}")
    return MusicGenSettings(
        engine=engine,
        model=env.get("MUSICGEN_MODEL", "").strip() or "facebook/musicgen-small",
        device=device,
        max_batch=_int(env, "MUSICGEN_BATCH", 8, 1, 64),
        batch_window_ms=_int(env, "MUSICGEN_BATCH_WINDOW_MS", 100, 0, 10_000),
        context_seconds=_float(env, "MUSICGEN_CONTEXT_SECONDS", 10.0, 1.0, 20.0),
    )


def _name(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    # Queue names and prefixes become Redis key parts; BullMQ itself uses ':' as separator.
    if ":" in value or any(c.isspace() for c in value):
        raise ConfigError(f"{name} must not contain ':' or whitespace, got {value!r}")
    return value


def load_config(env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    redis_url = env.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379"
    if urlparse(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"REDIS_URL must be a redis://, rediss:// or unix:// URL, got {redis_url!r}"
        )
    data_dir = Path(env.get("DATA_DIR", "").strip() or "./data").expanduser().resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"DATA_DIR is not a directory: {data_dir}")
    log_level = (env.get("LOG_LEVEL", "").strip() or "info").lower()
    log_level = PINO_LEVELS.get(log_level, log_level)
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    schema = Path(env.get("CONTRACT_SCHEMA", "").strip() or DEFAULT_SCHEMA).expanduser().resolve()
    if not schema.is_file():
        raise ConfigError(f"CONTRACT_SCHEMA does not point to a file: {schema}")
    lock_ms = _int(env, "WORKER_LOCK_MS", 30000, 1000, 3_600_000)
    return Config(
        redis_url=redis_url,
        data_dir=data_dir,
        queue_prefix=_name(env, "QUEUE_PREFIX", "lofi"),
        queue_name=_name(env, "QUEUE_NAME", "segments"),
        concurrency=_int(env, "WORKER_CONCURRENCY", 1, 1, 64),
        lock_ms=lock_ms,
        stalled_interval_ms=_int(env, "WORKER_STALLED_INTERVAL_MS", 30000, 100, 3_600_000),
        log_level=log_level,
        contract_schema=schema,
        musicgen=load_musicgen_settings(env),
        supervisor_pid=_int(env, "LOFI_SUPERVISOR_PID", 0, 0, 1 << 22) or None,
    )
