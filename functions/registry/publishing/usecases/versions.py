"""Publishing a version (comfy-cli's one call), and a publisher's edits to its versions."""

from __future__ import annotations

from dataclasses import dataclass

from functions.registry.common import limits
from functions.registry.common import nodes as node_rules
from functions.registry.common.access import node_of, owned_publisher, publisher_or_404
from functions.registry.publishing.usecases import tokens
from functions.registry.publishing.usecases.commands import Publish, VersionEdit, VersionFields
from shared import archives, releases, version_numbers
from shared.auth.identity import Identity
from shared.db.models import Node, NodeVersion, PersonalAccessToken
from shared.db.types import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import EventType
from shared.ports import BlobStore
from shared.settings import Settings
from shared.statuses import NodeStatus, PublisherStatus, VersionStatus
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Published:
    version: NodeVersion
    upload_url: str


def publish(
    uow: UnitOfWork, blobs: BlobStore, settings: Settings, publisher_id: str, node_id: str, body: Publish
) -> Published:
    """Create a pending version and a signed URL for its archive.

    Safe to retry: the same publish (same token, node and version) while the version still waits for its archive
    answers again with a fresh URL for the same upload, and a version whose archive never arrived (swept to
    `deleted`) may be published again. Anything else under an existing version number is a 409."""
    if body.node.id and body.node.id != node_id:
        raise InvalidInput(
            f"node.id {body.node.id!r} does not match the URL's node id {node_id!r}", code="node_id_mismatch"
        )
    version = version_numbers.normalize(body.version.version)
    with uow:
        publisher = publisher_or_404(uow, publisher_id)
        if publisher.status == PublisherStatus.BANNED:
            raise Forbidden("Publisher Banned", code="publisher_banned")
        token = tokens.authenticate(uow, body.token, publisher.id, node_id)
        node = uow.nodes.get(node_id)
        if node is None:
            node = node_rules.new_node(uow, publisher.id, node_id, body.node)
            event = EventType.NODE_CREATED
        else:
            if node.publisher_id != publisher.id:
                raise Forbidden("Permission denied", code="permission_denied")
            if node.status == NodeStatus.BANNED:
                raise Forbidden("Node Banned", code="node_banned")
            node_rules.apply(node, body.node, skip_empty=True)
            node.status = NodeStatus.ACTIVE  # publishing to a node its publisher deleted brings it back
            event = EventType.NODE_UPDATED
        row = uow.versions.find(node.id, version, lock=True)
        if row is not None and _is_retry(blobs, row, token):
            return _answer_again(uow, blobs, settings, node, row, body.version, event, token)
        if row is not None and not _reusable(row):
            raise Conflict("The node version already exists", code="version_exists")
        subjects = (f"publisher:{publisher.id}", f"token:{token.id}")
        limits.spend(uow, limits.new_version_limit(settings), *subjects)
        if event == EventType.NODE_CREATED:
            limits.spend(uow, limits.new_node_limit(settings), *subjects)
        if row is None:
            row = NodeVersion(node_id=node.id, version=version, sort_key=version_numbers.sort_key(version))
            uow.versions.add(row)
        _reset(row, node, body.version, token)
        node.changed_at = utcnow()
        uow.flush()
        # Signed before commit: if the blob store fails (BlobStoreUnavailable, a 503), nothing is half-created and
        # the rate-limit spend is rolled back with the rest.
        upload_url = blobs.signed_upload_url(row.storage_path, archives.ARCHIVE_TYPE, settings.scan_max_archive_bytes)
        uow.emit(event, node_id=node.id, publisher_id=publisher.id, by_token=token.id)
        uow.emit(
            EventType.VERSION_PUBLISHED,
            node_id=node.id,
            version=version,
            version_id=row.id,
            publisher_id=publisher.id,
            storage_path=row.storage_path,
            by_token=token.id,
        )
        uow.commit()
        return Published(row, upload_url)


def _is_retry(blobs: BlobStore, row: NodeVersion, token: PersonalAccessToken) -> bool:
    """The publish that created `row`, again: same token, and the archive has not arrived yet."""
    return (
        row.status == VersionStatus.PENDING
        and row.published_by_token == token.id
        and row.archive_sha256 is None
        and not blobs.exists(row.storage_path)
    )


def _reusable(row: NodeVersion) -> bool:
    """A deleted version that never had an archive: nobody can have installed it, so its number is free again."""
    return row.status == VersionStatus.DELETED and row.archive_sha256 is None and row.release_path is None


def _reset(row: NodeVersion, node: Node, nv: VersionFields, token: PersonalAccessToken) -> None:
    """A pending version as this publish describes it, uploading to a quarantine object of its own."""
    _describe(row, nv)
    row.status, row.status_reason = VersionStatus.PENDING, ""
    row.storage_path = archives.upload_path(node.publisher_id, node.id, row.version, archives.new_attempt())
    row.release_path = None
    row.published_by_token = token.id
    row.deprecated, row.deprecation_reason = False, ""
    row.scan_findings, row.scanned_at = None, None
    row.comfy_node_extract_status = "pending"  # the extraction status, not a version status
    row.created_at = row.updated_at = utcnow()


def _describe(row: NodeVersion, nv: VersionFields) -> None:
    row.changelog = nv.changelog or ""
    row.pip_dependencies = nv.dependencies or []
    row.supported_os = nv.supported_os or []
    row.supported_accelerators = nv.supported_accelerators or []
    row.supported_comfyui_version = nv.supported_comfyui_version or ""
    row.supported_comfyui_frontend_version = nv.supported_comfyui_frontend_version or ""


def _answer_again(
    uow: UnitOfWork,
    blobs: BlobStore,
    settings: Settings,
    node: Node,
    row: NodeVersion,
    nv: VersionFields,
    event: str,
    token: PersonalAccessToken,
) -> Published:
    """A retried publish whose first answer was lost: the same row, described as the retry says, and a fresh URL
    for the same upload. No rate-limit spend and no second `version.published`."""
    _describe(row, nv)
    row.updated_at = node.changed_at = utcnow()
    upload_url = blobs.signed_upload_url(row.storage_path, archives.ARCHIVE_TYPE, settings.scan_max_archive_bytes)
    uow.emit(event, node_id=node.id, publisher_id=node.publisher_id, by_token=token.id)
    uow.commit()
    return Published(row, upload_url)


def _owned_version(
    uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, version_id: str
) -> tuple[str, Node, NodeVersion]:
    user, publisher = owned_publisher(uow, identity, publisher_id)
    node = node_of(uow, publisher, node_id)
    if node.status == NodeStatus.BANNED:
        raise Forbidden("Node Banned", code="node_banned")
    row = uow.versions.get(version_id)
    if row is None or row.node_id != node.id:
        raise NotFound("Node version not found", code="version_not_found")
    return user.id, node, row


def update(
    uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, version_id: str, body: VersionEdit
) -> NodeVersion:
    with uow:
        uid, _, row = _owned_version(uow, identity, publisher_id, node_id, version_id)
        if body.changelog is not None:
            row.changelog = body.changelog
        _deprecate(row, body)
        row.updated_at = utcnow()
        uow.nodes.touch(node_id)  # the node's latest version may have changed: incremental sync must see it
        uow.emit(
            EventType.VERSION_UPDATED,
            node_id=node_id,
            version=row.version,
            version_id=row.id,
            deprecated=row.deprecated,
            deprecation_reason=row.deprecation_reason,
            by=uid,
        )
        uow.commit()
        return row


def _deprecate(row: NodeVersion, body: VersionEdit) -> None:
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


def delete(
    uow: UnitOfWork, blobs: BlobStore, identity: Identity, publisher_id: str, node_id: str, version_id: str
) -> None:
    """A deleted version is no longer installable, and its public archive is withdrawn before the change commits."""
    with uow:
        uid, node, row = _owned_version(uow, identity, publisher_id, node_id, version_id)
        releases.withdraw(blobs, [(node, row)])
        row.status = VersionStatus.DELETED
        row.updated_at = utcnow()
        uow.nodes.touch(node_id)
        uow.emit(EventType.VERSION_DELETED, node_id=node_id, version=row.version, version_id=row.id, by=uid)
        uow.commit()
