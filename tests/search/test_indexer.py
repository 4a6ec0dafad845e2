"""The indexer's Pub/Sub entry point through functions-framework, fed the registry's real outbox messages as Pub/Sub
push deliveries; and its scheduled entry point. The index is an in-memory fake, compared with a full rebuild."""

from __future__ import annotations

import base64
import json
import random
import sqlite3
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from functions.indexer import reindex as full
from shared.adapters.inprocess_publisher import InProcessPublisher, Message
from shared.db.models import AppliedEvent
from shared.repositories import epoch
from shared.repositories.search import Search
from tests.search.support import Catalog, FakeIndex, cloud_event_headers, deliver, push_body
from tests.support import RegistryClient


class Feed:
    """The registry's outbox messages, handed to the indexer as Pub/Sub would push them."""

    def __init__(self, events: InProcessPublisher, client: Any) -> None:
        self.events, self.client, self.seen = events, client, 0

    def take(self) -> list[Message]:
        messages = self.events.delivered[self.seen :]
        self.seen += len(messages)
        return messages

    def push(self, messages: list[Message]) -> None:
        for message in messages:
            r = deliver(self.client, message)
            assert r.status_code == 200, r.get_data(as_text=True)

    def flush(self) -> list[Message]:
        messages = self.take()
        self.push(messages)
        return messages


@pytest.fixture
def feed(events: InProcessPublisher, indexer_app: Any) -> Feed:
    return Feed(events, indexer_app.test_client())


def rebuilt(api: RegistryClient) -> FakeIndex:
    """What a full reindex from the database sends, in a fresh index."""
    reference = FakeIndex()
    assert full.reindex(api.container.uow, reference, batch=3).complete
    return reference


def assert_in_step(api: RegistryClient, index: FakeIndex) -> None:
    reference = rebuilt(api)
    assert index.nodes == reference.nodes
    assert index.versions == reference.versions


def applied(api: RegistryClient) -> int:
    with api.container.sessions() as s:
        stmt = select(func.count()).select_from(AppliedEvent).where(AppliedEvent.consumer == "indexer")
        return int(s.scalar(stmt) or 0)


def activate(api: RegistryClient, node_id: str, version: str) -> None:
    body = {"status": "NodeVersionStatusActive", "status_reason": "checked"}
    r = api.put(f"/admin/nodes/{node_id}/versions/{version}", as_="root", admin=True, json_body=body)
    assert r.status_code == 200, r.get_data(as_text=True)


def story(api: RegistryClient, feed: Feed | None) -> None:
    """A node's life through the API; each step's events are pushed as they happen when `feed` is given."""
    token = api.owner_with_token("alice", "alice-pub")

    def step() -> None:
        if feed is not None:
            feed.flush()

    api.publish("alice-pub", "video-helper", "1.0.0", token, name="Video Helper", tags=["video"])
    step()
    activate(api, "video-helper", "1.0.0")
    step()
    api.publish("alice-pub", "video-helper", "1.1.0", token)
    activate(api, "video-helper", "1.1.0")
    api.publish("alice-pub", "mask-tools", "0.1.0", token, name="Mask Tools")
    activate(api, "mask-tools", "0.1.0")
    step()
    body = {"name": "Video Helper Suite", "description": "Load and save videos", "supported_os": ["MacOS"]}
    assert api.put("/publishers/alice-pub/nodes/video-helper", as_="alice", json_body=body).status_code == 200
    assert api.post("/nodes/video-helper/reviews", as_="bob", query={"star": 4}).status_code == 200
    step()
    versions = api.get("/nodes/video-helper/versions").get_json()
    v110 = next(v["id"] for v in versions if v["version"] == "1.1.0")
    r = api.delete(f"/publishers/alice-pub/nodes/video-helper/versions/{v110}", as_="alice")
    assert r.status_code == 204
    step()
    r = api.post("/publishers/alice-pub/nodes/mask-tools/ban", as_="root", admin=True, json_body={"reason": "malware"})
    assert r.status_code == 204
    step()


def test_events_keep_the_index_equal_to_the_database(api: RegistryClient, fake: FakeIndex, feed: Feed) -> None:
    story(api, feed)
    assert set(fake.nodes) == {"video-helper"}
    record = fake.nodes["video-helper"]
    assert (record["name"], record["latest_version"], record["supported_os"]) == (
        "Video Helper Suite",
        "1.0.0",
        ["MacOS"],
    )
    assert (record["total_review"], record["rating"], record["os_filter"]) == (1, 4.0, ["MacOS"])
    assert [v["version"] for v in fake.versions.values()] == ["1.0.0"]
    assert_in_step(api, fake)
    # Unbanning brings the node back; deleting it removes it and its versions again.
    r = api.post("/publishers/alice-pub/nodes/mask-tools/unban", as_="root", admin=True, json_body={"reason": "ok"})
    assert r.status_code == 204
    feed.flush()
    assert set(fake.nodes) == {"mask-tools", "video-helper"}
    assert api.delete("/publishers/alice-pub/nodes/video-helper", as_="alice").status_code == 204
    feed.flush()
    assert set(fake.nodes) == {"mask-tools"} and {v["node_id"] for v in fake.versions.values()} == {"mask-tools"}
    assert_in_step(api, fake)


def test_duplicate_and_out_of_order_events_converge(api: RegistryClient, fake: FakeIndex, feed: Feed) -> None:
    story(api, None)
    messages = feed.take()
    assert len(messages) >= 10
    shuffled = messages * 2
    random.Random(5).shuffle(shuffled)
    feed.push(shuffled)
    assert_in_step(api, fake)
    # Every message was applied once: redeliveries write nothing.
    writes = len(fake.calls)
    feed.push(list(reversed(messages)))
    assert len(fake.calls) == writes
    assert applied(api) == len({m.attributes["event_id"] for m in messages if _is_indexed(m)})


def _is_indexed(message: Message) -> bool:
    kind = message.attributes["event_type"]
    return kind.split(".")[0] in ("node", "version", "publisher") and not kind.endswith("_requested")


def test_a_publisher_ban_removes_all_its_nodes(api: RegistryClient, fake: FakeIndex, feed: Feed) -> None:
    catalog = Catalog(api)
    catalog.add("one", name="One")
    catalog.add("two", name="Two")
    feed.take()
    rebuilt_now = rebuilt(api)
    fake.nodes, fake.versions = dict(rebuilt_now.nodes), dict(rebuilt_now.versions)
    r = api.post("/publishers/alice-pub/ban", as_="root", admin=True, json_body={"reason": "spam"})
    assert r.status_code == 204
    feed.flush()
    assert fake.nodes == {} and fake.versions == {}


def test_download_counts_are_sent_in_batches(
    api: RegistryClient, fake: FakeIndex, feed: Feed, reindex_app: Any, events: InProcessPublisher
) -> None:
    catalog = Catalog(api)
    for name in ("a", "b", "c"):
        catalog.add(f"node-{name}", name=name.upper())
    feed.take()  # not delivered: nodes never sent are sent by the sync too
    client = reindex_app.test_client()
    assert client.post("/", query_string={"mode": "downloads"}).get_json() == {"mode": "downloads", "sent": 3}
    before = len(events.delivered)
    for _ in range(5):
        assert api.get("/nodes/node-a/install").status_code == 200
    assert api.get("/nodes/node-c/install").status_code == 200
    assert len(events.delivered) == before  # installs emit nothing
    assert fake.nodes["node-a"]["total_install"] == 0
    r = client.post("/", query_string={"mode": "downloads", "batch": 1})
    assert r.get_json() == {"mode": "downloads", "sent": 1}
    assert client.post("/", query_string={"mode": "downloads"}).get_json()["sent"] == 1
    assert client.post("/", query_string={"mode": "downloads"}).get_json()["sent"] == 0
    assert (fake.nodes["node-a"]["total_install"], fake.nodes["node-c"]["total_install"]) == (5, 1)
    assert_in_step(api, fake)


def test_the_scheduled_reindex(api: RegistryClient, fake: FakeIndex, reindex_app: Any) -> None:
    catalog = Catalog(api)
    for i in range(5):
        catalog.add(f"pack-{i}", name=f"Pack {i}", installable=i != 2)
    fake.nodes["deleted-long-ago"] = {"objectID": "deleted-long-ago"}
    client = reindex_app.test_client()
    body = client.post("/", query_string={"batch": 2}).get_json()
    assert body == {
        "mode": "full",
        "nodes": 5,
        "shown": 4,
        "hidden": 1,
        "skipped": 0,
        "removed_nodes": 1,
        "removed_versions": 0,
        "complete": True,
    }
    assert sorted(fake.nodes) == ["pack-0", "pack-1", "pack-3", "pack-4"]
    for query, message in (
        ({"mode": "everything"}, "mode must be full or downloads"),
        ({"batch": "0"}, "batch must be at least 1"),
        ({"batch": "lots"}, "must be an integer"),
        ({"resume": "perhaps"}, "must be true or false"),
    ):
        r = client.post("/", query_string=query)
        assert r.status_code == 400 and message in r.get_json()["message"], query


def test_a_requested_reindex_runs_once(api: RegistryClient, fake: FakeIndex, feed: Feed) -> None:
    Catalog(api).add("requested", name="Requested")
    feed.take()
    with api.container.uow() as uow:
        uow.emit("index.reindex_requested", max_batch=1, min_age_seconds=None, by="scheduler@example.com")
        uow.commit()
    (message,) = feed.take()
    feed.push([message])
    assert set(fake.nodes) == {"requested"} and fake.settings_applied == 1
    feed.push([message])
    assert fake.settings_applied == 1


def test_malformed_messages_are_acknowledged_and_dropped(
    api: RegistryClient, fake: FakeIndex, indexer_app: Any
) -> None:
    client = indexer_app.test_client()
    good = {"id": "e1", "type": "node.updated", "payload": {"node_id": "x"}, "created_at": "2026-01-01T00:00:00"}
    bodies = [
        {"message": {"data": "%%% not base64 %%%", "attributes": {}}},
        push_body(b"not json", {"event_id": "e1"}),
        push_body(b"[1, 2]", {}),
        push_body(json.dumps({**good, "id": ""}).encode(), {}),
        push_body(json.dumps({**good, "payload": [1]}).encode(), {}),
        {"subscription": "projects/p/subscriptions/s"},
    ]
    for i, body in enumerate(bodies):
        r = client.post("/", data=json.dumps(body), headers=cloud_event_headers(f"m{i}"))
        assert r.status_code == 200, body
    assert fake.calls == [] and applied(api) == 0


def test_events_the_index_does_not_need_are_ignored(api: RegistryClient, fake: FakeIndex, indexer_app: Any) -> None:
    client = indexer_app.test_client()
    for i, (kind, payload) in enumerate(
        [
            ("publisher.created", {}),
            ("ci.result_uploaded", {"workflow_result_id": "w"}),
            ("version.scan_requested", {"node_id": "n", "version_id": "v"}),
            ("something.new", {"node_id": "n"}),
        ]
    ):
        data = json.dumps({"id": f"e{i}", "type": kind, "payload": payload, "created_at": "2026-01-01"}).encode()
        r = client.post("/", data=json.dumps(push_body(data, {})), headers=cloud_event_headers(f"m{i}"))
        assert r.status_code == 200
    assert fake.calls == [] and applied(api) == 0


def test_an_index_failure_is_retried_by_redelivery(api: RegistryClient, fake: FakeIndex, feed: Feed) -> None:
    Catalog(api).add("flaky", name="Flaky")
    messages = feed.take()
    fake.fail = RuntimeError("algolia is down")
    r = deliver(feed.client, messages[-1])
    assert r.status_code == 500  # Pub/Sub keeps the message and pushes it again
    assert applied(api) == 0 and fake.nodes == {}
    fake.fail = None
    feed.push(messages)
    assert set(fake.nodes) == {"flaky"}
    assert_in_step(api, fake)


def test_the_push_envelope_is_decoded() -> None:
    from functions.indexer.main import MalformedMessage, parse_event, push_message

    data = json.dumps({"id": "body-id", "type": "node.updated", "payload": {"node_id": "n"}}).encode()
    envelope = {"message": {"data": base64.b64encode(data).decode(), "attributes": {"event_id": "attr-id"}}}
    raw, attributes = push_message(envelope)
    assert (raw, attributes) == (data, {"event_id": "attr-id"})
    event = parse_event(raw, attributes)
    assert (event.id, event.type, dict(event.payload)) == ("attr-id", "node.updated", {"node_id": "n"})
    with pytest.raises(MalformedMessage):
        push_message({"message": {"data": "a", "attributes": ["x"]}})


def test_writers_of_the_same_node_wait_for_each_other(api: RegistryClient) -> None:
    """While one transaction sends a node's records, another cannot start sending the same node's."""
    url = api.container.settings.resolved_database_url
    with api.container.uow() as holder:
        holder.search.lock_nodes(["node-b", "node-a"])
        if url.startswith("postgresql"):
            engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
            with engine.connect() as other:
                other.execute(text("SET lock_timeout = '200ms'"))
                with pytest.raises(OperationalError, match="lock timeout"):
                    Search(Session(bind=other)).lock_nodes(["node-a"])
            engine.dispose()
        else:
            raw = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0.2)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                raw.execute("UPDATE search_cursors SET value = value WHERE 1 = 0")
            raw.close()


def test_an_external_index_catching_up_moves_the_catalog_epoch(
    api: RegistryClient, fake: FakeIndex, feed: Feed
) -> None:
    """Registry instances cache search answers: once Algolia (here the fake) has a change, they must drop them."""
    token = api.owner_with_token("alice", "alice-pub")
    api.publish("alice-pub", "video-helper", "1.0.0", token)
    messages = feed.take()
    assert messages

    def current() -> int:
        with api.container.sessions() as s:
            return epoch.current(s)

    before = current()
    feed.push(messages)
    applied_now = current()
    assert applied_now == before + len(messages)  # one per applied event
    feed.push(messages)  # redelivered: nothing applied, nothing to drop
    assert current() == applied_now
