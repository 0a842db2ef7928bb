"""What a generation backend offers the job runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from lofi_worker.store import Store


class BackendUnavailable(RuntimeError):
    """The backend cannot run on this machine (missing packages, weights or device)."""


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    seed: int
    duration_seconds: float  # new music wanted after the head overlap
    overlap_seconds: float
    sample_rate: int
    continue_from: dict[str, Any] | None  # the job's continueFrom, state included
    params: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    attempt: int = 0  # quality retries so far; a backend varies its output with it
    store: Store | None = None  # where continueFrom's files are (audio, tokens)
    # The scheduler's reading of the mood for this segment (contract: Drift): text for
    # text-conditioned models, energy and a leading instrument for the arranger.
    drift: dict[str, Any] | None = None
    # The track this segment belongs to (contract: Track): index, position, planned length and
    # arc part. None from a scheduler that predates tracks.
    track: dict[str, Any] | None = None
    # The job's melodyKey: a melody in the store for musicgen-melody to condition on.
    melody_key: str | None = None


@dataclass
class RenderedAudio:
    """Stereo float64 audio, shape (2, frames), with `pre`/`post` margin frames around the file.

    The margins are the same music just before and after the file. Mastering runs over them so
    that stateful processing (leveler, limiter) reaches the file's first sample in the same state
    in which the previous segment's rendering of that sample was processed.
    """

    audio: np.ndarray
    sample_rate: int
    pre: int
    post: int
    head_overlap_frames: int
    state: dict[str, Any]
    title: str
    model: str
    mood: dict[str, Any] = field(default_factory=dict)
    # Codebook tokens of the file (MusicGen), (codebooks, frames) int16; the job writes them beside
    # the audio so the next segment continues in token space.
    tokens: np.ndarray | None = None

    @property
    def file_frames(self) -> int:
        return int(self.audio.shape[1]) - self.pre - self.post

    def file_audio(self) -> np.ndarray:
        return self.audio[:, self.pre : self.audio.shape[1] - self.post]


class Backend(Protocol):
    name: str

    def load(self) -> None:
        """Load models or tables; called lazily before the first generate()."""

    def generate(self, request: GenerationRequest) -> RenderedAudio: ...
