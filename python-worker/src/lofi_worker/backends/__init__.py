"""Generation backends, looked up by the job's `backend` field."""

from __future__ import annotations

from lofi_worker.backends.base import Backend, BackendUnavailable, GenerationRequest, RenderedAudio

__all__ = [
    "Backend",
    "BackendUnavailable",
    "GenerationRequest",
    "RenderedAudio",
    "get_backend",
    "set_backend",
]

_loaded: dict[str, Backend] = {}


def get_backend(name: str) -> Backend:
    """One instance per backend per process, loaded on first use."""
    if name in _loaded:
        return _loaded[name]
    backend: Backend
    if name == "procedural":
        from lofi_worker.backends.procedural import ProceduralBackend

        backend = ProceduralBackend()
    elif name == "musicgen":
        from lofi_worker.backends.musicgen import MusicGenBackend

        backend = MusicGenBackend()
    else:
        raise BackendUnavailable(f"unknown backend {name!r}")
    backend.load()
    _loaded[name] = backend
    return backend


def set_backend(name: str, backend: Backend | None) -> None:
    """Install the instance get_backend returns for `name` (None forgets it): tests, embedding."""
    if backend is None:
        _loaded.pop(name, None)
    else:
        _loaded[name] = backend
