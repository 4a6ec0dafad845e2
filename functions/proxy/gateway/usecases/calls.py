"""One gateway call, end to end: route it by the catalog, admit and hold credit in one transaction (so a refusal
leaves nothing behind), forward it with our credential, then settle by the partner's answer: a synchronous result is
captured at its cost, a submitted job is recorded with its hold, a poll that sees the end settles its job once, and
every partner failure releases the hold. Answers are the partner's, with our request id and the credits used."""

from __future__ import annotations

import json
import logging
from typing import Any

from functions.proxy import catalog
from functions.proxy.catalog.credentials import credential_of
from functions.proxy.catalog.model import Auth, Operation, Partner, Role
from functions.proxy.catalog.statuses import Outcome, outcome
from functions.proxy.gateway.usecases import jobs, replays
from functions.proxy.gateway.usecases.answers import CREDITS_USED, Answer, credits, decoded, is_json, passed_headers
from functions.proxy.gateway.usecases.call import Call
from functions.proxy.gateway.usecases.deps import Gateway
from functions.proxy.gateway.usecases.metering import admit, place, settle
from functions.proxy.gateway.usecases.streams import relay
from functions.proxy.gateway.usecases.upstream import outbound, send
from shared.billing.callers import Caller
from shared.db.types import utcnow
from shared.errors import AppError, InvalidInput
from shared.proxy.ports import Outbound, PartnerAnswer, PartnerUnreachable

log = logging.getLogger(__name__)


def forward(gw: Gateway, caller: Caller, call: Call) -> Answer:
    partner, op, values = catalog.route(call.partner, call.method, call.path)
    if partner.auth is Auth.NONE:
        return _answer_here(gw, caller)
    credential = credential_of(partner, gw.credentials)
    if op.role in (Role.SYNC, Role.SUBMIT):
        return _charged(gw, caller, call, partner, op, outbound(gw, partner, op, call, credential))
    if op.role in (Role.POLL, Role.FETCH):
        return _poll(gw, caller, call, partner, op, values, credential)
    with gw.uow() as u:
        admit(gw, u, caller, holds=False)
        u.commit()
    gw.breaker.check(partner.name)
    answer = send(gw, partner, outbound(gw, partner, op, call, credential))
    return Answer(answer.status, passed_headers(answer.headers), answer.chunks())


def _answer_here(gw: Gateway, caller: Caller) -> Answer:
    """The spec's `dummy` partner: authenticated, counted, free; answers a plain string."""
    with gw.uow() as u:
        admit(gw, u, caller, holds=False)
        u.commit()
    return Answer(200, {"Content-Type": "text/plain; charset=utf-8"}, b"ok")


def _charged(gw: Gateway, caller: Caller, call: Call, partner: Partner, op: Operation, request: Outbound) -> Answer:
    estimate = op.price.estimate(call.fields) if op.price else 0
    if estimate <= 0:
        raise InvalidInput("This operation has no price; it cannot be called.", code="unpriced_operation")
    with gw.uow() as u:
        admit(gw, u, caller, holds=True)
        replayed = replays.claim(gw, u, caller.customer_id, call, utcnow())
        if replayed is not None:
            return replayed
        gw.breaker.check(partner.name)
        hold_id = place(u, caller, f"proxy:{call.request_id}", estimate, f"{partner.name} {op.name}")
        u.commit()
    try:
        answer = send(gw, partner, request)
    except AppError:
        _give_back(gw, caller, call, hold_id)
        raise
    streams = call.wants_events or (op.role is Role.SYNC and not is_json(answer.headers))
    if 200 <= answer.status < 300 and streams:
        return _streamed(gw, caller, call, partner, op, answer, hold_id, estimate)
    raw, value = _read(gw, caller, call, partner, answer, hold_id)
    if not 200 <= answer.status < 300:
        return _failed(gw, caller, call, partner, answer, raw, value, hold_id)
    if op.role is Role.SUBMIT:
        return _submitted(gw, caller, call, partner, op, answer, value, hold_id, estimate)
    actual = op.price.actual(value, answer.headers, estimate) if op.price else None
    reply = Answer(answer.status, passed_headers(answer.headers), raw)
    details = jobs.charge_details(partner, op, call.fields, call.request_id)
    return _settled(gw, caller, call, reply, hold_id, estimate if actual is None else actual, details)


def _read(
    gw: Gateway, caller: Caller, call: Call, partner: Partner, answer: PartnerAnswer, hold_id: str | None
) -> tuple[bytes, Any]:
    try:
        raw = answer.read(gw.limits.buffer_bytes)
    except PartnerUnreachable as exc:
        _give_back(gw, caller, call, hold_id)
        log.warning("partner %s: %s", partner.name, exc)
        raise send_failure(partner) from None
    return raw, decoded(raw, answer.headers)


def send_failure(partner: Partner) -> AppError:
    from shared.errors import BadGateway

    return BadGateway(f"The partner {partner.name!r} broke off its answer. You were not charged.")


def _give_back(gw: Gateway, caller: Caller, call: Call, hold_id: str | None) -> None:
    """Nothing came back from the partner: release the hold and the Idempotency-Key."""
    with gw.uow() as u:
        if hold_id:
            settle(u, hold_id, None, {})
        if call.idempotency_key and call.method != "GET":
            u.replays.release(caller.customer_id, call.idempotency_key)
        u.commit()


def _failed(
    gw: Gateway,
    caller: Caller,
    call: Call,
    partner: Partner,
    answer: PartnerAnswer,
    raw: bytes,
    value: Any,
    hold_id: str,
) -> Answer:
    """The partner refused or failed: the caller pays nothing and sees the partner's answer (a non-JSON 5xx page
    becomes our 502 with a message)."""
    reply = partner_reply(partner, answer, raw, value)
    with gw.uow() as u:
        settle(u, hold_id, None, {})
        replays.record(u, caller.customer_id, call, reply, gw.limits.buffer_bytes)
        u.commit()
    return reply


def partner_reply(partner: Partner, answer: PartnerAnswer, raw: bytes, value: Any) -> Answer:
    if answer.status >= 500 and value is None:
        message = f"The partner {partner.name!r} failed (HTTP {answer.status}). You were not charged."
        payload = json.dumps({"error": "partner_error", "message": message}).encode()
        return Answer(502, {"Content-Type": "application/json"}, payload)
    return Answer(answer.status, passed_headers(answer.headers), raw)


def _settled(
    gw: Gateway,
    caller: Caller,
    call: Call,
    reply: Answer,
    hold_id: str,
    cost: int | None,
    details: dict[str, Any],
) -> Answer:
    """A synchronous result: capture its cost (None: nothing to charge for, the hold goes back)."""
    with gw.uow() as u:
        charged = settle(u, hold_id, cost, details)
        reply.headers[CREDITS_USED] = credits(charged, gw.credits_per_usd)
        replays.record(u, caller.customer_id, call, reply, gw.limits.buffer_bytes)
        u.commit()
    return reply


def _submitted(
    gw: Gateway,
    caller: Caller,
    call: Call,
    partner: Partner,
    op: Operation,
    answer: PartnerAnswer,
    value: Any,
    hold_id: str,
    estimate: int,
) -> Answer:
    """A job began: record it with its hold (settled now if the answer is already final) and follow it."""
    job_id = jobs.submitted_id(op, value)
    headers = passed_headers(answer.headers)
    if job_id is None:  # accepted, yet no job to follow: nothing to charge for
        log.warning("partner %s answered %s without a job id at %s", partner.name, answer.status, op.job_id)
        return _settled(gw, caller, call, Answer(answer.status, headers, _body(value)), hold_id, None, {})
    actual = op.price.actual(value, answer.headers, estimate) if op.price else None
    poll_url = None
    if partner.absolute_polling and isinstance(value, dict) and isinstance(value.get("polling_url"), str):
        poll_url, value["polling_url"] = value["polling_url"], jobs.our_polling_url(gw, partner, job_id)
    verdict = outcome(op, answer.status, value) if op.status else Outcome.RUNNING
    with gw.uow() as u:
        job = jobs.open_job(gw, u, caller, call, partner, op, job_id, hold_id, actual or estimate, poll_url)
        if verdict is not Outcome.RUNNING:
            charged = jobs.finish(u, job, verdict, value, answer.headers)
            headers[CREDITS_USED] = credits(charged or 0, gw.credits_per_usd)
        reply = Answer(answer.status, headers, _body(value))
        replays.record(u, caller.customer_id, call, reply, gw.limits.buffer_bytes)
        u.commit()
    if verdict is Outcome.RUNNING:
        jobs.follow_later(gw, job.id, 0, gw.limits.settle_delay_seconds)
    return reply


def _body(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _streamed(
    gw: Gateway,
    caller: Caller,
    call: Call,
    partner: Partner,
    op: Operation,
    answer: PartnerAnswer,
    hold_id: str,
    estimate: int,
) -> Answer:
    headers = passed_headers(answer.headers)
    if op.price is not None and op.price.actual(None, {}, estimate) is None and not call.wants_events:
        headers[CREDITS_USED] = credits(estimate, gw.credits_per_usd)  # priced by the request: known now
    details = jobs.charge_details(partner, op, call.fields, call.request_id)

    def on_end(cost: int | None) -> None:
        with gw.uow() as u:
            settle(u, hold_id, cost, details)
            replays.record(u, caller.customer_id, call, Answer(answer.status, headers), 0)
            u.commit()

    return Answer(answer.status, headers, relay(answer, op, estimate, call.wants_events, on_end))


def _poll(
    gw: Gateway,
    caller: Caller,
    call: Call,
    partner: Partner,
    op: Operation,
    values: dict[str, str],
    credential: str,
) -> Answer:
    """A read of the caller's own job (404 job_not_found otherwise); the first terminal answer settles it."""
    with gw.uow() as u:
        admit(gw, u, caller, holds=False)
        job = jobs.owned(u, caller, partner.name, jobs.polled_id(op, call, values))
        u.commit()
    gw.breaker.check(partner.name)
    url = job.poll_url if partner.absolute_polling and job.poll_url else ""
    answer = send(gw, partner, outbound(gw, partner, op, call, credential, url))
    headers = passed_headers(answer.headers)
    if op.role is Role.FETCH:
        return Answer(answer.status, headers, answer.chunks())
    raw, value = _read(gw, caller, call, partner, answer, None)
    verdict = outcome(op, answer.status, value)
    if job.status == "pending" and verdict is not Outcome.RUNNING:
        with gw.uow() as u:
            charged = jobs.finish(u, job, verdict, value, answer.headers)
            u.commit()
        if charged is not None:
            headers[CREDITS_USED] = credits(charged, gw.credits_per_usd)
    if answer.status >= 500 and value is None:
        return partner_reply(partner, answer, raw, value)
    return Answer(answer.status, headers, raw)
