"""Nodes under a publisher: create, update, delete, and whether the caller may edit one."""

from __future__ import annotations

from functions.registry.common import limits
from functions.registry.common.access import node_of, owned_publisher, publisher_or_404
from functions.registry.common.nodes import NodeFields, NodePage, apply, new_node, node_page
from shared.auth.identity import Identity
from shared.db.models import Node
from shared.db.types import utcnow
from shared.errors import Forbidden, InvalidInput
from shared.events import EventType
from shared.repositories.ports import NodeFilter
from shared.settings import Settings
from shared.statuses import NodeStatus
from shared.uow import UnitOfWork


def create(uow: UnitOfWork, identity: Identity, settings: Settings, publisher_id: str, body: NodeFields) -> Node:
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        node = new_node(uow, publisher.id, body.id or "", body)
        limits.spend(uow, limits.new_node_limit(settings), f"publisher:{publisher.id}", f"user:{user.id}")
        uow.flush()
        uow.emit(EventType.NODE_CREATED, node_id=node.id, publisher_id=publisher.id, by=user.id)
        uow.commit()
        return node


def update(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, body: NodeFields) -> Node:
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        node = node_of(uow, publisher, node_id)
        if node.status == NodeStatus.BANNED:
            raise Forbidden("Node Banned", code="node_banned")
        if body.id is not None and body.id != node.id:
            raise InvalidInput("A node's id cannot be changed", code="immutable_id")
        if apply(node, body, skip_empty=False):
            node.changed_at = utcnow()
        uow.emit(EventType.NODE_UPDATED, node_id=node.id, publisher_id=publisher.id, by=user.id)
        uow.commit()
        return node


def delete(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str) -> None:
    """Soft delete: the id stays reserved, so nobody else can ship code to existing installs under it."""
    with uow:
        user, publisher = owned_publisher(uow, identity, publisher_id)
        node = node_of(uow, publisher, node_id)
        if node.status == NodeStatus.BANNED:
            raise Forbidden("Node Banned", code="node_banned")
        node.status = NodeStatus.DELETED
        node.changed_at = utcnow()
        uow.emit(EventType.NODE_DELETED, node_id=node.id, publisher_id=publisher.id, by=user.id)
        uow.commit()


def can_edit(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str) -> bool:
    with uow:
        owned_publisher(uow, identity, publisher_id)
        node = uow.nodes.get(node_id)
        uow.commit()
        return node is not None and node.publisher_id == publisher_id and node.status != NodeStatus.DELETED


def of_publisher(uow: UnitOfWork, publisher_id: str, include_banned: bool, page: int, limit: int) -> NodePage:
    """A publisher's nodes (not deleted ones), with each one's latest installable version."""
    with uow:
        publisher_or_404(uow, publisher_id)
        return node_page(uow, NodeFilter(include_banned=include_banned, publisher_id=publisher_id), page, limit)
