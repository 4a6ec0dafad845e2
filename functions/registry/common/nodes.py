"""A node as its publisher (or an admin) describes it: the command every area that writes nodes takes, and the rules
for applying it (publishing creates and edits nodes, moderation edits any); and a page of nodes, as the reads and a
publisher's listing return it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from functions.registry.common.access import check_node_id, normalized_id
from shared import version_numbers
from shared.db.models import Node
from shared.errors import Conflict
from shared.repositories.ports import NodeFilter
from shared.repositories.views import NodeRecord, VersionRecord
from shared.uow import UnitOfWork

MAX_KEY = 200  # nodes.comfyui_low_key and comfyui_high_key


@dataclass(frozen=True)
class NodePage:
    nodes: Sequence[NodeRecord]
    latest: Mapping[str, VersionRecord]  # node id -> its latest installable version
    total: int
    page: int
    limit: int


def node_page(uow: UnitOfWork, f: NodeFilter, page: int, limit: int) -> NodePage:
    """One page of the nodes `f` selects, each with its latest installable version (within the caller's `with`)."""
    rows, latest, total = uow.nodes.listing(f, page, limit)
    return NodePage(rows, latest, total, page, limit)


@dataclass(frozen=True)
class NodeFields:
    """What is said about a node; None leaves a field as it is. Lists and strings alike."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    category: str | None = None
    author: str | None = None
    license: str | None = None
    icon: str | None = None
    repository: str | None = None
    banner_url: str | None = None
    tags: list[str] | None = None
    supported_os: list[str] | None = None
    supported_accelerators: list[str] | None = None
    supported_comfyui_version: str | None = None
    supported_comfyui_frontend_version: str | None = None


# command field -> column
COLUMNS = {
    "name": "name",
    "description": "description",
    "category": "category",
    "author": "author",
    "license": "license",
    "icon": "icon_url",
    "repository": "repository_url",
    "banner_url": "banner_url",
    "tags": "tags",
    "supported_os": "supported_os",
    "supported_accelerators": "supported_accelerators",
    "supported_comfyui_version": "supported_comfyui_version",
    "supported_comfyui_frontend_version": "supported_comfyui_frontend_version",
}


def apply(node: Node, fields: NodeFields, *, skip_empty: bool) -> bool:
    """Copy the given fields; with skip_empty, "" and [] (comfy-cli's "not set") keep what is stored."""
    changed = False
    for name, column in COLUMNS.items():
        value = getattr(fields, name)
        if value is None or (skip_empty and value in ("", [])):
            continue
        if getattr(node, column) != value:
            setattr(node, column, value)
            changed = True
    low, high = version_numbers.specifier_bounds(node.supported_comfyui_version)
    if max(len(low or ""), len(high or "")) > MAX_KEY:
        low = high = None  # a claim too long to index filters nothing, like one we cannot read
    node.comfyui_low_key, node.comfyui_high_key = low, high
    return changed


def new_node(uow: UnitOfWork, publisher_id: str, node_id: str, fields: NodeFields) -> Node:
    """A node row for a fresh id, refused when the id (or its normalized form) is taken."""
    check_node_id(node_id)
    existing = uow.nodes.get(node_id) or uow.nodes.by_normalized_id(normalized_id(node_id))
    if existing is not None:
        raise Conflict(
            f"Node id {node_id!r} is taken or too close to the existing node {existing.id!r}", code="node_exists"
        )
    node = Node(id=node_id, normalized_id=normalized_id(node_id), publisher_id=publisher_id)
    apply(node, fields, skip_empty=False)
    uow.nodes.add(node)
    return node
