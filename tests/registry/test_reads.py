"""The public reads that comfy-cli, ComfyUI-Manager and the frontend rely on."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from shared.db.models import Node, NodeVersion
from tests.support import RegistryClient


def _set_node(api: RegistryClient, node_id: str, **values: object) -> None:
    with api.container.sessions() as s:
        s.execute(update(Node).where(Node.id == node_id).values(**values))
        s.commit()


def _set_version(api: RegistryClient, node_id: str, version: str, **values: object) -> None:
    with api.container.sessions() as s:
        s.execute(
            update(NodeVersion).where(NodeVersion.node_id == node_id, NodeVersion.version == version).values(**values)
        )
        s.commit()


def test_manager_paging_loop_terminates_and_finds_every_node(api: RegistryClient) -> None:
    token = api.owner_with_token("alice", "alice-pub")
    for i in range(65):
        api.publish("alice-pub", f"pack-{i:03d}", "1.0.0", token)
    seen: dict[str, dict[str, object]] = {}
    page, total_pages, calls = 1, 1, 0
    while page <= total_pages and calls < 10:
        r = api.get(
            "/nodes",
            query={"page": page, "limit": 30, "comfyui_version": "v0.3.40", "form_factor": "git-linux"},
            headers={"Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "0"},
        )
        assert r.status_code == 200
        body = r.get_json()
        total_pages = body["totalPages"]
        for node in body["nodes"]:
            seen[node["id"]] = node
        page, calls = page + 1, calls + 1
    assert total_pages == 3 and calls == 3 and len(seen) == 65
    node = seen["pack-042"]
    assert node["publisher"]["name"] == "alice-pub"  # type: ignore[index]
    assert node["latest_version"]["version"] == "1.0.0"  # type: ignore[index]
    assert {"id", "name", "description"} <= set(node)


def test_nodes_page_shape_and_bounds(api: RegistryClient) -> None:
    body = api.get("/nodes").get_json()
    assert body == {"total": 0, "nodes": [], "page": 1, "limit": 10, "totalPages": 0}
    body = api.get("/nodes", query={"page": 0, "limit": 0}).get_json()
    assert (body["page"], body["limit"]) == (1, 10)
    assert api.get("/nodes", query={"limit": 10_000}).get_json()["limit"] == 100
    assert api.get("/nodes", query={"page": "x"}).status_code == 400
    assert api.get("/nodes", query={"include_banned": "perhaps"}).status_code == 400
    assert api.get("/nodes", query={"timestamp": "yesterday"}).status_code == 400
    assert api.get("/nodes", query={"sort": "password"}).status_code == 400


def test_incremental_sync_catches_new_versions_of_old_nodes(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "old-node", "1.0.0", token)
    api.publish("alice-pub", "quiet-node", "1.0.0", token)
    past = datetime.now(UTC) - timedelta(days=3)
    for node_id in ("old-node", "quiet-node"):
        _set_node(api, node_id, created_at=past, updated_at=past, changed_at=past)
        _set_version(api, node_id, "1.0.0", created_at=past, updated_at=past)
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.get("/nodes", query={"timestamp": since}).get_json()["nodes"] == []

    api.publish("alice-pub", "old-node", "1.1.0", token)
    api.publish("alice-pub", "new-node", "1.0.0", token)
    body = api.get("/nodes", query={"timestamp": since}).get_json()
    assert sorted(n["id"] for n in body["nodes"]) == ["new-node", "old-node"]
    assert {n["id"]: n["latest_version"]["version"] for n in body["nodes"]}["old-node"] == "1.1.0"


def test_banned_and_deleted_nodes(api: RegistryClient) -> None:
    token = api.owner_with_token()
    for node_id in ("good", "bad", "gone"):
        api.publish("alice-pub", node_id, "1.0.0", token)
    _set_node(api, "bad", status="banned")
    assert api.delete("/publishers/alice-pub/nodes/gone", as_="alice").status_code == 204
    assert [n["id"] for n in api.get("/nodes").get_json()["nodes"]] == ["good"]
    with_banned = api.get("/nodes", query={"include_banned": "true"}).get_json()["nodes"]
    assert sorted(n["id"] for n in with_banned) == ["bad", "good"]
    for path in ("/nodes/bad", "/nodes/bad/versions", "/nodes/bad/install", "/nodes/bad/versions/1.0.0"):
        r = api.get(path)
        assert r.status_code == 403 and r.get_json()["message"] == "Node Banned", path
    assert api.get("/nodes/gone").status_code == 404


def test_filters_node_id_os_accelerator_and_sort(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish(
        "alice-pub",
        "win-only",
        "1.0.0",
        token,
        supported_os=["Microsoft :: Windows"],
        supported_accelerators=["GPU :: AMD ROCm"],
    )
    api.publish(
        "alice-pub",
        "anywhere",
        "1.0.0",
        token,
        supported_os=["OS Independent"],
        supported_accelerators=["GPU :: NVIDIA CUDA"],
    )
    api.publish("alice-pub", "unstated", "1.0.0", token)
    _set_node(api, "unstated", total_install=50)

    def ids(**query: object) -> list[str]:
        r = api.get("/nodes", query=query)
        assert r.status_code == 200, r.get_data(as_text=True)
        return [n["id"] for n in r.get_json()["nodes"]]

    assert ids(form_factor="git-linux") == ["anywhere", "unstated"]
    assert ids(form_factor="desktop-win") == ["anywhere", "unstated", "win-only"]
    assert ids(form_factor="something-new") == ["anywhere", "unstated", "win-only"]
    assert ids(supported_os="Microsoft :: Windows") == ["anywhere", "unstated", "win-only"]
    assert ids(supported_accelerator="GPU :: NVIDIA CUDA") == ["anywhere", "unstated"]
    assert ids(node_id=["win-only", "unstated"]) == ["unstated", "win-only"]
    assert ids(sort="downloads;desc")[0] == "unstated"
    assert ids(sort="id;desc") == ["win-only", "unstated", "anywhere"]


def test_comfyui_version_filter(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "new-only", "1.0.0", token, supported_comfyui_version=">=0.3.40")
    api.publish("alice-pub", "old-only", "1.0.0", token, supported_comfyui_version="<0.3.0")
    api.publish("alice-pub", "any", "1.0.0", token)

    def ids(version: str) -> list[str]:
        return [n["id"] for n in api.get("/nodes", query={"comfyui_version": version}).get_json()["nodes"]]

    assert ids("v0.3.41") == ["any", "new-only"]
    assert ids("v0.2.0") == ["any", "old-only"]
    assert ids("unknown") == ["any", "new-only", "old-only"]
    r = api.put("/publishers/alice-pub/nodes/old-only", as_="alice", json_body={"supported_comfyui_version": ""})
    assert r.status_code == 200
    assert ids("v0.3.41") == ["any", "new-only", "old-only"]


def test_node_and_versions(api: RegistryClient) -> None:
    token = api.owner_with_token()
    for v in ("1.9.0", "1.10.0"):
        api.publish("alice-pub", "my-node", v, token)  # uploaded and scanned: active
    api.publish("alice-pub", "my-node", "1.2.0", token, upload=False)  # still pending
    node = api.get("/nodes/my-node").get_json()
    assert node["latest_version"]["version"] == "1.10.0"  # semantic, not text, order

    r = api.get(
        "/nodes/my-node/versions",
        query=[("statuses", "NodeVersionStatusActive"), ("statuses", "NodeVersionStatusPending")],
    )
    rows = r.get_json()
    assert isinstance(rows, list) and [v["version"] for v in rows] == ["1.10.0", "1.9.0", "1.2.0"]
    assert all({"createdAt", "version", "changelog"} <= set(v) for v in rows)
    assert rows[0]["status_reason"] == ""
    active = api.get(
        "/nodes/my-node/versions", query={"statuses": "NodeVersionStatusActive", "include_status_reason": "true"}
    ).get_json()
    assert [(v["version"], v["status_reason"]) for v in active] == [
        ("1.10.0", "Passed automated checks"),
        ("1.9.0", "Passed automated checks"),
    ]
    pending = api.get("/nodes/my-node/versions", query={"statuses": "NodeVersionStatusPending"}).get_json()
    assert [v["version"] for v in pending] == ["1.2.0"]
    assert api.get("/nodes/my-node/versions", query={"statuses": "Nope"}).status_code == 400
    assert api.get("/nodes/nope/versions").status_code == 404

    assert api.get("/nodes/my-node/versions/1.9").get_json()["version"] == "1.9.0"
    r = api.get("/nodes/my-node/versions/3.0.0")
    assert r.status_code == 404 and r.get_json()["message"] == "Node version not found"
    assert api.get("/nodes/my-node/versions/garbage").status_code == 404


def test_install_picks_latest_and_counts(api: RegistryClient) -> None:
    token = api.owner_with_token()
    for v in ("1.9.0", "1.10.0"):
        api.publish("alice-pub", "my-node", v, token)
    r = api.get("/nodes/my-node/install")
    assert r.status_code == 200
    body = r.get_json()
    assert body["version"] == "1.10.0" and body["downloadUrl"].startswith("http://")
    assert {"id", "version", "downloadUrl", "dependencies", "deprecated", "changelog", "status"} <= set(body)
    assert api.get("/nodes/my-node/install", query={"version": "1.9.0"}).get_json()["version"] == "1.9.0"
    assert api.get("/nodes/my-node").get_json()["downloads"] == 2
    assert api.get("/nodes/my-node/install", query={"version": "5.0.0"}).status_code == 404
    assert api.get("/nodes/missing/install").status_code == 404
    _set_version(api, "my-node", "1.10.0", status="flagged")
    assert api.get("/nodes/my-node/install").get_json()["version"] == "1.9.0"
    r = api.get("/nodes/my-node/install", query={"version": "1.10.0"})
    assert r.status_code == 403 and "flagged" in r.get_json()["message"]
    assert api.get("/nodes/my-node").get_json()["downloads"] == 3  # refusals are not counted
    # A stray `Method: HEAD` header (ComfyUI-Manager's download probe) changes nothing.
    assert api.get("/nodes/my-node/install", headers={"Method": "HEAD"}).status_code == 200


def test_concurrent_installs_are_counted_exactly(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "popular", "1.0.0", token)
    client = api.client

    def install(_: int) -> int:
        return int(client.get("/nodes/popular/install").status_code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(install, range(40)))
    assert codes == [200] * 40
    assert api.get("/nodes/popular").get_json()["downloads"] == 40


def test_all_versions_listing(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "a", "1.0.0", token)
    time.sleep(0.01)
    api.publish("alice-pub", "b", "1.0.0", token)
    api.publish("alice-pub", "b", "2.0.0", token)
    body = api.get("/versions", query={"pageSize": 2}).get_json()
    assert (body["total"], body["pageSize"], body["totalPages"], len(body["versions"])) == (3, 2, 2, 2)
    assert api.get("/versions", query={"nodeId": "b"}).get_json()["total"] == 2
    r = api.get("/versions", query={"pageSize": 101})
    assert r.status_code == 400 and r.get_json()["message"] == "Invalid pageSize: 101. The maximum allowed is 100."
    assert api.get("/versions", query={"statuses": "NodeVersionStatusActive"}).get_json()["total"] == 3
    assert api.get("/versions", query={"statuses": "NodeVersionStatusPending"}).get_json()["total"] == 0


@pytest.mark.parametrize("path", ["/nodes/does-not-exist", "/nodes/does-not-exist/install"])
def test_unknown_node_is_404_with_message(api: RegistryClient, path: str) -> None:
    r = api.get(path)
    assert r.status_code == 404 and r.get_json()["message"]
