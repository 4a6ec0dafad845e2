"""The public reads' rules: what `/install` hands out, how a listing's filters are read (ComfyUI-Manager's form
factors, its ComfyUI version), the bulk lookup's answers, and what search may show; on the fakes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from functions.registry.reads import usecases as reads
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.ports import SearchFilters
from shared.settings import Settings
from shared.statuses import NodeStatus, PublisherStatus, VersionStatus
from tests.fakes import FakeBlobs, FakeTally, FakeUnitOfWork, Store
from tests.search.support import FakeIndex
from tests.usecases.world import publish, publisher, released

Uow = Callable[[], FakeUnitOfWork]


@pytest.fixture
def catalog(uow: Uow, store: Store, blobs: FakeBlobs, settings: Settings) -> Store:
    """pack 1.0.0 released, 1.1.0 pending, 0.9.0 flagged; other 1.0.0 released."""
    token = publisher(uow)
    for node, version in (("pack", "0.9.0"), ("pack", "1.0.0"), ("pack", "1.1.0"), ("other", "1.0.0")):
        publish(uow, blobs, settings, token, node, version)
    released(store, blobs, "pack")
    released(store, blobs, "other")
    next(v for v in store.versions.values() if v.version == "0.9.0").status = VersionStatus.FLAGGED
    return store


def test_install_hands_out_only_released_versions_and_counts_each(uow: Uow, catalog: Store, tally: FakeTally) -> None:
    assert reads.install(uow(), tally, "pack", None).version == "1.0.0"  # the newest installable one
    assert reads.install(uow(), tally, "pack", "v1.0").version == "1.0.0"
    with pytest.raises(Conflict, match="being scanned"):
        reads.install(uow(), tally, "pack", "1.1.0")
    with pytest.raises(Forbidden, match="flagged"):
        reads.install(uow(), tally, "pack", "0.9.0")
    with pytest.raises(NotFound):
        reads.install(uow(), tally, "pack", "7.0.0")
    assert tally.counts == {"pack": 2}  # refusals count nothing


def test_an_active_version_not_yet_released_waits(uow: Uow, catalog: Store, tally: FakeTally) -> None:
    next(v for v in catalog.versions.values() if v.node_id == "other").release_path = None
    with pytest.raises(Conflict, match="being released"):
        reads.install(uow(), tally, "other", None)


def test_banned_and_deleted_nodes_are_not_read(uow: Uow, catalog: Store, tally: FakeTally) -> None:
    catalog.nodes["pack"].status = NodeStatus.BANNED
    with pytest.raises(Forbidden, match="Node Banned"):
        reads.install(uow(), tally, "pack", None)
    catalog.nodes["other"].status = NodeStatus.DELETED
    with pytest.raises(NotFound):
        reads.get_node(uow(), "other")


@pytest.mark.parametrize(
    ("query", "os_lists", "version_key"),
    [
        (reads.NodeQuery(form_factor="desktop-win"), [["Microsoft :: Windows", "OS Independent"]], False),
        (reads.NodeQuery(form_factor="portable"), [], False),  # an unknown form factor filters nothing
        (reads.NodeQuery(supported_os=["MacOS"]), [["MacOS", "OS Independent"]], False),
        (reads.NodeQuery(comfyui_version="v0.3.40"), [], True),
        (reads.NodeQuery(comfyui_version="unknown"), [], False),  # only a version filters
    ],
)
def test_a_listing_reads_manager_filters(query: reads.NodeQuery, os_lists: list[list[str]], version_key: bool) -> None:
    f = reads.node_filter(query)
    assert f.supported_os == os_lists
    assert (f.comfyui_version_key is not None) == version_key


def test_a_listing_sorts_only_by_known_fields() -> None:
    assert reads.node_filter(reads.NodeQuery(sort=[("downloads", True)])).sort == [("downloads", True)]
    with pytest.raises(InvalidInput, match="Cannot sort by"):
        reads.node_filter(reads.NodeQuery(sort=[("password", False)]))


def test_listings_hide_banned_nodes_and_show_each_latest_version(uow: Uow, catalog: Store) -> None:
    page = reads.list_nodes(uow(), reads.NodeQuery(), 1, 10)
    assert [n.id for n in page.nodes] == ["other", "pack"] and page.latest["pack"].version == "1.0.0"
    catalog.nodes["other"].status = NodeStatus.BANNED
    assert [n.id for n in reads.list_nodes(uow(), reads.NodeQuery(), 1, 10).nodes] == ["pack"]
    assert reads.list_nodes(uow(), reads.NodeQuery(include_banned=True), 1, 10).total == 2


def test_the_bulk_lookup_says_what_each_item_is(uow: Uow, catalog: Store) -> None:
    catalog.nodes["other"].status = NodeStatus.BANNED
    wanted = [("pack", "v1.0"), ("pack", "9.9.9"), ("ghost", "1.0.0"), ("pack", "not-a-version"), ("other", "1.0.0")]
    items = reads.bulk_versions(uow(), wanted, max_items=10)
    assert [i.status for i in items] == ["success", "not_found", "not_found", "error", "error"]
    assert items[0].row is not None and items[0].row.version == "1.0.0" and items[4].error == "Node Banned"
    with pytest.raises(InvalidInput, match="At most 2"):
        reads.bulk_versions(uow(), wanted, max_items=2)
    with pytest.raises(InvalidInput, match="at least one"):
        reads.bulk_versions(uow(), [], max_items=2)


def test_search_shows_what_the_index_picked_minus_what_became_hidden(uow: Uow, catalog: Store) -> None:
    index = FakeIndex(nodes={i: {"objectID": i} for i in ("pack", "ghost", "other")})  # ghost: deleted since
    page = reads.search_nodes(uow(), index, "", SearchFilters(), 1, 10)
    assert [n.id for n in page.nodes] == ["other", "pack"] and page.total == 3  # the index's count, as it lags
    catalog.publishers["alice-pub"].status = PublisherStatus.BANNED
    assert reads.search_nodes(uow(), index, "", SearchFilters(), 1, 10).nodes == []
    with pytest.raises(InvalidInput, match="longer than"):
        reads.search_nodes(uow(), index, "x" * 300, SearchFilters(), 1, 10)
