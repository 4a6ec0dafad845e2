"""What the scanner judged, for the version's publisher (owners) and admins only: its findings, and a short-lived
link to the archive itself, which the public can never fetch before it is released."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.registry.common.access import owner_or_admin
from shared.auth.identity import Identity
from shared.db.models import NodeVersion
from shared.db.types import utcnow
from shared.errors import NotFound
from shared.ports import BlobStore
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class ArchiveLink:
    version: NodeVersion
    url: str
    expires_at: datetime


def _owned_or_admin(
    uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, version_id: str
) -> NodeVersion:
    _, publisher = owner_or_admin(uow, identity, publisher_id)
    node = uow.nodes.get(node_id)
    row = uow.versions.get(version_id)
    if node is None or node.publisher_id != publisher.id or row is None or row.node_id != node.id:
        raise NotFound("Node version not found", code="version_not_found")
    return row


def findings(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, version_id: str) -> NodeVersion:
    with uow:
        row = _owned_or_admin(uow, identity, publisher_id, node_id, version_id)
        uow.commit()
        return row


def archive_link(
    uow: UnitOfWork,
    blobs: BlobStore,
    ttl_seconds: int,
    identity: Identity,
    publisher_id: str,
    node_id: str,
    version_id: str,
) -> ArchiveLink:
    """A signed link to the uploaded archive in the quarantine, whatever the version's status (pending, flagged,
    banned): how a publisher or an admin looks at what the scanner judged."""
    with uow:
        row = _owned_or_admin(uow, identity, publisher_id, node_id, version_id)
        uow.commit()
    if not blobs.exists(row.storage_path):
        raise NotFound("No archive was uploaded for this version", code="archive_not_found")
    expires_at = utcnow() + timedelta(seconds=ttl_seconds)
    return ArchiveLink(row, blobs.signed_download_url(row.storage_path), expires_at)
