"""What a job's status word means, as ComfyUI's client reads them (lower-cased and trimmed); an operation adds its
partner's own words (`Operation.done`, `Operation.failed`). A status path with a `*` step reads every element of a
list (Rodin's `jobs.*.status`): the job is done when all are, failed when any is."""

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
    """Where a job stands by one poll's answer: a partner 4xx/5xx or a 202 is no verdict (the job may still run). A
    failure field present is a failure; a job finished without its `output` failed too (nothing was delivered)."""
    if code in op.pending_codes or not 200 <= code < 300:
        return Outcome.RUNNING
    if op.failure and dig(answer, op.failure) not in (None, "", {}, []):
        return Outcome.FAILED
    verdict = _verdict(op, answer)
    if verdict is Outcome.DONE and op.output and dig(answer, op.output) in (None, "", {}, []):
        return Outcome.FAILED
    return verdict


def _verdict(op: Operation, answer: Any) -> Outcome:
    if "*" in op.status.split("."):
        verdicts = [_word_verdict(op, value) for value in every(answer, op.status)]
        if Outcome.FAILED in verdicts:
            return Outcome.FAILED
        return Outcome.DONE if verdicts and all(v is Outcome.DONE for v in verdicts) else Outcome.RUNNING
    return _word_verdict(op, dig(answer, op.status))


def every(answer: Any, path: str) -> list[Any]:
    """The values at `path` where a `*` step stands for every element of a list (none where a step is missing)."""
    head, star, rest = path.partition("*")
    found = dig(answer, head.rstrip(".")) if head else answer
    if not star:
        return [found] if found is not None else []
    if not isinstance(found, list):
        return []
    tail = rest.lstrip(".")
    return [v for item in found for v in (every(item, tail) if tail else [item])]


def _word_verdict(op: Operation, value: Any) -> Outcome:
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
