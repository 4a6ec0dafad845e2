"""The read cache and the download tally, through the function on both databases.

Two Containers over one database stand for two instances of the function: each has its own cache and tally."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from functions.registry.reads import usecases as reads_usecases
from local.events import deliver_finalized
from shared.adapters.inprocess_publisher import InProcessPublisher
from shared.bootstrap import Container, bootstrap, get_container, set_container
from shared.db.models import Node
from shared.downloads import DownloadCounter
from shared.repositories import epoch
from tests.conftest import make_settings
from tests.support import RegistryClient, clean_pack

CACHED = {"READ_CACHE_SECONDS": 300, "READ_CACHE_CHECK_SECONDS": 0, "DOWNLOAD_FLUSH_SECONDS": 3600}


def counter(c: Container) -> DownloadCounter:
    assert isinstance(c.downloads, DownloadCounter)
    return c.downloads


@pytest.fixture
def instance(api: RegistryClient, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Container]]:
    """Makes instances over the test's database; their tallies are written before the database goes."""
    made: list[Container] = []

    def make(**overrides: Any) -> Container:
        settings = make_settings(database_url, tmp_path / "data", **{**CACHED, **overrides})
        c = bootstrap(settings, publisher=InProcessPublisher())
        c.blobs.on_finalized(deliver_finalized)  # type: ignore[attr-defined]
        made.append(c)
        return c

    yield make
    for c in made:
        counter(c).flush()
        assert counter(c).pending() == 0


@contextmanager
def serving(c: Container) -> Iterator[Container]:
    """Route the function's requests to `c` for the duration, then back to the test's own container."""
    previous = get_container()
    set_container(c)
    try:
        yield c
    finally:
        set_container(previous)


@pytest.fixture
def a(instance: Callable[..., Container]) -> Container:
    return instance()


def current_epoch(c: Container) -> int:
    with c.sessions() as s:
        return epoch.current(s)


def downloads_in_db(c: Container, node_id: str) -> int:
    with c.sessions() as s:
        return int(s.scalar(select(Node.total_install).where(Node.id == node_id)) or 0)


def test_a_repeated_read_is_served_from_the_cache_unchanged(api: RegistryClient, a: Container) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "cached-node", "1.0.0", token)
    paths = ["/nodes/cached-node", "/nodes?page=1&limit=5", "/nodes/search?search=cached", "/nodes/cached-node/install"]
    uncached = {p: api.get(p) for p in paths[:3]}
    with serving(a):
        first = {p: api.get(p) for p in paths}
        second = {p: api.get(p) for p in paths}
    uncached[paths[3]] = api.get(paths[3])  # last: the test's own container writes its download at once
    for p in paths:
        assert first[p].status_code == second[p].status_code == uncached[p].status_code == 200
        assert "X-Cache" not in first[p].headers and second[p].headers["X-Cache"] == "hit", p
        assert second[p].get_data() == first[p].get_data(), p
        assert second[p].mimetype == "application/json"
        assert second[p].get_json() == uncached[p].get_json(), p  # the same answer the uncached function gives


def test_errors_and_cors_are_not_stored(api: RegistryClient, a: Container) -> None:
    with serving(a):
        assert api.get("/nodes/not-yet").status_code == 404
        assert "X-Cache" not in api.get("/nodes/not-yet").headers
        assert len(a.read_cache) == 0
        token = api.owner_with_token()
        api.publish("alice-pub", "not-yet", "1.0.0", token)
        assert api.get("/nodes/not-yet").status_code == 200
        hit = api.get("/nodes/not-yet", headers={"Origin": "https://comfy.example"})
        assert hit.headers["X-Cache"] == "hit"
        assert hit.headers["Access-Control-Allow-Origin"] == "*"  # CORS is the router's, applied per answer
        assert "Access-Control-Allow-Origin" not in api.get("/nodes/not-yet").headers


def test_a_change_on_this_instance_shows_at_once(api: RegistryClient, a: Container) -> None:
    with serving(a):
        token = api.owner_with_token()
        api.publish("alice-pub", "changing", "1.0.0", token)
        assert api.get("/nodes/changing").get_json()["latest_version"]["version"] == "1.0.0"
        assert api.get("/nodes/changing").headers["X-Cache"] == "hit"
        # A new version goes through the scanner (in this process here) before it is the latest.
        data = api.publish("alice-pub", "changing", "1.1.0", token, upload=False)
        assert api.get("/nodes/changing").get_json()["latest_version"]["version"] == "1.0.0"
        assert api.upload(data["signedUrl"], clean_pack("changing", "1.1.0")).status_code == 200
        r = api.get("/nodes/changing")
        assert "X-Cache" not in r.headers and r.get_json()["latest_version"]["version"] == "1.1.0"
        r = api.put(
            "/publishers/alice-pub/nodes/changing", as_="alice", json_body={"id": "changing", "description": "new"}
        )
        assert r.status_code == 200, r.get_data(as_text=True)
        assert api.get("/nodes/changing").get_json()["description"] == "new"


def test_a_change_on_another_instance_shows_once_the_epoch_is_read(
    api: RegistryClient, a: Container, instance: Callable[..., Container]
) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "shared-node", "1.0.0", token)
    slow = instance(READ_CACHE_CHECK_SECONDS=3600)
    with serving(a):
        assert api.get("/nodes/shared-node").get_json()["description"] == ""
    with serving(slow):
        assert api.get("/nodes/shared-node").get_json()["description"] == ""
    before = current_epoch(a)
    admin_change = {"id": "shared-node", "description": "changed elsewhere"}
    r = api.put("/publishers/alice-pub/nodes/shared-node", as_="alice", json_body=admin_change)
    assert r.status_code == 200
    assert current_epoch(a) == before + 1
    with serving(a):  # checks the epoch on every read (READ_CACHE_CHECK_SECONDS=0)
        assert api.get("/nodes/shared-node").get_json()["description"] == "changed elsewhere"
    with serving(slow):  # has not looked at the epoch since: still the stored answer, within its bound
        r = api.get("/nodes/shared-node")
        assert r.headers["X-Cache"] == "hit" and r.get_json()["description"] == ""


def test_a_ban_elsewhere_stops_installs_here(api: RegistryClient, a: Container) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "bad-node", "1.0.0", token)
    with serving(a):
        assert api.get("/nodes/bad-node/install").status_code == 200
        assert api.get("/nodes/bad-node/install").headers["X-Cache"] == "hit"
    r = api.post("/publishers/alice-pub/nodes/bad-node/ban", as_="root", admin=True, json_body={"reason": "malware"})
    assert r.status_code == 204
    with serving(a):
        assert api.get("/nodes/bad-node/install").status_code == 403


def test_commits_without_events_leave_the_epoch_alone(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "quiet", "1.0.0", token)
    before = current_epoch(api.container)
    assert api.get("/nodes/quiet/install").status_code == 200  # writes a download, emits nothing
    assert api.post("/publishers/alice-pub/tokens", as_="alice", json_body={"name": "x"}).status_code == 201
    assert current_epoch(api.container) == before


def test_cached_installs_count_every_download_once_flushed(api: RegistryClient, a: Container) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "popular", "1.0.0", token)
    client = api.client
    errors: list[int] = []

    def install(times: int) -> None:
        for _ in range(times):
            status = client.get("/nodes/popular/install").status_code
            if status != 200:
                errors.append(status)

    with serving(a):
        threads = [threading.Thread(target=install, args=(25,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert counter(a).pending() == 200 and downloads_in_db(a, "popular") == 0
        assert counter(a).flush() == 200
        assert counter(a).pending() == 0 and downloads_in_db(a, "popular") == 200
        assert counter(a).flush() == 0


def test_the_tally_is_written_by_its_timer(api: RegistryClient, instance: Callable[..., Container]) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "timed", "1.0.0", token)
    c = instance(DOWNLOAD_FLUSH_SECONDS=0.2)
    with serving(c):
        for _ in range(3):
            assert api.get("/nodes/timed/install").status_code == 200
    deadline = threading.Event()
    for _ in range(50):
        if downloads_in_db(c, "timed") == 3:
            break
        deadline.wait(0.1)
    assert downloads_in_db(c, "timed") == 3 and counter(c).pending() == 0


def test_concurrent_misses_of_one_answer_compute_it_once(
    api: RegistryClient, a: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "herd", "1.0.0", token)
    computed: list[int] = []
    real = reads_usecases.list_nodes

    def slow_list_nodes(*args: Any, **kwargs: Any) -> Any:
        computed.append(1)
        time.sleep(0.3)  # long enough for every other request to arrive while this one computes
        return real(*args, **kwargs)

    monkeypatch.setattr(reads_usecases, "list_nodes", slow_list_nodes)
    answers: list[tuple[int, bytes, str | None]] = []

    def read() -> None:
        r = api.client.get("/nodes?page=1&limit=10")
        answers.append((r.status_code, r.get_data(), r.headers.get("X-Cache")))

    with serving(a):
        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(computed) == 1
    assert {(status, body) for status, body, _ in answers} == {(200, answers[0][1])}
    assert sorted(str(cache) for _, _, cache in answers) == ["None"] + ["hit"] * 7


@pytest.mark.parametrize(
    ("event_type", "moves"),
    [
        ("node.updated", True),
        ("version.scanned", True),
        ("some.future_event", True),  # unknown events are taken to change what readers see
        ("ci.result_uploaded", False),
        ("index.reindex_requested", False),
        ("version.scan_requested", False),
    ],
)
def test_only_events_readers_can_see_move_the_epoch(a: Container, event_type: str, moves: bool) -> None:
    tag = a.read_cache.tag()
    assert tag is not None
    a.read_cache.put("/nodes?", tag, b"{}", 200, "application/json")
    before = current_epoch(a)
    with a.uow() as uow:
        uow.emit(event_type, node_id="n")
        uow.commit()
    assert current_epoch(a) == before + (1 if moves else 0)
    assert (a.read_cache.get("/nodes?") is None) == moves  # and this instance dropped its answers, or kept them
