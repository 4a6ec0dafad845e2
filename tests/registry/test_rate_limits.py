"""Publish rate limits per publisher and per token: 429 with Retry-After, nothing created."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from shared.db.models import Node, NodeVersion
from tests.support import RegistryClient


@pytest.fixture
def limited(api: RegistryClient) -> RegistryClient:
    api.use(
        settings=api.container.settings.model_copy(
            update={
                "rate_new_version_burst": 2,
                "rate_new_version_interval_seconds": 60.0,
                "rate_new_node_burst": 2,
                "rate_new_node_interval_seconds": 600.0,
            }
        )
    )
    return api


def _versions(api: RegistryClient) -> int:
    with api.container.sessions() as s:
        return len(s.scalars(select(NodeVersion)).all())


def test_versions_are_limited_per_publisher_with_a_burst(limited: RegistryClient) -> None:
    api = limited
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    api.publish("alice-pub", "my-node", "1.0.1", token)
    r = api.post("/publishers/alice-pub/nodes/my-node/versions", json_body=api.publish_body(token, "my-node", "1.0.2"))
    assert r.status_code == 429 and r.get_json()["error"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert _versions(api) == 2
    # Another token of the same publisher shares the publisher's bucket.
    other = api.create_token("alice", "alice-pub")
    r = api.post("/publishers/alice-pub/nodes/my-node/versions", json_body=api.publish_body(other, "my-node", "1.0.2"))
    assert r.status_code == 429
    # Another publisher is not affected.
    bob = api.owner_with_token("bob", "bob-pub")
    api.publish("bob-pub", "bobs-node", "1.0.0", bob)


def test_new_nodes_are_limited_separately(limited: RegistryClient) -> None:
    api = limited
    token = api.owner_with_token()
    api.publish("alice-pub", "node-a", "1.0.0", token)
    r = api.post("/publishers/alice-pub/nodes", as_="alice", json_body={"id": "node-b", "name": "b"})
    assert r.status_code == 201
    r = api.post("/publishers/alice-pub/nodes", as_="alice", json_body={"id": "node-c", "name": "c"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 60
    with api.container.sessions() as s:
        assert s.get(Node, "node-c") is None


def test_a_refused_publish_does_not_spend_a_token(limited: RegistryClient) -> None:
    api = limited
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    for _ in range(3):  # duplicates are refused with 409 and give their token back
        r = api.post(
            "/publishers/alice-pub/nodes/my-node/versions", json_body=api.publish_body(token, "my-node", "1.0.0")
        )
        assert r.status_code == 409
    api.publish("alice-pub", "my-node", "1.0.1", token)


def test_tokens_refill_with_time(limited: RegistryClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import functions.registry.common.limits as limits_module
    from shared.db.types import utcnow

    api = limited
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    api.publish("alice-pub", "my-node", "1.0.1", token)
    later = utcnow()
    from datetime import timedelta

    monkeypatch.setattr(limits_module, "utcnow", lambda: later + timedelta(seconds=61))
    api.publish("alice-pub", "my-node", "1.0.2", token)


def test_concurrent_publishes_never_exceed_the_burst(limited: RegistryClient) -> None:
    api = limited
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "0.0.1", token)  # creates the node; one version token left

    def publish(i: int) -> int:
        body = api.publish_body(token, "my-node", f"1.0.{i}")
        return int(api.post("/publishers/alice-pub/nodes/my-node/versions", json_body=body).status_code)

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(publish, range(6)))
    assert sorted(codes) == [201] + [429] * 5, codes
    assert _versions(api) == 2
