"""Building a small catalog on the fakes through the use cases themselves, as the tests below need it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from functions.registry.common.nodes import NodeFields
from functions.registry.publishing.usecases import publishers, tokens, versions
from functions.registry.publishing.usecases.commands import NewToken, Publish, PublisherFields, VersionFields
from shared.settings import Settings
from shared.statuses import VersionStatus
from tests.fakes import FakeBlobs, FakeUnitOfWork, Store, person

ALICE = person("alice")
ADMIN = person("root", admin=True)


def publisher(uow: Callable[[], FakeUnitOfWork], publisher_id: str = "alice-pub", owner: str = "alice") -> str:
    publishers.create(uow(), person(owner), PublisherFields(id=publisher_id, name=publisher_id), max_per_user=5)
    return tokens.create(uow(), person(owner), publisher_id, NewToken(name="ci"), None).value


def publish(
    uow: Callable[[], FakeUnitOfWork],
    blobs: FakeBlobs,
    settings: Settings,
    token: str,
    node_id: str,
    version: str = "1.0.0",
    publisher_id: str = "alice-pub",
) -> versions.Published:
    command = Publish(token, VersionFields(version), NodeFields(id=node_id, name=node_id))
    return versions.publish(uow(), blobs, settings, publisher_id, node_id, command)


def released(store: Store, blobs: FakeBlobs, node_id: str, version: str = "1.0.0", data: bytes = b"PK judged") -> None:
    """As if the scanner had passed and released the version's archive."""
    row = next(v for v in store.versions.values() if (v.node_id, v.version) == (node_id, version))
    node = store.nodes[node_id]
    row.status, row.archive_sha256 = VersionStatus.ACTIVE, hashlib.sha256(data).hexdigest()
    row.release_path = f"{node.publisher_id}/{node_id}/{version}/node.zip"
    blobs.uploads[row.storage_path] = data
    blobs.released[row.release_path] = data
