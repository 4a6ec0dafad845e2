"""The local stack hands registry events to the indexer in-process and runs the search jobs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from local.stack import LocalStack
from shared.bootstrap import set_container
from tests.conftest import make_settings
from tests.search.support import Catalog, FakeIndex
from tests.search.test_indexer import activate
from tests.support import RegistryClient


@pytest.fixture
def index() -> FakeIndex:
    return FakeIndex()


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """The local stack; with the search index in memory when the test also asks for `index`."""
    ports = {"search": request.getfixturevalue("index")} if "index" in request.fixturenames else {}
    settings = make_settings(f"sqlite:///{tmp_path / 'local.sqlite3'}", tmp_path / "data")
    local = LocalStack(settings, **ports)
    try:
        yield local
    finally:
        local.stop()
        set_container(None)


def test_events_reach_the_indexer_in_process(stack: LocalStack, index: FakeIndex) -> None:
    client = Client(stack)
    api = RegistryClient(client, stack.container)
    catalog = Catalog(api)
    catalog.add("local-node", name="Local Node")
    activate(api, "local-node", "1.0.0")
    assert index.nodes["local-node"]["name"] == "Local Node"
    ban = {"reason": "test"}
    assert (
        api.post("/publishers/alice-pub/nodes/local-node/ban", as_="root", admin=True, json_body=ban).status_code == 204
    )
    assert index.nodes == {} and ("delete_nodes", ["local-node"]) in index.calls
    assert (
        api.post("/publishers/alice-pub/nodes/local-node/unban", as_="root", admin=True, json_body=ban).status_code
        == 204
    )
    assert set(index.nodes) == {"local-node"}
    catalog.set_node("local-node", total_install=12)
    r = client.post("/_local/jobs/search-sync")
    assert r.status_code == 200 and r.get_data(as_text=True) == "search-sync: 1\n"
    assert index.nodes["local-node"]["total_install"] == 12
    r = client.post("/_local/jobs/search-reindex")
    assert r.status_code == 200 and "complete=True" in r.get_data(as_text=True)
    assert index.settings_applied == 1


def test_timers_sync_downloads_but_leave_the_reindex_to_a_request(stack: LocalStack, index: FakeIndex) -> None:
    Catalog(RegistryClient(Client(stack), stack.container)).add("timed", name="Timed", downloads=3)
    # Jobs that reach outside services (OSV's data, GitHub) or rebuild everything run only when asked.
    assert stack.on_demand == {"search-reindex", "reconcile", "scanner-advisories-refresh", "github-stars"}
    stack.start_timers(every_seconds=0.05)
    deadline = time.monotonic() + 10
    while index.nodes.get("timed", {}).get("total_install") != 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stack.stop()
    assert index.nodes["timed"]["total_install"] == 3
    assert index.settings_applied == 0


def test_the_local_search_uses_the_database(stack: LocalStack) -> None:
    api = RegistryClient(Client(stack), stack.container)
    Catalog(api).add("found-locally", name="Found Locally")
    body = api.get("/nodes/search", query={"search": "found locly"}).get_json()
    assert [n["id"] for n in body["nodes"]] == ["found-locally"]
