"""Registry events through the official Pub/Sub emulator to the indexer: the registry publishes its outbox to a
topic, a subscription pulls the messages (in whatever order Pub/Sub hands them out) and each is pushed to the
indexer's CloudEvent entry point. Skipped, with the reason printed, where gcloud, java or the emulator is missing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared.adapters.inprocess_publisher import Message
from shared.adapters.pubsub_publisher import PubSubPublisher
from shared.bootstrap import bootstrap, set_container
from shared.db.models import OutboxEvent
from tests.adapters.test_pubsub import PROJECT, Subscription
from tests.conftest import make_settings
from tests.search.support import Catalog, FakeIndex, deliver
from tests.search.test_indexer import activate, assert_in_step
from tests.support import RegistryClient


@pytest.fixture
def emulated_api(
    database_url: str,
    tmp_path: Path,
    subscription: Subscription,
    registry_app: Any,
) -> Iterator[RegistryClient]:
    publisher = PubSubPublisher(PROJECT, timeout=10.0)
    settings = make_settings(database_url, tmp_path / "data", EVENTS_TOPIC=subscription.topic)
    container = bootstrap(settings, publisher=publisher)
    set_container(container)
    try:
        yield RegistryClient(registry_app.test_client(), container)
    finally:
        set_container(None)
        publisher.close()


@pytest.mark.emulator
def test_events_through_pubsub_reach_the_index(
    emulated_api: RegistryClient,
    subscription: Subscription,
    indexer_app: Any,
) -> None:
    api = emulated_api
    index = FakeIndex()
    api.use(search=index)
    catalog = Catalog(api)
    catalog.add("emulated", name="Emulated Pack", installable=False)
    activate(api, "emulated", "1.0.0")
    catalog.add("other", name="Other Pack", installable=False)
    r = api.post("/publishers/alice-pub/nodes/other/ban", as_="root", admin=True, json_body={"reason": "spam"})
    assert r.status_code == 204
    with api.container.sessions() as s:
        sent = s.scalars(select(OutboxEvent.id).where(OutboxEvent.published_at.is_not(None))).all()
    received = subscription.pull(len(sent))
    assert sorted(a["event_id"] for _, a in received) == sorted(sent)
    assert {a["event_type"] for _, a in received} >= {"node.created", "version.published", "node.banned"}
    client = indexer_app.test_client()
    for data, attributes in received:
        r = deliver(client, Message(subscription.topic, data, attributes), message_id=uuid.uuid4().hex)
        assert r.status_code == 200, r.get_data(as_text=True)
    assert set(index.nodes) == {"emulated"}
    assert_in_step(api, index)
