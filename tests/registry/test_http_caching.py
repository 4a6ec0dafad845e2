"""HTTP caching of the public reads, through the function on both databases: strong ETags over the bytes answered,
`Cache-Control: public` for the CDN on caller-independent reads and `private` on the rest, 304 on a matching
If-None-Match; and the listings' seek pagination (counts and page starts remembered per catalog tag) answering
exactly what counting and OFFSET answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.adapters.inprocess_publisher import InProcessPublisher
from shared.bootstrap import Container, bootstrap, get_container, set_container
from tests.conftest import make_settings
from tests.search.support import Catalog
from tests.support import RegistryClient

PUBLIC_READS = ["/nodes?page=1&limit=5", "/nodes/cached", "/nodes/search?search=cached", "/nodes/cached/versions"]


@pytest.fixture
def catalog(api: RegistryClient) -> Catalog:
    return Catalog(api)


@pytest.fixture
def cached(database_url: str, tmp_path: Path) -> Container:
    """An instance with its answer cache on, as deployed."""
    settings = make_settings(database_url, tmp_path / "data", READ_CACHE_SECONDS=300, READ_CACHE_CHECK_SECONDS=0)
    return bootstrap(settings, publisher=InProcessPublisher())


@pytest.mark.parametrize("instance", ["uncached", "cached"])
def test_public_reads_carry_a_strong_etag_and_a_public_cache_control(
    api: RegistryClient, catalog: Catalog, cached: Container, instance: str
) -> None:
    catalog.add("cached", name="Cached Pack")
    previous = get_container()
    if instance == "cached":
        set_container(cached)
    try:
        for path in PUBLIC_READS:
            first, second = api.get(path), api.get(path)
            assert first.status_code == second.status_code == 200, path
            tag = first.headers["ETag"]
            assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/"), path
            assert second.headers["ETag"] == tag  # the same bytes, from the cache or not
            control = first.headers["Cache-Control"]
            assert control.startswith("public") and "s-maxage=30" in control, path
            assert "stale-while-revalidate=60" in control
    finally:
        set_container(previous)


def test_if_none_match_gives_304_under_the_weak_comparison(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("cached", name="Cached Pack")
    full = api.get("/nodes/cached")
    tag = full.headers["ETag"]
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        r = api.get("/nodes/cached", headers={"If-None-Match": header})
        assert r.status_code == 304, header
        assert r.get_data() == b"" and r.headers["ETag"] == tag
        assert r.headers["Cache-Control"].startswith("public")
    assert api.get("/nodes/cached", headers={"If-None-Match": '"other"'}).status_code == 200
    # A change makes other bytes, so the old tag no longer matches.
    catalog.api.put("/publishers/alice-pub/nodes/cached", as_="alice", json_body={"id": "cached", "description": "x"})
    changed = api.get("/nodes/cached", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag


def test_installs_errors_and_callers_answers_are_private(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("cached", name="Cached Pack")
    install = api.get("/nodes/cached/install")
    assert install.status_code == 200
    assert install.headers["Cache-Control"].startswith("private")  # every install must reach us to be counted
    assert "ETag" not in install.headers
    missing = api.get("/nodes/not-there")
    assert missing.status_code == 404 and missing.headers["Cache-Control"].startswith("private")
    mine = api.get("/users/publishers/", as_="alice")
    assert mine.status_code == 200 and mine.headers["Cache-Control"].startswith("private")


def _walk(api: RegistryClient, query: str, limit: int) -> tuple[list[str], int]:
    first = api.get(f"/nodes?page=1&limit={limit}&{query}").get_json()
    seen = [n["id"] for n in first["nodes"]]
    for page in range(2, first["totalPages"] + 1):
        seen += [n["id"] for n in api.get(f"/nodes?page={page}&limit={limit}&{query}").get_json()["nodes"]]
    return seen, first["total"]


def test_seek_pages_answer_what_offset_pages_did(api: RegistryClient, catalog: Catalog) -> None:
    for i in range(11):
        catalog.add(f"pack-{i:02d}", name=f"Pack {i}", downloads=(i * 7) % 5)
    by_downloads = sorted((f"pack-{i:02d}" for i in range(11)), key=lambda n: (-((int(n[-2:]) * 7) % 5), n))
    for query, expected in (("", sorted(f"pack-{i:02d}" for i in range(11))), ("sort=downloads;desc", by_downloads)):
        assert _walk(api, query, 3) == (expected, 11)
        # Pages asked out of order, and again, seek from what the walk left (or walk to them) the same way.
        for page in (4, 2, 4, 1, 3):
            got = [n["id"] for n in api.get(f"/nodes?page={page}&limit=3&{query}").get_json()["nodes"]]
            assert got == expected[(page - 1) * 3 : page * 3], (query, page)
        assert api.get(f"/nodes?page=9&limit=3&{query}").get_json()["nodes"] == []
    # Rating (NULL without reviews) is paged by offset, with the same answers.
    assert len(_walk(api, "sort=rating;desc", 4)[0]) == 11


def test_a_commit_resets_the_remembered_counts_and_page_starts(api: RegistryClient, catalog: Catalog) -> None:
    for i in range(5):
        catalog.add(f"pack-{i}", name=f"Pack {i}")
    assert _walk(api, "", 2) == ([f"pack-{i}" for i in range(5)], 5)
    catalog.add("pack-00", name="Early")  # a publish commits an event: the catalog tag moves
    assert _walk(api, "", 2) == (["pack-0", "pack-00", *[f"pack-{i}" for i in range(1, 5)]], 6)
    r = api.post("/publishers/alice-pub/nodes/pack-1/ban", as_="root", admin=True, json_body={"reason": "x"})
    assert r.status_code in (200, 204), r.get_data(as_text=True)
    assert _walk(api, "", 2) == (["pack-0", "pack-00", "pack-2", "pack-3", "pack-4"], 5)


def test_search_pages_come_from_one_ranking_until_the_catalog_changes(api: RegistryClient, catalog: Catalog) -> None:
    for i in range(7):
        catalog.add(f"video-{i}", name=f"Video {i}", downloads=100 - i)
    pages = [api.get(f"/nodes/search?search=video&limit=3&page={p}").get_json() for p in (1, 2, 3, 4)]
    assert [n["id"] for p in pages for n in p["nodes"]] == [f"video-{i}" for i in range(7)]
    assert {p["total"] for p in pages} == {7}
    catalog.add("video-new", name="Video New", downloads=1000)
    first = api.get("/nodes/search?search=video&limit=3&page=1").get_json()
    assert first["total"] == 8 and first["nodes"][0]["id"] == "video-new"
