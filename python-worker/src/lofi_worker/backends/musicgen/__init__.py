"""MusicGen backend: text-conditioned continuation in token space, batched across stations.

Layout: `backend` (job -> tokens/audio plan -> RenderedAudio), `context` (which tokens or audio the
next segment continues from), `batcher` (collects concurrent jobs into one model call), `engine`
(what an engine offers, the shared sliding-window loop), `hf_engine` + `sampling` (Hugging Face
transformers), `audiocraft_engine` (AudioCraft). docs/MUSICGEN.md describes the whole scheme.
"""

from lofi_worker.backends.musicgen.backend import MusicGenBackend

__all__ = ["MusicGenBackend"]
