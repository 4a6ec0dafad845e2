"""Parts of the gateway on their own: the circuit breaker on a fake clock, and which polling URLs are trusted with
our key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.proxy.breaker import CircuitBreaker, PartnerUnavailable
from functions.proxy.catalog.partners import PARTNERS
from functions.proxy.gateway.usecases.deps import Gateway, Limits
from functions.proxy.gateway.usecases.jobs import trusted_polling_url


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_pauses_and_reopens_on_a_failed_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(2, 30, clock)
    breaker.record("p", ok=False)
    breaker.check("p")  # one failure: still closed
    breaker.record("p", ok=False)
    with pytest.raises(PartnerUnavailable) as refused:
        breaker.check("p")
    assert refused.value.retry_after == 30 and refused.value.error_type == "service_unavailable"
    breaker.check("other")  # per partner
    clock.now = 31
    breaker.check("p")  # half open: a call goes through
    breaker.record("p", ok=False)  # and its failure opens the circuit again at once
    with pytest.raises(PartnerUnavailable):
        breaker.check("p")
    clock.now = 62
    breaker.record("p", ok=True)  # a success closes it
    breaker.record("p", ok=False)
    breaker.check("p")


def _gateway(base_urls: dict[str, str]) -> Gateway:
    limits = Limits(1, 1, 1, 0, 0, timedelta(hours=1), 1, timedelta(hours=1))
    return Gateway(None, None, None, CircuitBreaker(1, 1), limits, "http://us", base_urls)  # type: ignore[arg-type]


def test_only_the_partners_own_polling_urls_are_kept() -> None:
    bfl = PARTNERS["bfl"]
    cloud = _gateway({})
    assert trusted_polling_url(cloud, bfl, "https://api.eu.bfl.ai/v1/get_result?id=1")
    assert trusted_polling_url(cloud, bfl, "https://api.bfl.ai/v1/get_result?id=1")
    assert trusted_polling_url(cloud, bfl, "http://api.bfl.ai/v1/get_result?id=1") is None  # never in clear
    assert trusted_polling_url(cloud, bfl, "https://evil.example/v1/get_result") is None
    assert trusted_polling_url(cloud, bfl, "https://bfl.ai.evil.example/x") is None
    local = _gateway({"bfl": "http://127.0.0.1:9000/bfl"})
    assert trusted_polling_url(local, bfl, "http://127.0.0.1:9000/bfl/v1/get_result?id=1")
    assert trusted_polling_url(local, bfl, "http://127.0.0.1:9001/v1/get_result?id=1") is None
