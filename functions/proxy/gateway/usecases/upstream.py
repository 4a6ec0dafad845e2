"""The outbound half of a call: the partner's URL and credential in place of the caller's, and the exchange itself.
GET polls that meet a partner 429/5xx or a lost connection are retried with backoff, honouring `Retry-After`;
anything else (a submit above all) is sent once, never blindly again. A partner that answers its refusals with a
2xx (Tencent's `Response.Error`) has them turned into a 400 here, so nothing downstream mistakes one for a result."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from functions.proxy.catalog.credentials import partner_headers, project_of, signing_of
from functions.proxy.catalog.model import Auth, Operation, Partner
from functions.proxy.catalog.prices import dig
from functions.proxy.gateway.usecases.answers import decoded
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
        base = gw.upstream(partner.name, partner.base_url)
        if partner.auth is Auth.GOOGLE and "{project}" in base:  # Vertex AI's URLs name the key's project
            base = base.replace("{project}", project_of(credential))
        url = base + op.upstream_path(call.path)
        if call.query:
            url += "?" + call.query
    headers = {**call.headers, **partner_headers(partner, credential), **op.submit_headers}
    accept = next((v for k, v in call.headers.items() if k.lower() == "accept"), "").strip()
    if op.default_accept and accept in ("", "*/*"):  # what both real clients read, where the caller did not say
        headers = {k: v for k, v in headers.items() if k.lower() != "accept"} | {"Accept": op.default_accept}
    headers["Accept-Encoding"] = "identity"  # bytes pass through as the partner sent them
    timeout = op.timeout_seconds or partner.timeout_seconds
    if gw.limits.timeout_cap is not None:
        timeout = min(timeout, gw.limits.timeout_cap)
    signing = signing_of(partner, credential, gw.base_urls)
    return Outbound(call.method, url, headers, call.body, timeout_seconds=timeout, signing=signing)


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
            return _refusal_checked(gw, partner, answer)
        answer.close()
        gw.sleep(min(retry_after(answer.headers, wait), gw.limits.retry_max_wait))
        wait *= 2
    raise AssertionError("unreachable")  # the loop returns or raises on its last attempt


@dataclass
class ReadAnswer:
    """A partner answer already read whole (to look inside it before it is passed on)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def read(self, limit: int) -> bytes:
        if len(self.body) > limit:
            raise PartnerUnreachable(f"the partner's answer is longer than {limit} bytes")
        return self.body

    def chunks(self) -> Iterator[bytes]:
        yield self.body

    def close(self) -> None:
        return None


def _refusal_checked(gw: Gateway, partner: Partner, answer: PartnerAnswer) -> PartnerAnswer:
    """A 2xx whose body carries the partner's error field is the partner's refusal: answered as a 400 (the caller is
    not charged, no job is recorded, and ComfyUI's Tencent nodes read a 400 `RequestLimitExceeded` as a rate limit)."""
    if not partner.error_field or not 200 <= answer.status < 300:
        return answer
    try:
        raw = answer.read(gw.limits.buffer_bytes)
    except PartnerUnreachable as exc:
        raise _unreachable(partner, exc) from None
    refused = dig(decoded(raw, answer.headers), partner.error_field) not in (None, "", {})
    return ReadAnswer(400 if refused else answer.status, answer.headers, raw)


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
