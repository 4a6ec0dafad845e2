"""GET /nodes/search on the database index (the default), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from functions.indexer import reindex as full
from shared.adapters.database_search import DatabaseSearchIndex
from shared.db.models import ComfyNode, NodeVersion
from tests.search.support import Catalog, FakeIndex, ids, search
from tests.support import RegistryClient


def test_page_shape_and_bounds(api: RegistryClient, catalog: Catalog) -> None:
    assert search(api) == {"total": 0, "nodes": [], "page": 1, "limit": 10, "totalPages": 0}
    for i in range(25):
        catalog.add(f"pack-{i:02d}", name=f"Pack {i}", downloads=i)
    body = search(api, search="pack", page=3, limit=10)
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (25, 3, 10, 3)
    # Ties on relevance: most downloads first, so the last page holds the least downloaded.
    assert [n["id"] for n in body["nodes"]] == [f"pack-{i:02d}" for i in range(4, -1, -1)]
    node = body["nodes"][0]
    assert node["publisher"]["id"] == "alice-pub"
    assert node["latest_version"]["version"] == "1.0.0"
    assert node["downloads"] == 4
    beyond = search(api, search="pack", page=4, limit=10)
    assert (beyond["nodes"], beyond["total"], beyond["totalPages"]) == ([], 25, 3)
    low = search(api, page=0, limit=0)
    assert (low["page"], low["limit"], low["total"]) == (1, 10, 25)
    assert search(api, limit=10_000)["limit"] == 100
    assert [n["id"] for n in search(api, limit=3)["nodes"]] == ["pack-24", "pack-23", "pack-22"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"page": "two"}, "invalid_input"),
        ({"limit": "1.5"}, "invalid_input"),
        ({"include_banned": "maybe"}, "invalid_input"),
        ({"page": "10001"}, "page_too_deep"),
        ({"page": str(10**30)}, "page_too_deep"),
        ({"search": "x" * 257}, "query_too_long"),
        ({"repository_url_search": "x" * 257}, "query_too_long"),
        ({"comfy_node_search": "x" * 257}, "query_too_long"),
    ],
)
def test_bad_parameters_are_400(api: RegistryClient, query: dict[str, str], code: str) -> None:
    r = api.get("/nodes/search", query=query)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"] == code
    assert r.get_json()["message"]


def test_exact_id_and_name_beat_mentions(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("image-pack", name="Image Pack", description="Has an upscaler among its tools", downloads=10_000)
    catalog.add("tiled-pack", name="Tiled Pack", tags=["upscaler", "tiles"], downloads=5000)
    catalog.add("ultimate-upscaler-pro", name="Ultimate Upscaler Pro", downloads=50)
    catalog.add("upscaler", name="Upscaler", downloads=1)
    assert ids(api, "upscaler") == ["upscaler", "ultimate-upscaler-pro", "tiled-pack", "image-pack"]
    # Every word must be found somewhere; word beginnings count.
    assert ids(api, "ultimate upsc") == ["ultimate-upscaler-pro"]
    assert ids(api, "tiles upscaler") == ["tiled-pack"]


def test_publisher_names_are_searched(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("pose-tools", name="Pose Tools")
    other = Catalog(api, "kijai", "kijai")
    catalog.set_publisher("kijai", name="Jukka Seppanen")
    other.add("wan-wrapper", name="Wan Wrapper", downloads=3)
    other.add("kj-nodes", name="KJ Nodes", downloads=9)
    assert ids(api, "seppanen") == ["kj-nodes", "wan-wrapper"]
    assert ids(api, "kijai wrapper") == ["wan-wrapper"]
    # A publisher renamed later is found under its new name: the search documents follow it.
    catalog.set_publisher("kijai", name="KJ")
    assert ids(api, "seppanen") == []
    assert ids(api, "kj") == ["kj-nodes", "wan-wrapper"]


@pytest.mark.parametrize(
    "query",
    ["vidoe helper", "video helpr", "vdieo helper", "VIDOE HELPER", "videohelpr", "comfyui-vidoe-helper"],
)
def test_small_typos_still_find_the_node(api: RegistryClient, catalog: Catalog, query: str) -> None:
    catalog.add("comfyui-video-helper", name="Video Helper", downloads=5)
    catalog.add("image-helper", name="Image Helper", downloads=500)
    catalog.add("audio-tools", name="Audio Tools", downloads=5000)
    found = ids(api, query)
    assert found[0] == "comfyui-video-helper"
    assert "audio-tools" not in found


def test_typo_matching_is_only_the_fallback(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("video-helper", name="Video Helper")
    catalog.add("vide-tools", name="Vide Tools")
    # `vide` matches both exactly (a word and a word's beginning): no fuzzy extras, no typo needed.
    assert sorted(ids(api, "vide")) == ["vide-tools", "video-helper"]
    assert ids(api, "xylophone") == []


@pytest.mark.parametrize(
    "query", ["VIDEO-HELPER", "video_helper", "video.helper", "Video Helper", "videohelper", "  video   helper "]
)
def test_case_and_separators_do_not_matter(api: RegistryClient, catalog: Catalog, query: str) -> None:
    catalog.add("comfyui-video_helper", name="Video.Helper", downloads=1)
    catalog.add("video-tools", name="Video Tools", description="a helper for clips", downloads=100)
    assert ids(api, query)[0] == "comfyui-video_helper"


def test_downloads_then_rating_break_ties(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("mask-a", name="Mask A", downloads=5, stars=(5, 1))
    catalog.add("mask-b", name="Mask B", downloads=50, stars=(3, 1))
    catalog.add("mask-c", name="Mask C", downloads=50, stars=(9, 2))
    catalog.add("mask-d", name="Mask D", downloads=50, stars=(9, 2))
    assert ids(api, "mask") == ["mask-c", "mask-d", "mask-b", "mask-a"]
    assert ids(api) == ["mask-c", "mask-d", "mask-b", "mask-a"]


def test_hidden_nodes_are_never_found(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("lora-shown", name="Lora Shown")
    catalog.add("lora-unscanned", name="Lora Unscanned", installable=False)
    catalog.add("lora-flagged", name="Lora Flagged", installable=False)
    catalog.set_version("lora-flagged", "1.0.0", status="flagged")
    catalog.add("lora-deprecated", name="Lora Deprecated")
    catalog.set_version("lora-deprecated", "1.0.0", deprecated=True)
    catalog.add("lora-banned", name="Lora Banned")
    r = api.post("/publishers/alice-pub/nodes/lora-banned/ban", as_="root", admin=True, json_body={"reason": "x"})
    assert r.status_code == 204
    catalog.add("lora-deleted", name="Lora Deleted")
    assert api.delete("/publishers/alice-pub/nodes/lora-deleted", as_="alice").status_code == 204
    banned_pub = Catalog(api, "mallory", "mallory-pub")
    banned_pub.add("lora-of-banned-publisher", name="Lora Of A Banned Publisher")
    catalog.set_publisher("mallory-pub", status="banned")
    for query in ({"search": "lora"}, {"search": "lora", "include_banned": "true"}, {}, {"search": "lora shwn"}):
        body = search(api, limit=100, **query)
        assert [n["id"] for n in body["nodes"]] == ["lora-shown"], query
        assert body["total"] == 1


def test_compatibility_filters(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("any-os", name="Sampler Any")
    catalog.add("windows-only", name="Sampler Win", supported_os=["Microsoft :: Windows"], downloads=1)
    catalog.add("linux-only", name="Sampler Linux", supported_os=["POSIX :: Linux"], downloads=2)
    catalog.add("independent", name="Sampler Indep", supported_os=["OS Independent"], downloads=3)
    catalog.add("cuda", name="Sampler Cuda", supported_accelerators=["CUDA"], downloads=4)
    catalog.add("rocm", name="Sampler Rocm", supported_accelerators=["ROCm", "DirectML"], downloads=5)
    linux = ids(api, "sampler", supported_os="POSIX :: Linux")
    assert sorted(linux) == ["any-os", "cuda", "independent", "linux-only", "rocm"]
    both = api.get("/nodes/search", query=[("search", "sampler"), ("supported_os", "MacOS,Microsoft :: Windows")])
    assert "windows-only" in [n["id"] for n in both.get_json()["nodes"]]
    assert "linux-only" not in [n["id"] for n in both.get_json()["nodes"]]
    cuda = ids(api, "sampler", supported_accelerator="CUDA")
    assert sorted(cuda) == ["any-os", "cuda", "independent", "linux-only", "windows-only"]
    assert "rocm" in ids(api, supported_accelerator="DirectML")


def test_repository_and_comfy_node_searches(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("vhs", name="VHS", repository="https://github.com/Kosinkadink/ComfyUI-VideoHelperSuite")
    catalog.add("pct", name="Percent", repository="https://github.com/someone/100%_pure")
    catalog.add("other", name="Other", repository="https://github.com/other/thing")
    assert ids(api, repository_url_search="kosinkadink/comfyui-video") == ["vhs"]
    # `%` and `_` are literal characters, not wildcards.
    assert ids(api, repository_url_search="100%_") == ["pct"]
    assert ids(api, repository_url_search="%") == ["pct"]
    with api.container.sessions() as s:
        version_id = s.scalar(select(NodeVersion.id).where(NodeVersion.node_id == "vhs"))
        s.add(ComfyNode(node_version_id=version_id, name="VHS_LoadVideo", output_is_list=[]))
        s.commit()
    assert ids(api, comfy_node_search="loadvideo") == ["vhs"]
    assert ids(api, "vhs", comfy_node_search="LoadVideo") == ["vhs"]
    assert ids(api, "other", comfy_node_search="LoadVideo") == []
    assert ids(api, comfy_node_search="nothing-like-it") == []


def test_documents_follow_node_edits(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("renamed", name="Old Name", description="first words", tags=["alpha"])
    body = {"name": "Shiny Name", "description": "second words", "tags": ["beta"]}
    assert api.put("/publishers/alice-pub/nodes/renamed", as_="alice", json_body=body).status_code == 200
    assert ids(api, "old") == [] and ids(api, "first") == [] and ids(api, "alpha") == []
    assert ids(api, "shiny") == ids(api, "second") == ids(api, "beta") == ["renamed"]


def test_installs_update_the_ranking_but_not_the_text(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("counted", name="Counted")
    catalog.add("counted-more", name="Counted More", downloads=2)
    before = _text(api)
    for _ in range(3):
        assert api.get("/nodes/counted/install").status_code == 200
    assert _text(api) == before
    assert ids(api, "counted") == ["counted", "counted-more"]
    assert ids(api) == ["counted", "counted-more"]
    assert search(api, search="counted")["nodes"][0]["downloads"] == 3


def _text(api: RegistryClient) -> list[tuple[object, ...]]:
    """The search text of every document (and on SQLite the FTS row id, which a text change would move)."""
    with api.container.sessions() as s:
        if s.get_bind().dialect.name == "postgresql":
            rows = s.execute(text("SELECT node_id, document::text, fuzzy FROM search_docs ORDER BY node_id"))
        else:
            rows = s.execute(text("SELECT node_id, rid, title, fuzzy FROM search_docs ORDER BY node_id"))
        return [tuple(r) for r in rows]


def test_a_reindex_repairs_missing_documents(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("repaired", name="Repaired Pack")
    with api.container.sessions() as s:
        s.execute(text("DELETE FROM search_docs"))
        s.commit()
    assert ids(api, "repaired") == []
    index = api.container.search
    assert isinstance(index, DatabaseSearchIndex)
    assert full.reindex(api.container.uow, index).complete
    assert ids(api, "repaired") == ["repaired"]
    assert list(index.node_ids()) == ["repaired"]


def test_another_index_answers_with_the_same_shape(api: RegistryClient, catalog: Catalog) -> None:
    catalog.add("indexed", name="Indexed", downloads=7)
    catalog.add("since-banned", name="Since Banned")
    fake = FakeIndex()
    fake.nodes = {i: {"objectID": i, "name": i} for i in ("indexed", "since-banned", "gone-from-db")}
    api.use(search=fake)
    catalog.set_node("since-banned", status="banned")
    body = search(api, search="e", limit=2)
    # The index picked three ids; the database shows only what may be shown, with the /nodes fields.
    assert [n["id"] for n in body["nodes"]] == ["indexed"]
    assert body["nodes"][0]["downloads"] == 7 and body["nodes"][0]["publisher"]["id"] == "alice-pub"
    assert (body["total"], body["limit"], body["totalPages"]) == (3, 2, 2)
