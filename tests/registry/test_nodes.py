"""Nodes under a publisher: create, update, delete, permissions."""

from __future__ import annotations

from tests.support import RegistryClient


def test_create_update_delete_node(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    body = {
        "id": "my-node",
        "name": "My Node",
        "description": "d",
        "tags": ["video"],
        "license": "MIT",
        "repository": "https://github.com/a/b",
        "icon": "https://i",
        "unknown_field": True,
    }
    r = api.post("/publishers/alice-pub/nodes", as_="alice", json_body=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    node = r.get_json()
    assert (node["id"], node["name"], node["tags"], node["icon"]) == ("my-node", "My Node", ["video"], "https://i")
    assert node["status"] == "NodeStatusActive" and node["downloads"] == 0 and node["rating"] == 0
    assert "latest_version" not in node

    r = api.put("/publishers/alice-pub/nodes/my-node", as_="alice", json_body={"description": "new", "tags": []})
    assert r.status_code == 200 and r.get_json()["description"] == "new" and r.get_json()["tags"] == []
    assert api.get("/publishers/alice-pub/nodes/my-node/permissions", as_="alice").get_json() == {"canEdit": True}

    assert api.delete("/publishers/alice-pub/nodes/my-node", as_="alice").status_code == 204
    assert api.get("/nodes/my-node").status_code == 404
    assert api.get("/publishers/alice-pub/nodes/my-node/permissions", as_="alice").get_json() == {"canEdit": False}
    # The id stays reserved.
    r = api.post("/publishers/alice-pub/nodes", as_="alice", json_body={"id": "my-node", "name": "again"})
    assert r.status_code == 409


def test_node_writes_need_the_owner(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    api.create_publisher("bob", "bob-pub")
    assert api.post("/publishers/alice-pub/nodes", as_="bob", json_body={"id": "x", "name": "x"}).status_code == 403
    assert api.post("/publishers/alice-pub/nodes", json_body={"id": "x", "name": "x"}).status_code == 401
    api.post("/publishers/alice-pub/nodes", as_="alice", json_body={"id": "x", "name": "x"})
    assert api.put("/publishers/alice-pub/nodes/x", as_="bob", json_body={"name": "y"}).status_code == 403
    assert api.delete("/publishers/alice-pub/nodes/x", as_="bob").status_code == 403
    # Bob owns bob-pub but the node belongs to alice-pub.
    assert api.put("/publishers/bob-pub/nodes/x", as_="bob", json_body={"name": "y"}).status_code == 403
    assert api.delete("/publishers/bob-pub/nodes/x", as_="bob").status_code == 403
    assert api.get("/publishers/bob-pub/nodes/x/permissions", as_="bob").get_json() == {"canEdit": False}
    assert api.put("/publishers/alice-pub/nodes/missing", as_="alice", json_body={}).status_code == 404
    assert api.get("/nodes/x").get_json()["name"] == "x"


def test_node_id_rules_and_duplicates(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    for bad in ["", "-x", "x-", "a b", "x" * 101, "ü"]:
        r = api.post("/publishers/alice-pub/nodes", as_="alice", json_body={"id": bad, "name": "n"})
        assert r.status_code == 400, bad
    assert api.post("/publishers/alice-pub/nodes", as_="alice", json_body={"id": "My.Node_1"}).status_code == 201
    r = api.post("/publishers/alice-pub/nodes", as_="alice", json_body={"id": "my.node_1"})
    assert r.status_code == 409 and "My.Node_1" in r.get_json()["message"]
    r = api.put("/publishers/alice-pub/nodes/My.Node_1", as_="alice", json_body={"id": "renamed"})
    assert r.status_code == 400


def test_publisher_node_lists(api: RegistryClient) -> None:
    token = api.owner_with_token()
    for i in range(12):
        api.publish("alice-pub", f"node-{i:02d}", "1.0.0", token)
    listed = api.get("/publishers/alice-pub/nodes").get_json()
    assert isinstance(listed, list) and len(listed) == 12  # the old service stopped at 10
    assert listed[0]["latest_version"]["version"] == "1.0.0"
    page = api.get("/publishers/alice-pub/nodes/v2", query={"page": 2, "limit": 5}).get_json()
    assert (page["total"], page["page"], page["limit"], page["totalPages"]) == (12, 2, 5, 3)
    assert [n["id"] for n in page["nodes"]] == [f"node-{i:02d}" for i in range(5, 10)]
