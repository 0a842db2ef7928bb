"""MusicGenBackend: one job -> context plan -> batched generation -> the segment's audio and tokens.

The file a job gets is decoded from one token run: the predecessor's context tokens followed by the
new ones. Its head overlap is the decoded context from the join on, i.e. the predecessor's own
tokens rendered again (with the same left context), so the playout crossfades two renderings of the
same music; the new music starts right after, continuous with it. See docs/MUSICGEN.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from typing import Any

import numpy as np

from lofi_worker.backends.base import BackendUnavailable, GenerationRequest, RenderedAudio
from lofi_worker.backends.musicgen.batcher import Batcher
from lofi_worker.backends.musicgen.context import NO_CONTEXT, Context, plan_context, resample
from lofi_worker.backends.musicgen.engine import Engine, GenItem, GenResult, group_key, run_group
from lofi_worker.config import MusicGenSettings, load_musicgen_settings
from lofi_worker.contract import JobRejected
from lofi_worker.logs import get_logger
from lofi_worker.store import Store, StoreKeyError

log = get_logger("lofi_worker.musicgen")
DEFAULT_PARAMS = {"topK": 250, "topP": 0.0, "temperature": 1.0, "cfgCoef": 3.0}  # AudioCraft's
MELODY_MAX_S = 30.0  # musicgen-melody's chroma covers its 30 s training window; more is unused
PRE_ROLL_S = 4.0  # decoded music before the file that mastering runs over (see RenderedAudio)
NC_LICENCE = "CC-BY-NC-4.0"


def open_engine(kind: str, model: str, device: str) -> Engine:
    if kind == "audiocraft" or (kind == "auto" and importlib.util.find_spec("audiocraft")):
        from lofi_worker.backends.musicgen.audiocraft_engine import AudioCraftEngine

        try:
            return AudioCraftEngine(model, device)
        except BackendUnavailable as err:
            if kind == "audiocraft":
                raise
            first = str(err)
    else:
        first = "audiocraft is not installed"
    from lofi_worker.backends.musicgen.hf_engine import TransformersEngine

    try:
        return TransformersEngine(model, device)
    except BackendUnavailable as err:
        if kind == "transformers":
            raise
        raise BackendUnavailable(f"musicgen backend unavailable: {first}; {err}") from err


class MusicGenBackend:
    name = "musicgen"

    def __init__(self, settings: MusicGenSettings | None = None) -> None:
        self.settings = settings or load_musicgen_settings()
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        self.batcher: Batcher[GenItem, GenResult] = Batcher(
            self._run_batch,
            lambda item: group_key(self.engine(item.model), item),
            self.settings.max_batch,
            self.settings.batch_window_ms / 1000,
        )

    def load(self) -> None:
        self.engine(self.settings.model)

    def engine(self, model: str) -> Engine:
        """The engine for `model`, loaded once per process (a job may name another model)."""
        with self._lock:
            if model not in self._engines:
                engine = open_engine(self.settings.engine, model, self.settings.device)
                log.info(
                    "musicgen model loaded",
                    extra={
                        "engine": engine.engine_name,
                        "model": model,
                        "device": engine.device,
                        "licence": _licence(model),
                    },
                )
                self._engines[model] = engine
            return self._engines[model]

    def _context_frames(self, engine: Engine) -> int:
        return round(self.settings.context_seconds * engine.frame_rate)

    def _run_batch(self, items: list[GenItem]) -> list[GenResult]:
        engine = self.engine(items[0].model)
        return run_group(engine, items, self._context_frames(engine))

    def generate(self, request: GenerationRequest) -> RenderedAudio:
        engine = self.engine(request.model or self.settings.model)
        sr = request.sample_rate
        if sr % engine.frame_rate:
            raise BackendUnavailable(f"sample rate {sr} is not a whole number of frames")
        hop = sr // engine.frame_rate
        if request.melody_key and not getattr(engine, "melody", False):
            # Fails the job (the scheduler then plays the procedural fallback), never ignores it.
            raise BackendUnavailable(
                f"the job asks for melody {request.melody_key!r} but MusicGen {engine.model_id!r} "
                f"({engine.engine_name} engine) has no melody conditioning: use a musicgen-melody "
                "model with MUSICGEN_ENGINE=audiocraft"
            )
        melody = _read_melody(request.melody_key, request.store, engine.sample_rate)
        params = {**DEFAULT_PARAMS, **request.params}
        # A quality retry draws new music; the context (and with it the head overlap) stays.
        seed = (request.seed + request.attempt * 0x9E3779B1) % 2**32
        ctx: Context = NO_CONTEXT
        overlap = round(request.overlap_seconds * sr)
        new_frames = round(request.duration_seconds * engine.frame_rate)
        if request.continue_from is not None:
            if request.store is None:
                raise RuntimeError("a MusicGen continuation needs the segment store")
            ctx = plan_context(
                request.continue_from,
                request.store,
                sr=sr,
                overlap_s=request.overlap_seconds,
                engine_rate=engine.sample_rate,
                frame_rate=engine.frame_rate,
                codebooks=engine.num_codebooks,
                cardinality=engine.codebook_size,
                max_frames=self._context_frames(engine),
            )
            if ctx.source != "tokens":
                log.warning(
                    "continuing from the predecessor's audio",
                    extra={"reason": ctx.fallback_reason, "seq": request.continue_from["seq"]},
                )
        if ctx.source == "none":
            # No predecessor (or nothing of it to continue): the head overlap is new music too.
            new_frames = -(-(overlap + round(request.duration_seconds * sr)) // hop)
        item = GenItem(
            model=engine.model_id,
            # Within a mood the scheduler's drift varies the text (energy, lead, section).
            prompt=str((request.drift or {}).get("prompt") or request.prompt),
            context=ctx.codes,
            context_audio=ctx.audio,
            context_frames=ctx.frames,
            new_frames=new_frames,
            top_k=int(params["topK"]),
            top_p=float(params["topP"]),
            temperature=float(params["temperature"]),
            cfg_coef=float(params["cfgCoef"]),
            seed=seed,
            melody=melody,
        )
        out = self.batcher(item)
        total = out.codes.shape[1] * hop
        audio = resample(out.audio, engine.sample_rate, sr)[:total]
        audio = np.pad(audio, (0, total - audio.shape[0]))
        file_start = ctx.join - ctx.start if ctx.source != "none" else 0
        pre = min(file_start, round(PRE_ROLL_S * sr))
        mono = audio[file_start - pre :]
        first_frame = file_start // hop
        state: dict[str, Any] = {
            "engine": engine.engine_name,
            "model": engine.model_id,
            "moodHash": hashlib.sha1(engine.model_id.encode()).hexdigest()[:12],
            "seed": seed,
            "frameRate": engine.frame_rate,
            "tokensStartSeconds": (first_frame * hop - file_start) / sr,
            "contextSource": ctx.source,
            "contextFrames": ctx.frames,
            "licence": _licence(engine.model_id),
        }
        return RenderedAudio(
            audio=np.stack([mono, mono]),
            sample_rate=sr,
            pre=pre,
            post=0,
            head_overlap_frames=overlap,
            state=state,
            title=request.prompt.strip()[:200] or "MusicGen",
            model=engine.model_id,
            tokens=out.codes[:, first_frame:],
        )


def _read_melody(key: str | None, store: Store | None, rate: int) -> np.ndarray | None:
    """The station's melody (the streamer stored it as FLAC), mono at the engine's rate."""
    if not key:
        return None
    if store is None:
        raise RuntimeError("a melody job needs the segment store")
    try:
        audio, sr = store.read_flac(key)
    except (OSError, RuntimeError, StoreKeyError, KeyError) as err:  # soundfile: RuntimeError
        # Fails the job for good; the scheduler's fallback keeps the station playing.
        raise JobRejected(f"melody {key!r} is not readable from the segment store: {err}") from err
    mono = np.asarray(audio, dtype=np.float64).mean(axis=0)[: round(MELODY_MAX_S * sr)]
    if mono.shape[0] < sr // 10:
        raise JobRejected(f"melody {key!r} is shorter than 0.1 s")
    return resample(mono, sr, rate).astype(np.float32)


def _licence(model: str) -> str:
    # Meta's published MusicGen weights are non-commercial; a local folder's licence is unknown.
    return NC_LICENCE if model.startswith("facebook/") else "see the model's licence"
