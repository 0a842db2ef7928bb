"""Worker configuration. The only module that reads os.environ.

Every value is parsed and validated once; a bad value raises ConfigError naming the variable,
so a misconfigured deployment fails at start instead of on the first job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    # Segment store (STORE_URL, S3_*) — begin
    store: StoreSettings = field(default_factory=lambda: StoreSettings())
    # Segment store — end
    # Workers and metrics (WORKER_BACKENDS, WORKER_METRICS_PORT, ...) — begin
    backends: tuple[str, ...] = ("procedural",)  # one BullMQ Worker (queue) per backend
    heartbeat_ms: int = 5000  # the advertisement's TTL is three heartbeats
    metrics_port: int = 9465  # 0: no /metrics server
    metrics_host: str = "127.0.0.1"
    # Workers and metrics — end


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


# Segment store (STORE_URL, S3_*) — begin
# The same variables, with the same meaning, as packages/config/src/store.ts: workers and streamers
# must name the same store. Messages never repeat the secret key.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX_PART = re.compile(r"[A-Za-z0-9._-]{1,128}")
_REGION = re.compile(r"[a-z0-9-]{1,64}")


@dataclass(frozen=True)
class StoreSettings:
    """Where segments go: kind "local" (DATA_DIR) or "s3" (an S3-compatible bucket)."""

    kind: str = "local"
    bucket: str = ""
    prefix: str = ""  # '' or 'a/b/' (with the trailing slash)
    endpoint: str | None = None  # a non-AWS server; None: AWS
    region: str = "us-east-1"
    force_path_style: bool = False
    access_key_id: str | None = None  # None (with the secret): boto3's default credential chain
    secret_access_key: str | None = field(default=None, repr=False)


def load_store_settings(env: Mapping[str, str] | None = None) -> StoreSettings:
    env = os.environ if env is None else env
    raw = env.get("STORE_URL", "").strip()
    if raw in ("", "file:", "file://"):
        return StoreSettings()
    if raw.startswith("file:"):
        raise ConfigError(
            f"STORE_URL file: takes no path; set DATA_DIR for the folder, got {raw!r}"
        )
    m = re.fullmatch(r"s3://([^/]*)(?:/(.*))?", raw)
    if not m:
        raise ConfigError(f"STORE_URL must be file: or s3://bucket[/prefix], got {raw!r}")
    bucket = m.group(1)
    if not _BUCKET.fullmatch(bucket):
        raise ConfigError(f"STORE_URL bucket must be 3-63 of a-z 0-9 . -, got {bucket!r}")
    parts = [p for p in (m.group(2) or "").split("/") if p]
    for part in parts:
        if not _PREFIX_PART.fullmatch(part) or part in (".", ".."):
            raise ConfigError(f"STORE_URL prefix parts must be A-Z a-z 0-9 . _ -, got {part!r}")
    endpoint = _s3_endpoint(env)
    region = env.get("S3_REGION", "").strip() or "us-east-1"
    if not _REGION.fullmatch(region):
        raise ConfigError(f"S3_REGION must be a region name like us-east-1, got {region!r}")
    key_id = env.get("S3_ACCESS_KEY_ID", "").strip() or None
    secret = env.get("S3_SECRET_ACCESS_KEY", "").strip() or None
    if key_id is None and secret is not None:
        raise ConfigError("S3_ACCESS_KEY_ID must be set with S3_SECRET_ACCESS_KEY")
    if secret is None and key_id is not None:
        raise ConfigError("S3_SECRET_ACCESS_KEY must be set with S3_ACCESS_KEY_ID")
    return StoreSettings(
        kind="s3",
        bucket=bucket,
        prefix="".join(f"{p}/" for p in parts),
        endpoint=endpoint,
        region=region,
        force_path_style=_flag(env, "S3_FORCE_PATH_STYLE", endpoint is not None),
        access_key_id=key_id,
        secret_access_key=secret,
    )


def _s3_endpoint(env: Mapping[str, str]) -> str | None:
    raw = env.get("S3_ENDPOINT", "").strip()
    if not raw:
        return None
    u = urlparse(raw)
    if u.scheme not in ("http", "https") or not u.hostname:
        # Only the scheme: the value may carry credentials.
        raise ConfigError(
            f"S3_ENDPOINT must be an http(s) URL like http://minio:9000 (scheme {u.scheme!r})"
        )
    if u.username or u.password:
        raise ConfigError(
            "S3_ENDPOINT must not carry credentials: use S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"
        )
    if u.query or u.fragment:
        raise ConfigError("S3_ENDPOINT must not have a query or fragment")
    return raw.rstrip("/")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1/true/yes/on or 0/false/no/off, got {raw!r}")


# Segment store — end


def _name(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    # Queue names and prefixes become Redis key parts; BullMQ itself uses ':' as separator.
    if ":" in value or any(c.isspace() for c in value):
        raise ConfigError(f"{name} must not contain ':' or whitespace, got {value!r}")
    return value


# Workers and metrics (WORKER_BACKENDS, WORKER_METRICS_PORT, ...) — begin
BACKENDS = ("procedural", "musicgen")


def backend_queue(base: str, backend: str) -> str:
    """The queue of one backend's jobs; packages/redis/src/queue.ts derives the same name."""
    return f"{base}-{backend}"


def _backends(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("WORKER_BACKENDS", "").strip() or "procedural"
    names = tuple(dict.fromkeys(n.strip().lower() for n in raw.split(",") if n.strip()))
    bad = [n for n in names if n not in BACKENDS]
    if bad or not names:
        raise ConfigError(
            f"WORKER_BACKENDS must be a comma list of {', '.join(BACKENDS)}, got {raw!r}"
        )
    return names


def _host(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not re.fullmatch(r"[A-Za-z0-9.:-]+", value):
        raise ConfigError(f"{name} must be a host name or IP address, got {value!r}")
    return value


# Workers and metrics — end


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
        # Workers and metrics — begin
        backends=_backends(env),
        heartbeat_ms=_int(env, "WORKER_HEARTBEAT_MS", 5000, 100, 60_000),
        metrics_port=_int(env, "WORKER_METRICS_PORT", 9465, 0, 65535),
        metrics_host=_host(env, "METRICS_HOST", "127.0.0.1"),
        # Workers and metrics — end
        store=load_store_settings(env),  # Segment store
    )
