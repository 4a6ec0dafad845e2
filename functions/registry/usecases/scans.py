"""Scan findings are shown to the version's publisher (owners) and to admins only."""

from __future__ import annotations

from functions.registry.usecases.access import active_user, publisher_or_404
from shared.auth.identity import Identity
from shared.db.models import NodeVersion
from shared.errors import Forbidden, NotFound
from shared.uow import UnitOfWork


def findings(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, version_id: str) -> NodeVersion:
    with uow:
        user = active_user(uow, identity)
        publisher = publisher_or_404(uow, publisher_id)
        is_admin = user.is_admin or identity.admin_claim
        if not is_admin and uow.publishers.permission(publisher.id, user.id) != "owner":
            raise Forbidden("Permission denied", code="permission_denied")
        node = uow.nodes.get(node_id)
        row = uow.versions.get(version_id)
        if node is None or node.publisher_id != publisher.id or row is None or row.node_id != node.id:
            raise NotFound("Node version not found", code="version_not_found")
        uow.commit()
        return row
