"""The gateway's dependencies, built once per container from its settings and ports."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

from functions.proxy.breaker import CircuitBreaker
from functions.proxy.gateway.usecases.deps import Gateway, Limits
from functions.proxy.limits.policy import ladder_of
from shared.bootstrap import Container

_built: dict[int, tuple[Container, Gateway]] = {}
# One breaker per instance (per settings object: a container built for another role shares it).
_breakers: dict[int, tuple[object, CircuitBreaker]] = {}
_lock = threading.Lock()


def gateway_of(c: Container) -> Gateway:
    with _lock:
        found = _built.get(id(c))
        if found is None or found[0] is not c:
            found = _built[id(c)] = (c, build(c, _breaker(c)))
        return found[1]


def _breaker(c: Container) -> CircuitBreaker:
    s = c.settings
    kept = _breakers.get(id(s))
    if kept is None or kept[0] is not s:
        kept = _breakers[id(s)] = (s, CircuitBreaker(s.proxy_breaker_failures, s.proxy_breaker_open_seconds))
    return kept[1]


def build(c: Container, breaker: CircuitBreaker) -> Gateway:
    s = c.settings
    limits = Limits(
        calls_per_minute=s.proxy_calls_per_minute,
        max_in_flight=s.proxy_max_in_flight,
        buffer_bytes=s.proxy_buffer_bytes,
        poll_retries=s.proxy_poll_retries,
        retry_max_wait=s.proxy_retry_max_wait_seconds,
        replay_ttl=timedelta(hours=s.proxy_replay_hours),
        settle_delay_seconds=s.proxy_settle_delay_seconds,
        job_max_age=timedelta(minutes=s.proxy_job_max_age_minutes),
        timeout_cap=s.proxy_timeout_cap_seconds,
        ladder=ladder_of(s.proxy_limit_ladder),
        expensive_cents=s.proxy_expensive_cents,
    )
    return Gateway(
        uow=c.proxy_uow,
        transport=c.partners,
        tasks=c.tasks,
        breaker=breaker,
        limits=limits,
        base_url=s.base_url,
        base_urls=dict(s.partner_base_urls),
        credentials=dict(s.partner_credentials),
        credits_per_usd=Decimal(str(s.partner_node_conversion_rate)),
        sleep=time.sleep,
    )
