"""How billing and the gateway recognise a customer: a Firebase ID token (`Authorization: Bearer`) or an API key
(`X-API-KEY`, any case, or a bearer that is a `comfyui-` key). A key is looked up by its digest on every call, so a
deleted or expired key stops working at once, everywhere."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from shared.auth.firebase import TokenVerifier, bearer_token
from shared.auth.identity import Identity
from shared.auth.secrets import digest
from shared.billing.apikeys import key_digest, looks_like_key
from shared.billing.uow import BillingUnitOfWork
from shared.db.types import utcnow
from shared.errors import Unauthenticated


class Headers(Protocol):
    """Request headers, looked up case-insensitively (werkzeug's `Headers`)."""

    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class Caller:
    identity: Identity
    is_admin: bool
    api_key_id: str | None = None  # set when the call came with an API key

    @property
    def customer_id(self) -> str:
        return self.identity.uid


def identify(headers: Headers, path: str, verifier: TokenVerifier, uow: Callable[[], BillingUnitOfWork]) -> Caller:
    key = headers.get("X-API-KEY")
    authorization = headers.get("Authorization")
    if not key and authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and looks_like_key(value.strip()):
            key = value.strip()
    if key:
        return _by_key(key.strip(), uow)
    identity = verifier.verify(bearer_token(authorization, path))
    if identity.admin_claim:
        return Caller(identity, True)
    with uow() as work:
        return Caller(identity, work.customers.is_registry_admin(identity.uid))


def _by_key(key: str, uow: Callable[[], BillingUnitOfWork]) -> Caller:
    if not looks_like_key(key):
        raise Unauthenticated("Invalid API key.", code="invalid_api_key")
    wanted = key_digest(key)
    now = utcnow()
    with uow() as work:
        row = work.api_keys.usable(wanted, now)
        # The lookup is by digest; the comparison of what it found is in constant time all the same.
        if row is None or not hmac.compare_digest(row.digest, wanted):
            raise Unauthenticated("Invalid API key.", code="invalid_api_key")
        customer = work.customers.get(row.customer_id)
        if customer is None:
            raise Unauthenticated("Invalid API key.", code="invalid_api_key")
        work.api_keys.touch(row.id, now)
        is_admin = customer.is_admin or work.customers.is_registry_admin(customer.id)
        identity = Identity(uid=customer.id, email=customer.email, name=customer.name)
        work.commit()
    return Caller(identity, is_admin, api_key_id=row.id)


def require_admin_secret(given: str | None, expected_digest: str | None) -> None:
    """`X-Comfy-Admin-Secret` against the configured digest, in constant time; 401 when unset, missing or wrong."""
    if not expected_digest or not given:
        raise Unauthenticated("A valid X-Comfy-Admin-Secret header is required.", code="invalid_admin_secret")
    if not hmac.compare_digest(digest(given), expected_digest.lower()):
        raise Unauthenticated("A valid X-Comfy-Admin-Secret header is required.", code="invalid_admin_secret")
