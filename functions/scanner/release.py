"""Keeping the public release location in step with the database when a version's servability changes outside a
scan: an admin activates a version, a node or publisher is unbanned, or versions were active before quarantine
existed. The scanner is the only writer of releases, so these reach it as registry events and through its sweep.

Each step is idempotent: it compares what the database says with what it should say, copies the quarantined bytes
(checked against the SHA-256 recorded when they were judged) or withdraws, and records the result."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import IO, Any, Literal

from functions.scanner.source import spool_copy
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
# Every status reason the scanner writes on a version it flags starts with this (an admin's own reasons do not).
FLAGGED_BY_SCANNER = "Flagged by automated checks"
CHANGED_AFTER_VERDICT = f"{FLAGGED_BY_SCANNER}: the uploaded archive changed after it was judged; publish a new version"
RELEASE_CONFLICT = f"{FLAGGED_BY_SCANNER}: another archive is already released under this version number"


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
        with blobs.open_read(row.storage_path) as handle:
            local = spool_copy(handle)
    except FileNotFoundError:
        log.error("release: %s %s is active but its upload %s is gone", row.node_id, row.version, row.storage_path)
        return "missing"
    with local:
        if row.archive_sha256 is None:
            # Never scanned, activated by an admin: the admin's decision is the verdict on exactly these bytes.
            local.seek(0)
            row.archive_sha256, row.archive_size = archives.digest(local)
        released = release_judged(blobs, node, row, local, row.archive_sha256, CHANGED_AFTER_VERDICT)
    return "released" if released else "mismatch"


def release_judged(
    blobs: BlobStore, node: Node, row: NodeVersion, local: IO[bytes], sha256: str, refused_reason: str
) -> bool:
    """Copy the judged bytes to the version's public path; the store checks them against `sha256` and refuses to
    replace another archive. A refusal flags the version with `refused_reason` (False)."""
    target = archives.release_path(node.publisher_id, node.id, row.version)
    local.seek(0)
    try:
        blobs.release(target, local, sha256)
    except ArchiveMismatch as exc:
        log.error("release: not releasing %s %s: %s", row.node_id, row.version, exc)
        row.status, row.status_reason = VersionStatus.FLAGGED, refused_reason
        return False
    row.release_path = target
    return True


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
