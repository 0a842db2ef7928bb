"""musicgen-melody through the AudioCraft engine: a station's melody conditions the music (chroma).

A tiny melody MusicGen is built by AudioCraft's builders like tests/audiocraft_tiny.py's text
model, plus the `self_wav` chroma-stem conditioner that musicgen-melody has (prepended to the
sequence, as in AudioCraft's chroma2music config), saved in get_pretrained's folder layout and
loaded through the engine. The conditioner separates the melody's stems with Demucs' htdemucs,
whose weights Demucs fetches from the network in the conditioner's constructor (with a hash check,
so no local stand-in file can take their place): the one substitution here is Demucs' `get_model`
returning a pass-through separator (every stem is the mix). Demucs' apply_model, the chroma
extraction and AudioCraft's generation code run unpatched. Runs in python-worker/.venv-audiocraft
only (skipped where AudioCraft is not installed).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

pytest.importorskip("audiocraft", reason="AudioCraft lives in python-worker/.venv-audiocraft")

import torch

from lofi_worker.backends.base import GenerationRequest
from lofi_worker.backends.musicgen import MusicGenBackend
from lofi_worker.config import load_musicgen_settings
from lofi_worker.contract import JobRejected
from lofi_worker.store import SegmentStore
from tests.audiocraft_tiny import CODEC_TINY, TINY, compression_cfg, lm_cfg
from tests.conftest import MUSICGEN_TEST_ENV

SR = 48000
OV, D = 0.5, 1.5
MELODY_KEY = "stations/test-station/melody/theme.flac"


def melody_lm_cfg() -> dict[str, Any]:
    cfg = lm_cfg(TINY)
    cfg["conditioners"]["self_wav"] = {
        "model": "chroma_stem",
        "chroma_stem": {
            "sample_rate": 32000, "n_chroma": 12, "radix2_exp": 12, "argmax": True,
            "match_len_on_eval": False, "eval_wavs": None, "n_eval_wavs": 100, "cache_path": None,
        },
    }  # fmt: skip
    cfg["fuser"]["prepend"] = ["self_wav"]
    return cfg


class PassThroughStems(torch.nn.Module):
    """Stands in for Demucs' htdemucs: every stem is the mix (a random separator would scramble the
    pitch the chroma reads). Demucs' own apply_model drives it (shifts, chunking, trimming)."""

    sources: ClassVar[list[str]] = ["drums", "bass", "other", "vocals"]
    samplerate = 44100
    audio_channels = 2
    segment = 2.0

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        return mix[:, None].expand(-1, len(self.sources), -1, -1) / len(self.sources)


def pass_through_stems(_name: str = "htdemucs", *args: Any, **kwargs: Any) -> Any:
    return PassThroughStems().eval()


@pytest.fixture(scope="module")
def no_demucs_download() -> Iterator[None]:
    pretrained: Any = importlib.import_module("demucs.pretrained")
    real = pretrained.get_model
    pretrained.get_model = pass_through_stems
    yield
    pretrained.get_model = real


@pytest.fixture(scope="module")
def melody_backend(
    tmp_path_factory: pytest.TempPathFactory, no_demucs_download: None
) -> MusicGenBackend:
    builders = importlib.import_module("audiocraft.models.builders")
    omegaconf = importlib.import_module("omegaconf").OmegaConf
    folder = tmp_path_factory.mktemp("audiocraft-melody")
    torch.manual_seed(0)
    codec = builders.get_compression_model(omegaconf.create(compression_cfg(CODEC_TINY))).eval()
    lm = builders.get_lm_model(omegaconf.create(melody_lm_cfg())).eval()
    torch.save(
        {"xp.cfg": compression_cfg(CODEC_TINY), "best_state": codec.state_dict()},
        folder / "compression_state_dict.bin",
    )
    torch.save(
        {"xp.cfg": melody_lm_cfg(), "best_state": lm.state_dict()}, folder / "state_dict.bin"
    )
    env = {**MUSICGEN_TEST_ENV, "MUSICGEN_ENGINE": "audiocraft", "MUSICGEN_MODEL": str(folder)}
    backend = MusicGenBackend(load_musicgen_settings(env))
    backend.load()
    return backend


def arpeggio(notes: list[float], sr: int = SR, note_s: float = 0.25) -> np.ndarray:
    t = np.arange(round(note_s * sr)) / sr
    tone = [0.4 * np.sin(2 * np.pi * f * t) * np.hanning(t.shape[0]) for f in notes]
    mono = np.concatenate(tone * 2)
    return np.stack([mono, mono])


def request(store: SegmentStore, melody_key: str | None, **over: Any) -> GenerationRequest:
    args: dict[str, Any] = {
        "prompt": "night city guitar", "seed": 9, "duration_seconds": D, "overlap_seconds": OV,
        "sample_rate": SR, "continue_from": None, "store": store, "melody_key": melody_key,
    }  # fmt: skip
    return GenerationRequest(**{**args, **over})


def tokens(backend: MusicGenBackend, req: GenerationRequest) -> np.ndarray:
    out = backend.generate(req)
    assert out.tokens is not None
    return out.tokens


def test_the_engine_sees_a_melody_model(melody_backend: MusicGenBackend) -> None:
    engine: Any = melody_backend.engine(melody_backend.settings.model)
    assert engine.engine_name == "audiocraft" and engine.melody is True


def test_a_melody_conditions_the_music(
    melody_backend: MusicGenBackend, store: SegmentStore
) -> None:
    store.write_flac(MELODY_KEY, arpeggio([220.0, 277.2, 329.6, 440.0]), SR)
    other = "stations/test-station/melody/other.flac"
    store.write_flac(other, arpeggio([246.9, 311.1, 370.0, 493.9]), SR)
    with_melody = melody_backend.generate(request(store, MELODY_KEY))
    assert with_melody.tokens is not None
    assert with_melody.file_frames == with_melody.tokens.shape[1] * (SR // 50)
    assert abs(with_melody.file_frames / SR - (OV + D)) < 1 / 50
    # Same seed, same melody: the same music; the chroma is what differs in the other calls.
    assert np.array_equal(with_melody.tokens, tokens(melody_backend, request(store, MELODY_KEY)))
    assert not np.array_equal(with_melody.tokens, tokens(melody_backend, request(store, None)))
    assert not np.array_equal(with_melody.tokens, tokens(melody_backend, request(store, other)))


def test_a_melody_continues_from_the_predecessors_tokens(
    melody_backend: MusicGenBackend, store: SegmentStore
) -> None:
    store.write_flac(MELODY_KEY, arpeggio([196.0, 246.9, 293.7, 392.0]), SR)
    first = melody_backend.generate(request(store, MELODY_KEY))
    assert first.tokens is not None
    store.write_flac("stations/test-station/segments/000000.flac", first.file_audio(), SR)
    buf = Path(store.path("stations/test-station/segments/000000.tokens.npy"))
    np.save(buf, first.tokens)
    cont = {
        "seq": 0,
        "audioKey": "stations/test-station/segments/000000.flac",
        "tokensKey": "stations/test-station/segments/000000.tokens.npy",
        "atSeconds": first.file_frames / SR - OV,
        "state": first.state,
    }
    nxt = melody_backend.generate(request(store, MELODY_KEY, continue_from=cont, seed=10))
    assert nxt.state["contextSource"] == "tokens"
    assert nxt.tokens is not None and abs(nxt.file_frames / SR - (OV + D)) < 1 / 50


def test_a_melody_the_worker_lacks_fails_the_job_clearly(
    melody_backend: MusicGenBackend, store: SegmentStore
) -> None:
    missing = "stations/test-station/melody/gone.flac"
    with pytest.raises(JobRejected, match=r"melody 'stations/test-station/melody/gone.flac'"):
        melody_backend.generate(request(store, missing))
    store.write_bytes("stations/test-station/melody/junk.flac", b"not a flac at all")
    with pytest.raises(JobRejected, match="not readable"):
        melody_backend.generate(request(store, "stations/test-station/melody/junk.flac"))
