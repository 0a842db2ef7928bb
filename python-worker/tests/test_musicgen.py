"""MusicGen backend on a tiny random model: loading, shapes, token continuation, fallbacks."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from lofi_worker.backends.base import BackendUnavailable, GenerationRequest
from lofi_worker.backends.musicgen import MusicGenBackend
from lofi_worker.backends.musicgen.context import resample
from lofi_worker.backends.musicgen.sampling import RowSampler, delayed_layout, undelay
from lofi_worker.config import ConfigError, load_musicgen_settings
from lofi_worker.contract import Contract
from lofi_worker.job import process_job
from lofi_worker.store import SegmentStore
from tests.conftest import MUSICGEN_TEST_ENV, make_job

SR = 48000
HOP = SR // 50
OV, D = 1.0, 3.0


def mg_job(seq: int, **over: Any) -> dict[str, Any]:
    base = {"backend": "musicgen", "durationSeconds": D, "overlapSeconds": OV, "seed": 7 + seq}
    return make_job(seq, **{**base, **over})


def request(cont: dict[str, Any] | None, store: SegmentStore, **over: Any) -> GenerationRequest:
    args: dict[str, Any] = {
        "prompt": "night city guitar",
        "seed": 5,
        "duration_seconds": D,
        "overlap_seconds": OV,
        "sample_rate": SR,
        "continue_from": cont,
        "store": store,
    }
    return GenerationRequest(**{**args, **over})


def continue_from(result: dict[str, Any], **over: Any) -> dict[str, Any]:
    """What the scheduler puts in the next job (tokensKey copied from the result)."""
    cont = {
        "seq": result["seq"],
        "audioKey": result["audioKey"],
        "atSeconds": result["durationSeconds"] - OV,
        "state": result["state"],
    }
    if "tokensKey" in result:
        cont["tokensKey"] = result["tokensKey"]
    return {**cont, **over}


def decoded(backend: MusicGenBackend, tokens: np.ndarray) -> np.ndarray:
    engine = backend.engine(backend.settings.model)
    return resample(engine.decode(tokens[None].astype(np.int64))[0], engine.sample_rate, SR)


def test_settings_defaults_and_bad_values() -> None:
    s = load_musicgen_settings({})
    assert (s.engine, s.model, s.device) == ("auto", "facebook/musicgen-small", "auto")
    assert s.max_batch == 8 and s.context_seconds == 10.0
    for env, name in [
        ({"MUSICGEN_ENGINE": "onnx"}, "MUSICGEN_ENGINE"),
        ({"MUSICGEN_DEVICE": "tpu"}, "MUSICGEN_DEVICE"),
        ({"MUSICGEN_BATCH": "0"}, "MUSICGEN_BATCH"),
        ({"MUSICGEN_CONTEXT_SECONDS": "ten"}, "MUSICGEN_CONTEXT_SECONDS"),
    ]:
        with pytest.raises(ConfigError, match=name):
            load_musicgen_settings(env)


def test_missing_weights_fail_clearly(tmp_path: Path) -> None:
    env = {**MUSICGEN_TEST_ENV, "MUSICGEN_MODEL": str(tmp_path / "no-such-model")}
    with pytest.raises(BackendUnavailable, match="not found locally"):
        MusicGenBackend(load_musicgen_settings(env)).load()
    env["MUSICGEN_MODEL"] = "nobody/not-in-the-cache"
    with pytest.raises(BackendUnavailable, match="nobody/not-in-the-cache"):
        MusicGenBackend(load_musicgen_settings(env)).load()


@pytest.mark.skipif(importlib.util.find_spec("audiocraft") is not None, reason="installed")
def test_audiocraft_engine_without_audiocraft_fails_clearly(musicgen_dir: Path) -> None:
    env = {**MUSICGEN_TEST_ENV, "MUSICGEN_ENGINE": "audiocraft", "MUSICGEN_MODEL": "x"}
    # The reason says where AudioCraft is expected (its own environment).
    with pytest.raises(BackendUnavailable, match=r"needs audiocraft.*\.venv-audiocraft"):
        MusicGenBackend(load_musicgen_settings(env)).load()


def test_first_segment_shape_tokens_and_metadata(
    musicgen: MusicGenBackend, store: SegmentStore, musicgen_dir: Path
) -> None:
    r = musicgen.generate(request(None, store))
    frames = r.tokens.shape[1] if r.tokens is not None else -1
    assert r.tokens is not None and r.tokens.shape == (4, frames) and r.tokens.dtype == np.int16
    assert r.audio.shape == (2, frames * HOP) and r.pre == 0 and r.post == 0
    assert abs(r.file_frames / SR - (OV + D)) < 1 / 50
    assert r.head_overlap_frames == round(OV * SR)
    assert np.array_equal(r.audio[0], r.audio[1])  # mono model, duplicated to stereo
    assert r.model == str(musicgen_dir)
    assert r.state["engine"] == "transformers" and r.state["contextSource"] == "none"
    assert r.state["tokensStartSeconds"] == 0.0
    # The file is exactly its tokens decoded.
    assert np.allclose(r.audio[0], decoded(musicgen, r.tokens), atol=1e-5)


def _first(musicgen: MusicGenBackend, store: SegmentStore, contract: Contract) -> dict[str, Any]:
    return process_job(mg_job(0), store=store, contract=contract)


def test_continuation_head_renders_the_predecessors_tokens(
    musicgen: MusicGenBackend, store: SegmentStore, contract: Contract
) -> None:
    first = _first(musicgen, store, contract)
    prev_tokens = np.load(store.path(first["tokensKey"]))
    cont = continue_from(first)
    r = musicgen.generate(request(cont, store))
    assert r.state["contextSource"] == "tokens" and r.tokens is not None
    at_frame = round(cont["atSeconds"] * 50)
    head_frames = round(OV * 50)
    # The head overlap is decoded from exactly the predecessor's tokens of that region...
    assert np.array_equal(r.tokens[:, :head_frames], prev_tokens[:, at_frame:])
    # ...with the same left context, so it is the predecessor's own rendering of them, to float
    # rounding, except for the last frames (the codec looks a few ms ahead, into new music).
    head = r.file_audio()[0, : r.head_overlap_frames]
    ref = decoded(musicgen, prev_tokens)[round(cont["atSeconds"] * SR) :]
    assert head.shape == ref.shape
    body = slice(0, head.shape[0] - 3 * HOP)
    err = np.sqrt(np.mean((head[body] - ref[body]) ** 2) / np.mean(ref[body] ** 2))
    assert err < 1e-4
    # Mastering runs over up to 4 s of the predecessor's music before the file.
    assert r.pre == min(round(cont["atSeconds"] * SR), 4 * SR)
    assert abs(r.file_frames / SR - (OV + D)) < 1 / 50


def test_quality_retry_keeps_the_head_and_draws_new_music(
    musicgen: MusicGenBackend, store: SegmentStore, contract: Contract
) -> None:
    cont = continue_from(_first(musicgen, store, contract))
    a = musicgen.generate(request(cont, store, attempt=0))
    b = musicgen.generate(request(cont, store, attempt=1))
    again = musicgen.generate(request(cont, store, attempt=0))
    assert a.tokens is not None and b.tokens is not None and again.tokens is not None
    assert np.array_equal(a.tokens[:, :50], b.tokens[:, :50])
    assert not np.array_equal(a.tokens[:, 50:], b.tokens[:, 50:])
    assert np.array_equal(a.tokens, again.tokens)  # one seed, one result
    assert a.state["seed"] != b.state["seed"]


def _expected_audio_context(
    store: SegmentStore, musicgen: MusicGenBackend, cont: dict[str, Any]
) -> tuple[np.ndarray, int]:
    """Tokens of the predecessor's audio up to the end of the overlap, and the file frame where
    the new file starts inside them."""
    engine = musicgen.engine(musicgen.settings.model)
    audio, _ = store.read_flac(cont["audioKey"])
    join = round(cont["atSeconds"] * SR)
    end = join + round(OV * SR)
    frames = min(500, end // HOP)
    mono = audio.mean(axis=0)[end - frames * HOP : end]
    codes = engine.encode(resample(mono, SR, engine.sample_rate).astype(np.float32))
    return codes, (join - (end - frames * HOP)) // HOP


@pytest.mark.parametrize("damage", ["no-key", "missing-file", "garbage", "wrong-shape"])
def test_continuation_falls_back_to_the_predecessors_audio(
    damage: str, musicgen: MusicGenBackend, store: SegmentStore, contract: Contract
) -> None:
    first = _first(musicgen, store, contract)
    cont = continue_from(first)
    if damage == "no-key":
        del cont["tokensKey"]
    elif damage == "missing-file":
        store.path(first["tokensKey"]).unlink()
    elif damage == "garbage":
        store.write_bytes(first["tokensKey"], b"not numpy")
    else:
        np.save(store.path(first["tokensKey"]), np.zeros((3, 10), dtype=np.int16))
    r = musicgen.generate(request(cont, store))
    assert r.state["contextSource"] == "audio" and r.tokens is not None
    # The context is the predecessor's audio up to the end of the overlap, EnCodec-encoded; the
    # head overlap is that context decoded.
    expected, skip = _expected_audio_context(store, musicgen, cont)
    assert np.array_equal(r.tokens[:, : expected.shape[1] - skip], expected[:, skip:])
    assert r.file_frames / SR == pytest.approx(OV + D, abs=1 / 50)


def test_row_sampler_parameters_and_seeds() -> None:
    logits = torch.randn(3, 4, 64)
    greedy = RowSampler(
        [
            {"temperature": 1.0, "top_k": 1, "top_p": 0.0},
            {"temperature": 0.5, "top_k": 0, "top_p": 1e-6},
            {"temperature": 1.0, "top_k": 250, "top_p": 0.0},
        ],
        [1, 2, 3],
        torch.device("cpu"),
    )
    out = greedy.sample(logits)
    assert torch.equal(out[:2], logits[:2].argmax(-1))
    top2 = RowSampler(
        [{"temperature": 1.0, "top_k": 2, "top_p": 0.0}] * 3, [4, 5, 6], greedy.device
    )
    allowed = logits.topk(2, dim=-1).indices
    for _ in range(20):
        s = top2.sample(logits)
        assert bool((allowed == s[..., None]).any(-1).all())
    p = {"temperature": 1.0, "top_k": 0, "top_p": 0.0}
    draw = [RowSampler([p] * 3, [9, 9, 10], greedy.device).sample(logits) for _ in range(2)]
    assert torch.equal(draw[0], draw[1])


def test_delay_pattern_round_trip() -> None:
    ctx = torch.randint(0, 2048, (2, 4, 5))
    seq = delayed_layout(ctx, 3, pad=2048)
    assert seq.shape == (2, 4, 1 + 5 + 3 + 3)
    assert torch.equal(undelay(seq, 5)[..., :5], ctx)
    assert int((seq == -1).sum()) == 2 * 4 * 3
