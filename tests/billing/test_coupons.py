"""Coupons (localstripe's own objects) and promotion codes (the loopback front: localstripe has none) through the admin
endpoints; everyone else is refused."""

from __future__ import annotations

import secrets
import time

import pytest

from tests.billing.stripe_support import StripeServers, stripe_api, stripe_servers
from tests.support import RegistryClient

__all__ = ["stripe_api", "stripe_servers"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # localstripe's aiohttp handlers

COUPONS = "/customers/admin/coupons"
PROMOS = "/customers/admin/promo-codes"


def test_coupons_are_stripes_own(stripe_api: RegistryClient, stripe_servers: StripeServers) -> None:
    coupon_id = "spring-" + secrets.token_hex(4)
    body = {
        "id": coupon_id,
        "percent_off": 25,
        "duration": "repeating",
        "duration_in_months": 3,
        "metadata": {"k": "v"},
    }
    r = stripe_api.post(COUPONS, as_="root", admin=True, json_body=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    made = r.get_json()
    assert made["id"] == coupon_id and made["percent_off"] == 25 and made["valid"] is True
    assert made["duration_in_months"] == 3 and made["metadata"] == {"k": "v"}
    # It is localstripe's coupon, not a copy of ours.
    assert stripe_servers.direct.v1.coupons.retrieve(coupon_id).percent_off == 25
    got = stripe_api.get(f"{COUPONS}/{coupon_id}", as_="root", admin=True)
    assert got.status_code == 200 and got.get_json()["id"] == coupon_id
    listed = stripe_api.get(COUPONS, as_="root", admin=True, query={"limit": 100}).get_json()
    assert coupon_id in [c["id"] for c in listed["coupons"]] and isinstance(listed["has_more"], bool)
    changed = stripe_api.call(
        "PATCH", f"{COUPONS}/{coupon_id}", as_="root", admin=True, json_body={"metadata": {"k": "w"}}
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["metadata"] == {"k": "w"}
    gone = stripe_api.delete(f"{COUPONS}/{coupon_id}", as_="root", admin=True)
    assert gone.status_code == 200 and gone.get_json()["coupon_id"] == coupon_id
    missing = stripe_api.get(f"{COUPONS}/{coupon_id}", as_="root", admin=True)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"percent_off": 10, "amount_off": 100, "currency": "usd"},  # both
        {"duration": "once"},  # neither
        {"amount_off": 500},  # no currency
        {"percent_off": 10, "duration": "repeating"},  # no months
        {"percent_off": 101},
        {"amount_off": 5.5, "currency": "usd"},
    ],
)
def test_a_bad_coupon_is_400(stripe_api: RegistryClient, body: dict[str, object]) -> None:
    r = stripe_api.post(COUPONS, as_="root", admin=True, json_body=body)
    assert r.status_code == 400, r.get_data(as_text=True)


def test_promotion_codes_for_a_coupon(stripe_api: RegistryClient, stripe_servers: StripeServers) -> None:
    coupon_id = "promo-base-" + secrets.token_hex(4)
    stripe_servers.direct.v1.coupons.create(
        params={"id": coupon_id, "amount_off": 500, "currency": "usd", "duration": "once"}
    )
    r = stripe_api.post(
        PROMOS, as_="root", admin=True, json_body={"coupon_id": coupon_id, "expire_days": 7, "max_redemptions": 3}
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    code = r.get_json()
    assert code["coupon_id"] == coupon_id and code["active"] is True and code["code"]
    assert code["max_redemptions"] == 3
    assert abs(code["expires_at"] - (time.time() + 7 * 86400)) < 60
    sent = [s for s in stripe_servers.front.seen if s.path == "/v1/promotion_codes" and s.method == "POST"][-1]
    assert sent.form["promotion"] == {"type": "coupon", "coupon": coupon_id}
    path = f"{PROMOS}/{code['id']}"
    assert stripe_api.get(path, as_="root", admin=True).get_json()["code"] == code["code"]
    off = stripe_api.call("PATCH", path, as_="root", admin=True, json_body={"active": False, "metadata": {"why": "x"}})
    assert off.status_code == 200 and off.get_json()["active"] is False and off.get_json()["metadata"] == {"why": "x"}
    inactive = stripe_api.get(PROMOS, as_="root", admin=True, query={"active": "false", "limit": 100}).get_json()
    assert code["id"] in [p["id"] for p in inactive["promo_codes"]]
    assert all(p["active"] is False for p in inactive["promo_codes"])
    active = stripe_api.get(PROMOS, as_="root", admin=True, query={"active": "true"}).get_json()
    assert code["id"] not in [p["id"] for p in active["promo_codes"]]
    stripe_api.call("PATCH", path, as_="root", admin=True, json_body={"active": True})
    gone = stripe_api.delete(path, as_="root", admin=True)
    assert gone.status_code == 200 and gone.get_json()["promo_code_id"] == code["id"]
    assert stripe_api.get(path, as_="root", admin=True).get_json()["active"] is False  # deactivated, not deleted
    missing = stripe_api.post(PROMOS, as_="root", admin=True, json_body={"coupon_id": "no-such-coupon"})
    assert missing.status_code == 404
    assert stripe_api.get(f"{PROMOS}/promo_nothing", as_="root", admin=True).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", COUPONS),
        ("POST", COUPONS),
        ("GET", f"{COUPONS}/c1"),
        ("PATCH", f"{COUPONS}/c1"),
        ("DELETE", f"{COUPONS}/c1"),
        ("GET", PROMOS),
        ("POST", PROMOS),
        ("GET", f"{PROMOS}/p1"),
        ("PATCH", f"{PROMOS}/p1"),
        ("DELETE", f"{PROMOS}/p1"),
    ],
)
def test_coupons_and_promo_codes_are_for_admins(stripe_api: RegistryClient, method: str, path: str) -> None:
    body = {"coupon_id": "c1"} if "promo" in path else {"percent_off": 5, "metadata": {"a": "b"}}
    json_body = body if method in ("POST", "PATCH") else None
    assert stripe_api.call(method, path, json_body=json_body).status_code == 401
    refused = stripe_api.call(method, path, as_="mallory", json_body=json_body)
    assert refused.status_code == 403 and refused.get_json()["error"] == "admin_only"
