"""The usage area through the billing function, on both databases: the dashboard link, the spend series from the
ledger, TrackCustomerUsage behind the admin secret (a hold and its capture: never an overdraft, once per
transaction id) and the Metronome archive. Every answer is checked against our OpenAPI document by the client."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from shared.db.billing_models import CreditHold, CustomerEvent, LedgerEntry
from tests.billing.usage_support import FakeMetronome, charge, funded, meter_for, metronome_id, serve_metronome
from tests.conftest import make_settings
from tests.support import RegistryClient

USD = 1_000_000
SECRET = "admin-secret-for-tests"
SERIES = "/customers/usage/timeseries"


@pytest.fixture
def metronome() -> Iterator[FakeMetronome]:
    with serve_metronome() as fake:
        yield fake


@pytest.fixture
def admin_api(api: RegistryClient) -> RegistryClient:
    settings = api.container.settings
    digest = hashlib.sha256(SECRET.encode()).hexdigest()
    api.use(settings=make_settings(settings.resolved_database_url, settings.data_dir, ADMIN_SECRET_DIGEST=digest))
    return api


def at(api: RegistryClient, entry_id: str, when: datetime) -> None:
    """Move a charge to another time (the ledger stamps entries with now)."""
    with api.container.sessions() as s:
        s.execute(update(LedgerEntry).where(LedgerEntry.id == entry_id).values(created_at=when))
        s.commit()


def spend(api: RegistryClient, customer: str, micros: int, when: datetime, **details: Any) -> None:
    at(api, charge(api.container, customer, micros, f"call-{uuid.uuid4()}", **details), when)


def series(api: RegistryClient, uid: str, **query: Any) -> Any:
    r = api.get(SERIES, as_=uid, query=query)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


# -- POST /customers/usage ------------------------------------------------------------------------------------------
def test_dashboard_link_from_the_ledger_or_metronome(api: RegistryClient, metronome: FakeMetronome) -> None:
    assert api.post("/customers/usage").status_code == 401
    assert api.post("/customers/usage", as_="alice").status_code == 404
    funded(api.container, "alice", USD)
    r = api.post("/customers/usage", as_="alice")
    assert r.get_json() == {"url": "http://127.0.0.1:8080" + SERIES}
    api.use(usage_meter=meter_for(metronome))
    body = {"dashboard_type": "invoices", "color_overrides": [{"name": "Primary_medium", "value": "#AABBCC"}]}
    url = api.post("/customers/usage", as_="alice", json_body=body).get_json()["url"]
    assert url == f"https://dash.example/{metronome_id('alice')}/invoices?Primary_medium=#AABBCC"
    metronome.unknown.add("alice")  # Metronome has no record of them: the ledger's series
    assert api.post("/customers/usage", as_="alice").get_json()["url"].endswith(SERIES)
    bad = {"color_overrides": [{"name": "Primary_medium", "value": "red"}]}
    assert api.post("/customers/usage", as_="alice", json_body=bad).status_code == 400
    assert api.post("/customers/usage", as_="alice", json_body={"dashboard_type": "x"}).status_code == 400


# -- GET /customers/usage/timeseries --------------------------------------------------------------------------------
def month(m: int, d: int, h: int = 12) -> datetime:
    return datetime(2026, m, d, h, tzinfo=UTC)


@pytest.fixture
def spender(api: RegistryClient) -> RegistryClient:
    funded(api.container, "alice", 100 * USD)
    funded(api.container, "bob", 100 * USD)
    spend(api, "alice", 1_000_000, month(1, 10), model="flux-pro", product="image")
    spend(api, "alice", 500_000, month(1, 20), model="flux-pro", product="image")
    spend(api, "alice", 2_000_000, month(2, 3), model="kling", endpoint="/proxy/kling", product="video")
    spend(api, "alice", 300_000, month(2, 5), product="video")
    spend(api, "alice", 100_000, month(2, 6))
    spend(api, "alice", 9_000_000, month(3, 2), model="kling")  # after the range
    spend(api, "bob", 4_000_000, month(2, 3), model="kling")  # someone else
    return api


def test_monthly_series_by_model(spender: RegistryClient) -> None:
    body = series(spender, "alice", starting_on="2026-01-01T00:00:00Z", ending_before="2026-03-01T00:00:00Z")
    assert (body["group_by"], body["granularity"]) == ("model", "month")
    assert body["starting_on"].startswith("2026-01-01T00:00:00") and body["ending_before"].startswith("2026-03-01")
    assert body["groups"] == ["kling", "flux-pro", "video", "other"]
    assert [
        (b["period_start"][:10], b["period_end"][:10], b["group_key"], b["cost_micros"]) for b in body["buckets"]
    ] == [
        ("2026-01-01", "2026-02-01", "flux-pro", 1_500_000),
        ("2026-02-01", "2026-03-01", "kling", 2_000_000),
        ("2026-02-01", "2026-03-01", "video", 300_000),
        ("2026-02-01", "2026-03-01", "other", 100_000),
    ]
    assert [(r["group_key"], r["cost_micros"]) for r in body["breakdown"]] == [
        ("kling", 2_000_000),
        ("flux-pro", 1_500_000),
        ("video", 300_000),
        ("other", 100_000),
    ]
    assert sum(r["share"] for r in body["breakdown"]) == pytest.approx(1.0)
    assert body["summary"]["spend_micros"] == 3_900_000
    assert body["summary"]["balance"] == {
        "amount_micros": 100 * USD - 12_900_000,
        "prepaid_balance_micros": 100 * USD - 12_900_000,
        "cloud_credit_balance_micros": 0,
        "currency": "usd",
    }


def test_daily_and_hourly_series_by_product_and_endpoint(spender: RegistryClient) -> None:
    days = series(
        spender,
        "alice",
        group_by="product",
        granularity="day",
        starting_on="2026-02-01T00:00:00Z",
        ending_before="2026-02-07T00:00:00Z",
    )
    assert [
        (b["period_start"][:10], b["period_end"][:10], b["group_key"], b["cost_micros"]) for b in days["buckets"]
    ] == [
        ("2026-02-03", "2026-02-04", "video", 2_000_000),
        ("2026-02-05", "2026-02-06", "video", 300_000),
        ("2026-02-06", "2026-02-07", "other", 100_000),
    ]
    hours = series(
        spender,
        "alice",
        group_by="endpoint",
        granularity="hour",
        starting_on="2026-02-03T00:00:00Z",
        ending_before="2026-02-04T00:00:00Z",
    )
    assert [(b["period_start"][:16], b["period_end"][:16], b["group_key"]) for b in hours["buckets"]] == [
        ("2026-02-03T12:00", "2026-02-03T13:00", "/proxy/kling")
    ]


def test_series_defaults_and_bounds(spender: RegistryClient) -> None:
    recent = series(spender, "alice")  # six months back from now: the 2026 charges are older or newer than that
    assert recent["granularity"] == "month" and recent["group_by"] == "model"
    for query, code in [
        ({"granularity": "week"}, "invalid_granularity"),
        ({"group_by": "user"}, "invalid_group_by"),
        ({"months": "30"}, "invalid_input"),
        ({"starting_on": "yesterday"}, "invalid_input"),
        ({"starting_on": "2026-02-01T00:00:00Z", "ending_before": "2026-01-01T00:00:00Z"}, "invalid_range"),
        (
            {"granularity": "hour", "starting_on": "2026-01-01T00:00:00Z", "ending_before": "2026-03-01T00:00:00Z"},
            "range_too_long",
        ),
    ]:
        r = spender.get(SERIES, as_="alice", query=query)
        assert (r.status_code, r.get_json()["error"]) == (400, code), query
    assert spender.get(SERIES).status_code == 401
    assert spender.get(SERIES, as_="nobody").status_code == 404


# -- POST /customers/{customer_id}/usage ----------------------------------------------------------------------------
def track(api: RegistryClient, customer: str, body: Any, secret: str | None = SECRET) -> Any:
    headers = {"X-Comfy-Admin-Secret": secret} if secret else {}
    return api.post(f"/customers/{customer}/usage", json_body=body, headers=headers)


def available(api: RegistryClient, customer: str) -> int:
    with api.container.billing_uow() as uow:
        return uow.ledger.balance(customer).available


def test_tracked_usage_is_charged_once_and_never_overdraws(admin_api: RegistryClient) -> None:
    api = admin_api
    funded(api.container, "carol", USD)
    tx = str(uuid.uuid4())
    body = {"transaction_id": tx, "params": {"amount_micros": "400000", "model": "gpt-image"}}
    assert track(api, "carol", body, secret=None).status_code == 401
    assert track(api, "carol", body, secret="wrong").status_code == 401
    first = track(api, "carol", body)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["message"].startswith("Usage recorded: 400000 micro-USD")
    again = track(api, "carol", body)
    assert again.get_json()["message"].startswith("Usage already recorded")
    assert available(api, "carol") == 600_000
    other_amount = {"transaction_id": tx, "params": {"amount_micros": 500_000}}
    assert track(api, "carol", other_amount).status_code == 409
    too_much = {"transaction_id": str(uuid.uuid4()), "params": {"amount_micros": 700_000}}
    r = track(api, "carol", too_much)
    assert (r.status_code, r.get_json()["error"]) == (402, "insufficient_credit")
    assert available(api, "carol") == 600_000
    with api.container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CreditHold)) == 1
        trail = s.scalars(select(CustomerEvent.type).where(CustomerEvent.customer_id == "carol")).all()
    assert trail.count("usage_tracked") == 1
    assert series(api, "carol", months=1)["groups"] == ["gpt-image"]


def test_tracked_usage_needs_an_amount_and_a_customer(admin_api: RegistryClient) -> None:
    funded(admin_api.container, "dave", USD)
    tx = str(uuid.uuid4())
    for params in ({}, {"amount_micros": 0}, {"amount_micros": -5}, {"amount_micros": 1.5}, {"amount_micros": "1e3"}):
        r = track(admin_api, "dave", {"transaction_id": tx, "params": params})
        assert (r.status_code, r.get_json()["error"]) == (400, "invalid_amount"), params
    assert track(admin_api, "dave", {"transaction_id": "not-a-uuid", "params": {"amount_micros": 1}}).status_code == 400
    assert track(admin_api, "dave", {"params": {"amount_micros": 1}}).status_code == 400
    huge = {"transaction_id": tx, "params": {f"k{i}": i for i in range(100)}}
    assert track(admin_api, "dave", huge).status_code == 400
    assert track(admin_api, "nobody", {"transaction_id": tx, "params": {"amount_micros": 1}}).status_code == 404
    assert available(admin_api, "dave") == USD


# -- POST /admin/customers/{customer_id}/archive-metronome-data -----------------------------------------------------
def test_archive_metronome_data(admin_api: RegistryClient, metronome: FakeMetronome) -> None:
    api = admin_api
    path = "/admin/customers/erin/archive-metronome-data"
    secret = {"X-Comfy-Admin-Secret": SECRET}
    funded(api.container, "erin", USD)
    assert api.post(path).status_code == 401
    r = api.post(path, headers=secret)
    assert (r.status_code, r.get_json()["error"]) == (503, "metronome_not_configured")
    api.use(usage_meter=meter_for(metronome))
    r = api.post(path, headers=secret)
    assert r.status_code == 200 and "archived" in r.get_json()["message"]
    assert metronome.archived == [metronome_id("erin")]
    metronome.unknown.add("erin")
    assert "nothing was archived" in api.post(path, headers=secret).get_json()["message"]
    assert api.post("/admin/customers/nobody/archive-metronome-data", headers=secret).status_code == 404
