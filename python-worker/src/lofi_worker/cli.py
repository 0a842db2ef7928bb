"""`lofi-worker run` (queue worker) and `lofi-worker render` (a segment or any length to a file)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from lofi_worker.config import ConfigError, load_config
from lofi_worker.contract import load_contract
from lofi_worker.logs import JsonFormatter, setup_logging
from lofi_worker.store import SegmentStore, read_flac_path

CLI_STATION = "cli"
MAX_JOB_SECONDS = 60.0  # the contract's SegmentJob.durationSeconds maximum
FADE_OUT_SECONDS = 2.0  # a long render ends with a fade, not mid-note


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lofi-worker", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="consume segment jobs from the BullMQ queue")
    r = sub.add_parser(
        "render",
        help="render music to a FLAC/WAV file: one segment, or any length as a chain of segments",
    )
    r.add_argument("--backend", default="procedural", choices=["procedural", "musicgen"])
    r.add_argument("--prompt", required=True)
    r.add_argument(
        "--seconds",
        type=float,
        default=30.0,
        help=f"up to {MAX_JOB_SECONDS:g}: one segment of new music after the overlap; longer: "
        "a chain of continuations (tracks included) crossfaded into one file of that length",
    )
    r.add_argument(
        "--segment-seconds",
        type=float,
        default=8.0,
        help="segment length of a long render (the scheduler's SEGMENT_SECONDS)",
    )
    r.add_argument("--out", required=True, type=Path)
    r.add_argument("--continue-from", type=Path, help="previous FLAC (its .json must be beside it)")
    r.add_argument("--seed", type=int)
    r.add_argument("--overlap", type=float, default=1.5)
    r.add_argument("--sample-rate", type=int, default=48000, choices=[44100, 48000])
    r.add_argument("--channels", type=int, default=2, choices=[1, 2])
    return p


def build_job(args: argparse.Namespace, name: str) -> dict[str, Any]:
    seq, cont = 0, None
    if args.continue_from is not None:
        prev_meta = json.loads(args.continue_from.with_suffix(".json").read_text(encoding="utf-8"))
        audio, sr = read_flac_path(args.continue_from)
        duration = audio.shape[1] / sr
        seq = int(prev_meta.get("seq", 0)) + 1
        cont = {
            "seq": int(prev_meta.get("seq", 0)),
            "audioKey": f"stations/{CLI_STATION}/segments/prev.flac",
            "atSeconds": max(0.0, duration - args.overlap),
            "state": prev_meta["state"],
        }
    return {
        "stationId": CLI_STATION,
        "seq": seq,
        "promptVersion": 0,
        "prompt": args.prompt,
        "backend": args.backend,
        "seed": args.seed if args.seed is not None else random.randrange(2**32),
        "durationSeconds": args.seconds,
        "overlapSeconds": args.overlap,
        "sampleRate": args.sample_rate,
        "channels": args.channels,
        "audioKey": f"stations/{CLI_STATION}/segments/{name}",
        "continueFrom": cont,
    }


def render(args: argparse.Namespace) -> int:
    from lofi_worker.job import process_job

    cfg = load_config()
    contract = load_contract(cfg.contract_schema)
    out: Path = args.out.resolve()
    if args.seconds > MAX_JOB_SECONDS:
        if args.continue_from is not None:
            raise ValueError(
                f"--continue-from renders one segment (--seconds <= {MAX_JOB_SECONDS:g})"
            )
        return render_long(args, contract, out)
    job = build_job(args, "segment.flac")
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        # The job runs against a scratch store (keys must look like store keys); the files are
        # then renamed to --out, on the same filesystem.
        store = SegmentStore(Path(tmp))
        cont = job["continueFrom"]
        if cont is not None:
            # A continuation reads its predecessor from the store (MusicGen: tokens or audio).
            prev: Path = args.continue_from
            store.write_bytes(cont["audioKey"], prev.read_bytes())
            tokens = prev.with_suffix(".tokens.npy")
            if tokens.is_file():
                cont["tokensKey"] = cont["audioKey"][: -len(".flac")] + ".tokens.npy"
                store.write_bytes(cont["tokensKey"], tokens.read_bytes())
        result = process_job(job, store=store, contract=contract, job_id="cli")
        shutil.move(store.path(result["audioKey"]), out)
        shutil.move(store.path(result["metaKey"]), out.with_suffix(".json"))
        if "tokensKey" in result:
            shutil.move(store.path(result["tokensKey"]), out.with_suffix(".tokens.npy"))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def render_long(args: argparse.Namespace, contract: Any, out: Path) -> int:
    """Any length: the queue's job path segment by segment (lofi_worker.chain), crossfaded as the
    playout does and streamed into one file; a JSON summary (tracks, loudness) goes beside it."""
    import numpy as np
    import soundfile as sf

    from lofi_worker.chain import render_chain, track_start_seconds
    from lofi_worker.quality import StreamMeter

    formats = {".flac": "FLAC", ".wav": "WAV"}
    if out.suffix.lower() not in formats:
        raise ValueError(f"--out must end in .flac or .wav, not {out.suffix!r}")
    sr, ch = int(args.sample_rate), int(args.channels)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    total = round(args.seconds * sr)
    fade = min(total // 4, round(FADE_OUT_SECONDS * sr))
    meter = StreamMeter(sr, ch)
    tracks: list[dict[str, Any]] = []
    segment_lufs: list[float] = []
    written = 0
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        part = Path(tmp) / f"render{out.suffix}"
        with sf.SoundFile(
            part, "w", sr, ch, subtype="PCM_24", format=formats[out.suffix.lower()]
        ) as fh:
            steps = render_chain(
                [(args.prompt, args.seconds)],
                store=SegmentStore(Path(tmp) / "store"),
                contract=contract,
                seed=seed,
                backend=args.backend,
                segment_seconds=args.segment_seconds,
                overlap_seconds=args.overlap,
                sample_rate=sr,
                channels=ch,
            )
            for step in steps:
                if not step.final:
                    result = step.result
                    segment_lufs.append(float(result["loudnessLufs"]))
                    track = result.get("track")
                    if track and track["position"] == 0:
                        # From its first audio: after the ring-out bar of the track before.
                        begins = 0.0
                        if step.seam is not None:
                            begins = step.seam / sr + track_start_seconds(result)
                        tracks.append(
                            {
                                "index": track["index"],
                                "name": track["name"],
                                "startSeconds": round(begins, 3),
                            }
                        )
                chunk = step.chunk[:, : total - written]
                if fade and written + chunk.shape[1] > total - fade:
                    pos = np.arange(written, written + chunk.shape[1])
                    t = np.clip((total - pos) / fade, 0.0, 1.0)
                    chunk = chunk * np.sin(0.5 * np.pi * t).astype(np.float32)
                fh.write(np.ascontiguousarray(chunk.T))
                meter.add(chunk)
                written += chunk.shape[1]
                if written >= total:
                    break
            steps.close()
        shutil.move(part, out)
    for i, t in enumerate(tracks):
        end = tracks[i + 1]["startSeconds"] if i + 1 < len(tracks) else written / sr
        t["seconds"] = round(end - t["startSeconds"], 3)
    summary = {
        "file": str(out),
        "seconds": written / sr,
        "sampleRate": sr,
        "channels": ch,
        "seed": seed,
        "segments": len(segment_lufs),
        "segmentLoudnessLufs": {"min": min(segment_lufs), "max": max(segment_lufs)},
        "loudnessLufs": round(meter.loudness_lufs(), 3),
        "truePeakDbtp": round(meter.true_peak_dbtp, 3),
        "longestSilenceSeconds": round(meter.longest_silence_s, 4),
        "tracks": tracks,
    }
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = load_config()
    except ConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        return 2
    if args.command == "run":
        setup_logging(cfg.log_level)
        from lofi_worker.worker import abandoned_renders, run_worker

        code = asyncio.run(run_worker(cfg))
        if abandoned_renders():
            # A render thread cannot be interrupted and its job was given back to the queue, so
            # nothing waits for its result: end now instead of joining the thread at exit.
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return code
    # render prints the result on stdout, so its logs go to stderr.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=cfg.log_level.upper(), handlers=[handler], force=True)
    try:
        return render(args)
    except Exception as err:
        print(f"render failed: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
