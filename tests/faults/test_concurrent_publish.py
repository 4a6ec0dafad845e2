"""Several CI jobs, each with its own token, publish the same version at the same moment: exactly one wins (201),
every other one gets 409, and the database holds one version (and one node) with one set of events. The same
publish sent several times at once (one client retrying) is answered 201 every time, still with one version."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.db.models import Node, NodeVersion
from tests.faults.support import count, events
from tests.support import RegistryClient

THREADS = 6


@pytest.mark.parametrize("node_exists", [False, True], ids=["new node", "existing node"])
def test_one_publish_wins_the_others_get_409(api: RegistryClient, node_exists: bool) -> None:
    tokens = [api.owner_with_token()] + [api.create_token("alice", "alice-pub") for _ in range(THREADS - 1)]
    if node_exists:
        api.publish("alice-pub", "racy", "0.9.0", tokens[0], upload=False)
    start = threading.Barrier(THREADS)

    def attempt(i: int) -> int:
        body = api.publish_body(tokens[i], "racy", "1.0.0")
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


def test_one_publish_sent_many_times_at_once_makes_one_version(api: RegistryClient) -> None:
    token = api.owner_with_token()
    body = api.publish_body(token, "racy", "1.0.0")
    start = threading.Barrier(THREADS)

    def attempt(_: int) -> tuple[int, str]:
        start.wait(timeout=10)
        r = api.post("/publishers/alice-pub/nodes/racy/versions", json_body=body)
        return int(r.status_code), str((r.get_json() or {}).get("node_version", {}).get("id"))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(attempt, range(THREADS)))
    # The first creates it; the others either see it and answer again, or lose the insert race to it and retry.
    assert {code for code, _ in answers} <= {201, 409}
    assert [code for code, _ in answers].count(201) >= 1
    assert len({version_id for code, version_id in answers if code == 201}) == 1
    assert count(api, NodeVersion, node_id="racy", version="1.0.0") == 1
    assert events(api, "version.published") == 1
