"""Keeping the public release location in step with the database when a version's servability changes outside a
scan: an admin activates a version, a node or publisher is unbanned, or versions were active before quarantine
existed. The scanner is the only writer of releases, so these reach it as registry events and through its sweep.

Each step is idempotent: it compares what the database says with what it should say, copies the quarantined bytes
(checked against the SHA-256 recorded when they were judged) or withdraws, and records the result."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable, Mapping
from typing import IO, Any, Literal

from shared import archives, releases
from shared.db.models import Node, NodeVersion
from shared.errors import ArchiveMismatch
from shared.events import EventType
from shared.ports import BlobStore
from shared.statuses import VersionStatus
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
Outcome = Literal["released", "withdrawn", "unchanged", "missing", "mismatch", "unknown"]
# Events after which a node's releases may be due: a version (re)activated, a node or publisher unbanned. Bans and
# flags withdraw synchronously where they happen; applying those again here is harmless and catches a lost release.
VERSION_EVENTS = frozenset({EventType.VERSION_STATUS_CHANGED})
NODE_EVENTS = frozenset({EventType.NODE_UNBANNED, EventType.NODE_BANNED})
PUBLISHER_EVENTS = frozenset({EventType.PUBLISHER_UNBANNED, EventType.PUBLISHER_BANNED})
CHANGED_AFTER_VERDICT = "Flagged: the uploaded archive no longer matches the one that was judged"


def reconcile(uow: UnitOfWork, blobs: BlobStore, version_id: str) -> Outcome:
    with uow:
        row = uow.versions.get(version_id, lock=True)
        node = uow.nodes.get(row.node_id) if row is not None else None
        if row is None or node is None:
            return "unknown"
        if releases.servable(row, node):
            if row.release_path is not None:
                return "unchanged"
            outcome = _release(blobs, node, row)
        elif row.release_path is not None:
            releases.withdraw(blobs, [(node, row)])
            outcome = "withdrawn"
        else:
            return "unchanged"
        if outcome == "missing":
            return outcome
        ids = {"node_id": row.node_id, "version": row.version, "version_id": row.id, "by": "scanner"}
        if outcome == "mismatch":
            uow.emit(EventType.VERSION_STATUS_CHANGED, **ids, old_status=VersionStatus.ACTIVE, new_status=row.status)
        else:
            uow.emit(EventType.VERSION_RELEASED if outcome == "released" else EventType.VERSION_WITHDRAWN, **ids)
        uow.commit()
        return outcome


def _release(blobs: BlobStore, node: Node, row: NodeVersion) -> Outcome:
    try:
        local = _copy(blobs, row.storage_path)
    except FileNotFoundError:
        log.error("release: %s %s is active but its upload %s is gone", row.node_id, row.version, row.storage_path)
        return "missing"
    with local:
        digest, size = _digest(local)
        if row.archive_sha256 is None:
            # Never scanned, activated by an admin: the admin's decision is the verdict on exactly these bytes.
            row.archive_sha256, row.archive_size = digest, size
        target = archives.release_path(node.publisher_id, node.id, row.version)
        try:
            if digest != row.archive_sha256:
                raise ArchiveMismatch(f"{row.storage_path} hashes to {digest}, judged {row.archive_sha256}")
            blobs.release(target, local, digest)
        except ArchiveMismatch as exc:
            log.error("release: not releasing %s %s: %s", row.node_id, row.version, exc)
            row.status, row.status_reason = VersionStatus.FLAGGED, CHANGED_AFTER_VERDICT
            return "mismatch"
    row.release_path = target
    return "released"


def _copy(blobs: BlobStore, path: str) -> tempfile.SpooledTemporaryFile[bytes]:
    local: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - the caller closes it
    try:
        with blobs.open_read(path) as handle:
            while chunk := handle.read(1 << 20):
                local.write(chunk)
    except BaseException:
        local.close()
        raise
    return local


def _digest(data: IO[bytes]) -> tuple[str, int]:
    data.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := data.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    data.seek(0)
    return digest.hexdigest(), size


def reconcile_nodes(uow_factory: Callable[[], UnitOfWork], blobs: BlobStore, node_ids: list[str]) -> dict[str, int]:
    with uow_factory() as uow:
        ids = [v.id for v in uow.versions.of_nodes(node_ids)]
    counts: dict[str, int] = {}
    for version_id in ids:
        outcome = reconcile(uow_factory(), blobs, version_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def apply_event(
    uow_factory: Callable[[], UnitOfWork], blobs: BlobStore, event_type: str, payload: Mapping[str, Any]
) -> dict[str, int]:
    """What a registry event means for releases; events of other types change nothing."""
    if event_type in VERSION_EVENTS and isinstance(version_id := payload.get("version_id"), str):
        outcome = reconcile(uow_factory(), blobs, version_id)
        return {outcome: 1}
    if event_type in NODE_EVENTS and isinstance(node_id := payload.get("node_id"), str):
        return reconcile_nodes(uow_factory, blobs, [node_id])
    if event_type in PUBLISHER_EVENTS and isinstance(publisher_id := payload.get("publisher_id"), str):
        with uow_factory() as uow:
            node_ids = uow.nodes.ids_of_publisher(publisher_id)
        return reconcile_nodes(uow_factory, blobs, node_ids)
    return {}


def sweep_unreleased(
    uow_factory: Callable[[], UnitOfWork], blobs: BlobStore, *, batch: int = 100, max_versions: int = 10_000
) -> dict[str, int]:
    """Release every servable version that has no public archive yet (active before quarantine existed, or whose
    release event was lost), batch by batch in id order."""
    counts: dict[str, int] = {}
    after, done = "", 0
    while done < max_versions:
        with uow_factory() as uow:
            ids = uow.versions.unreleased(after_id=after, limit=batch)
        if not ids:
            break
        for version_id in ids:
            outcome = reconcile(uow_factory(), blobs, version_id)
            counts[outcome] = counts.get(outcome, 0) + 1
        after, done = ids[-1], done + len(ids)
    return counts
