"""Partner jobs: recorded for their submitter at submit, found again only by them, settled exactly once by the first
poll (the caller's, or proxy-job-settle's) that sees a terminal state: captured on success, released on failure."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from functions.proxy.catalog import operation
from functions.proxy.catalog.model import Operation, Partner
from functions.proxy.catalog.partners import PARTNERS
from functions.proxy.catalog.prices import dig
from functions.proxy.catalog.statuses import Outcome, every
from functions.proxy.gateway.usecases.call import Call
from functions.proxy.gateway.usecases.deps import Gateway
from functions.proxy.gateway.usecases.exchange import Exchange
from functions.proxy.gateway.usecases.metering import settle
from shared.billing.callers import Caller
from shared.db.proxy_models import ProxyJob
from shared.db.types import utcnow
from shared.errors import NotFound
from shared.proxy.uow import ProxyUnitOfWork

log = logging.getLogger(__name__)

SETTLE = "proxy-job-settle"
PENDING, SUCCEEDED, FAILED, EXPIRED = "pending", "succeeded", "failed", "expired"
# A row naming a job by another id of the partner's (Rodin's task uuid, a Gemini file): it makes reads by that id
# owner-only, and is never settled or followed (only `pending` rows are).
ALIAS = "alias"
POLL_PATH = "poll_path"  # in a job's details: its poll path, where the template uses the submit path's values
MAX_BACKOFF = timedelta(hours=1)


def job_not_found() -> NotFound:
    return NotFound("No such job among yours.", code="job_not_found")


def polled_id(op: Operation, call: Call, path_values: Mapping[str, str]) -> str:
    """The partner job id a poll names: in its path, its query or its JSON body."""
    where, _, name = op.job_id.partition(":")
    source: Mapping[str, Any] = {"path": path_values, "query": call.args, "body": call.fields}.get(where, {})
    value = source.get(name)
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value) or "\x00" in str(value):
        raise job_not_found()
    found = str(value)
    return found.removesuffix(op.id_suffix) if op.id_suffix else found


def poll_of(call: Call, op: Operation, job: ProxyJob) -> Call:
    """The poll as the partner gets it: naming the job that was checked to be the caller's and nothing else (the
    caller's other query parameters or body fields could name someone else's job)."""
    where, _, name = op.job_id.partition(":")
    if where == "query":
        return replace(call, query=urlencode({name: job.partner_job_id}))
    if where == "body":
        body = json.dumps({name: job.partner_job_id}).encode()
        return replace(call, body=body, headers={**call.headers, "Content-Type": "application/json"})
    return call  # the id is the path's own segment, matched as the job's


def owned(u: ProxyUnitOfWork, caller: Caller, partner: str, partner_job_id: str) -> ProxyJob:
    """The caller's job, or 404 job_not_found (another customer's job is indistinguishable from none)."""
    job = u.jobs.find(partner, partner_job_id)
    if job is None or job.customer_id != caller.customer_id:
        raise job_not_found()
    return job


def submitted_id(op: Operation, answer: Any) -> str | None:
    value = dig(answer, op.job_id)
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value):
        return None
    return str(value)


def aliases_in(op: Operation, answer: Any) -> list[str]:
    """The other ids of the job an answer names: at the `aliases` fields, and the `alias_pattern`'s matches."""
    found = [str(v) for path in op.aliases for v in every(answer, path) if isinstance(v, str | int) and str(v)]
    if op.alias_pattern and answer is not None:
        found += re.findall(op.alias_pattern, json.dumps(answer))
    return [a for a in dict.fromkeys(found) if len(a) <= 255 and "\x00" not in a]


def note_aliases(u: ProxyUnitOfWork, job: ProxyJob, names: list[str]) -> None:
    """Record `names` as ids of `job` (its owner's only), skipping those already known."""
    for name in names:
        if name == job.partner_job_id or u.jobs.find(job.partner, name) is not None:
            continue
        u.jobs.add(
            ProxyJob(
                customer_id=job.customer_id,
                partner=job.partner,
                partner_job_id=name,
                operation=job.operation,
                hold_id=job.hold_id,
                price=0,
                request_id=job.request_id,
                status=ALIAS,
                checks=0,
                details={},
                created_at=job.created_at,
                expires_at=job.expires_at,
                next_check_at=job.next_check_at,
            )
        )


def resolved_poll(op: Operation, path: str) -> str:
    """The submit's poll template with the submit path's own values in place (`/{model_id}/poll`); `{id}` stays."""
    found = op.pattern.fullmatch(path)
    resolved = op.poll
    for name, value in (found.groupdict() if found else {}).items():
        if name != "id":
            resolved = resolved.replace("{" + name + "}", value)
    return resolved


def open_job(
    x: Exchange,
    u: ProxyUnitOfWork,
    job_id: str,
    hold_id: str,
    price: int,
    poll_url: str | None,
    aliases: Sequence[str] = (),
) -> ProxyJob:
    """The caller's new job, pending with its hold, first looked at by proxy-job-settle after the settle delay;
    `aliases` are the other ids the partner's answer gave it (found again by those too)."""
    now = utcnow()
    details = charge_details(x.partner, x.op, x.call.fields, x.call.request_id)
    poll = resolved_poll(x.op, x.call.path)
    if poll != x.op.poll:
        details[POLL_PATH] = poll
    job = ProxyJob(
        customer_id=x.caller.customer_id,
        partner=x.partner.name,
        partner_job_id=job_id,
        operation=x.op.name,
        hold_id=hold_id,
        price=price,
        poll_url=poll_url,
        request_id=x.call.request_id,
        status=PENDING,
        checks=0,
        details=details,
        created_at=now,
        expires_at=now + x.gw.limits.job_max_age,
        next_check_at=now + timedelta(seconds=x.gw.limits.settle_delay_seconds),
    )
    u.jobs.add(job)
    note_aliases(u, job, [a for a in aliases if a != job_id])
    return job


def follow_later(gw: Gateway, job_id: str, attempt: int, delay: float) -> None:
    """Hand the job to proxy-job-settle (after commit); a lost task leaves the job due in the database, where the
    settle sweep finds it."""
    try:
        gw.tasks.enqueue(SETTLE, {"job_id": job_id}, key=f"settle-{job_id}-{attempt}", delay_seconds=delay)
    except Exception:
        log.exception("could not queue the settlement of job %s; the sweep will", job_id)


def finish(u: ProxyUnitOfWork, job: ProxyJob, outcome: Outcome, answer: Any, headers: Mapping[str, str]) -> int | None:
    """Settle the job by this terminal answer, in the caller's transaction; None when another settlement won."""
    status = SUCCEEDED if outcome is Outcome.DONE else FAILED
    if not u.jobs.finish(job.id, status, utcnow()):
        return None
    cost = job_cost(job, answer, headers) if outcome is Outcome.DONE else None
    return settle(u, job.hold_id, cost, ledger_details(job))


def expire(u: ProxyUnitOfWork, job: ProxyJob) -> bool:
    if not u.jobs.finish(job.id, EXPIRED, utcnow()):
        return False
    settle(u, job.hold_id, None, ledger_details(job))
    return True


def ledger_details(job: ProxyJob) -> dict[str, Any]:
    """What the charge's ledger entry says: the job's details without the gateway's own bookkeeping."""
    return {k: v for k, v in (job.details or {}).items() if k != POLL_PATH}


def job_cost(job: ProxyJob, answer: Any, headers: Mapping[str, str]) -> int:
    """The partner's reported cost where its price rule reads one from this answer, else the price set at submit."""
    submit = operation(PARTNERS[job.partner], job.operation)
    actual = submit.price.actual(answer, headers, job.price) if submit and submit.price else None
    return job.price if actual is None else actual


def charge_details(partner: Partner, op: Operation, fields: Mapping[str, Any], request_id: str) -> dict[str, Any]:
    """What a charge's ledger entry says of the call (Metronome receives model, endpoint and product)."""
    model = fields.get("model") or fields.get("model_name") or ""
    return {
        "product": partner.name,
        "endpoint": op.path or "/",
        "model": str(model)[:128],
        "request_id": request_id,
        "source": "proxy",
    }


def trusted_polling_url(gw: Gateway, partner: Partner, url: str) -> str | None:
    """The partner's polling URL if it is the partner's: the configured upstream's own host, or an https host of the
    catalog upstream's domain (BFL's regional `api.eu.bfl.ai`). Anything else is not kept: our key is sent there."""
    given, upstream = urlsplit(url), urlsplit(gw.upstream(partner.name, partner.base_url))
    if given.scheme == upstream.scheme and given.netloc == upstream.netloc:
        return url
    domain = ".".join((urlsplit(partner.base_url).hostname or "").split(".")[-2:])
    host = given.hostname or ""
    if given.scheme == "https" and domain and (host == domain or host.endswith("." + domain)):
        return url
    log.warning("partner %s answered a polling URL on %r; polling its own instead", partner.name, host)
    return None


def our_polling_url(gw: Gateway, partner: Partner, job_id: str) -> str:
    """Where the caller polls a job whose partner answered an absolute polling URL (Black Forest Labs)."""
    return f"{gw.base_url}/proxy/{partner.name}/v1/get_result?id={quote(job_id, safe='')}"


def next_check(gw: Gateway, job: ProxyJob, now: datetime) -> datetime:
    delay = timedelta(seconds=gw.limits.settle_delay_seconds * 2 ** min(job.checks, 10))
    return now + min(delay, MAX_BACKOFF)
