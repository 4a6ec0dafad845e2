"""Finding node classes on the fakes: listings filter by node, normalised version and name and hide what readers must
not see; the node that provides a class is the most installed active one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from functions.registry.comfy_nodes import usecases as comfy
from shared.db.models import ComfyNode
from shared.errors import InvalidInput
from shared.settings import Settings
from shared.statuses import NodeStatus
from tests.fakes import FakeBlobs, FakeUnitOfWork, Store
from tests.usecases.world import publish, publisher, released

Uow = Callable[[], FakeUnitOfWork]


@pytest.fixture
def classes(uow: Uow, store: Store, blobs: FakeBlobs, settings: Settings) -> Store:
    """`pack` 1.0.0 and 1.1.0 and `fork` 1.0.0, all active; each provides Blur, `pack` 1.1.0 Sharpen too."""
    token = publisher(uow)
    for node_id, version in (("pack", "1.0.0"), ("pack", "1.1.0"), ("fork", "1.0.0")):
        publish(uow, blobs, settings, token, node_id, version)
        released(store, blobs, node_id, version)
        row = next(v for v in store.versions.values() if (v.node_id, v.version) == (node_id, version))
        names = ["Blur", "Sharpen"] if version == "1.1.0" else ["Blur"]
        uow().comfy_nodes.add_all([ComfyNode(node_version_id=row.id, name=n, output_is_list=[]) for n in names])
    return store


def _listed(uow: Uow, **query: str) -> list[tuple[str, str, str]]:
    found = comfy.list_all(uow(), comfy.ComfyNodeQuery(**query), 1, 10).comfy_nodes
    store = uow().store
    return [
        (store.versions[c.node_version_id].node_id, store.versions[c.node_version_id].version, c.name) for c in found
    ]


def test_listings_filter_and_order_by_node_newest_version_then_name(uow: Uow, classes: Store) -> None:
    assert _listed(uow) == [
        ("fork", "1.0.0", "Blur"),
        ("pack", "1.1.0", "Blur"),
        ("pack", "1.1.0", "Sharpen"),
        ("pack", "1.0.0", "Blur"),
    ]
    assert _listed(uow, node_id="pack", version="v1.1") == [("pack", "1.1.0", "Blur"), ("pack", "1.1.0", "Sharpen")]
    assert _listed(uow, name="Sharpen") == [("pack", "1.1.0", "Sharpen")]
    with pytest.raises(InvalidInput, match="node_version"):
        comfy.list_all(uow(), comfy.ComfyNodeQuery(version="not a version"), 1, 10)


def test_banned_nodes_are_neither_listed_nor_providers(uow: Uow, classes: Store) -> None:
    classes.nodes["fork"].total_install = 50
    assert comfy.providing_node(uow(), "Blur")[0].id == "fork"  # the most installed
    classes.nodes["fork"].status = NodeStatus.BANNED
    assert {node for node, _, _ in _listed(uow)} == {"pack"}
    node, latest = comfy.providing_node(uow(), "Blur")
    assert node.id == "pack" and latest is not None and latest.version == "1.1.0"
