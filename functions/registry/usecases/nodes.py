"""Nodes under a publisher: create, update, delete, and whether the caller may edit one."""

from __future__ import annotations

from functions.registry.schemas import NodeIn
from functions.registry.usecases import limits
from functions.registry.usecases.access import check_node_id, node_of, normalized_id, owned_publisher
from shared import versions
from shared.auth.identity import Identity
from shared.db.models import Node
from shared.db.types import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.settings import Settings
from shared.uow import UnitOfWork

MAX_KEY = 200  # nodes.comfyui_low_key and comfyui_high_key
# wire field -> column; lists and strings alike.
FIELDS = {
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


def apply(node: Node, body: NodeIn, *, skip_empty: bool) -> bool:
    """Copy the given fields; with skip_empty, "" and [] (comfy-cli's "not set") keep what is stored."""
    changed = False
    for wire_name, column in FIELDS.items():
        value = getattr(body, wire_name)
        if value is None or (skip_empty and value in ("", [])):
            continue
        if getattr(node, column) != value:
            setattr(node, column, value)
            changed = True
    low, high = versions.specifier_bounds(node.supported_comfyui_version)
    if max(len(low or ""), len(high or "")) > MAX_KEY:
        low = high = None  # a claim too long to index filters nothing, like one we cannot read
    node.comfyui_low_key, node.comfyui_high_key = low, high
    return changed


def new_node(uow: UnitOfWork, publisher_id: str, node_id: str, body: NodeIn) -> Node:
    """A node row for a fresh id, refused when the id (or its normalized form) is taken."""
    check_node_id(node_id)
    existing = uow.nodes.get(node_id) or uow.nodes.by_normalized_id(normalized_id(node_id))
    if existing is not None:
        raise Conflict(
            f"Node id {node_id!r} is taken or too close to the existing node {existing.id!r}", code="node_exists"
        )
    node = Node(id=node_id, normalized_id=normalized_id(node_id), publisher_id=publisher_id)
    apply(node, body, skip_empty=False)
    uow.nodes.add(node)
    return node


def create(uow: UnitOfWork, identity: Identity, settings: Settings, publisher_id: str, body: NodeIn) -> Node:
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        node = new_node(uow, publisher.id, body.id or "", body)
        limits.spend(uow, limits.new_node_limit(settings), f"publisher:{publisher.id}", f"user:{user.id}")
        uow.flush()
        uow.emit("node.created", node_id=node.id, publisher_id=publisher.id, by=user.id)
        uow.commit()
        return node


def update(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, body: NodeIn) -> Node:
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        node = node_of(uow, publisher, node_id)
        if node.status == "banned":
            raise Forbidden("Node Banned", code="node_banned")
        if body.id is not None and body.id != node.id:
            raise InvalidInput("A node's id cannot be changed", code="immutable_id")
        if apply(node, body, skip_empty=False):
            node.changed_at = utcnow()
        uow.emit("node.updated", node_id=node.id, publisher_id=publisher.id, by=user.id)
        uow.commit()
        return node


def delete(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str) -> None:
    """Soft delete: the id stays reserved, so nobody else can ship code to existing installs under it."""
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        node = node_of(uow, publisher, node_id)
        if node.status == "banned":
            raise Forbidden("Node Banned", code="node_banned")
        node.status = "deleted"
        node.changed_at = utcnow()
        uow.emit("node.deleted", node_id=node.id, publisher_id=publisher.id, by=user.id)
        uow.commit()


def can_edit(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str) -> bool:
    with uow:
        owned_publisher(uow, identity, publisher_id)
        node = uow.nodes.get(node_id)
        uow.commit()
        return node is not None and node.publisher_id == publisher_id and node.status != "deleted"
