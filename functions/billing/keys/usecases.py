"""API keys: made, listed and deleted by their customer; checked and synced by services holding the admin secret;
short-lived admin tokens for admins. The clear key exists only in the answer that creates it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.billing.common.customers import require_customer
from shared.billing import apikeys
from shared.billing.callers import Caller
from shared.billing.uow import BillingUnitOfWork
from shared.db.billing_models import ApiKey, Customer
from shared.db.types import utcnow
from shared.errors import Forbidden, InvalidInput, NotFound

MAX_LIVE_KEYS = 100  # per customer: keys are cheap to make, and a runaway script should hit a wall


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    plaintext: str


@dataclass(frozen=True)
class Verified:
    key: ApiKey
    customer: Customer
    is_admin: bool
    customer_keys: Sequence[ApiKey]


def create(
    uow: BillingUnitOfWork,
    caller: Caller,
    name: str,
    description: str,
    expires_at: datetime | None,
    default_ttl_days: int | None,
) -> NewKey:
    now = utcnow()
    if expires_at is None and default_ttl_days is not None:
        expires_at = now + timedelta(days=default_ttl_days)
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at must be in the future.", code="invalid_expiry")
    with uow:
        require_customer(uow, caller.customer_id)
        if len(uow.api_keys.live_for(caller.customer_id)) >= MAX_LIVE_KEYS:
            raise InvalidInput(f"A customer may hold at most {MAX_LIVE_KEYS} API keys; delete one first.")
        new = _mint(uow, caller.customer_id, name, description, expires_at)
        uow.record(caller.customer_id, "api_key_created", key_id=new.key.id, key_prefix=new.key.prefix, name=name)
        uow.commit()
        return new


def list_keys(uow: BillingUnitOfWork, caller: Caller) -> Sequence[ApiKey]:
    with uow:
        require_customer(uow, caller.customer_id)
        return uow.api_keys.live_for(caller.customer_id)


def delete(uow: BillingUnitOfWork, caller: Caller, key_id: str) -> None:
    """The key stops authenticating at the commit: every call looks it up."""
    with uow:
        key = uow.api_keys.get(key_id)
        if key is None or key.customer_id != caller.customer_id or key.deleted_at is not None:
            raise NotFound(f"No API key {key_id}.", code="api_key_not_found")
        uow.api_keys.delete(key, utcnow())
        uow.record(caller.customer_id, "api_key_deleted", key_id=key.id, key_prefix=key.prefix)
        uow.commit()


def verify(uow: BillingUnitOfWork, plaintext: str, include_customer_keys: bool) -> Verified:
    """What a service holding the admin secret learns about a key: whose it is, if it is usable now."""
    with uow:
        key = (
            uow.api_keys.usable(apikeys.key_digest(plaintext), utcnow()) if apikeys.looks_like_key(plaintext) else None
        )
        customer = uow.customers.get(key.customer_id) if key is not None else None
        if key is None or customer is None:
            raise NotFound("The API key is not valid.", code="api_key_not_found")
        is_admin = customer.is_admin or uow.customers.is_registry_admin(customer.id)
        keys = uow.api_keys.live_for(customer.id) if include_customer_keys else ()
        return Verified(key, customer, is_admin, keys)


def sync_deletion(uow: BillingUnitOfWork, customer_id: str, key_digest: str) -> str:
    """A key deleted elsewhere (the service we replace) stops working here too. Idempotent."""
    with uow:
        key = uow.api_keys.by_digest(key_digest.lower())
        if key is None or key.customer_id != customer_id:
            return "not_found"
        if key.deleted_at is not None:
            return "already_deleted"
        uow.api_keys.delete(key, utcnow())
        uow.record(customer_id, "api_key_deleted", key_id=key.id, key_prefix=key.prefix, source="sync")
        uow.commit()
        return "deleted"


def admin_token(uow: BillingUnitOfWork, caller: Caller, ttl_seconds: int) -> NewKey:
    """A short-lived key for an admin's scripts: an API key of the admin's own, expiring soon."""
    if not caller.is_admin:
        raise Forbidden("Admin tokens are for admins.", code="admin_only")
    identity = caller.identity
    with uow:
        uow.customers.create_if_missing(identity.uid, {"email": identity.email, "name": identity.name})
        require_customer(uow, identity.uid).is_admin = True  # what the key's calls are recognised as
        uow.ledger.open(identity.uid)
        expires_at = utcnow() + timedelta(seconds=ttl_seconds)
        new = _mint(uow, identity.uid, "admin token", "", expires_at)
        uow.record(identity.uid, "admin_token_created", key_id=new.key.id, expires_at=expires_at.isoformat())
        uow.commit()
        return new


def _mint(uow: BillingUnitOfWork, customer_id: str, name: str, description: str, expires_at: datetime | None) -> NewKey:
    plaintext = apikeys.new_key()
    key = ApiKey(
        customer_id=customer_id,
        name=name,
        description=description,
        digest=apikeys.key_digest(plaintext),
        prefix=apikeys.display_prefix(plaintext),
        created_at=utcnow(),
        expires_at=expires_at,
    )
    uow.api_keys.add(key)
    uow.flush()
    return NewKey(key, plaintext)
