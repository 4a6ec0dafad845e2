"""The database goes away at every statement of a checkout-completed webhook in turn: the delivery answers 503 (Stripe
retries) and nothing of it remains, not even the note that the event was applied; Stripe's redelivery then credits the
purchase whole, exactly once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.billing.stripe_support import (
    StripeServers,
    balance,
    deliver,
    event,
    ledger_ok,
    new_customer,
    stripe_api,
    stripe_servers,
)
from tests.faults.support import Outage, changes, snapshot
from tests.support import RegistryClient

__all__ = ["stripe_api", "stripe_servers"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MAX_STATEMENTS = 60
PRICE = 7_000_000


def paid_session(api: RegistryClient, servers: StripeServers) -> dict[str, Any]:
    r = api.post("/customers/credit", as_="vic", json_body={"amount_micros": PRICE, "currency": "usd"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return servers.front.complete(r.get_json()["checkout_url"].rsplit("/", 1)[-1])


def test_checkout_webhook_loses_the_database_at_every_statement(
    stripe_api: RegistryClient, stripe_servers: StripeServers, database_url: str
) -> None:
    new_customer(stripe_api, "vic")
    refused = 0
    for n in range(1, MAX_STATEMENTS):
        payload = event("checkout.session.completed", paid_session(stripe_api, stripe_servers))
        credit = balance(stripe_api, "vic").available
        before = snapshot(stripe_api.container)
        with Outage(stripe_api.container.engine, database_url, n) as outage:
            r = deliver(stripe_api, payload)
        if not outage.fired:
            assert r.status_code == 200, r.get_data(as_text=True)
            assert balance(stripe_api, "vic").available == credit + PRICE
            break
        if r.status_code == 503:
            assert r.headers["Retry-After"] == "5" and r.get_json()["error"] == "unavailable"
            assert not changes(before, snapshot(stripe_api.container)), f"statement {n} failed, yet something stayed"
            refused += 1
        else:  # the failure fell after the commit: the whole credit is there
            assert r.status_code == 200, f"statement {n}: {r.status_code} {r.get_data(as_text=True)}"
            assert balance(stripe_api, "vic").available == credit + PRICE
        redelivered = deliver(stripe_api, payload)
        assert redelivered.status_code == 200, redelivered.get_data(as_text=True)
        assert balance(stripe_api, "vic").available == credit + PRICE, f"statement {n}: not credited exactly once"
        assert deliver(stripe_api, payload).get_json()["replayed"] is True
        assert balance(stripe_api, "vic").available == credit + PRICE
    else:
        raise AssertionError(f"the webhook still ran statements after {MAX_STATEMENTS}")
    assert refused >= 5  # every statement up to the commit
    assert ledger_ok(stripe_api)
