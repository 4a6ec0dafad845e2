"""The outbox keeps an event when publishing fails and the sweep sends it later."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select

from shared import outbox
from shared.adapters.inprocess_publisher import InProcessPublisher
from shared.db import migrate
from shared.db.engine import make_engine, session_factory
from shared.db.models import OutboxEvent
from shared.uow import SqlUnitOfWork


class Flaky:
    def __init__(self) -> None:
        self.fail = True
        self.sent: list[bytes] = []

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        if self.fail:
            raise ConnectionError("pubsub down")
        self.sent.append(data)


def test_failed_publish_is_kept_and_swept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    migrate.upgrade(url)
    sessions = session_factory(make_engine(url))
    publisher = Flaky()
    with SqlUnitOfWork(sessions, publisher, "registry-events") as uow:
        uow.emit("node.created", node_id="n1")
        uow.commit()  # the change commits even though publishing fails
    with sessions() as s:
        row = s.scalars(select(OutboxEvent)).one()
        assert row.published_at is None and row.attempts == 1 and "pubsub down" in row.last_error

    publisher.fail = False
    assert outbox.sweep(sessions, publisher) == 1
    assert outbox.sweep(sessions, publisher) == 0  # nothing is sent twice
    body = json.loads(publisher.sent[0])
    assert body["type"] == "node.created" and body["payload"] == {"node_id": "n1"} and body["id"] == row.id


def test_rolled_back_work_sends_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    migrate.upgrade(url)
    sessions = session_factory(make_engine(url))
    publisher = InProcessPublisher()
    try:
        with SqlUnitOfWork(sessions, publisher, "t") as uow:
            uow.emit("x")
            raise RuntimeError("use case failed")
    except RuntimeError:
        pass
    with sessions() as s:
        assert s.scalars(select(OutboxEvent)).all() == []
    assert publisher.delivered == []
