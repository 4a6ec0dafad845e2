"""Publishing's rules: publishers and their ids, tokens, and the publish call (idempotent retry, reuse of a version
whose archive never arrived, rate limits), on the fakes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from functions.registry.common.nodes import NodeFields
from functions.registry.publishing.usecases import nodes, publishers, tokens, versions
from functions.registry.publishing.usecases.commands import (
    NewToken,
    Publish,
    PublisherFields,
    VersionEdit,
    VersionFields,
)
from shared.auth import secrets
from shared.db.types import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, RateLimited
from shared.events import EventType
from shared.settings import Settings
from shared.statuses import NodeStatus, PublisherStatus, UserStatus, VersionStatus
from tests.fakes import FakeBlobs, FakeUnitOfWork, Store, person
from tests.usecases.world import ALICE, publish, publisher, released

Uow = Callable[[], FakeUnitOfWork]


# -- publishers ------------------------------------------------------------------------------------------------
def test_a_new_publisher_is_owned_by_its_creator(uow: Uow, store: Store) -> None:
    row = publishers.create(uow(), ALICE, PublisherFields(id="alice-pub", name=" Alice "), max_per_user=5)
    assert (row.id, row.name, row.normalized_id) == ("alice-pub", "Alice", "allcepub")  # folded: see shared/naming
    assert uow().publishers.permission("alice-pub", "alice") == "owner"
    assert store.event_types() == [EventType.PUBLISHER_CREATED]


@pytest.mark.parametrize("taken", ["alice-pub", "Alice_Pub", "a1ice-pub"])
def test_an_id_that_only_looks_free_is_refused(uow: Uow, taken: str) -> None:
    publisher(uow)
    with pytest.raises((Conflict, InvalidInput)):
        publishers.create(uow(), person("bob"), PublisherFields(id=taken, name="x"), max_per_user=5)
    with pytest.raises(InvalidInput, match=r"already exists|lowercase"):
        publishers.check_available(uow(), taken)
    publishers.check_available(uow(), "someone-else")


def test_a_user_owns_at_most_so_many_publishers(uow: Uow) -> None:
    for i in range(2):
        publishers.create(uow(), ALICE, PublisherFields(id=f"pub-{i}", name="x"), max_per_user=2)
    with pytest.raises(Forbidden, match="maximum"):
        publishers.create(uow(), ALICE, PublisherFields(id="pub-3", name="x"), max_per_user=2)


# -- tokens ----------------------------------------------------------------------------------------------------
def test_a_token_is_shown_once_and_kept_as_a_digest(uow: Uow, store: Store) -> None:
    publisher(uow)
    issued = tokens.create(uow(), ALICE, "alice-pub", NewToken(name="laptop", expires_in_days=2), None)
    row = store.tokens[issued.row.id]
    assert issued.value.startswith("cpat_") and issued.value not in (row.token_digest, row.token_prefix)
    assert row.token_digest == secrets.digest(issued.value) and issued.value.startswith(row.token_prefix)
    assert row.expires_at is not None and row.expires_at - utcnow() > timedelta(days=1)


def test_a_token_authenticates_only_for_its_publisher_nodes_and_lifetime(uow: Uow, store: Store) -> None:
    token = publisher(uow)
    scoped = tokens.create(uow(), ALICE, "alice-pub", NewToken(name="one", node_ids=["only-this"]), None).value
    with uow() as w:
        assert tokens.authenticate(w, token, "alice-pub", "any-node").publisher_id == "alice-pub"
        with pytest.raises(InvalidInput, match="Invalid"):
            tokens.authenticate(w, token, "other-pub", "any-node")
        with pytest.raises(InvalidInput, match="not valid for this node"):
            tokens.authenticate(w, scoped, "alice-pub", "any-node")
    next(t for t in store.tokens.values() if t.node_ids is None).expires_at = utcnow() - timedelta(seconds=1)
    with uow() as w, pytest.raises(InvalidInput, match="expired"):
        tokens.authenticate(w, token, "alice-pub", "any-node")
    store.users["alice"].status = UserStatus.BANNED
    with uow() as w, pytest.raises(Forbidden):
        tokens.authenticate(w, scoped, "alice-pub", "only-this")


# -- publishing ------------------------------------------------------------------------------------------------
def test_a_publish_makes_a_pending_version_with_an_upload_url(
    uow: Uow, store: Store, blobs: FakeBlobs, settings: Settings
) -> None:
    token = publisher(uow)
    result = publish(uow, blobs, settings, token, "pack", "v1.2")
    row = result.version
    assert (row.version, row.status, row.release_path) == ("1.2.0", VersionStatus.PENDING, None)
    assert row.storage_path.startswith("alice-pub/pack/1.2.0/") and row.storage_path.endswith("/node.zip")
    assert f"max={settings.scan_max_archive_bytes}" in result.upload_url
    assert store.event_types()[-2:] == [EventType.NODE_CREATED, EventType.VERSION_PUBLISHED]


def test_the_same_publish_again_is_answered_again_until_the_archive_arrives(
    uow: Uow, store: Store, blobs: FakeBlobs, settings: Settings
) -> None:
    token = publisher(uow)
    first = publish(uow, blobs, settings, token, "pack")
    path, url, buckets = first.version.storage_path, first.upload_url, dict(store.buckets)
    again = publish(uow, blobs, settings, token, "pack")
    assert (again.version.id, again.version.storage_path) == (first.version.id, path)
    assert again.upload_url != url  # a fresh signature for the same place
    assert store.event_types().count(EventType.VERSION_PUBLISHED) == 1
    assert store.buckets == buckets  # a retry spends no rate limit
    other = tokens.create(uow(), ALICE, "alice-pub", NewToken(name="other"), None).value
    with pytest.raises(Conflict, match="already exists"):
        publish(uow, blobs, settings, other, "pack")
    blobs.uploads[first.version.storage_path] = b"PK"
    with pytest.raises(Conflict, match="already exists"):
        publish(uow, blobs, settings, token, "pack")


def test_a_version_whose_archive_never_arrived_is_published_afresh(
    uow: Uow, store: Store, blobs: FakeBlobs, settings: Settings
) -> None:
    token = publisher(uow)
    first = publish(uow, blobs, settings, token, "pack").version
    first.status = VersionStatus.DELETED  # what the sweep does when no archive arrived
    old_path = first.storage_path
    again = publish(uow, blobs, settings, token, "pack").version
    assert again.id == first.id and again.status == VersionStatus.PENDING and again.storage_path != old_path
    assert store.event_types().count(EventType.VERSION_PUBLISHED) == 2
    released(store, blobs, "pack")
    again.status = VersionStatus.DELETED  # deleted after release: the number stays taken
    with pytest.raises(Conflict):
        publish(uow, blobs, settings, token, "pack")


def test_publishing_is_rate_limited(uow: Uow, blobs: FakeBlobs, settings: Settings) -> None:
    token = publisher(uow)
    for i in range(settings.rate_new_version_burst):
        publish(uow, blobs, settings, token, "pack", f"1.0.{i}")
    with pytest.raises(RateLimited) as caught:
        publish(uow, blobs, settings, token, "pack", "2.0.0")
    assert caught.value.retry_after > 0


def test_nothing_is_published_to_a_banned_publisher_or_node(
    uow: Uow, store: Store, blobs: FakeBlobs, settings: Settings
) -> None:
    token = publisher(uow)
    publish(uow, blobs, settings, token, "pack")
    store.nodes["pack"].status = NodeStatus.BANNED
    with pytest.raises(Forbidden, match="Node Banned"):
        publish(uow, blobs, settings, token, "pack", "2.0.0")
    store.publishers["alice-pub"].status = PublisherStatus.BANNED
    with pytest.raises(Forbidden, match="Publisher Banned"):
        publish(uow, blobs, settings, token, "other", "1.0.0")


def test_the_node_id_in_the_body_must_be_the_urls(uow: Uow, blobs: FakeBlobs, settings: Settings) -> None:
    token = publisher(uow)
    command = Publish(token, VersionFields("1.0.0"), NodeFields(id="other"))
    with pytest.raises(InvalidInput, match="does not match"):
        versions.publish(uow(), blobs, settings, "alice-pub", "pack", command)


def test_deprecation_needs_the_flag_and_deleting_withdraws(
    uow: Uow, store: Store, blobs: FakeBlobs, settings: Settings
) -> None:
    token = publisher(uow)
    row = publish(uow, blobs, settings, token, "pack").version
    released(store, blobs, "pack")
    with pytest.raises(InvalidInput, match="only accepted for a deprecated version"):
        versions.update(uow(), ALICE, "alice-pub", "pack", row.id, VersionEdit(deprecation_reason="old"))
    edited = versions.update(
        uow(), ALICE, "alice-pub", "pack", row.id, VersionEdit(deprecated=True, deprecation_reason="old")
    )
    assert (edited.deprecated, edited.deprecation_reason) == (True, "old")
    versions.delete(uow(), blobs, ALICE, "alice-pub", "pack", row.id)
    assert row.status == VersionStatus.DELETED and row.release_path is None
    assert blobs.withdrawn == ["alice-pub/pack/1.0.0/node.zip"] and not blobs.released


def test_only_the_owner_edits_a_node(uow: Uow, settings: Settings) -> None:
    publisher(uow)
    nodes.create(uow(), ALICE, settings, "alice-pub", NodeFields(id="pack", name="Pack"))
    with pytest.raises(Forbidden):
        nodes.update(uow(), person("mallory"), "alice-pub", "pack", NodeFields(name="Taken"))
    with pytest.raises(InvalidInput, match="cannot be changed"):
        nodes.update(uow(), ALICE, "alice-pub", "pack", NodeFields(id="renamed"))
    assert nodes.update(
        uow(), ALICE, "alice-pub", "pack", NodeFields(supported_comfyui_version=">=0.3")
    ).comfyui_low_key
