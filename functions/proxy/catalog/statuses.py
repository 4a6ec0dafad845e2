"""What a job's status word means, as ComfyUI's client reads them (lower-cased and trimmed); an operation adds its
partner's own words (`Operation.done`, `Operation.failed`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from functions.proxy.catalog.model import Operation
from functions.proxy.catalog.prices import dig

DONE = frozenset({"succeeded", "succeed", "success", "completed", "finished", "done", "complete"})
FAILED = frozenset({"cancelled", "canceled", "canceling", "fail", "failed", "error"})


class Outcome(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def outcome(op: Operation, code: int, answer: Any) -> Outcome:
    """Where a job stands by one poll's answer: a partner 4xx/5xx or a 202 is no verdict (the job may still run)."""
    if code in op.pending_codes or not 200 <= code < 300:
        return Outcome.RUNNING
    value = dig(answer, op.status)
    if isinstance(value, bool):  # Veo's `done`
        return Outcome.DONE if value else Outcome.RUNNING
    word = str(value).strip().lower() if value is not None else ""
    if not word:  # a result with no status word at all (Stability's image bytes) where the operation allows it
        return Outcome.DONE if "" in op.done else Outcome.RUNNING
    if word in op.done or (word in DONE and word not in op.failed):
        return Outcome.DONE
    if word in op.failed or word in FAILED:
        return Outcome.FAILED
    return Outcome.RUNNING
