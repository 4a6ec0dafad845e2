"""Who may do what: the checks the use cases share, with the old service's messages."""

from __future__ import annotations

import re
from typing import TypeVar

from shared import naming, version_numbers
from shared.auth.identity import Identity
from shared.db.models import Node, NodeVersion, Publisher, User
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.repositories.views import NodeView
from shared.statuses import NodeStatus, Permission, UserStatus
from shared.uow import UnitOfWork

NodeT = TypeVar("NodeT", bound=Node | NodeView)

PUBLISHER_ID = re.compile(r"^[a-z][a-z0-9-]*$")
NODE_ID = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9._-]*[a-zA-Z0-9])?$")


def login(uow: UnitOfWork, identity: Identity) -> User:
    """The caller's user row, created or refreshed from the token's claims."""
    return uow.users.upsert(identity)


def active_user(uow: UnitOfWork, identity: Identity) -> User:
    user = login(uow, identity)
    if user.status == UserStatus.BANNED:
        raise Forbidden("user/publisher is banned", code="user_banned")
    return user


def admin_user(uow: UnitOfWork, identity: Identity) -> User:
    """An active caller who is an admin: `users.is_admin` or the Firebase custom claim `admin`."""
    user = active_user(uow, identity)
    if not is_admin(user, identity):
        raise Forbidden("User is not admin", code="not_admin")
    return user


def is_admin(user: User, identity: Identity) -> bool:
    return user.is_admin or identity.admin_claim


def is_owner(uow: UnitOfWork, user: User, publisher_id: str) -> bool:
    return uow.publishers.permission(publisher_id, user.id) == Permission.OWNER


def require_owner_or_admin(uow: UnitOfWork, user: User, identity: Identity, publisher_id: str) -> None:
    if not is_admin(user, identity) and not is_owner(uow, user, publisher_id):
        raise Forbidden("Permission denied", code="permission_denied")


def owner_or_admin(uow: UnitOfWork, identity: Identity, publisher_id: str) -> tuple[User, Publisher]:
    """An active caller who owns the publisher or is an admin, else 403 (404 for an unknown publisher)."""
    user = active_user(uow, identity)
    publisher = publisher_or_404(uow, publisher_id)
    require_owner_or_admin(uow, user, identity, publisher.id)
    return user, publisher


def publisher_or_404(uow: UnitOfWork, publisher_id: str) -> Publisher:
    publisher = uow.publishers.get(publisher_id)
    if publisher is None:
        raise NotFound("Publisher not found", code="publisher_not_found")
    return publisher


def owned_publisher(uow: UnitOfWork, identity: Identity, publisher_id: str) -> tuple[User, Publisher]:
    """An active caller who owns the publisher, else 403/404."""
    user = active_user(uow, identity)
    publisher = publisher_or_404(uow, publisher_id)
    if not is_owner(uow, user, publisher.id):
        raise Forbidden("Permission denied", code="permission_denied")
    return user, publisher


def node_of(uow: UnitOfWork, publisher: Publisher, node_id: str) -> Node:
    node = uow.nodes.get(node_id)
    if node is None or node.status == NodeStatus.DELETED:
        raise NotFound("Node not found", code="node_not_found")
    if node.publisher_id != publisher.id:
        raise Forbidden("Permission denied", code="permission_denied")
    return node


def readable_node(uow: UnitOfWork, node_id: str) -> Node:
    return readable(uow.nodes.get(node_id))


def readable(node: NodeT | None) -> NodeT:
    """The node as the public may read it: 404 for a missing or deleted one, 403 for a banned one."""
    if node is None or node.status == NodeStatus.DELETED:
        raise NotFound("Node not found", code="node_not_found")
    if node.status == NodeStatus.BANNED:
        raise Forbidden("Node Banned", code="node_banned")
    return node


def find_version(uow: UnitOfWork, node_id: str, version: str) -> NodeVersion | None:
    """The node's version by its number as given (`v1.0` finds 1.0.0); None for an unknown or malformed one."""
    canonical = version_numbers.normalize_or_none(version)
    return uow.versions.find(node_id, canonical) if canonical else None


def check_publisher_id(value: str) -> str:
    if not value:
        raise InvalidInput("Publisher id is required", code="invalid_id")
    if len(value) > 100 or not PUBLISHER_ID.match(value):
        raise InvalidInput(
            "Must start with a lowercase letter and can only contain lowercase letters, digits, and hyphens.",
            code="invalid_id",
        )
    return value


def check_node_id(value: str) -> str:
    if not value or len(value) > 100 or not NODE_ID.match(value):
        raise InvalidInput(
            "Node id must be 1-100 characters of letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit.",
            code="invalid_id",
        )
    return value


def normalized_id(value: str) -> str:
    return naming.fold(value)
