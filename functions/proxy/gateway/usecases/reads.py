"""Calls that cost nothing: a poll of the caller's own job (the first terminal answer settles it, once), a read of
its result, a free helper call."""

from __future__ import annotations

from functions.proxy.catalog.model import Role
from functions.proxy.catalog.statuses import Outcome, outcome
from functions.proxy.gateway.usecases import jobs
from functions.proxy.gateway.usecases.answers import CREDITS_USED, Answer, credits, passed_headers
from functions.proxy.gateway.usecases.exchange import Exchange
from functions.proxy.gateway.usecases.metering import admit
from functions.proxy.gateway.usecases.upstream import outbound, send


def polled(x: Exchange, path_values: dict[str, str], credential: str) -> Answer:
    """A read of the caller's own job (404 job_not_found otherwise); the first terminal answer settles it."""
    gw, partner, op = x.gw, x.partner, x.op
    with gw.uow() as u:
        admit(gw, u, x.caller)
        job = jobs.owned(u, x.caller, partner.jobs_of or partner.name, jobs.polled_id(op, x.call, path_values))
        u.commit()
    gw.breaker.check(partner.name)
    url = job.poll_url if partner.absolute_polling and job.poll_url else ""
    answer = send(gw, partner, outbound(gw, partner, op, jobs.poll_of(x.call, op, job), credential, url))
    if op.role is Role.FETCH:
        return Answer(answer.status, passed_headers(answer.headers), answer.chunks())
    raw, value = x.read(answer, None)
    reply = x.reply(answer, raw, value)
    verdict = outcome(op, answer.status, value)
    aliases = jobs.aliases_in(op, value) if 200 <= answer.status < 300 else []
    if aliases and job.status != jobs.ALIAS:  # the job's outputs named otherwise (a Gemini file): the owner's too
        with gw.uow() as u:
            jobs.note_aliases(u, job, aliases)
            u.commit()
    if job.status == jobs.PENDING and verdict is not Outcome.RUNNING:
        with gw.uow() as u:
            charged = jobs.finish(u, job, verdict, value, answer.headers)
            u.commit()
        if charged is not None:
            reply.headers[CREDITS_USED] = credits(charged, gw.credits_per_usd)
    return reply


def free(x: Exchange, credential: str) -> Answer:
    """A helper call (an upload): authenticated and counted, not charged; its answer passed on as it arrives."""
    with x.gw.uow() as u:
        admit(x.gw, u, x.caller)
        u.commit()
    x.gw.breaker.check(x.partner.name)
    answer = send(x.gw, x.partner, outbound(x.gw, x.partner, x.op, x.call, credential))
    return Answer(answer.status, passed_headers(answer.headers), answer.chunks())


def answered_here(x: Exchange) -> Answer:
    """The spec's `dummy` partner: authenticated, counted, free; answers a plain string."""
    with x.gw.uow() as u:
        admit(x.gw, u, x.caller)
        u.commit()
    return Answer(200, {"Content-Type": "text/plain; charset=utf-8"}, b"ok")
