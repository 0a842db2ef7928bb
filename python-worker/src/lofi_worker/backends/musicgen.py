"""MusicGen backend (GPU). Implemented in a later issue; selecting it now fails clearly."""

from __future__ import annotations

from lofi_worker.backends.base import BackendUnavailable, GenerationRequest, RenderedAudio

MESSAGE = "musicgen backend needs audiocraft or transformers with torch; not installed"


class MusicGenBackend:
    name = "musicgen"

    def load(self) -> None:
        raise BackendUnavailable(MESSAGE)

    def generate(self, request: GenerationRequest) -> RenderedAudio:
        raise BackendUnavailable(MESSAGE)
