"""proxy-job-settle: a job whose caller stopped polling is followed here to its end. Each run polls the partner once
with our credential; a terminal state settles the job (exactly once, as a caller's poll would), anything else
schedules the next look, backing off up to an hour; past PROXY_JOB_MAX_AGE_MINUTES the hold is released. All state
is in the database, so a lost task or a restart loses nothing: `follow_due` picks up every job whose look is due."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import quote

from functions.proxy.catalog import operation
from functions.proxy.catalog.credentials import credential_of
from functions.proxy.catalog.model import Operation
from functions.proxy.catalog.partners import PARTNERS
from functions.proxy.catalog.statuses import Outcome, outcome
from functions.proxy.gateway.usecases import jobs
from functions.proxy.gateway.usecases.answers import decoded
from functions.proxy.gateway.usecases.call import Call
from functions.proxy.gateway.usecases.deps import Gateway
from functions.proxy.gateway.usecases.upstream import outbound, send
from shared.db.proxy_models import ProxyJob
from shared.db.types import utcnow
from shared.errors import AppError
from shared.proxy.ports import PartnerUnreachable

log = logging.getLogger(__name__)
DUE_BATCH = 100
SWEEP_BUDGET_SECONDS = 300.0  # proxy-jobs-sweep runs for 540 s at most


def follow(gw: Gateway, job_id: str) -> str:
    """One look at one job; what became of it (`succeeded`, `failed`, `expired`, `pending`, or `unknown`)."""
    with gw.uow() as u:
        job = u.jobs.get(job_id)
    if job is None:
        return "unknown"
    if job.status != jobs.PENDING:
        return str(job.status)
    if utcnow() >= job.expires_at:
        with gw.uow() as u:
            jobs.expire(u, job)
            u.commit()
        return jobs.EXPIRED
    verdict, value, headers = _look(gw, job)
    if verdict is Outcome.RUNNING:
        _again(gw, job)
        return jobs.PENDING
    with gw.uow() as u:
        jobs.finish(u, job, verdict, value, headers)
        u.commit()
    return jobs.SUCCEEDED if verdict is Outcome.DONE else jobs.FAILED


def _look(gw: Gateway, job: ProxyJob) -> tuple[Outcome, object, dict[str, str]]:
    partner = PARTNERS[job.partner]
    submit = operation(partner, job.operation)
    if submit is None or not submit.poll:
        return Outcome.RUNNING, None, {}
    call = _poll_call(job, submit)
    found = partner.match(call.method, call.path)
    if found is None:
        return Outcome.RUNNING, None, {}
    try:
        credential = credential_of(partner, gw.credentials)
        answer = send(gw, partner, outbound(gw, partner, found[0], call, credential, job.poll_url or ""))
        raw = answer.read(gw.limits.buffer_bytes)
    except (AppError, PartnerUnreachable) as exc:
        log.warning("job %s: the partner could not be polled: %s", job.id, exc)
        return Outcome.RUNNING, None, {}
    value = decoded(raw, answer.headers)
    return outcome(found[0], answer.status, value), value, dict(answer.headers)


def _poll_call(job: ProxyJob, submit: Operation) -> Call:
    """The poll the submit names: a GET of a path (or query) holding the id, or a POST of it in a JSON body."""
    template = str((job.details or {}).get(jobs.POLL_PATH) or submit.poll)  # resolved by the submit path's values
    if submit.poll_method == "POST":
        body = json.dumps({submit.poll_field: job.partner_job_id}).encode()
        headers = {"Content-Type": "application/json"}
        return Call(job.partner, "POST", template, body=body, headers=headers, request_id=job.request_id)
    target = template.replace("{id}", quote(job.partner_job_id, safe=""))
    path, _, query = target.partition("?")
    return Call(partner=job.partner, method="GET", path=path, query=query, request_id=job.request_id)


def _again(gw: Gateway, job: ProxyJob) -> None:
    when = jobs.next_check(gw, job, utcnow())
    with gw.uow() as u:
        u.jobs.reschedule(job.id, when)
        u.commit()
    jobs.follow_later(gw, job.id, job.checks + 1, (when - utcnow()).total_seconds())


def follow_due(gw: Gateway, limit: int = DUE_BATCH, budget_seconds: float = SWEEP_BUDGET_SECONDS) -> dict[str, int]:
    """Every job whose next look is due (the local stack's timer; the cloud's safety net for a lost task), until
    the run's time budget is spent; a job looked at is rescheduled, so the next run starts with the others."""
    with gw.uow() as u:
        due = u.jobs.due(utcnow(), limit)
    report: dict[str, int] = {}
    stop = time.monotonic() + budget_seconds
    for job_id in due:
        if time.monotonic() > stop:
            report["left_for_next_run"] = report.get("left_for_next_run", 0) + 1
            continue
        try:
            result = follow(gw, job_id)
        except Exception:
            log.exception("job %s could not be followed", job_id)
            result = "error"
        report[result] = report.get(result, 0) + 1
    return report
