"""`lofi-worker run` (queue worker) and `lofi-worker render` (one segment to a file)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lofi-worker", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="consume segment jobs from the BullMQ queue")
    r = sub.add_parser("render", help="render one segment to a FLAC file (same code path)")
    r.add_argument("--backend", default="procedural", choices=["procedural", "musicgen"])
    r.add_argument("--prompt", required=True)
    r.add_argument("--seconds", type=float, default=30.0, help="new music after the overlap")
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = load_config()
    except ConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        return 2
    if args.command == "run":
        setup_logging(cfg.log_level)
        from lofi_worker.worker import run_worker

        return asyncio.run(run_worker(cfg))
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
