"""The transactional outbox: events are rows written with the change, sent after commit, swept if left."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
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
    with sessions() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.id.in_(ids), OutboxEvent.published_at.is_(None))
        ).all()
        return _send(session, publisher, rows)


def sweep(sessions: sessionmaker[Session], publisher: EventPublisher, limit: int = 500) -> int:
    """Send what earlier relays left behind, oldest first. Safe to run concurrently with relays:
    consumers deduplicate on the event id, so a rare double send is harmless."""
    with sessions() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.created_at).limit(limit)
        ).all()
        return _send(session, publisher, rows)


def _send(session: Session, publisher: EventPublisher, rows: Iterable[OutboxEvent]) -> int:
    sent = 0
    for row in rows:
        data, attributes = encode(row)
        try:
            publisher.publish(row.topic, data, attributes)
        except Exception as exc:  # noqa: BLE001 - any publisher failure leaves the row for the sweep
            log.warning("outbox: publishing %s (%s) failed: %s", row.id, row.type, exc)
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == row.id)
                .values(attempts=OutboxEvent.attempts + 1, last_error=str(exc)[:2000])
            )
        else:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == row.id)
                .values(published_at=utcnow(), attempts=OutboxEvent.attempts + 1)
            )
            sent += 1
        session.commit()
    return sent
