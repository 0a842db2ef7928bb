"""The segment contract: validate jobs and results against the shared JSON Schema."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match


class JobRejected(ValueError):
    """A job cannot be processed; the message is the reason BullMQ records."""


class ResultInvalid(RuntimeError):
    """The worker produced a result that breaks the contract (a bug, never the job's fault)."""


class Contract:
    def __init__(self, schema_path: Path) -> None:
        self.schema_path = schema_path
        with schema_path.open(encoding="utf-8") as fh:
            self.schema: dict[str, Any] = json.load(fh)
        Draft202012Validator.check_schema(self.schema)
        self._job = self._validator("SegmentJob")
        self._result = self._validator("SegmentResult")

    def _validator(self, name: str) -> Draft202012Validator:
        if name not in self.schema.get("$defs", {}):
            raise ValueError(f"{self.schema_path} has no $defs/{name}")
        # A wrapper keeps the root's $defs (and $id) in scope so every "#/$defs/..." resolves.
        root = dict(self.schema)
        root["$ref"] = f"#/$defs/{name}"
        return Draft202012Validator(root, format_checker=FormatChecker())

    def validate_job(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise JobRejected(f"job data must be a JSON object, got {type(data).__name__}")
        error = best_match(self._job.iter_errors(data))
        if error is not None:
            raise JobRejected(f"invalid SegmentJob: {describe(error)}")
        return data

    def validate_result(self, data: dict[str, Any]) -> dict[str, Any]:
        error = best_match(self._result.iter_errors(data))
        if error is not None:
            raise ResultInvalid(f"invalid SegmentResult: {describe(error)}")
        return data


def describe(error: ValidationError) -> str:
    """Name the failing field as a JSON path ("$.continueFrom.atSeconds") with the reason."""
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    if error.validator == "oneOf" and error.context:
        # oneOf hides the useful error; report the branch that got furthest.
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        if len(deepest.absolute_path) > len(error.absolute_path):
            return describe(deepest)
    message = error.message
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{path}: {message}"


@lru_cache(maxsize=4)
def load_contract(schema_path: Path) -> Contract:
    return Contract(schema_path)
