"""The scheduled jobs the registry starts: each finds work and hands it on as outbox events, one per item.

Events (payloads) for their consumers:
- `version.scan_requested` {node_id, version, version_id, storage_path, by}: the scanner re-checks a version that
  is still `pending`.
- `version.extract_requested` {node_id, version, version_id, storage_path, by}: the node-class extraction runs
  again for a version whose extraction never reported.
- `index.reindex_requested` {max_batch, min_age_seconds, by}: the indexer rebuilds the search index (`null`
  means its own default)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from shared.db.models import NodeVersion
from shared.db.types import utcnow
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Requested:
    versions: Sequence[NodeVersion]


def _emit_each(uow: UnitOfWork, type_: str, rows: Sequence[NodeVersion], by: str) -> None:
    for row in rows:
        uow.emit(
            type_, node_id=row.node_id, version=row.version, version_id=row.id, storage_path=row.storage_path, by=by
        )


def request_scans(uow: UnitOfWork, service_account: str, min_age: timedelta, max_nodes: int) -> Requested:
    """Ask for a scan of up to `max_nodes` versions still pending at least `min_age` after publishing."""
    with uow:
        rows = uow.comfy_nodes.awaiting_scan(utcnow() - min_age, max_nodes)
        _emit_each(uow, "version.scan_requested", rows, service_account)
        uow.commit()
        return Requested(rows)


def request_extractions(uow: UnitOfWork, service_account: str, max_versions: int) -> Requested:
    """Re-run extraction for up to `max_versions` versions whose extraction is still pending, oldest first."""
    with uow:
        rows = uow.comfy_nodes.awaiting_extraction(max_versions)
        _emit_each(uow, "version.extract_requested", rows, service_account)
        uow.commit()
        return Requested(rows)


def request_reindex(uow: UnitOfWork, service_account: str, max_batch: int | None, min_age: timedelta | None) -> None:
    with uow:
        uow.emit(
            "index.reindex_requested",
            max_batch=max_batch,
            min_age_seconds=min_age.total_seconds() if min_age is not None else None,
            by=service_account,
        )
        uow.commit()
