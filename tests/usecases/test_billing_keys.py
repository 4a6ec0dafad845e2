"""API keys' rules on the fakes: made with a future expiry and a cap, shown once, listed and deleted by their owner,
verified and synced by services, recognised on a call; admin tokens for admins only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.billing.keys import usecases as keys
from shared.billing import apikeys
from shared.billing.callers import identify
from shared.bootstrap import Container
from shared.db.types import utcnow
from shared.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from tests.fakes_billing import BillingStore
from tests.usecases.billing_world import caller, signed_up


def test_a_key_is_shown_once_and_kept_as_a_digest(billing: Container, billing_store: BillingStore) -> None:
    ann = signed_up(billing, "ann")
    new = keys.create(billing.billing_uow(), ann, "laptop", "", None, default_ttl_days=30)
    row = billing_store.keys[new.key.id]
    assert row.digest == apikeys.key_digest(new.plaintext) and new.plaintext not in (row.digest, row.prefix)
    assert row.expires_at is not None and timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
    assert billing_store.trail_types("ann")[-1] == "api_key_created"
    assert keys.create(billing.billing_uow(), ann, "forever", "", None, None).key.expires_at is None


def test_a_key_needs_a_future_expiry_a_customer_and_room(
    billing: Container, billing_store: BillingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidInput, match="future"):
        keys.create(billing.billing_uow(), caller("ann"), "x", "", utcnow() - timedelta(seconds=1), None)
    with pytest.raises(NotFound, match="POST /customers"):
        keys.create(billing.billing_uow(), caller("ann"), "x", "", None, None)
    ann = signed_up(billing, "ann")
    monkeypatch.setattr(keys, "MAX_LIVE_KEYS", 2)
    first = keys.create(billing.billing_uow(), ann, "1", "", None, None)
    keys.create(billing.billing_uow(), ann, "2", "", None, None)
    with pytest.raises(InvalidInput, match="at most 2"):
        keys.create(billing.billing_uow(), ann, "3", "", None, None)
    keys.delete(billing.billing_uow(), ann, first.key.id)
    keys.create(billing.billing_uow(), ann, "3", "", None, None)  # a deleted key frees its place
    assert len(billing_store.keys) == 3


def test_keys_are_listed_newest_first_and_deleted_by_their_owner_only(
    billing: Container, billing_store: BillingStore
) -> None:
    ann, bob = signed_up(billing, "ann"), signed_up(billing, "bob")
    old = keys.create(billing.billing_uow(), ann, "old", "", None, None)
    new = keys.create(billing.billing_uow(), ann, "new", "", None, None)
    assert [k.name for k in keys.list_keys(billing.billing_uow(), ann)] == ["new", "old"]
    with pytest.raises(NotFound):
        keys.delete(billing.billing_uow(), bob, old.key.id)
    keys.delete(billing.billing_uow(), ann, old.key.id)
    with pytest.raises(NotFound):  # once
        keys.delete(billing.billing_uow(), ann, old.key.id)
    assert [k.id for k in keys.list_keys(billing.billing_uow(), ann)] == [new.key.id]
    assert billing_store.trail_types("ann").count("api_key_deleted") == 1
    with pytest.raises(NotFound):
        keys.list_keys(billing.billing_uow(), caller("nobody"))


def test_a_usable_key_verifies_to_its_customer(billing: Container, billing_store: BillingStore) -> None:
    ann = signed_up(billing, "ann")
    new = keys.create(billing.billing_uow(), ann, "k", "", None, None)
    other = keys.create(billing.billing_uow(), ann, "k2", "", None, None)
    found = keys.verify(billing.billing_uow(), new.plaintext, include_customer_keys=True)
    assert (found.key.id, found.customer.id, found.is_admin) == (new.key.id, "ann", False)
    assert {k.id for k in found.customer_keys} == {new.key.id, other.key.id}
    assert keys.verify(billing.billing_uow(), new.plaintext, include_customer_keys=False).customer_keys == ()
    billing_store.registry_admins.add("ann")  # users.is_admin in the registry makes the key an admin's
    assert keys.verify(billing.billing_uow(), new.plaintext, False).is_admin
    billing_store.keys[other.key.id].expires_at = utcnow() - timedelta(seconds=1)
    keys.delete(billing.billing_uow(), ann, new.key.id)
    for gone in (new.plaintext, other.plaintext, "comfyui-not-a-real-key", "garbage"):
        with pytest.raises(NotFound):
            keys.verify(billing.billing_uow(), gone, False)


def test_a_deletion_elsewhere_is_synced_once(billing: Container, billing_store: BillingStore) -> None:
    ann = signed_up(billing, "ann")
    new = keys.create(billing.billing_uow(), ann, "k", "", None, None)
    digest = apikeys.key_digest(new.plaintext)
    assert keys.sync_deletion(billing.billing_uow(), "bob", digest) == "not_found"
    assert keys.sync_deletion(billing.billing_uow(), "ann", digest.upper()) == "deleted"
    assert keys.sync_deletion(billing.billing_uow(), "ann", digest) == "already_deleted"
    assert billing_store.trail[-1].details["source"] == "sync"


def test_admin_tokens_are_for_admins_and_expire_soon(billing: Container, billing_store: BillingStore) -> None:
    with pytest.raises(Forbidden):
        keys.admin_token(billing.billing_uow(), caller("ann"), 3600)
    token = keys.admin_token(billing.billing_uow(), caller("root", admin=True), 600)
    assert billing_store.customers["root"].is_admin  # created on the way, recognised as an admin's
    assert token.key.expires_at is not None and token.key.expires_at - utcnow() <= timedelta(seconds=600)
    assert keys.verify(billing.billing_uow(), token.plaintext, False).is_admin
    assert billing_store.trail_types("root") == ["admin_token_created"]


def test_a_call_with_a_key_is_recognised_and_touches_it(billing: Container, billing_store: BillingStore) -> None:
    ann = signed_up(billing, "ann")
    new = keys.create(billing.billing_uow(), ann, "k", "", None, None)
    who = identify({"X-API-KEY": new.plaintext}, "/customers", billing.verifier, billing.billing_uow)
    assert (who.customer_id, who.api_key_id, who.is_admin) == ("ann", new.key.id, False)
    assert billing_store.keys[new.key.id].last_used_at is not None
    keys.delete(billing.billing_uow(), ann, new.key.id)
    with pytest.raises(Unauthenticated):
        identify({"Authorization": f"Bearer {new.plaintext}"}, "/customers", billing.verifier, billing.billing_uow)
