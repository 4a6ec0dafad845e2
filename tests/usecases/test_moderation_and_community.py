"""Moderation's and the community's rules on the fakes: bans cascade and take public archives back, unbans undo only
what the ban did, version statuses need reasons; reviews count each user once; translations merge by language."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from functions.registry.common.nodes import NodeFields
from functions.registry.community import usecases as community
from functions.registry.moderation import usecases as moderation
from shared.adapters.cdn import RecordingCdnInvalidator
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.events import AuditAction, EventType
from shared.settings import Settings
from shared.statuses import NodeStatus, PublisherStatus, UserStatus, VersionStatus
from tests.fakes import FakeBlobs, FakeUnitOfWork, Store, person
from tests.usecases.world import ADMIN, ALICE, publish, publisher, released

Uow = Callable[[], FakeUnitOfWork]
CDN = RecordingCdnInvalidator()  # what the bans below send to the CDN; the tests that check it have their own


@pytest.fixture
def released_pack(uow: Uow, store: Store, blobs: FakeBlobs, settings: Settings) -> Store:
    token = publisher(uow)
    for node in ("pack", "other"):
        publish(uow, blobs, settings, token, node)
        released(store, blobs, node)
    return store


def test_a_publisher_ban_cascades_and_withdraws_every_archive(uow: Uow, released_pack: Store, blobs: FakeBlobs) -> None:
    store = released_pack
    audited = len(store.audit)
    moderation.ban_publisher(uow(), blobs, CDN, ADMIN, "alice-pub", "malware")
    assert store.publishers["alice-pub"].status == PublisherStatus.BANNED
    assert {n.status for n in store.nodes.values()} == {NodeStatus.BANNED}
    assert store.users["alice"].status == UserStatus.BANNED
    assert not blobs.released and all(v.release_path is None for v in store.versions.values())
    assert [e.action for e in store.audit[audited:]] == [AuditAction.PUBLISHER_BAN]
    assert store.event_types()[-3:] == [EventType.NODE_BANNED, EventType.NODE_BANNED, EventType.PUBLISHER_BANNED]

    moderation.unban_publisher(uow(), ADMIN, "alice-pub", "appeal")
    assert {n.status for n in store.nodes.values()} == {NodeStatus.ACTIVE}
    assert store.users["alice"].status == UserStatus.ACTIVE


def test_an_unban_leaves_what_another_ban_did(uow: Uow, released_pack: Store, blobs: FakeBlobs) -> None:
    store = released_pack
    moderation.ban_node(uow(), blobs, CDN, ADMIN, "alice-pub", "other", "stolen code")
    moderation.ban_publisher(uow(), blobs, CDN, ADMIN, "alice-pub", "malware")
    moderation.unban_publisher(uow(), ADMIN, "alice-pub", "appeal")
    assert (store.nodes["pack"].status, store.nodes["other"].status) == (NodeStatus.ACTIVE, NodeStatus.BANNED)
    with pytest.raises(Forbidden, match="not admin"):
        moderation.ban_node(uow(), blobs, CDN, ALICE, "alice-pub", "pack", "")


def test_a_node_ban_made_during_a_publisher_ban_outlives_its_unban(
    uow: Uow, released_pack: Store, blobs: FakeBlobs
) -> None:
    store = released_pack
    moderation.ban_publisher(uow(), blobs, CDN, ADMIN, "alice-pub", "malware")
    moderation.ban_node(uow(), blobs, CDN, ADMIN, "alice-pub", "other", "stolen code")  # already banned, now for itself
    moderation.unban_publisher(uow(), ADMIN, "alice-pub", "appeal")
    assert (store.nodes["pack"].status, store.nodes["other"].status) == (NodeStatus.ACTIVE, NodeStatus.BANNED)


def test_an_admin_member_cannot_ban_their_own_publisher(uow: Uow, blobs: FakeBlobs) -> None:
    publisher(uow, "root-pub", owner="root")
    with pytest.raises(Conflict, match="member"):
        moderation.ban_publisher(uow(), blobs, CDN, ADMIN, "root-pub", "x")


def test_flagging_a_version_needs_a_reason_and_withdraws_it(uow: Uow, released_pack: Store, blobs: FakeBlobs) -> None:
    flag = moderation.VersionStatusChange(status=VersionStatus.FLAGGED)
    with pytest.raises(InvalidInput, match="status_reason is required"):
        moderation.set_version_status(uow(), blobs, CDN, ADMIN, "pack", "1.0.0", flag)
    flag = moderation.VersionStatusChange(status=VersionStatus.FLAGGED, status_reason="reported")
    row = moderation.set_version_status(uow(), blobs, CDN, ADMIN, "pack", "1.0.0", flag)
    assert (row.status, row.release_path) == (VersionStatus.FLAGGED, None)
    assert "alice-pub/pack/1.0.0/node.zip" not in blobs.released
    changed = released_pack.events[-1]
    assert changed.type == EventType.VERSION_STATUS_CHANGED and changed.payload["new_status"] == "flagged"


def test_a_node_ban_invalidates_its_reads_and_the_listings_at_the_cdn(
    uow: Uow, released_pack: Store, blobs: FakeBlobs
) -> None:
    cdn = RecordingCdnInvalidator()
    moderation.ban_node(uow(), blobs, cdn, ADMIN, "alice-pub", "pack", "stolen code")
    assert list(cdn.paths) == ["/nodes/pack", "/nodes/pack/*", "/nodes", "/nodes/search", "/versions"]


def test_a_refused_ban_sends_nothing_to_the_cdn(uow: Uow, released_pack: Store, blobs: FakeBlobs) -> None:
    cdn = RecordingCdnInvalidator()
    with pytest.raises(Forbidden):
        moderation.ban_node(uow(), blobs, cdn, ALICE, "alice-pub", "pack", "")
    assert not cdn.paths


def test_a_publisher_ban_and_a_flag_invalidate_their_nodes_at_the_cdn(
    uow: Uow, released_pack: Store, blobs: FakeBlobs
) -> None:
    cdn = RecordingCdnInvalidator()
    flag = moderation.VersionStatusChange(status=VersionStatus.FLAGGED, status_reason="reported")
    moderation.set_version_status(uow(), blobs, cdn, ADMIN, "other", "1.0.0", flag)
    assert list(cdn.paths)[:2] == ["/nodes/other", "/nodes/other/*"]
    cdn.paths.clear()
    moderation.ban_publisher(uow(), blobs, cdn, ADMIN, "alice-pub", "malware")
    assert {"/nodes/pack", "/nodes/pack/*", "/nodes/other", "/nodes/other/*", "/nodes", "/nodes/search"} <= set(
        cdn.paths
    )


def test_an_admin_node_keeps_its_publisher_and_status(uow: Uow, released_pack: Store) -> None:
    fields = NodeFields(name="Renamed")
    with pytest.raises(InvalidInput, match="another publisher"):
        moderation.admin_update_node(uow(), ADMIN, "pack", moderation.AdminNode(fields, publisher_id="elsewhere"))
    with pytest.raises(InvalidInput, match="ban and unban"):
        moderation.admin_update_node(uow(), ADMIN, "pack", moderation.AdminNode(fields, status="banned"))
    node = moderation.admin_update_node(uow(), ADMIN, "pack", moderation.AdminNode(fields, tags_admin=["featured"]))
    assert (node.name, node.tags_admin) == ("Renamed", ["featured"])
    assert released_pack.audit[-1].details["fields"] == ["name", "tags_admin"]


def test_a_second_review_replaces_the_first(uow: Uow, released_pack: Store) -> None:
    community.review(uow(), person("bob"), "pack", 5)
    community.review(uow(), person("carol"), "pack", 3)
    node = community.review(uow(), person("bob"), "pack", 1)
    assert (node.total_star, node.total_review) == (4, 2)
    with pytest.raises(InvalidInput, match="between 1 and 5"):
        community.review(uow(), person("bob"), "pack", 6)


def test_translations_merge_by_language_for_the_owner_only(uow: Uow, released_pack: Store) -> None:
    community.set_translations(uow(), ALICE, "pack", {"ZH-cn": {"name": "包"}, "fr": {"name": "Paquet"}})
    node = community.set_translations(uow(), ADMIN, "pack", {"fr": {}, "de": {"name": "Paket"}})
    assert node.translations == {"zh-CN": {"name": "包"}, "de": {"name": "Paket"}}
    with pytest.raises(Forbidden):
        community.set_translations(uow(), person("mallory"), "pack", {"en": {"name": "x"}})
    with pytest.raises(InvalidInput, match="not a language tag"):
        community.set_translations(uow(), ALICE, "pack", {"english!": {"name": "x"}})
