"""Calls that cost money (a synchronous call, a submit): admitted and held in one transaction (so a refusal leaves
nothing behind), forwarded, then settled by the partner's answer: a result is captured at its cost, a job is recorded
with its hold, a stream settles when it ends, and any partner failure releases the hold."""

from __future__ import annotations

import json
import logging
from typing import Any

from functions.proxy.catalog.model import Role
from functions.proxy.catalog.statuses import Outcome, outcome
from functions.proxy.gateway.usecases import gate, jobs, replays
from functions.proxy.gateway.usecases.answers import (
    CREDITS_USED,
    Answer,
    credits,
    is_events,
    is_json,
    passed_headers,
)
from functions.proxy.gateway.usecases.exchange import Exchange
from functions.proxy.gateway.usecases.metering import admit, limit_in_flight, place, settle
from functions.proxy.gateway.usecases.streams import relay
from functions.proxy.gateway.usecases.upstream import send
from functions.proxy.limits.ratecard import model_id
from shared.db.types import utcnow
from shared.errors import GatewayTimeout, InvalidInput
from shared.proxy.ports import Outbound, PartnerAnswer

log = logging.getLogger(__name__)


def charged(x: Exchange, request: Outbound) -> Answer:
    op, gw = x.op, x.gw
    if not x.call.readable:  # priced on fields we could not read, the call could ask for more than is held
        raise InvalidInput(
            "A charged call's body must be JSON or a form (multipart or urlencoded).", code="unsupported_body"
        )
    estimate = op.price.estimate(x.call.fields) if op.price else 0
    if estimate <= 0:
        raise InvalidInput("This operation has no price; it cannot be called.", code="unpriced_operation")
    with gw.uow() as u:
        admit(gw, u, x.caller)
        replayed = replays.claim(gw, u, x.caller.customer_id, x.call, utcnow())
        if replayed is not None:
            return replayed
        gw.breaker.check(x.partner.name)
        model = gate.classify_call(gw, u, model_id(x.partner, op))
        key, description = f"proxy:{x.call.request_id}", f"{x.partner.name} {op.name}"
        hold_id = place(u, x.caller, key, estimate, description, model=model.model, capped=model.capped)
        limit_in_flight(gw, u, x.caller)
        admitted = gate.check(gw, u, x.caller, model, estimate)
        u.commit()
    try:
        answer = send(gw, x.partner, request)
    except BaseException as exc:
        x.give_back(hold_id, key_spent=isinstance(exc, GatewayTimeout))
        raise
    try:
        reply = _settle_by(x, answer, hold_id, estimate)
        reply.headers.update(admitted.headers)
        return reply
    except BaseException:
        x.abandon(hold_id)
        raise


def _settle_by(x: Exchange, answer: PartnerAnswer, hold_id: str, estimate: int) -> Answer:
    op = x.op
    ok = 200 <= answer.status < 300
    events = is_events(answer.headers)  # what the partner sent decides, never what the caller asked for
    if ok and (events or (op.role is Role.SYNC and not is_json(answer.headers))):
        return _streamed(x, answer, hold_id, estimate, events)
    raw, value = x.read(answer, hold_id)
    if not ok:  # the partner refused or failed: the caller pays nothing and sees why
        return x.settled(x.reply(answer, raw, value), hold_id, None, {})
    if op.role is Role.SUBMIT:
        return _submitted(x, answer, raw, value, hold_id, estimate)
    actual = op.price.actual(value, answer.headers, estimate) if op.price else None
    reply = Answer(answer.status, passed_headers(answer.headers), raw)
    return x.settled(reply, hold_id, estimate if actual is None else actual, _details(x))


def _details(x: Exchange) -> dict[str, Any]:
    return jobs.charge_details(x.partner, x.op, x.call.fields, x.call.request_id)


def _submitted(x: Exchange, answer: PartnerAnswer, raw: bytes, value: Any, hold_id: str, estimate: int) -> Answer:
    """A job began: record it with its hold (settled now if the answer is already final) and follow it."""
    gw, op, partner = x.gw, x.op, x.partner
    job_id = jobs.submitted_id(op, value)
    headers = passed_headers(answer.headers)
    if job_id is None:  # accepted, yet no job to follow: nothing to charge for
        log.warning("partner %s answered %s without a job id at %s", partner.name, answer.status, op.job_id)
        return x.settled(Answer(answer.status, headers, raw), hold_id, None, {})
    actual = op.price.actual(value, answer.headers, estimate) if op.price else None
    poll_url = None
    if partner.absolute_polling and isinstance(value, dict) and isinstance(value.get("polling_url"), str):
        poll_url = jobs.trusted_polling_url(gw, partner, value["polling_url"])
        value["polling_url"] = jobs.our_polling_url(gw, partner, job_id)
        raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    verdict = outcome(op, answer.status, value) if op.status else Outcome.RUNNING
    price = estimate if actual is None else actual
    with gw.uow() as u:
        job = jobs.open_job(x, u, job_id, hold_id, price, poll_url, jobs.aliases_in(op, value))
        if verdict is not Outcome.RUNNING:
            charged_now = jobs.finish(u, job, verdict, value, answer.headers) or 0
            headers[CREDITS_USED] = credits(charged_now, gw.credits_per_usd)
        reply = Answer(answer.status, headers, raw)
        replays.record(u, x.caller.customer_id, x.call, reply, gw.limits.buffer_bytes)
        u.commit()
    if verdict is Outcome.RUNNING:
        jobs.follow_later(gw, job.id, 0, gw.limits.settle_delay_seconds)
    return reply


def _streamed(x: Exchange, answer: PartnerAnswer, hold_id: str, estimate: int, events: bool) -> Answer:
    headers = passed_headers(answer.headers)
    price = x.op.price
    if price is not None and not events:  # priced by the request or the partner's headers: known now
        actual = price.actual(None, answer.headers, estimate)
        headers[CREDITS_USED] = credits(estimate if actual is None else min(actual, estimate), x.gw.credits_per_usd)
    details = _details(x)

    def on_end(cost: int | None) -> None:
        with x.gw.uow() as u:
            settle(u, hold_id, cost, details)
            replays.record(u, x.caller.customer_id, x.call, Answer(answer.status, headers), 0)
            u.commit()

    return Answer(answer.status, headers, relay(answer, x.op, estimate, events, on_end))
