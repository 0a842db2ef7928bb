"""Process one SegmentJob end to end. Shared by the queue worker and the CLI."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from lofi_worker import quality
from lofi_worker.backends import GenerationRequest, get_backend
from lofi_worker.contract import Contract, JobRejected
from lofi_worker.logs import get_logger
from lofi_worker.store import Store, StoreKeyError, meta_key_for

TOKENS_SUFFIX = ".tokens.npy"

MAX_ATTEMPTS = 3
log = get_logger("lofi_worker.job")


class QualityGateFailed(RuntimeError):
    """Every attempt failed the quality gate."""


def process_job(
    data: Any, *, store: Store, contract: Contract, job_id: str | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    job = contract.validate_job(data)
    try:
        store.check_key(job["audioKey"])
        meta_key = meta_key_for(job["audioKey"])
        store.check_key(meta_key)
        if job["continueFrom"] is not None:
            store.check_key(job["continueFrom"]["audioKey"])
    except StoreKeyError as err:
        raise JobRejected(str(err)) from err
    ctx = {"stationId": job["stationId"], "seq": job["seq"], "jobId": job_id}
    backend = get_backend(job["backend"])
    sr = int(job["sampleRate"])
    channels = int(job["channels"])
    cont = job["continueFrom"]
    prev_state: dict[str, Any] = dict(cont["state"]) if cont else {}

    reasons: list[str] = []
    for attempt in range(MAX_ATTEMPTS):
        rendered = backend.generate(
            GenerationRequest(
                prompt=job["prompt"],
                seed=int(job["seed"]),
                duration_seconds=float(job["durationSeconds"]),
                overlap_seconds=float(job["overlapSeconds"]),
                sample_rate=sr,
                continue_from=cont,
                params=dict(job.get("params") or {}),
                model=job.get("model"),
                attempt=attempt,
                store=store,
                drift=job.get("drift"),
                track=job.get("track"),
                melody_key=job.get("melodyKey"),
            )
        )
        # Same sound as the predecessor: keep its mastering gain (within a small step) so the
        # crossfaded head and tail sit at the same level. A backend whose head re-renders the
        # predecessor's music (even across a track or mood change) says so in its state;
        # otherwise the same mood means the same sound.
        continues = rendered.state.get("headContinues")
        same = (
            bool(prev_state)
            and "masterGainDb" in prev_state
            and (
                bool(continues)
                if continues is not None
                else prev_state.get("moodHash") == rendered.state.get("moodHash")
            )
        )
        prev_gain = float(prev_state["masterGainDb"]) if same else None
        try:
            mastered = quality.master(
                rendered.audio,
                sr,
                rendered.pre,
                rendered.post,
                channels,
                prev_gain,
                smooth_from=same,
            )
            quality.check(mastered, rendered.file_audio(), sr)
            break
        except quality.QualityError as err:
            reasons.append(str(err))
            log.warning(
                "quality gate rejected a render; regenerating with a new seed",
                extra={**ctx, "attempt": attempt, "reason": str(err)},
            )
    else:
        raise QualityGateFailed(f"quality gate failed {MAX_ATTEMPTS} times: {'; '.join(reasons)}")

    frames = mastered.audio.shape[1]
    state = dict(rendered.state)
    state["masterGainDb"] = round(mastered.gain_db, 4)
    # The segment's musical detail (procedural: mood, chord, section) for the curious; the title
    # is the track's name when the job has a track.
    state.setdefault("detail", rendered.title[:200])
    generation_seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "stationId": job["stationId"],
        "seq": job["seq"],
        "promptVersion": job["promptVersion"],
        "prompt": job["prompt"],
        "title": _title(job.get("track"), rendered.title),
        "backend": job["backend"],
        "model": rendered.model,
        "audioKey": job["audioKey"],
        "metaKey": meta_key,
        "durationSeconds": frames / sr,
        "headOverlapSeconds": rendered.head_overlap_frames / sr,
        "sampleRate": sr,
        "channels": channels,
        "loudnessLufs": round(mastered.loudness_lufs, 3),
        "truePeakDbtp": round(mastered.true_peak_dbtp, 3),
        "generationSeconds": round(generation_seconds, 4),
        "continuesSeq": cont["seq"] if cont else None,
        "joinAtSeconds": float(cont["atSeconds"]) if cont else 0.0,
        "qualityRetries": len(reasons),
        "state": state,
        "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if job.get("track") is not None:
        result["track"] = dict(job["track"])
    tokens_key = _tokens_key(job["audioKey"]) if rendered.tokens is not None else None
    if tokens_key is not None:
        result["tokensKey"] = tokens_key
    contract.validate_result(result)
    # Audio first, metadata last: a reader that sees the JSON can trust the FLAC is complete.
    store.write_flac(job["audioKey"], mastered.audio, sr)
    if tokens_key is not None and rendered.tokens is not None:
        store.write_bytes(tokens_key, tokens_to_bytes(rendered.tokens))
    store.write_json(meta_key, result)
    log.info(
        "segment written",
        extra={
            **ctx,
            "seconds": round(frames / sr, 3),
            "generationSeconds": round(generation_seconds, 3),
            "realtimeFactor": round(frames / sr / max(generation_seconds, 1e-9), 1),
            "loudnessLufs": result["loudnessLufs"],
            "truePeakDbtp": result["truePeakDbtp"],
            "qualityRetries": len(reasons),
            "title": result["title"],
        },
    )
    return result


def _title(track: dict[str, Any] | None, rendered_title: str) -> str:
    """Listeners see the track's name; the segment's own detail (chord, section) stays in the
    state. Without a track (an older scheduler) the backend's title is the title."""
    name = str(track.get("name") or "").strip() if track else ""
    return (name or rendered_title)[:200] or "Lo-Fi"


def _tokens_key(audio_key: str) -> str | None:
    """Where a segment's codebook tokens go; None when the name would exceed the key pattern."""
    key = audio_key[: -len(".flac")] + TOKENS_SUFFIX
    return key if len(key.rsplit("/", 1)[-1]) <= 96 else None


def tokens_to_bytes(tokens: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(tokens, dtype=np.int16), allow_pickle=False)
    return buf.getvalue()
