"""Customers through the billing function: sign-up from a login, reads by self and admin, search, balances, the
trail and `/features`, on both databases."""

from __future__ import annotations

from shared.ledger.accounts import EntryKind
from tests.support import RegistryClient


def grant(api: RegistryClient, customer_id: str, micros: int, key: str) -> None:
    with api.container.billing_uow() as uow:
        uow.ledger.grant(key, EntryKind.PROMOTION, customer_id, micros)
        uow.commit()


def test_first_call_creates_the_customer_and_later_ones_return_it(api: RegistryClient) -> None:
    first = api.post("/customers", as_="alice", json_body={"signup_source": "web"})
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    assert body["id"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["has_fund"] is False
    again = api.post("/customers", as_="alice")
    assert again.status_code == 200
    assert again.get_json()["id"] == "alice"
    events = api.get("/customers/events", as_="alice").get_json()
    assert [e["event_type"] for e in events["events"]] == ["customer_created"]
    assert events["events"][0]["params"] == {"signup_source": "web"}


def test_me_needs_a_customer_and_a_login(api: RegistryClient) -> None:
    assert api.get("/customers/me").status_code == 401
    missing = api.get("/customers/me", as_="bob")
    assert missing.status_code == 404
    assert "POST /customers" in missing.get_json()["message"]
    api.post("/customers", as_="bob")
    assert api.get("/customers/me", as_="bob").get_json()["id"] == "bob"


def test_balance_shows_credit_and_holds(api: RegistryClient) -> None:
    api.post("/customers", as_="carol")
    grant(api, "carol", 5_000_000, "promo:carol")
    with api.container.billing_uow() as uow:
        uow.ledger.place_hold("call-1", "carol", 1_250_000)
        uow.commit()
    balance = api.get("/customers/balance", as_="carol").get_json()
    assert balance == {
        "amount_micros": 3_750_000,
        "effective_balance_micros": 3_750_000,
        "prepaid_balance_micros": 5_000_000,
        "pending_charges_micros": 1_250_000,
        "cloud_credit_balance_micros": 0,
        "currency": "usd",
    }
    assert api.get("/customers/me", as_="carol").get_json()["has_fund"] is True
    assert api.get("/customers/carol/balance", as_="carol").get_json()["amount_micros"] == 3_750_000


def test_other_customers_are_not_found_but_admins_see_them(api: RegistryClient) -> None:
    api.post("/customers", as_="dave")
    api.post("/customers", as_="erin")
    assert api.get("/customers/dave", as_="erin").status_code == 404
    assert api.get("/customers/dave/balance", as_="erin").status_code == 404
    assert api.get("/customers/dave/events", as_="erin").status_code == 404
    seen = api.get("/customers/dave", as_="root", admin=True)
    assert seen.status_code == 200
    assert seen.get_json()["customer"]["id"] == "dave"
    assert seen.get_json()["customer"]["cloud_subscription_is_active"] is False
    assert api.get("/customers/dave/balance", as_="root", admin=True).status_code == 200
    assert api.get("/customers/nobody", as_="root", admin=True).status_code == 404


def test_admin_search_filters_and_pages(api: RegistryClient) -> None:
    for uid in ("sam", "sara", "tom"):
        api.post("/customers", as_=uid)
    assert api.get("/customers", as_="sam").status_code == 403
    found = api.get("/customers", as_="root", admin=True, query={"email": "SA", "limit": 1}).get_json()
    assert (found["total"], found["totalPages"], len(found["customers"])) == (2, 2, 1)
    second = api.get("/customers", as_="root", admin=True, query={"email": "sa", "limit": 1, "page": 2}).get_json()
    assert {found["customers"][0]["id"], second["customers"][0]["id"]} == {"sam", "sara"}
    assert api.get("/customers", as_="root", admin=True, query={"name": "x" * 400}).status_code == 400


def test_admin_balance_takes_the_admin_secret(api: RegistryClient) -> None:
    import hashlib

    api.post("/customers", as_="fay")
    grant(api, "fay", 2_000_000, "promo:fay")
    settings = replace_settings(api, ADMIN_SECRET_DIGEST=hashlib.sha256(b"s3cret").hexdigest())
    api.use(settings=settings)
    assert api.get("/admin/customers/fay/balance").status_code == 401
    assert api.get("/admin/customers/fay/balance", headers={"X-Comfy-Admin-Secret": "wrong"}).status_code == 401
    ok = api.get("/admin/customers/fay/balance", headers={"X-Comfy-Admin-Secret": "s3cret"})
    assert ok.status_code == 200 and ok.get_json()["amount_micros"] == 2_000_000
    assert api.get("/admin/customers/none/balance", headers={"X-Comfy-Admin-Secret": "s3cret"}).status_code == 404


def test_events_filter_and_window(api: RegistryClient) -> None:
    api.post("/customers", as_="gus")
    api.post("/customers/api-keys", as_="gus", json_body={"name": "laptop"})
    kinds = api.get("/customers/events", as_="gus", query={"filter": "api_key_created"}).get_json()
    assert [e["event_type"] for e in kinds["events"]] == ["api_key_created"]
    future = api.get("/customers/events", as_="gus", query={"start_date": "2999-01-01T00:00:00Z"}).get_json()
    assert future["total"] == 0
    bad = api.get("/customers/events", as_="gus", query={"start_date": "yesterday"})
    assert bad.status_code == 400


def test_features(api: RegistryClient) -> None:
    assert api.get("/features").get_json() == {"partner_node_conversion_rate": 211}


def replace_settings(api: RegistryClient, **values: object) -> object:
    from tests.conftest import make_settings

    s = api.container.settings
    return make_settings(s.resolved_database_url, s.data_dir, **values)
