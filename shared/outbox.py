"""The transactional outbox: events are rows written with the change, sent after commit, swept if left."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.db.models import OutboxEvent
from shared.db.types import utcnow
from shared.ports import EventPublisher

log = logging.getLogger(__name__)


def new_event(topic: str, type_: str, payload: dict[str, Any]) -> OutboxEvent:
    return OutboxEvent(topic=topic, type=type_, payload=payload)


def encode(event: OutboxEvent) -> tuple[bytes, dict[str, str]]:
    body = {"id": event.id, "type": event.type, "payload": event.payload, "created_at": event.created_at.isoformat()}
    return json.dumps(body, sort_keys=True).encode(), {"event_id": event.id, "event_type": event.type}


def relay(sessions: sessionmaker[Session], publisher: EventPublisher, event_ids: Iterable[str]) -> int:
    """Send the given committed events; a failure is logged and left for the sweep."""
    ids = list(event_ids)
    if not ids:
        return 0
    return _send(sessions, publisher, OutboxEvent.id.in_(ids))


def sweep(sessions: sessionmaker[Session], publisher: EventPublisher, limit: int = 500) -> int:
    """Send what earlier relays left behind, oldest first. Safe to run concurrently with relays:
    consumers deduplicate on the event id, so a rare double send is harmless."""
    return _send(sessions, publisher, None, limit=limit)


@dataclass(frozen=True)
class _Pending:
    id: str
    topic: str
    type: str
    data: bytes
    attributes: dict[str, str]


def _send(sessions: sessionmaker[Session], publisher: EventPublisher, which: Any, *, limit: int = 500) -> int:
    """Read the unsent rows, let go of the connection, publish, then record each outcome in a short transaction of
    its own. No connection is held while publishing: an in-process consumer (the local stack's indexer) opens its
    own, and a slow Pub/Sub must not pin one of the pool's few connections."""
    stmt = select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.created_at)
    stmt = stmt.where(which) if which is not None else stmt.limit(limit)
    with sessions() as session:
        pending = [_Pending(r.id, r.topic, r.type, *encode(r)) for r in session.scalars(stmt).all()]
    sent = 0
    for event in pending:
        values: dict[str, Any] = {"attempts": OutboxEvent.attempts + 1}
        try:
            publisher.publish(event.topic, event.data, event.attributes)
        except Exception as exc:  # noqa: BLE001 - any publisher failure leaves the row for the sweep
            log.warning("outbox: publishing %s (%s) failed: %s", event.id, event.type, exc)
            values["last_error"] = str(exc)[:2000]
        else:
            values["published_at"] = utcnow()
            sent += 1
        with sessions() as session:
            session.execute(update(OutboxEvent).where(OutboxEvent.id == event.id).values(**values))
            session.commit()
    return sent
