"""Several CI jobs publish the same version at the same moment: exactly one wins (201), every other one gets 409,
and the database holds one version (and one node) with one set of events."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from shared.db.models import Node, NodeVersion, OutboxEvent
from tests.support import RegistryClient

THREADS = 6


def count(api: RegistryClient, model: type[Node] | type[NodeVersion], **where: str) -> int:
    with api.container.sessions() as s:
        query = select(func.count()).select_from(model).filter_by(**where)
        return int(s.scalar(query) or 0)


def events(api: RegistryClient, type_: str) -> int:
    with api.container.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == type_)) or 0)


@pytest.mark.parametrize("node_exists", [False, True], ids=["new node", "existing node"])
def test_one_publish_wins_the_others_get_409(api: RegistryClient, node_exists: bool) -> None:
    token = api.owner_with_token()
    if node_exists:
        api.publish("alice-pub", "racy", "0.9.0", token, upload=False)
    body = api.publish_body(token, "racy", "1.0.0")
    start = threading.Barrier(THREADS)

    def attempt(_: int) -> int:
        start.wait(timeout=10)
        r = api.post("/publishers/alice-pub/nodes/racy/versions", json_body=body)
        return int(r.status_code)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        codes = sorted(pool.map(attempt, range(THREADS)))
    assert codes == [201] + [409] * (THREADS - 1)
    assert count(api, NodeVersion, node_id="racy", version="1.0.0") == 1
    assert count(api, Node, id="racy") == 1
    assert events(api, "version.published") == 1 + node_exists
    assert events(api, "node.created") == 1
