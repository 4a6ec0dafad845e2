"""Keeping the search index in step with the database.

Every write rebuilds the records of the nodes an event names from the database's current state, whatever the event
says: a duplicate, late or out-of-order event therefore sends the same records a timely one would, and the index
converges on the database. A node that nobody may find (banned, deleted, no installable version) has its record
and its versions' records deleted. Each applied event is recorded (AppliedEvents) in the same transaction, so a
redelivery is skipped; download counts, which change without events, are sent in batches by `sync_downloads`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from functions.indexer.records import node_record, version_record
from shared.events import EventType, is_request
from shared.messages import Event
from shared.ports import SearchIndex
from shared.statuses import INSTALLABLE
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

CONSUMER = "indexer"
REINDEX_REQUESTED = EventType.INDEX_REINDEX_REQUESTED
# Event families that name one node (`node_id`) or one publisher (`publisher_id`, every node of it).
NODE_FAMILIES = ("node", "version", "comfy_node")
PUBLISHER_FAMILY = "publisher"

UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class Synced:
    shown: int  # nodes whose record was written
    hidden: int  # nodes whose record (and versions' records) were deleted


def affected_nodes(uow: UnitOfWork, event: Event) -> list[str] | None:
    """The nodes whose records an event may have changed; None for an event the index does not care about
    (unknown types included: new producers may add events before the indexer knows them)."""
    family = event.type.split(".", 1)[0]
    if is_request(event.type):  # work orders for other consumers (scans, extractions)
        return None
    node_id = event.payload.get("node_id")
    if family in NODE_FAMILIES and isinstance(node_id, str) and node_id:
        return [node_id]
    publisher_id = event.payload.get("publisher_id")
    if family == PUBLISHER_FAMILY and isinstance(publisher_id, str) and publisher_id:
        return uow.search.publisher_node_ids(publisher_id)
    return None


def sync_nodes(uow: UnitOfWork, index: SearchIndex, node_ids: Collection[str]) -> Synced:
    """Send these nodes' records as the database has them now (within the caller's transaction)."""
    ids = sorted(set(node_ids))
    if not ids:
        return Synced(0, 0)
    uow.search.lock_nodes(ids)
    visible = uow.search.visible_ids(ids)
    nodes = uow.nodes.get_many(sorted(visible))
    latest = uow.versions.latest_for_nodes(sorted(visible))
    shown = [i for i in ids if i in visible and i in nodes and i in latest]
    hidden = [i for i in ids if i not in set(shown)]
    names = uow.search.comfy_node_names([latest[i].id for i in shown])
    versions = uow.search.versions_of(ids)
    live = [v for v in versions if v.node_id in set(shown) and v.status in INSTALLABLE]
    live_ids = {v.id for v in live}
    index.upsert_nodes([node_record(nodes[i], latest[i], names.get(latest[i].id, [])) for i in shown])
    index.delete_nodes(hidden)
    index.upsert_versions([version_record(v) for v in live])
    index.delete_versions([v.id for v in versions if v.id not in live_ids])
    uow.search.mark_indexed({i: nodes[i].total_install for i in shown})
    uow.search.forget(hidden)
    return Synced(len(shown), len(hidden))


def apply_event(uow_factory: UowFactory, index: SearchIndex, event: Event) -> str:
    """`applied`, `duplicate` or `ignored`. An index failure raises before the event is recorded, so the
    message is delivered again."""
    with uow_factory() as uow:
        node_ids = affected_nodes(uow, event)
        if node_ids is None:
            return "ignored"
        if not uow.applied_events.first_time(CONSUMER, event.id):
            return "duplicate"
        synced = sync_nodes(uow, index, node_ids)
        if index.updated_by_indexer:
            uow.readers_changed()  # search answers cached before the index caught up are stale now
        uow.commit()
    log.info("indexer: %s %s: %d shown, %d hidden", event.type, event.id, synced.shown, synced.hidden)
    return "applied"


def first_time(uow_factory: UowFactory, event: Event) -> bool:
    """Record an event that is acted on outside one transaction (a reindex); False if it was seen before."""
    with uow_factory() as uow:
        fresh = uow.applied_events.first_time(CONSUMER, event.id)
        uow.commit()
        return fresh


def sync_downloads(uow_factory: UowFactory, index: SearchIndex, limit: int) -> int:
    """Send the records of up to `limit` visible nodes whose download count changed since last sent (installs
    emit no events: one write per install would cost more than the count is worth)."""
    with uow_factory() as uow:
        node_ids = uow.search.stale_downloads(limit)
        synced = sync_nodes(uow, index, node_ids)
        uow.commit()
    return synced.shown
