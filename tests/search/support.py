"""What the search tests share: a catalog builder, an in-memory SearchIndex, and Pub/Sub push bodies."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from shared.adapters.inprocess_publisher import Message
from shared.db.models import Node, NodeVersion, Publisher
from shared.ports import SearchFilters, SearchRecord
from tests.support import RegistryClient

PROJECT = "demo-comfy-registry"


class Catalog:
    """Nodes published through the API by one owner, then adjusted in the database (installable, counters)."""

    def __init__(self, api: RegistryClient, owner: str = "alice", publisher_id: str = "alice-pub") -> None:
        self.api, self.owner, self.publisher_id = api, owner, publisher_id
        self.token = api.owner_with_token(owner, publisher_id)

    def add(
        self,
        node_id: str,
        *,
        version: str = "1.0.0",
        installable: bool = True,
        downloads: int = 0,
        stars: tuple[int, int] = (0, 0),
        **node: Any,
    ) -> dict[str, Any]:
        """Publish `node_id` (name, description, tags, ... in `node`); the version is then active (scanned and
        passed) or, with `installable=False`, pending (not scanned yet)."""
        published = self.api.publish(self.publisher_id, node_id, version, self.token, **node)
        values: dict[str, Any] = {"total_install": downloads, "total_star": stars[0], "total_review": stars[1]}
        self.set_node(node_id, **values)
        self.set_version(node_id, version, status="active" if installable else "pending")
        return published

    def set_node(self, node_id: str, **values: Any) -> None:
        with self.api.container.sessions() as s:
            s.execute(update(Node).where(Node.id == node_id).values(**values))
            s.commit()

    def set_version(self, node_id: str, version: str, **values: Any) -> None:
        with self.api.container.sessions() as s:
            stmt = update(NodeVersion).where(NodeVersion.node_id == node_id, NodeVersion.version == version)
            s.execute(stmt.values(**values))
            s.commit()

    def set_publisher(self, publisher_id: str, **values: Any) -> None:
        with self.api.container.sessions() as s:
            s.execute(update(Publisher).where(Publisher.id == publisher_id).values(**values))
            s.commit()


def search(api: RegistryClient, **query: Any) -> dict[str, Any]:
    r = api.get("/nodes/search", query=query)
    assert r.status_code == 200, r.get_data(as_text=True)
    return dict(r.get_json())


def ids(api: RegistryClient, text: str | None = None, **query: Any) -> list[str]:
    if text is not None:
        query["search"] = text
    return [n["id"] for n in search(api, limit=100, **query)["nodes"]]


@dataclass
class FakeIndex:
    """A SearchIndex in memory that records every call; `fail` makes the next writes raise."""

    updated_by_indexer = True

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail: BaseException | None = None
    settings_applied: int = 0

    def _write(self, name: str, arg: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.calls.append((name, arg))

    def upsert_nodes(self, records: Sequence[SearchRecord]) -> None:
        self._write("upsert_nodes", [r["objectID"] for r in records])
        self.nodes.update({r["objectID"]: json.loads(json.dumps(r)) for r in records})

    def delete_nodes(self, node_ids: Sequence[str]) -> None:
        self._write("delete_nodes", list(node_ids))
        for i in node_ids:
            self.nodes.pop(i, None)

    def upsert_versions(self, records: Sequence[SearchRecord]) -> None:
        self._write("upsert_versions", [r["objectID"] for r in records])
        self.versions.update({r["objectID"]: json.loads(json.dumps(r)) for r in records})

    def delete_versions(self, version_ids: Sequence[str]) -> None:
        self._write("delete_versions", list(version_ids))
        for i in version_ids:
            self.versions.pop(i, None)

    def search(self, query: str, filters: SearchFilters, page: int, limit: int) -> tuple[list[str], int]:
        hits = sorted(i for i, r in self.nodes.items() if query.lower() in json.dumps(r).lower())
        return hits[(page - 1) * limit : page * limit], len(hits)

    def apply_settings(self) -> None:
        self.settings_applied += 1

    def node_ids(self) -> Iterator[str]:
        return iter(sorted(self.nodes))

    def version_ids(self) -> Iterator[str]:
        return iter(sorted(self.versions))

    def writes(self) -> list[tuple[str, Any]]:
        return [c for c in self.calls if c[1]]


def push_body(data: bytes, attributes: Mapping[str, str], *, message_id: str | None = None) -> dict[str, Any]:
    """A Pub/Sub push delivery of one message, as Eventarc hands it to a CloudEvent function."""
    return {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": dict(attributes),
            "messageId": message_id or str(uuid.uuid4().int)[:16],
            "publishTime": "2026-11-27T10:00:00.000Z",
        },
        "subscription": f"projects/{PROJECT}/subscriptions/indexer",
    }


def cloud_event_headers(message_id: str) -> dict[str, str]:
    """Binary-mode CloudEvent headers of a Pub/Sub messagePublished event."""
    return {
        "ce-id": message_id,
        "ce-specversion": "1.0",
        "ce-source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/registry-events",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-time": "2026-11-27T10:00:00.000Z",
        "Content-Type": "application/json",
    }


def deliver(client: Any, message: Message, *, message_id: str | None = None) -> Any:
    """POST one outbox message to the indexer's CloudEvent entry point as Pub/Sub push would."""
    mid = message_id or str(uuid.uuid4().int)[:16]
    body = push_body(message.data, message.attributes, message_id=mid)
    return client.post("/", data=json.dumps(body), headers=cloud_event_headers(mid))
