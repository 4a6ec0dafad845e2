"""What the gateway's use cases work with, gathered once per instance from the container."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from functions.proxy.breaker import CircuitBreaker
from functions.proxy.limits.policy import Step
from shared.billing.ports import TaskQueue
from shared.proxy.ports import PartnerTransport
from shared.proxy.uow import ProxyUnitOfWork


@dataclass(frozen=True)
class Limits:
    calls_per_minute: int
    max_in_flight: int
    buffer_bytes: int  # JSON answers read whole (and answers kept for replays) up to this size
    poll_retries: int
    retry_max_wait: float
    replay_ttl: timedelta
    settle_delay_seconds: int
    job_max_age: timedelta
    timeout_cap: float | None = None  # caps the catalog's timeouts
    ladder: tuple[Step, ...] = ()  # partner-node limits by lifetime paid spend (none: no limit)
    expensive_cents: int = 10  # a model whose representative call costs this much is of the capped tier


@dataclass(frozen=True)
class Gateway:
    uow: Callable[[], ProxyUnitOfWork]
    transport: PartnerTransport
    tasks: TaskQueue
    breaker: CircuitBreaker
    limits: Limits
    base_url: str  # ours, for the polling URLs we hand out
    base_urls: Mapping[str, str] = field(default_factory=dict)  # partner -> upstream, replacing the catalog's
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    credits_per_usd: Decimal = Decimal(211)
    sleep: Callable[[float], None] = lambda seconds: None

    def upstream(self, partner: str, catalog_url: str) -> str:
        return self.base_urls.get(partner, catalog_url).rstrip("/")
