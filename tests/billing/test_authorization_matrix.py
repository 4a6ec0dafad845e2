"""Who may call each billing operation: one table, one row per route of the billing function (functions/billing/*/
routes.py; a new route without a row fails here). Every row names every kind of caller, as allowed (with the
success status), refused (with the status), or not applicable (with why). Refused callers go first, on a fresh
world, and each must leave every table exactly as it was; then each allowed caller must succeed.

Billing's reads are the caller's own money, so reads have rows too (`mutates=False`). Webhooks authenticate by
their signature, not by a caller: tests/billing/test_webhooks.py covers them."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

import pytest
from sqlalchemy import update
from werkzeug.test import TestResponse

from functions.billing.app import all_routes
from shared.adapters.stripe_payments import StripePayments
from shared.db.billing_models import ApiKey
from shared.db.models import User
from shared.db.types import utcnow
from shared.http.router import Route
from shared.ledger.accounts import EntryKind
from tests.billing.stripe_support import PRICES, SECRET_KEY, StripeServers, ensure_plans, stripe_servers
from tests.billing.test_customers import replace_settings
from tests.matrix import Access, Call, Row, check_row, rows_name_every_caller
from tests.support import RegistryClient

__all__ = ["stripe_servers"]

SECRET = "matrix-admin-secret"
ROUTES = {r.operation_id: r for r in all_routes()}


class Caller(Enum):
    ANONYMOUS = "anonymous"
    CUSTOMER = "the customer (Firebase)"
    CUSTOMER_KEY = "the customer (API key)"
    OTHER_CUSTOMER = "another customer"
    DELETED_KEY = "a deleted API key"
    EXPIRED_KEY = "an expired API key"
    ADMIN_CLAIM = "admin (custom claim)"
    ADMIN_DB = "admin (users.is_admin)"
    ADMIN_SECRET = "X-Comfy-Admin-Secret"
    WRONG_SECRET = "a wrong X-Comfy-Admin-Secret"


C = Caller
UIDS = {C.CUSTOMER: "cust", C.OTHER_CUSTOMER: "other", C.ADMIN_CLAIM: "root", C.ADMIN_DB: "dbadmin"}
KEYS = (C.CUSTOMER_KEY, C.DELETED_KEY, C.EXPIRED_KEY)
SECRETS = (C.ADMIN_SECRET, C.WRONG_SECRET)
ADMINS = (C.ADMIN_CLAIM, C.ADMIN_DB)
BAD_CREDENTIALS = (C.ANONYMOUS, C.DELETED_KEY, C.EXPIRED_KEY, *SECRETS)


@dataclass
class World:
    keys: dict[Caller, str]
    key_id: str  # a live key of the customer, for DELETE
    coupons: dict[Caller, str]  # a Stripe coupon for each caller to change or delete
    promo_codes: dict[Caller, str]


def customers(success: int, *allowed: Caller, others: int = 404) -> Access[Caller]:
    """A customer endpoint: `allowed` succeed; other people and keys get `others`; bad credentials 401."""
    refused: dict[Caller, int] = {c: 401 for c in BAD_CREDENTIALS}
    for c in (C.CUSTOMER, C.CUSTOMER_KEY, C.OTHER_CUSTOMER, *ADMINS):
        if c not in allowed:
            refused[c] = others
    return Access({c: success for c in allowed}, refused, {})


def secret_only(success: int) -> Access[Caller]:
    refused: dict[Caller, int] = {c: 401 for c in Caller if c is not C.ADMIN_SECRET}
    return Access({C.ADMIN_SECRET: success}, refused, {})


def anyone(success: int) -> Access[Caller]:
    return Access({c: success for c in Caller}, {}, {})


SELF = (C.CUSTOMER, C.CUSTOMER_KEY)
EVERY_CUSTOMER = (*SELF, C.OTHER_CUSTOMER, *ADMINS)
SELF_OR_ADMIN = (*SELF, *ADMINS)


def _slug(c: Caller) -> str:
    return c.name.lower().replace("_", "-")


MATRIX: dict[str, Row[World, Caller]] = {
    "billingHealth": Row(lambda w, c: Call("/billing/health"), anyone(200), mutates=False),
    "getBillingOpenapi": Row(lambda w, c: Call("/billing/openapi"), anyone(200), mutates=False),
    "getBillingDocs": Row(lambda w, c: Call("/billing/docs"), anyone(200), mutates=False),
    "getBillingDocsAsset": Row(lambda w, c: Call("/billing/docs/swagger-ui.css"), anyone(200), mutates=False),
    "GetFeatures": Row(lambda w, c: Call("/features"), anyone(200), mutates=False),
    # Every person of the world is a customer already: a repeat sign-up answers 200 and changes nothing.
    "CreateCustomer": Row(lambda w, c: Call("/customers", {}), customers(200, *EVERY_CUSTOMER), mutates=False),
    "SearchCustomers": Row(lambda w, c: Call("/customers"), customers(200, *ADMINS, others=403), mutates=False),
    # The caller's own: every customer reads theirs.
    "GetAuthenticatedCustomer": Row(lambda w, c: Call("/customers/me"), customers(200, *EVERY_CUSTOMER), mutates=False),
    "GetCustomerBalance": Row(lambda w, c: Call("/customers/balance"), customers(200, *EVERY_CUSTOMER), mutates=False),
    "GetCustomerEvents": Row(lambda w, c: Call("/customers/events"), customers(200, *EVERY_CUSTOMER), mutates=False),
    "GetCustomerById": Row(lambda w, c: Call("/customers/cust"), customers(200, *SELF_OR_ADMIN), mutates=False),
    "GetCustomerBalanceById": Row(
        lambda w, c: Call("/customers/cust/balance"), customers(200, *SELF_OR_ADMIN), mutates=False
    ),
    "GetCustomerEventsById": Row(
        lambda w, c: Call("/customers/cust/events"), customers(200, *SELF_OR_ADMIN), mutates=False
    ),
    "GetAdminCustomerBalance": Row(lambda w, c: Call("/admin/customers/cust/balance"), secret_only(200), mutates=False),
    "ListCustomerAPIKeys": Row(
        lambda w, c: Call("/customers/api-keys"), customers(200, *EVERY_CUSTOMER), mutates=False
    ),
    "CreateCustomerAPIKey": Row(
        lambda w, c: Call("/customers/api-keys", {"name": f"k-{_slug(c)}"}),
        customers(201, *EVERY_CUSTOMER),
    ),
    "DeleteCustomerAPIKey": Row(
        lambda w, c: Call(f"/customers/api-keys/{w.key_id}"),
        Access(
            {C.CUSTOMER: 204},
            {**{c: 401 for c in BAD_CREDENTIALS}, C.OTHER_CUSTOMER: 404, C.ADMIN_CLAIM: 404, C.ADMIN_DB: 404},
            {C.CUSTOMER_KEY: "the same customer as the login, whose key is deleted once"},
        ),
    ),
    "VerifyApiKey": Row(
        lambda w, c: Call("/admin/verify-api-key", {"api_key": w.keys[C.CUSTOMER_KEY]}), secret_only(200), False
    ),
    "SyncApiKeyDeletion": Row(
        lambda w, c: Call(
            "/admin/sync-api-key-deletion",
            {
                "event": "delete",
                "customer_id": "cust",
                "key_hash": hashlib.sha256(w.keys[C.CUSTOMER_KEY].encode()).hexdigest(),
            },
        ),
        secret_only(200),
    ),
    "GenerateAdminToken": Row(lambda w, c: Call("/admin/generate-token"), customers(200, *ADMINS, others=403)),
    "GetCustomerUsage": Row(lambda w, c: Call("/customers/usage", {}), customers(200, *EVERY_CUSTOMER), mutates=False),
    "GetCustomerUsageTimeSeries": Row(
        lambda w, c: Call("/customers/usage/timeseries"), customers(200, *EVERY_CUSTOMER), mutates=False
    ),
    "TrackCustomerUsage": Row(
        lambda w, c: Call(
            "/customers/cust/usage", {"transaction_id": str(uuid.uuid4()), "params": {"amount_micros": 1}}
        ),
        secret_only(200),
    ),
    # Without Metronome there is nothing to archive: the one allowed caller learns so (503), and nothing changes.
    "PostAdminArchiveMetronomeData": Row(
        lambda w, c: Call("/admin/customers/cust/archive-metronome-data"), secret_only(503), mutates=False
    ),
    # Payments (Stripe configured: tests/billing/stripe_support.py). What lives only in Stripe changes no table.
    "InitiateCreditPurchase": Row(
        lambda w, c: Call("/customers/credit", {"amount_micros": 10_000_000}), customers(201, *EVERY_CUSTOMER)
    ),
    "AccessBillingPortal": Row(lambda w, c: Call("/customers/billing", {}), customers(200, *EVERY_CUSTOMER)),
    "CreateCloudSubscriptionCheckout": Row(
        lambda w, c: Call("/customers/cloud-subscription-checkout", {}), customers(201, *EVERY_CUSTOMER)
    ),
    "CreateCloudSubscriptionCheckoutTier": Row(
        lambda w, c: Call("/customers/cloud-subscription-checkout/pro", {}), customers(201, *EVERY_CUSTOMER)
    ),
    "GetCloudSubscriptionStatus": Row(
        lambda w, c: Call("/customers/cloud-subscription-status"), customers(200, *EVERY_CUSTOMER), mutates=False
    ),
    "GetAdminCustomerCloudSubscriptionStatus": Row(
        lambda w, c: Call("/admin/customers/cust/cloud-subscription-status"), secret_only(200), mutates=False
    ),
    "DeleteAdminCustomerStripeData": Row(lambda w, c: Call("/admin/customers/cust/stripe-data"), secret_only(200)),
    "ListCoupons": Row(lambda w, c: Call("/customers/admin/coupons"), customers(200, *ADMINS, others=403), False),
    "CreateCoupon": Row(
        lambda w, c: Call("/customers/admin/coupons", _coupon()),
        customers(201, *ADMINS, others=403),
        mutates=False,
    ),
    "GetCoupon": Row(
        lambda w, c: Call(f"/customers/admin/coupons/{w.coupons[C.ADMIN_CLAIM]}"),
        customers(200, *ADMINS, others=403),
        mutates=False,
    ),
    "UpdateCoupon": Row(
        lambda w, c: Call(f"/customers/admin/coupons/{w.coupons[C.ADMIN_CLAIM]}", {"metadata": {"by": _slug(c)}}),
        customers(200, *ADMINS, others=403),
        mutates=False,
    ),
    "DeleteCoupon": Row(
        lambda w, c: Call(f"/customers/admin/coupons/{w.coupons.get(c, w.coupons[C.ADMIN_CLAIM])}"),
        customers(200, *ADMINS, others=403),
        mutates=False,
    ),
    "ListPromoCodes": Row(
        lambda w, c: Call("/customers/admin/promo-codes"), customers(200, *ADMINS, others=403), mutates=False
    ),
    "CreatePromoCode": Row(
        lambda w, c: Call("/customers/admin/promo-codes", {"coupon_id": w.coupons[C.ANONYMOUS]}),
        customers(201, *ADMINS, others=403),
        mutates=False,
    ),
    "GetPromoCode": Row(
        lambda w, c: Call(f"/customers/admin/promo-codes/{w.promo_codes[C.ADMIN_CLAIM]}"),
        customers(200, *ADMINS, others=403),
        mutates=False,
    ),
    "UpdatePromoCode": Row(
        lambda w, c: Call(f"/customers/admin/promo-codes/{w.promo_codes[C.ADMIN_CLAIM]}", {"active": False}),
        customers(200, *ADMINS, others=403),
        mutates=False,
    ),
    "DeletePromoCode": Row(
        lambda w, c: Call(f"/customers/admin/promo-codes/{w.promo_codes.get(c, w.promo_codes[C.ADMIN_CLAIM])}"),
        customers(200, *ADMINS, others=403),
        mutates=False,
    ),
    "CreateCustomerStorageResource": Row(
        lambda w, c: Call("/customers/storage", {"file_name": "in.png", "content_type": "image/png"}),
        customers(200, *EVERY_CUSTOMER),
        mutates=False,
    ),
}


def build_world(api: RegistryClient, stripe: StripeServers) -> World:
    settings = replace_settings(
        api,
        ADMIN_SECRET_DIGEST=hashlib.sha256(SECRET.encode()).hexdigest(),
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_API_BASE=stripe.front.url,
        SUBSCRIPTION_PRICES=dict(PRICES),
    )
    api.use(settings=settings, payments=StripePayments.from_settings(settings))  # type: ignore[arg-type]
    with api.container.sessions() as s:
        s.add(User(id="dbadmin", email="dbadmin@example.com", is_admin=True))
        s.commit()
    for uid in UIDS.values():
        assert api.post("/customers", as_=uid, admin=uid == "root").status_code == 201
    keys: dict[Caller, str] = {}
    ids: dict[Caller, str] = {}
    for caller in (*KEYS, C.CUSTOMER):
        created = api.post("/customers/api-keys", as_="cust", json_body={"name": _slug(caller)}).get_json()["api_key"]
        keys[caller], ids[caller] = created["plaintext_key"], created["id"]
    assert api.delete(f"/customers/api-keys/{ids[C.DELETED_KEY]}", as_="cust").status_code == 204
    with api.container.sessions() as s:
        s.execute(update(ApiKey).where(ApiKey.id == ids[C.EXPIRED_KEY]).values(expires_at=utcnow() - timedelta(1)))
        s.commit()
    # A key's last use is written at most once a minute: used now, the calls below write nothing for it.
    assert api.get("/customers/me", headers={"X-API-KEY": keys[C.CUSTOMER_KEY]}).status_code == 200
    with api.container.billing_uow() as uow:
        uow.ledger.grant("matrix-credit", EntryKind.PROMOTION, "cust", 10_000_000)
        stripe_id = api.container.payments.ensure_customer("cust", "cust@example.com", "Cust")
        uow.customers.get("cust").stripe_customer_id = stripe_id  # type: ignore[union-attr]
        uow.commit()
    ensure_plans(stripe)
    coupons = {c: _admin_post(api, "/customers/admin/coupons", _coupon())["id"] for c in Caller}
    promo = {"coupon_id": coupons[C.ANONYMOUS]}
    promos = {c: _admin_post(api, "/customers/admin/promo-codes", promo)["id"] for c in ADMINS}
    return World(keys, ids[C.CUSTOMER], coupons, promos)


CREATED_COUPONS: list[str] = []  # deleted after each test: localstripe is shared by every test of the process


def _coupon() -> dict[str, Any]:
    coupon_id = f"matrix-{uuid.uuid4().hex[:10]}"
    CREATED_COUPONS.append(coupon_id)
    return {"id": coupon_id, "percent_off": 5, "duration": "once"}


@pytest.fixture(autouse=True)
def _delete_coupons(stripe_servers: StripeServers) -> Iterator[None]:
    yield
    while CREATED_COUPONS:
        coupon_id = CREATED_COUPONS.pop()
        with contextlib.suppress(Exception):  # the test deleted it itself
            stripe_servers.direct.v1.coupons.delete(coupon_id)


def _admin_post(api: RegistryClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post(path, as_="root", admin=True, json_body=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    return dict(r.get_json())


def send(api: RegistryClient, world: World, route: Route, call: Call, caller: Caller) -> TestResponse:
    kw: dict[str, Any] = {"json_body": call.json_body, "query": call.query}
    if caller in UIDS:
        kw.update(as_=UIDS[caller], admin=caller is C.ADMIN_CLAIM)
    elif caller in KEYS:
        kw["headers"] = {"X-API-KEY": world.keys[caller]}
    elif caller in SECRETS:
        kw["headers"] = {"X-Comfy-Admin-Secret": SECRET if caller is C.ADMIN_SECRET else "not-it"}
    return api.call(route.method, call.path, **kw)


WEBHOOKS = {r.operation_id for r in all_routes() if r.path.startswith("/webhook/")}
COVERED = [r for r in all_routes() if r.operation_id not in WEBHOOKS]


def test_every_row_is_a_billing_route_and_names_every_caller() -> None:
    rows_name_every_caller(MATRIX, Caller, {r.operation_id for r in COVERED})


@pytest.mark.parametrize("route", COVERED, ids=lambda r: f"{r.method} {r.path}")
def test_only_allowed_callers_pass_and_refusals_change_nothing(
    api: RegistryClient, stripe_servers: StripeServers, route: Route
) -> None:
    world = build_world(api, stripe_servers)
    row = MATRIX.get(route.operation_id)
    check_row(api, all_routes(), route, row, world, lambda call, caller: send(api, world, route, call, caller))
