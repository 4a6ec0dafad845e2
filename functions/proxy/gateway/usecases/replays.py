"""`Idempotency-Key`: one logical call per key and caller, for 24 hours. The same request again is answered from the
record (`Idempotent-Replayed: true`) and charged nothing; while the first is in flight, 409 with Retry-After; another
request under the key, 409. The key is claimed in the call's first transaction, so a refusal before anything reached
the partner (401, 402, 404, 429...) rolls the claim back and releases it. Only an answer the partner produced is
recorded; one too large to keep, or streamed, leaves the key spent (409 on a retry: use a new key)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from functions.proxy.gateway.usecases.answers import Answer
from functions.proxy.gateway.usecases.call import Call
from functions.proxy.gateway.usecases.deps import Gateway
from shared.db.proxy_models import ProxyReplay
from shared.errors import Conflict
from shared.proxy.uow import ProxyUnitOfWork

IN_FLIGHT, DONE, SPENT = "in_flight", "done", "spent"
REPLAYED = "Idempotent-Replayed"
IN_FLIGHT_RETRY_SECONDS = 2
IN_FLIGHT_LIMIT = timedelta(hours=1)


class IdempotencyConflict(Conflict):
    def __init__(self, message: str, code: str, retry_after: int | None = None) -> None:
        super().__init__(message, code=code)
        self.error_type = code
        self.retry_after = retry_after


def fingerprint(call: Call) -> str:
    digest = hashlib.sha256()
    for part in (call.method, call.partner, call.path, call.query):
        digest.update(part.encode() + b"\0")
    digest.update(call.body)
    return digest.hexdigest()


def claim(gw: Gateway, u: ProxyUnitOfWork, customer_id: str, call: Call, now: datetime) -> Answer | None:
    """Take the call's key (None: go ahead), or answer from its record."""
    if not call.idempotency_key or call.method == "GET":
        return None
    stale = now - IN_FLIGHT_LIMIT  # a claim older than any call can run was left by a crash: take it back
    wanted = fingerprint(call)
    found = u.replays.claim(
        customer_id, call.idempotency_key, wanted, now, now + gw.limits.replay_ttl, stale_before=stale
    )
    return None if found is None else _answer_from(found, wanted)


def _answer_from(found: ProxyReplay, wanted: str) -> Answer:
    if found.fingerprint != wanted:
        raise IdempotencyConflict(
            "This Idempotency-Key was used for a different request; use a new key.", "idempotency_mismatch"
        )
    if found.state == IN_FLIGHT:
        raise IdempotencyConflict(
            "The call with this Idempotency-Key is still in flight; retry shortly.",
            "idempotency_in_flight",
            IN_FLIGHT_RETRY_SECONDS,
        )
    if found.state == SPENT or found.body is None or found.status_code is None:
        raise IdempotencyConflict(
            "The call with this Idempotency-Key ran, but its answer cannot be replayed; use a new key.",
            "idempotency_consumed",
        )
    headers = {**found.headers, REPLAYED: "true"}
    return Answer(found.status_code, headers, found.body)


def record(u: ProxyUnitOfWork, customer_id: str, call: Call, answer: Answer, limit: int) -> None:
    """Keep the partner's answer for replays (in the settlement's transaction)."""
    if not call.idempotency_key or call.method == "GET":
        return
    body = answer.body if isinstance(answer.body, bytes) and len(answer.body) <= limit else None
    state = DONE if body is not None else SPENT
    u.replays.record(customer_id, call.idempotency_key, state, answer.status, answer.headers, body)


def spend(u: ProxyUnitOfWork, customer_id: str, call: Call) -> None:
    """The call ran but its answer was lost: the key stays consumed (409 `idempotency_consumed` on a retry)."""
    if call.idempotency_key and call.method != "GET":
        u.replays.record(customer_id, call.idempotency_key, SPENT, 0, {}, None)


def release(gw: Gateway, customer_id: str, call: Call) -> None:
    """Give the key back when the partner produced no answer (unreachable, timed out)."""
    if not call.idempotency_key or call.method == "GET":
        return
    with gw.uow() as u:
        u.replays.release(customer_id, call.idempotency_key)
        u.commit()
