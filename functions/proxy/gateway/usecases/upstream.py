"""The outbound half of a call: the partner's URL and credential in place of the caller's, and the exchange itself.
GET polls that meet a partner 429/5xx or a lost connection are retried with backoff, honouring `Retry-After`;
anything else (a submit above all) is sent once, never blindly again."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from functions.proxy.catalog.credentials import partner_headers
from functions.proxy.catalog.model import Operation, Partner
from functions.proxy.gateway.usecases.call import Call
from functions.proxy.gateway.usecases.deps import Gateway
from shared.errors import BadGateway, GatewayTimeout
from shared.proxy.ports import Outbound, PartnerAnswer, PartnerUnreachable

log = logging.getLogger(__name__)

RETRIED = frozenset({408, 429, 500, 502, 503, 504})
FIRST_BACKOFF = 0.5


def outbound(gw: Gateway, partner: Partner, op: Operation, call: Call, credential: str, url: str = "") -> Outbound:
    """The request to send: the caller's body, query and content headers, our credential (never the caller's)."""
    if not url:
        url = gw.upstream(partner.name, partner.base_url) + op.upstream_path(call.path)
        if call.query:
            url += "?" + call.query
    headers = {**call.headers, **partner_headers(partner, credential), **op.submit_headers}
    headers["Accept-Encoding"] = "identity"  # bytes pass through as the partner sent them
    timeout = op.timeout_seconds or partner.timeout_seconds
    if gw.limits.timeout_cap is not None:
        timeout = min(timeout, gw.limits.timeout_cap)
    return Outbound(call.method, url, headers, call.body, timeout_seconds=timeout)


def send(gw: Gateway, partner: Partner, request: Outbound) -> PartnerAnswer:
    """One exchange (with retries for a GET); the breaker hears of every outcome. PartnerUnreachable becomes 502 or
    504 for the caller."""
    attempts = 1 + (gw.limits.poll_retries if request.method == "GET" else 0)
    wait = FIRST_BACKOFF
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        try:
            answer = gw.transport.send(request)
        except PartnerUnreachable as exc:
            gw.breaker.record(partner.name, ok=False)
            if last:
                raise _unreachable(partner, exc) from None
            gw.sleep(wait)
            wait *= 2
            continue
        gw.breaker.record(partner.name, ok=answer.status < 500)
        if last or answer.status not in RETRIED:
            return answer
        answer.close()
        gw.sleep(min(retry_after(answer.headers, wait), gw.limits.retry_max_wait))
        wait *= 2
    raise AssertionError("unreachable")  # the loop returns or raises on its last attempt


def retry_after(headers: Mapping[str, str], default: float) -> float:
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default  # an HTTP-date: back off as usual


def _unreachable(partner: Partner, exc: PartnerUnreachable) -> Exception:
    log.warning("partner %s: %s", partner.name, exc)
    if exc.timed_out:
        return GatewayTimeout(f"The partner {partner.name!r} did not answer in time. You were not charged.")
    return BadGateway(f"The partner {partner.name!r} could not be reached. You were not charged.")
