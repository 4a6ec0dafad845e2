"""The Algolia adapter, through the official client, against a stub of Algolia's REST API on loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.indexer import reindex as full
from shared.adapters.algolia_search import NODES_SETTINGS, VERSIONS_SETTINGS, AlgoliaSearchIndex, filter_string
from shared.adapters.database_search import DatabaseSearchIndex
from shared.bootstrap import bootstrap, set_container
from shared.ports import SearchFilters
from tests.conftest import make_settings
from tests.search.algolia_stub import API_KEY, APP_ID, AlgoliaStub, parse_filters
from tests.search.support import Catalog, search
from tests.support import RegistryClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stub_server() -> Iterator[AlgoliaStub]:
    with AlgoliaStub() as server:
        yield server


@pytest.fixture
def stub(stub_server: AlgoliaStub) -> AlgoliaStub:
    stub_server.reset()
    return stub_server


@pytest.fixture
def index(stub: AlgoliaStub) -> Iterator[AlgoliaSearchIndex]:
    adapter = AlgoliaSearchIndex(APP_ID, API_KEY, hosts=[stub.url], timeout_ms=2000)
    yield adapter
    adapter.close()


def _record(node_id: str, **fields: Any) -> dict[str, Any]:
    return {"objectID": node_id, "id": node_id, "name": node_id, "total_install": 0, **fields}


def test_settings_are_applied_from_code(stub: AlgoliaStub, index: AlgoliaSearchIndex) -> None:
    index.apply_settings()
    (nodes,) = stub.calls("settings", "nodes_index")
    (versions,) = stub.calls("settings", "node_versions_index")
    assert nodes.method == versions.method == "PUT"
    assert nodes.body == NODES_SETTINGS and versions.body == VERSIONS_SETTINGS
    assert nodes.headers["x-algolia-application-id"] == APP_ID
    assert nodes.headers["x-algolia-api-key"] == API_KEY
    assert nodes.headers["content-type"] == "application/json"
    assert "Algolia for Python (4." in nodes.headers["user-agent"]
    assert NODES_SETTINGS["customRanking"] == ["desc(total_install)", "desc(rating)"]
    assert "filterOnly(os_filter)" in NODES_SETTINGS["attributesForFaceting"]


def test_writes_are_batches_of_whole_records(stub: AlgoliaStub, index: AlgoliaSearchIndex) -> None:
    index.upsert_nodes([_record("a", tags=["x"]), _record("b")])
    index.upsert_versions([{"objectID": "v1", "node_id": "a", "version": "1.0.0"}])
    index.delete_nodes(["b", "never-indexed"])
    index.delete_versions([])  # nothing to send: no request
    index.upsert_nodes([])
    batches = stub.calls("batch")
    assert [b.path for b in batches] == [
        "/1/indexes/nodes_index/batch",
        "/1/indexes/node_versions_index/batch",
        "/1/indexes/nodes_index/batch",
    ]
    assert batches[0].method == "POST"
    assert batches[0].body == {
        "requests": [
            {"action": "addObject", "body": _record("a", tags=["x"])},
            {"action": "addObject", "body": _record("b")},
        ]
    }
    assert batches[2].body == {
        "requests": [
            {"action": "deleteObject", "body": {"objectID": "b"}},
            {"action": "deleteObject", "body": {"objectID": "never-indexed"}},
        ]
    }
    assert set(stub.index("nodes_index").records) == {"a"}
    assert set(stub.index("node_versions_index").records) == {"v1"}


def test_search_sends_the_query_page_and_filters(stub: AlgoliaStub, index: AlgoliaSearchIndex) -> None:
    index.apply_settings()
    index.upsert_nodes(
        [
            _record("video-a", total_install=5, os_filter=["*"], accelerator_filter=["*"]),
            _record("video-b", total_install=9, os_filter=["MacOS"], accelerator_filter=["CUDA"]),
            _record("video-c", total_install=1, os_filter=["POSIX :: Linux"], accelerator_filter=["*"]),
            _record("audio", total_install=99, os_filter=["*"], accelerator_filter=["*"]),
        ]
    )
    assert index.search("video", SearchFilters(), 1, 2) == (["video-b", "video-a"], 3)
    assert index.search("video", SearchFilters(), 2, 2) == (["video-c"], 3)
    linux = SearchFilters(supported_os=("POSIX :: Linux",), supported_accelerators=("ROCm",))
    assert index.search("video", linux, 1, 10) == (["video-a", "video-c"], 2)
    last = stub.calls("query", "nodes_index")[-1]
    assert last.method == "POST"
    assert last.body == {
        "query": "video",
        "page": 0,
        "hitsPerPage": 10,
        "attributesToRetrieve": ["objectID"],
        "attributesToHighlight": [],
        "filters": '(os_filter:"POSIX :: Linux" OR os_filter:"OS Independent" OR os_filter:"*")'
        ' AND (accelerator_filter:"ROCm" OR accelerator_filter:"*")',
    }


def test_filter_values_are_quoted(stub: AlgoliaStub, index: AlgoliaSearchIndex) -> None:
    odd = 'Say "hi" \\ there'
    where = filter_string(SearchFilters(supported_os=(odd,)))
    assert parse_filters(where) == [[("os_filter", odd), ("os_filter", "OS Independent"), ("os_filter", "*")]]
    index.upsert_nodes([_record("quoted", os_filter=[odd])])
    assert index.search("", SearchFilters(supported_os=(odd,)), 1, 10) == (["quoted"], 1)


def test_url_and_class_searches_are_restricted_to_their_attribute(stub: AlgoliaStub, index: AlgoliaSearchIndex) -> None:
    index.apply_settings()
    index.upsert_nodes(
        [
            _record("vhs", repository_url="https://github.com/kosinkadink/vhs", comfy_nodes=["VHS_LoadVideo"]),
            _record("kosinkadink-fan", description="about kosinkadink"),
        ]
    )
    assert index.search("", SearchFilters(repository_url="kosinkadink"), 1, 10) == (["vhs"], 1)
    assert stub.calls("query")[-1].body["restrictSearchableAttributes"] == ["repository_url"]
    assert index.search("", SearchFilters(comfy_node="VHS_LoadVideo"), 1, 10) == (["vhs"], 1)
    assert stub.calls("query")[-1].body["restrictSearchableAttributes"] == ["comfy_nodes"]
    index.search("kosinkadink", SearchFilters(repository_url="vhs"), 1, 10)
    body = stub.calls("query")[-1].body
    assert body["query"] == "kosinkadink vhs" and "restrictSearchableAttributes" not in body


def test_ids_are_browsed_page_by_page(stub: AlgoliaStub, index: AlgoliaSearchIndex) -> None:
    index.upsert_nodes([_record(f"n{i:04d}") for i in range(2500)])
    assert list(index.node_ids()) == [f"n{i:04d}" for i in range(2500)]
    browses = stub.calls("browse", "nodes_index")
    assert [b.body.get("cursor") for b in browses] == [None, "1000", "2000"]
    assert all(b.body["attributesToRetrieve"] == ["objectID"] for b in browses)
    assert list(index.version_ids()) == []


def test_refusals_and_failures_raise(stub: AlgoliaStub) -> None:
    from algoliasearch.http.exceptions import AlgoliaUnreachableHostException, RequestException

    wrong = AlgoliaSearchIndex(APP_ID, "not-the-key", hosts=[stub.url], timeout_ms=2000)
    with pytest.raises(RequestException, match="Invalid Application-ID or API key"):
        wrong.upsert_nodes([_record("a")])
    good = AlgoliaSearchIndex(APP_ID, API_KEY, hosts=[stub.url], timeout_ms=2000)
    stub.fail_status = 503
    with pytest.raises(AlgoliaUnreachableHostException):
        good.search("x", SearchFilters(), 1, 10)
    assert stub.index("nodes_index").records == {}
    for adapter in (wrong, good):
        adapter.close()


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError):
        AlgoliaSearchIndex("", API_KEY)
    with pytest.raises(ValueError):
        AlgoliaSearchIndex(APP_ID, API_KEY, hosts=["http://"])


def test_importing_the_adapter_does_not_import_the_sdk() -> None:
    # A fresh interpreter: the registry's cold start must not pay for algoliasearch (and aiohttp behind it).
    code = (
        "import sys\n"
        "import shared.adapters.algolia_search, shared.bootstrap, functions.indexer.main\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('algoliasearch', 'aiohttp')))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


@pytest.fixture
def algolia_api(
    database_url: str, tmp_path: Path, stub: AlgoliaStub, registry_app: Any, events: Any
) -> Iterator[RegistryClient]:
    settings = make_settings(
        database_url,
        tmp_path / "data",
        SEARCH_BACKEND="algolia",
        ALGOLIA_APP_ID=APP_ID,
        ALGOLIA_API_KEY=API_KEY,
        ALGOLIA_HOSTS=stub.url,
    )
    container = bootstrap(settings, publisher=events)
    set_container(container)
    try:
        yield RegistryClient(registry_app.test_client(), container)
    finally:
        set_container(None)


def test_the_registry_searches_through_algolia(algolia_api: RegistryClient, stub: AlgoliaStub) -> None:
    api = algolia_api
    assert isinstance(api.container.search, AlgoliaSearchIndex)
    catalog = Catalog(api)
    catalog.add("video-helper", name="Video Helper", downloads=10, supported_os=["POSIX :: Linux"])
    catalog.add("video-hidden", name="Video Hidden", installable=False)
    catalog.add("video-tools", name="Video Tools", downloads=20)
    result = full.reindex(api.container.uow, api.container.search, batch=2)
    assert result.complete and result.shown == 2
    assert set(stub.index("nodes_index").records) == {"video-helper", "video-tools"}
    body = search(api, search="video", limit=1)
    assert [n["id"] for n in body["nodes"]] == ["video-tools"]
    assert (body["total"], body["totalPages"]) == (2, 2)
    node = body["nodes"][0]
    assert node["latest_version"]["version"] == "1.0.0" and node["publisher"]["id"] == "alice-pub"
    windows = search(api, search="video", supported_os="Microsoft :: Windows")
    assert [n["id"] for n in windows["nodes"]] == ["video-tools"]
    record = stub.index("nodes_index").records["video-helper"]
    assert record["os_filter"] == ["POSIX :: Linux"] and record["accelerator_filter"] == ["*"]
    assert record["publisher"] == {"id": "alice-pub", "name": "alice-pub"}
    assert (record["latest_version"], record["latest_version_status"], record["total_install"]) == (
        "1.0.0",
        "active",
        10,
    )


def test_algolia_without_credentials_falls_back_to_the_database(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, SEARCH_BACKEND="algolia", ALGOLIA_APP_ID=APP_ID)
    assert isinstance(bootstrap(settings).search, DatabaseSearchIndex)
    assert isinstance(bootstrap(make_settings(database_url, tmp_path)).search, DatabaseSearchIndex)
