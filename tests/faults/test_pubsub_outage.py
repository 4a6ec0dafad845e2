"""Pub/Sub is unreachable when the registry commits: the change stands, its events stay in the outbox with the
error, and the outbox sweep sends them once Pub/Sub is back. Through the real PubSubPublisher: first against a
port nobody listens on, then against the official emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared.adapters.pubsub_publisher import PubSubPublisher
from shared.bootstrap import bootstrap, set_container
from shared.db.models import OutboxEvent
from tests.adapters.test_pubsub import PROJECT, Emulator, Subscription, _free_port
from tests.conftest import ROOT, make_settings
from tests.support import RegistryClient

TIMEOUT = 1.0  # seconds the publisher waits for Pub/Sub before the outbox keeps the event


@pytest.fixture
def down_api(
    database_url: str, tmp_path: Path, subscription: Subscription, registry_app: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[RegistryClient, PubSubPublisher]]:
    """The registry with a real PubSubPublisher whose Pub/Sub (a closed port) does not answer."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{_free_port()}")
    publisher = PubSubPublisher(PROJECT, timeout=TIMEOUT)
    settings = make_settings(database_url, tmp_path / "data", EVENTS_TOPIC=subscription.topic)
    container = bootstrap(settings, publisher=publisher)
    set_container(container)
    try:
        yield RegistryClient(registry_app.test_client(), container), publisher
    finally:
        set_container(None)
        publisher.close()


def outbox_rows(api: RegistryClient) -> list[OutboxEvent]:
    with api.container.sessions() as s:
        return list(s.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)).all())


@pytest.mark.emulator
def test_events_wait_in_the_outbox_until_pubsub_is_back(
    down_api: tuple[RegistryClient, PubSubPublisher],
    emulator: Emulator,
    subscription: Subscription,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import functions_framework

    api, publisher = down_api
    token = api.owner_with_token()  # publisher.created: committed, not sent
    api.publish("alice-pub", "pack", "1.0.0", token, upload=False)  # node.created, version.published
    assert api.get("/nodes/pack").status_code == 200
    rows = outbox_rows(api)
    assert [r.type for r in rows] == ["publisher.created", "node.created", "version.published"]
    assert all(r.published_at is None and r.attempts == 1 and r.last_error for r in rows)

    # Pub/Sub is back: the publisher's next client reaches the emulator.
    publisher.close()
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    sweep = functions_framework.create_app("registry_outbox_sweep", str(ROOT / "functions/registry/main.py"), "http")
    assert sweep.test_client().post("/").get_json() == {"sent": 3}
    assert sweep.test_client().post("/").get_json() == {"sent": 0}
    received = subscription.pull(3)
    assert sorted(a["event_id"] for _, a in received) == sorted(r.id for r in rows)
    by_id = {a["event_id"]: json.loads(data) for data, a in received}
    assert by_id[rows[2].id]["payload"]["version"] == "1.0.0"
    assert all(r.published_at is not None and r.attempts == 2 for r in outbox_rows(api))
