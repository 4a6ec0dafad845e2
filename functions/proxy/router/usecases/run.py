"""Running a Router model: the input checked against the model's schema (422 with every failure) and its model field
set from the path, then the gateway's own call (held, charged once, replayed under an Idempotency-Key). A model
answered at once returns the partner's output as it came; a job is polled through the gateway until it ends, or
until the deadline, which answers 504 `deadline_exceeded`: the job runs on, and a retry with the same key replays the
submit (no second charge) and collects the result."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from functions.proxy import catalog
from functions.proxy.catalog.model import Role
from functions.proxy.catalog.statuses import Outcome, outcome
from functions.proxy.gateway.usecases import calls, jobs
from functions.proxy.gateway.usecases.answers import Answer, decoded
from functions.proxy.gateway.usecases.call import Call
from functions.proxy.gateway.usecases.deps import Gateway
from functions.proxy.router.models import RouterModel
from shared.billing.callers import Caller
from shared.errors import BadGateway, DeadlineExceeded, InvalidInput, Unprocessable

FAILED_SUFFIX = "You were not charged."


@dataclass(frozen=True)
class Waiting:
    deadline_seconds: float
    poll_seconds: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def run(
    gw: Gateway, caller: Caller, m: RouterModel, body: dict[str, Any], key: str | None, request_id: str, wait: Waiting
) -> Answer:
    _check(m, body)
    if m.model_field:
        body = {**body, m.model_field: m.upstream_name}
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    submit = Call(
        m.partner, "POST", m.path, headers=headers, body=raw, fields=body, idempotency_key=key, request_id=request_id
    )
    _, op, _ = catalog.route(m.partner, "POST", m.path)
    answer = calls.forward(gw, caller, submit)
    if op.role is not Role.SUBMIT or not 200 <= answer.status < 300:
        return _marked(answer)
    value = decoded(_bytes(answer), answer.headers)
    job_id = jobs.submitted_id(op, value)
    if job_id is None:
        raise BadGateway(f"The provider accepted the call but named no job. {FAILED_SUFFIX}")
    if op.status and outcome(op, answer.status, value) is Outcome.DONE:  # already over (an answer given at once)
        return _fresh(answer)
    return _collected(
        gw, caller, m, jobs.resolved_poll(op, m.path), op.poll_method, op.poll_field, str(job_id), key, request_id, wait
    )


def _collected(
    gw: Gateway,
    caller: Caller,
    m: RouterModel,
    template: str,
    method: str,
    field: str,
    job_id: str,
    key: str | None,
    request_id: str,
    wait: Waiting,
) -> Answer:
    poll = _poll_call(m.partner, template, method, field, job_id, request_id)
    _, poll_op, _ = catalog.route(m.partner, poll.method, poll.path)
    ends = wait.clock() + wait.deadline_seconds
    while True:
        answer = calls.forward(gw, caller, poll)
        raw = _bytes(answer)
        verdict = outcome(poll_op, answer.status, decoded(raw, answer.headers))
        if verdict is Outcome.DONE:
            return _fresh(Answer(answer.status, answer.headers, raw))
        if verdict is Outcome.FAILED:
            raise BadGateway(f"The provider reports the generation failed: {raw[:300]!r}. {FAILED_SUFFIX}")
        if wait.clock() + wait.poll_seconds > ends:
            retry = max(1, math.ceil(wait.poll_seconds)) if key else None
            again = " Retry with the same Idempotency-Key to collect it." if key else ""
            raise DeadlineExceeded(f"The generation is still running.{again}", retry_after=retry)
        wait.sleep(wait.poll_seconds)


def _poll_call(partner: str, template: str, method: str, field: str, job_id: str, request_id: str) -> Call:
    path, _, query = template.replace("{id}", job_id).partition("?")
    args = dict(pair.partition("=")[::2] for pair in query.split("&") if pair)
    if method == "POST":
        body = json.dumps({field: job_id}).encode()
        headers = {"Content-Type": "application/json"}
        return Call(partner, "POST", path, headers=headers, body=body, fields={field: job_id}, request_id=request_id)
    return Call(partner, "GET", path, query=query, args=args, request_id=request_id)


def _check(m: RouterModel, body: Mapping[str, Any]) -> None:
    if m.model_field and m.model_field in body and body[m.model_field] not in (m.upstream_name, m.model):
        raise InvalidInput(
            f"The body names model {body[m.model_field]!r}; this route runs {m.id}.", code="model_mismatch"
        )
    if m.input_schema is None:
        return
    from jsonschema import Draft202012Validator

    failures = sorted(Draft202012Validator(m.input_schema).iter_errors(dict(body)), key=lambda e: list(e.path))
    if failures:
        details: list[dict[str, object]] = [
            {"loc": ["body", *e.absolute_path], "msg": e.message, "type": str(e.validator), "input": e.instance}
            for e in failures[:20]
        ]
        raise Unprocessable(f"{len(failures)} field(s) of the input are invalid.", details=details)


def _bytes(answer: Answer) -> bytes:
    return answer.body if isinstance(answer.body, bytes) else b"".join(answer.body)


def _fresh(answer: Answer) -> Answer:
    """A collected result is produced now, not replayed (its submit may have been)."""
    headers = {k: v for k, v in answer.headers.items() if k.lower() != "idempotent-replayed"}
    return Answer(answer.status, headers, answer.body)


def _marked(answer: Answer) -> Answer:
    """The partner's own refusal keeps its status and body; the Router's bucket rides on X-Comfy-Error-Type."""
    if answer.status >= 400:
        answer.headers["X-Comfy-Error-Type"] = "invalid_input" if answer.status < 500 else "provider_error"
    return answer
