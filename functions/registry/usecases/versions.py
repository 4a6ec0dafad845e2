"""Publishing a version (comfy-cli's one call), and a publisher's edits to its versions."""

from __future__ import annotations

from dataclasses import dataclass

from functions.registry.schemas import NodeVersionUpdateIn, PublishIn
from functions.registry.usecases import limits, tokens
from functions.registry.usecases import nodes as node_rules
from functions.registry.usecases.access import node_of, owned_publisher, publisher_or_404
from shared import versions
from shared.auth.identity import Identity
from shared.db.models import NodeVersion
from shared.db.types import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.ports import BlobStore
from shared.settings import Settings
from shared.uow import UnitOfWork

ARCHIVE_TYPE = "application/zip"


@dataclass(frozen=True)
class Published:
    version: NodeVersion
    upload_url: str


def object_path(publisher_id: str, node_id: str, version: str) -> str:
    return f"{publisher_id}/{node_id}/{version}/node.zip"


def publish(
    uow: UnitOfWork, blobs: BlobStore, settings: Settings, publisher_id: str, node_id: str, body: PublishIn
) -> Published:
    if body.node.id and body.node.id != node_id:
        raise InvalidInput(
            f"node.id {body.node.id!r} does not match the URL's node id {node_id!r}", code="node_id_mismatch"
        )
    version = versions.normalize(body.node_version.version)
    with uow:
        publisher = publisher_or_404(uow, publisher_id)
        if publisher.status == "banned":
            raise Forbidden("Publisher Banned", code="publisher_banned")
        token = tokens.authenticate(uow, body.personal_access_token, publisher.id, node_id)
        node = uow.nodes.get(node_id)
        if node is None:
            node = node_rules.new_node(uow, publisher.id, node_id, body.node)
            event = "node.created"
        else:
            if node.publisher_id != publisher.id:
                raise Forbidden("Permission denied", code="permission_denied")
            if node.status == "banned":
                raise Forbidden("Node Banned", code="node_banned")
            node_rules.apply(node, body.node, skip_empty=True)
            node.status = "active"  # publishing to a node its publisher deleted brings it back
            event = "node.updated"
        if uow.versions.find(node.id, version) is not None:
            raise Conflict("The node version already exists", code="version_exists")
        subjects = (f"publisher:{publisher.id}", f"token:{token.id}")
        limits.spend(uow, limits.new_version_limit(settings), *subjects)
        if event == "node.created":
            limits.spend(uow, limits.new_node_limit(settings), *subjects)
        nv = body.node_version
        path = object_path(publisher.id, node.id, version)
        row = NodeVersion(
            node_id=node.id,
            version=version,
            sort_key=versions.sort_key(version),
            changelog=nv.changelog or "",
            pip_dependencies=nv.dependencies or [],
            status=versions.PENDING,
            storage_path=path,
            supported_os=nv.supported_os or [],
            supported_accelerators=nv.supported_accelerators or [],
            supported_comfyui_version=nv.supported_comfyui_version or "",
            supported_comfyui_frontend_version=nv.supported_comfyui_frontend_version or "",
        )
        uow.versions.add(row)
        node.changed_at = utcnow()
        uow.flush()
        # Signed before commit: if the blob store fails (BlobStoreUnavailable, a 503), nothing is half-created and
        # the rate-limit spend is rolled back with the rest.
        upload_url = blobs.signed_upload_url(path, ARCHIVE_TYPE)
        uow.emit(event, node_id=node.id, publisher_id=publisher.id, by_token=token.id)
        uow.emit(
            "version.published",
            node_id=node.id,
            version=version,
            version_id=row.id,
            publisher_id=publisher.id,
            storage_path=path,
            by_token=token.id,
        )
        uow.commit()
        return Published(row, upload_url)


def _owned_version(
    uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, version_id: str
) -> tuple[str, NodeVersion]:
    user, publisher = owned_publisher(uow, identity, publisher_id)
    node = node_of(uow, publisher, node_id)
    if node.status == "banned":
        raise Forbidden("Node Banned", code="node_banned")
    row = uow.versions.get(version_id)
    if row is None or row.node_id != node.id:
        raise NotFound("Node version not found", code="version_not_found")
    return user.id, row


def update(
    uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, version_id: str, body: NodeVersionUpdateIn
) -> NodeVersion:
    with uow:
        uid, row = _owned_version(uow, identity, publisher_id, node_id, version_id)
        if body.changelog is not None:
            row.changelog = body.changelog
        _deprecate(row, body)
        row.updated_at = utcnow()
        uow.nodes.touch(node_id)  # the node's latest version may have changed: incremental sync must see it
        uow.emit(
            "version.updated",
            node_id=node_id,
            version=row.version,
            version_id=row.id,
            deprecated=row.deprecated,
            deprecation_reason=row.deprecation_reason,
            by=uid,
        )
        uow.commit()
        return row


def _deprecate(row: NodeVersion, body: NodeVersionUpdateIn) -> None:
    """`deprecated` sets the flag; a reason goes with a deprecated version only, and un-deprecating clears it."""
    deprecated = row.deprecated if body.deprecated is None else body.deprecated
    reason = (body.deprecation_reason or "").strip()
    if reason and not deprecated:
        raise InvalidInput(
            'deprecation_reason is only accepted for a deprecated version; send "deprecated": true with it',
            code="invalid_deprecation",
        )
    row.deprecated = deprecated
    if not deprecated:
        row.deprecation_reason = ""
    elif body.deprecation_reason is not None:
        row.deprecation_reason = reason


def delete(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, version_id: str) -> None:
    with uow:
        uid, row = _owned_version(uow, identity, publisher_id, node_id, version_id)
        row.status = versions.DELETED
        row.updated_at = utcnow()
        uow.nodes.touch(node_id)
        uow.emit("version.deleted", node_id=node_id, version=row.version, version_id=row.id, by=uid)
        uow.commit()
