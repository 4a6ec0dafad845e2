"""The database goes away in the middle of a write, at every statement in turn: the caller gets 503 with
Retry-After and nothing of the write remains; once the failure falls after the commit, the write stands and its
events wait in the outbox for the sweep."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from werkzeug.test import TestResponse

from shared import outbox
from shared.db.models import OutboxEvent, User
from tests.faults.support import Outage, changes, snapshot
from tests.support import RegistryClient

MAX_STATEMENTS = 200  # a bound on the loop; the writes below take a few dozen


def fail_each_statement(
    api: RegistryClient, database_url: str, write: Callable[[int], TestResponse], success: int
) -> tuple[int, int]:
    """Run write(n) with the n-th statement failing, n = 1, 2, ... until a run reaches no failure.
    Returns how many runs answered 503 and how many succeeded although their failure came after the commit."""
    refused = committed = 0
    for n in range(1, MAX_STATEMENTS):
        before = snapshot(api.container)
        with Outage(api.container.engine, database_url, n) as outage:
            r = write(n)
        if not outage.fired:
            assert r.status_code == success, r.get_data(as_text=True)
            return refused, committed
        if r.status_code == 503:
            assert r.headers["Retry-After"] == "5" and r.get_json()["error"] == "unavailable"
            assert not changes(before, snapshot(api.container)), f"statement {n} failed, yet something was written"
            refused += 1
        else:
            assert r.status_code == success, f"statement {n}: {r.status_code} {r.get_data(as_text=True)}"
            committed += 1
    raise AssertionError(f"the write still ran statements after {MAX_STATEMENTS}")


def unsent(api: RegistryClient) -> int:
    with api.container.sessions() as s:
        return len(s.scalars(select(OutboxEvent.id).where(OutboxEvent.published_at.is_(None))).all())


def test_publish_loses_the_database_at_every_statement(api: RegistryClient, database_url: str) -> None:
    token = api.owner_with_token()

    def publish(n: int) -> TestResponse:
        # A new node each time: the longest publish (node, version, two rate-limit buckets each, two events).
        body = api.publish_body(token, f"node-{n}", "1.0.0")
        return api.post(f"/publishers/alice-pub/nodes/node-{n}/versions", json_body=body)

    refused, committed = fail_each_statement(api, database_url, publish, 201)
    assert refused >= 10  # every statement up to the commit
    assert committed >= 1  # the relay after the commit failed; the publish stood
    assert unsent(api) >= 1
    outbox.sweep(api.container.sessions, api.container.publisher)
    assert unsent(api) == 0


def test_a_ban_is_all_or_nothing_when_the_database_fails(api: RegistryClient, database_url: str) -> None:
    """Banning a publisher bans its members and nodes too: a failure at any point leaves every row as it was."""
    token = api.owner_with_token()
    for node_id in ("pack-a", "pack-b"):
        api.publish("alice-pub", node_id, "1.0.0", token, upload=False)

    def ban(n: int) -> TestResponse:
        return api.post("/publishers/alice-pub/ban", as_="root", admin=True, json_body={"reason": "malware"})

    refused, _ = fail_each_statement(api, database_url, ban, 204)
    assert refused >= 5
    assert api.get("/nodes/pack-a").status_code == 403  # banned, all of it
    with api.container.sessions() as s:
        user = s.get(User, "alice")
        assert user is not None and user.status == "banned"
