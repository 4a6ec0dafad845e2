"""Bans, unbans, the admin endpoints and the audit log, on both databases, through the function's entry point."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select

from functions.registry.moderation import schemas as schemas_admin
from shared.db.models import AuditEntry, Node, NodeVersion, OutboxEvent, Publisher, PublisherPermission, User
from tests.contract import load_spec
from tests.support import RegistryClient

ADMIN = "root"
# Other areas (token issue, comfy-node edits) write to the audit log too; these are ours.
MODERATION = (
    "publisher.ban",
    "publisher.unban",
    "node.ban",
    "node.unban",
    "version.status_change",
    "node.create",
    "node.update",
)


# -- helpers ---------------------------------------------------------------------------------------------------
def set_user(api: RegistryClient, uid: str, **values: object) -> None:
    api.get("/users", as_=uid)  # the row, as a first login creates it
    with api.container.sessions() as s:
        user = s.get(User, uid)
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)
        s.commit()


def add_member(api: RegistryClient, publisher_id: str, uid: str, permission: str = "member") -> None:
    api.get("/users", as_=uid)
    with api.container.sessions() as s:
        s.add(PublisherPermission(publisher_id=publisher_id, user_id=uid, permission=permission))
        s.commit()


def status(api: RegistryClient, model: type[User] | type[Publisher] | type[Node], key: str) -> str:
    with api.container.sessions() as s:
        value = s.scalar(select(model.status).where(model.id == key))
        assert value is not None, key
        return str(value)


def audit(api: RegistryClient, action: str | None = None) -> list[AuditEntry]:
    with api.container.sessions() as s:
        stmt = select(AuditEntry).order_by(AuditEntry.created_at)
        stmt = stmt.where(AuditEntry.action == action if action else AuditEntry.action.in_(MODERATION))
        return list(s.scalars(stmt).all())


def events(api: RegistryClient, type_: str) -> list[dict[str, Any]]:
    with api.container.sessions() as s:
        rows = s.scalars(select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.created_at))
        return [dict(r.payload) for r in rows]


def snapshot(api: RegistryClient) -> dict[str, Any]:
    """Everything moderation could change, to show that a refused call changed none of it."""
    with api.container.sessions() as s:
        return {
            "users": {u.id: u.status for u in s.scalars(select(User))},
            "publishers": {p.id: p.status for p in s.scalars(select(Publisher))},
            "nodes": {n.id: (n.status, n.name, n.tags_admin, n.changed_at) for n in s.scalars(select(Node))},
            "versions": {v.id: (v.status, v.status_reason) for v in s.scalars(select(NodeVersion))},
            "audit": s.scalar(select(func.count()).select_from(AuditEntry)),
            "events": s.scalar(select(func.count()).select_from(OutboxEvent)),
        }


def message(r: Any) -> str:
    return str(r.get_json()["message"])


def catalogue(api: RegistryClient) -> str:
    """alice-pub (alice owner, bob member) with two nodes and one deleted node; bob also owns bob-pub."""
    token = api.owner_with_token("alice", "alice-pub")
    for node_id in ("pack-a", "pack-b", "pack-gone"):
        api.publish("alice-pub", node_id, "1.0.0", token)
    assert api.delete("/publishers/alice-pub/nodes/pack-gone", as_="alice").status_code == 204
    add_member(api, "alice-pub", "bob")
    bob_token = api.owner_with_token("bob", "bob-pub")
    api.publish("bob-pub", "bob-pack", "1.0.0", bob_token)
    api.get("/users", as_="carol")
    return token


# -- banning a publisher ---------------------------------------------------------------------------------------
def test_publisher_ban_cascades_to_members_and_nodes(api: RegistryClient) -> None:
    token = catalogue(api)
    r = api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True, json_body={"reason": "malware in pack-a"})
    assert r.status_code == 204 and r.get_data() == b""

    assert status(api, Publisher, "alice-pub") == "banned" and status(api, Publisher, "bob-pub") == "active"
    assert [status(api, User, u) for u in ("alice", "bob", "carol")] == ["banned", "banned", "active"]
    assert [status(api, Node, n) for n in ("pack-a", "pack-b", "pack-gone", "bob-pack")] == [
        "banned",
        "banned",
        "deleted",
        "active",
    ]
    with api.container.sessions() as s:  # versions are left alone
        assert {v.status for v in s.scalars(select(NodeVersion))} == {"active"}

    [entry] = audit(api)
    assert (entry.actor_id, entry.action, entry.target_type, entry.target_id) == (
        ADMIN,
        "publisher.ban",
        "publisher",
        "alice-pub",
    )
    assert entry.reason == "malware in pack-a"
    assert entry.details["user_ids"] == ["alice", "bob"] and entry.details["node_ids"] == ["pack-a", "pack-b"]
    assert sorted(e["node_id"] for e in events(api, "node.banned")) == ["pack-a", "pack-b"]
    assert [e["publisher_id"] for e in events(api, "publisher.banned")] == ["alice-pub"]

    # Banned nodes are unreadable; listings leave them out unless asked.
    for path in ("/nodes/pack-a", "/nodes/pack-a/versions", "/nodes/pack-a/install", "/nodes/pack-a/versions/1.0.0"):
        r = api.get(path)
        assert r.status_code == 403 and message(r) == "Node Banned", path
    assert [n["id"] for n in api.get("/nodes").get_json()["nodes"]] == ["bob-pack"]
    listed = api.get("/nodes", query={"include_banned": "true"}).get_json()["nodes"]
    assert sorted(n["id"] for n in listed) == ["bob-pack", "pack-a", "pack-b"]
    assert {n["status"] for n in listed if n["id"] != "bob-pack"} == {"NodeStatusBanned"}
    assert api.get("/publishers/alice-pub").get_json()["status"] == "PublisherStatusBanned"

    # The publisher cannot publish; its members can change nothing, on any of their publishers.
    r = api.post(
        "/publishers/alice-pub/nodes/pack-new/versions", json_body=api.publish_body(token, "pack-new", "1.0.0")
    )
    assert r.status_code == 403
    for r in (
        api.put("/publishers/bob-pub", as_="bob", json_body={"description": "x"}),
        api.post("/publishers/bob-pub/nodes", as_="bob", json_body={"id": "another", "name": "n"}),
        api.post("/publishers/bob-pub/tokens", as_="bob", json_body={"name": "t"}),
        api.post("/publishers", as_="alice", json_body={"id": "fresh-start", "name": "x"}),
    ):
        assert r.status_code == 403 and message(r) == "user/publisher is banned"
    assert api.get("/nodes/bob-pack").status_code == 200  # bob's other publisher's nodes stay readable


def test_publisher_ban_is_idempotent_and_takes_an_empty_body(api: RegistryClient) -> None:
    catalogue(api)
    assert api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True).status_code == 204
    assert api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True, data="").status_code == 204
    assert api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True, json_body={}).status_code == 204
    entries = audit(api, "publisher.ban")
    assert len(entries) == 3 and {e.reason for e in entries} == {""}
    assert entries[1].details["node_ids"] == [] and entries[1].details["user_ids"] == ["alice", "bob"]
    assert len(events(api, "node.banned")) == 2 and len(events(api, "publisher.banned")) == 1
    assert status(api, Publisher, "alice-pub") == "banned"


def test_who_may_ban_a_publisher(api: RegistryClient) -> None:
    catalogue(api)
    add_member(api, "alice-pub", "mia")
    set_user(api, "fallen", is_admin=True, status="banned")
    before = snapshot(api)
    cases = [
        (None, False, 401, "missing auth token for path: /publishers/alice-pub/ban"),
        ("carol", False, 403, "User is not admin"),
        ("mia", False, 403, "User is not admin"),  # a member
        ("alice", False, 403, "User is not admin"),  # the owner
        ("fallen", True, 403, "user/publisher is banned"),  # an admin, but banned
    ]
    for uid, claim, code, text in cases:
        r = api.post("/publishers/alice-pub/ban", as_=uid, admin=claim, json_body={"reason": "no"})
        assert (r.status_code, message(r)) == (code, text), uid
    assert snapshot(api) == before

    # users.is_admin is as good as the claim.
    set_user(api, "ops", is_admin=True)
    assert api.post("/publishers/alice-pub/ban", as_="ops").status_code == 204
    assert audit(api)[0].actor_id == "ops"


def test_publisher_ban_bad_input(api: RegistryClient) -> None:
    catalogue(api)
    before = snapshot(api)
    r = api.post("/publishers/nobody/ban", as_=ADMIN, admin=True)
    assert r.status_code == 404 and message(r) == "Publisher not found"
    assert api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True, data="{oops").status_code == 400
    assert api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True, data="[1]").status_code == 400
    r = api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True, json_body={"reason": 12})
    assert r.status_code == 400 and "reason" in message(r)
    r = api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True, json_body={"reason": "x" * 2001})
    assert r.status_code == 400
    assert snapshot(api) == before


def test_an_admin_cannot_ban_a_publisher_they_belong_to(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    add_member(api, "alice-pub", ADMIN)
    r = api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True)
    assert r.status_code == 409 and r.get_json()["error"] == "admin_is_member"
    assert status(api, Publisher, "alice-pub") == "active" and status(api, User, ADMIN) == "active"


# -- unbanning a publisher -------------------------------------------------------------------------------------
def test_unban_restores_what_the_ban_did_and_nothing_else(api: RegistryClient) -> None:
    token = api.owner_with_token("alice", "alice-pub")
    for node_id in ("main-pack", "solo-pack", "late-pack"):
        api.publish("alice-pub", node_id, "1.0.0", token)
    add_member(api, "alice-pub", "bob")
    api.create_publisher("bob", "bob-pub")
    add_member(api, "alice-pub", "dave")
    set_user(api, "dave", status="banned")  # banned before, for reasons of its own
    assert api.post("/publishers/alice-pub/nodes/solo-pack/ban", as_=ADMIN, admin=True).status_code == 204

    assert api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True).status_code == 204
    assert api.post("/publishers/bob-pub/ban", as_=ADMIN, admin=True).status_code == 204
    # Banned on its own while its publisher is banned: that ban outlives the publisher's.
    assert api.post("/publishers/alice-pub/nodes/late-pack/ban", as_=ADMIN, admin=True).status_code == 204
    ban = audit(api, "publisher.ban")[0]
    assert ban.details["user_ids"] == ["alice", "bob"] and ban.details["other_banned_user_ids"] == ["dave"]

    r = api.post("/publishers/alice-pub/unban", as_=ADMIN, admin=True, json_body={"reason": "appeal upheld"})
    assert r.status_code == 204
    assert status(api, Publisher, "alice-pub") == "active"
    # bob stays banned while bob-pub is; dave was banned for another reason; solo-pack was banned on its own.
    assert [status(api, User, u) for u in ("alice", "bob", "dave")] == ["active", "banned", "banned"]
    assert [status(api, Node, n) for n in ("main-pack", "solo-pack", "late-pack")] == ["active", "banned", "banned"]
    [unban] = audit(api, "publisher.unban")
    assert (unban.actor_id, unban.reason) == (ADMIN, "appeal upheld")
    assert unban.details["user_ids"] == ["alice"] and unban.details["kept_banned_user_ids"] == ["bob"]
    assert unban.details["node_ids"] == ["main-pack"]
    assert [e["node_id"] for e in events(api, "node.unbanned")] == ["main-pack"]
    assert [e["publisher_id"] for e in events(api, "publisher.unbanned")] == ["alice-pub"]
    assert api.get("/nodes/main-pack").status_code == 200
    assert api.put("/publishers/alice-pub", as_="alice", json_body={"description": "back"}).status_code == 200
    api.publish("alice-pub", "main-pack", "1.1.0", token)

    assert api.post("/publishers/bob-pub/unban", as_=ADMIN, admin=True).status_code == 204
    assert status(api, User, "bob") == "active" and status(api, User, "dave") == "banned"


def test_unban_is_idempotent_and_admin_only(api: RegistryClient) -> None:
    catalogue(api)
    assert api.post("/publishers/alice-pub/unban", as_=ADMIN, admin=True).status_code == 204  # never banned
    assert status(api, User, "alice") == "active" and len(events(api, "publisher.unbanned")) == 0
    api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True)
    before = snapshot(api)
    assert api.post("/publishers/alice-pub/unban").status_code == 401
    assert api.post("/publishers/alice-pub/unban", as_="carol").status_code == 403
    assert api.post("/publishers/alice-pub/unban", as_="bob-twin", json_body={"reason": "x"}).status_code == 403
    assert snapshot(api) == before
    assert api.post("/publishers/nobody/unban", as_=ADMIN, admin=True).status_code == 404
    for _ in range(2):
        assert api.post("/publishers/alice-pub/unban", as_=ADMIN, admin=True).status_code == 204
    assert status(api, User, "bob") == "active" and status(api, Node, "pack-a") == "active"
    assert len(events(api, "publisher.unbanned")) == 1


# -- banning and unbanning a node ------------------------------------------------------------------------------
def test_node_ban(api: RegistryClient) -> None:
    catalogue(api)
    before = snapshot(api)
    assert api.post("/publishers/alice-pub/nodes/pack-a/ban").status_code == 401
    assert api.post("/publishers/alice-pub/nodes/pack-a/ban", as_="alice").status_code == 403  # the owner
    assert api.post("/publishers/alice-pub/nodes/pack-a/ban", as_="bob").status_code == 403  # a member
    for path in (
        "/publishers/alice-pub/nodes/bob-pack/ban",  # another publisher's node
        "/publishers/alice-pub/nodes/nothing/ban",
        "/publishers/nobody/nodes/pack-a/ban",
    ):
        assert api.post(path, as_=ADMIN, admin=True).status_code == 404, path
    assert api.post("/publishers/alice-pub/nodes/pack-a/ban", as_=ADMIN, admin=True, data="{").status_code == 400
    assert snapshot(api) == before

    body = {"reason": "crypto miner"}
    assert api.post("/publishers/alice-pub/nodes/pack-a/ban", as_=ADMIN, admin=True, json_body=body).status_code == 204
    assert api.post("/publishers/alice-pub/nodes/pack-a/ban", as_=ADMIN, admin=True).status_code == 204
    assert status(api, Node, "pack-a") == "banned" and status(api, Node, "pack-b") == "active"
    assert status(api, User, "alice") == "active" and status(api, Publisher, "alice-pub") == "active"
    for path in ("/nodes/pack-a", "/nodes/pack-a/versions", "/nodes/pack-a/install", "/nodes/pack-a/versions/1.0.0"):
        r = api.get(path)
        assert r.status_code == 403 and message(r) == "Node Banned", path
    r = api.put("/publishers/alice-pub/nodes/pack-a", as_="alice", json_body={"name": "renamed"})
    assert r.status_code == 403 and message(r) == "Node Banned"
    assert api.put("/publishers/alice-pub/nodes/pack-b", as_="alice", json_body={"name": "fine"}).status_code == 200
    assert "pack-a" not in [n["id"] for n in api.get("/nodes").get_json()["nodes"]]
    assert "pack-a" in [n["id"] for n in api.get("/nodes", query={"include_banned": True}).get_json()["nodes"]]
    first, second = audit(api, "node.ban")
    assert (first.actor_id, first.target_id, first.reason) == (ADMIN, "pack-a", "crypto miner")
    assert first.details["previous_status"] == "active" and second.details["previous_status"] == "banned"
    assert [e["node_id"] for e in events(api, "node.banned")] == ["pack-a"]


def test_node_unban(api: RegistryClient) -> None:
    catalogue(api)
    for node_id in ("pack-a", "pack-gone"):
        assert api.post(f"/publishers/alice-pub/nodes/{node_id}/ban", as_=ADMIN, admin=True).status_code == 204
    assert status(api, Node, "pack-gone") == "banned"
    before = snapshot(api)
    assert api.post("/publishers/alice-pub/nodes/pack-a/unban", as_="alice").status_code == 403
    assert api.post("/publishers/alice-pub/nodes/pack-a/unban").status_code == 401
    assert api.post("/publishers/bob-pub/nodes/pack-a/unban", as_=ADMIN, admin=True).status_code == 404
    assert snapshot(api) == before

    assert api.post("/publishers/alice-pub/nodes/pack-a/unban", as_=ADMIN, admin=True).status_code == 204
    assert api.get("/nodes/pack-a").status_code == 200
    # A node banned after its deletion goes back to deleted, not to life.
    assert api.post("/publishers/alice-pub/nodes/pack-gone/unban", as_=ADMIN, admin=True).status_code == 204
    assert status(api, Node, "pack-gone") == "deleted" and api.get("/nodes/pack-gone").status_code == 404
    assert api.post("/publishers/alice-pub/nodes/pack-b/unban", as_=ADMIN, admin=True).status_code == 204  # not banned
    assert [(e.target_id, e.details["new_status"]) for e in audit(api, "node.unban")] == [
        ("pack-a", "active"),
        ("pack-gone", "deleted"),
        ("pack-b", "active"),
    ]
    assert sorted(e["node_id"] for e in events(api, "node.unbanned")) == ["pack-a", "pack-gone"]

    api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True)
    r = api.post("/publishers/alice-pub/nodes/pack-a/unban", as_=ADMIN, admin=True)
    assert r.status_code == 409 and r.get_json()["error"] == "publisher_banned"
    assert status(api, Node, "pack-a") == "banned"


# -- version status --------------------------------------------------------------------------------------------
def test_admin_sets_a_version_status(api: RegistryClient) -> None:
    token = api.owner_with_token("alice", "alice-pub")
    for version in ("1.0.0", "1.1.0"):
        api.publish("alice-pub", "my-pack", version, token)
    time.sleep(0.01)
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert api.get("/nodes", query={"timestamp": since}).get_json()["nodes"] == []
    path = "/admin/nodes/my-pack/versions/1.1.0"

    r = api.put(path, as_=ADMIN, admin=True, json_body={"status": "NodeVersionStatusFlagged"})
    assert r.status_code == 400 and r.get_json()["error"] == "reason_required"
    r = api.put(path, as_=ADMIN, admin=True, json_body={"status": "NodeVersionStatusBanned", "status_reason": "  "})
    assert r.status_code == 400
    body = {"status": "NodeVersionStatusFlagged", "status_reason": "obfuscated code", "supported_os": ["MacOS"]}
    r = api.put("/admin/nodes/my-pack/versions/v1.1", as_=ADMIN, admin=True, json_body=body)
    assert r.status_code == 200, r.get_data(as_text=True)
    got = r.get_json()
    assert (got["version"], got["status"], got["status_reason"]) == (
        "1.1.0",
        "NodeVersionStatusFlagged",
        "obfuscated code",
    )
    assert got["supported_os"] == ["MacOS"]

    # Installs and "latest" move off the flagged version; incremental sync sees the node.
    r = api.get("/nodes/my-pack/install", query={"version": "1.1.0"})
    assert r.status_code == 403
    assert api.get("/nodes/my-pack").get_json()["latest_version"]["version"] == "1.0.0"
    assert [n["id"] for n in api.get("/nodes", query={"timestamp": since}).get_json()["nodes"]] == ["my-pack"]

    [entry] = audit(api, "version.status_change")
    assert (entry.actor_id, entry.target_type, entry.target_id, entry.reason) == (
        ADMIN,
        "node_version",
        got["id"],
        "obfuscated code",
    )
    assert (entry.details["old_status"], entry.details["new_status"]) == ("active", "flagged")
    [event] = [e for e in events(api, "version.status_changed") if e.get("by") == ADMIN]  # not the scanner's
    assert (event["node_id"], event["version"], event["new_status"]) == ("my-pack", "1.1.0", "flagged")

    r = api.put(path, as_=ADMIN, admin=True, json_body={"status": "active"})  # short names work too
    assert r.status_code == 200 and r.get_json()["status"] == "NodeVersionStatusActive"
    assert r.get_json()["status_reason"] == ""
    assert api.get("/nodes/my-pack/install").get_json()["version"] == "1.1.0"


def test_version_status_bad_input_and_access(api: RegistryClient) -> None:
    token = api.owner_with_token("alice", "alice-pub")
    api.publish("alice-pub", "my-pack", "1.0.0", token)
    path = "/admin/nodes/my-pack/versions/1.0.0"
    good = {"status": "NodeVersionStatusActive"}
    before = snapshot(api)
    assert api.put(path, json_body=good).status_code == 401
    r = api.put(path, as_="alice", json_body=good)
    assert r.status_code == 403 and message(r) == "User is not admin"
    for bad in ({}, {"status": "NodeVersionStatusWeird"}, {"status": 3}, {"status": None}, {"status_reason": "x"}):
        r = api.put(path, as_=ADMIN, admin=True, json_body=bad)
        assert r.status_code == 400 and "status" in message(r), bad
    assert api.put(path, as_=ADMIN, admin=True, data="{").status_code == 400
    assert api.put(path, as_=ADMIN, admin=True, json_body={**good, "supported_os": "MacOS"}).status_code == 400
    assert (
        api.put("/admin/nodes/my-pack/versions/not-a-version", as_=ADMIN, admin=True, json_body=good).status_code == 400
    )
    for missing in ("/admin/nodes/my-pack/versions/2.0.0", "/admin/nodes/nothing/versions/1.0.0"):
        assert api.put(missing, as_=ADMIN, admin=True, json_body=good).status_code == 404, missing
    assert snapshot(api) == before


# -- admin node edits ------------------------------------------------------------------------------------------
def test_admin_creates_nodes_under_any_publisher(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    body = {"id": "curated", "publisher_id": "alice-pub", "name": "Curated", "tags_admin": ["reviewed"]}
    r = api.post("/admin/nodes", as_=ADMIN, admin=True, json_body={**body, "status_detail": "vetted"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert (r.get_json()["id"], r.get_json()["name"], r.get_json()["status_detail"]) == ("curated", "Curated", "vetted")
    r = api.post("/admin/nodes", as_=ADMIN, admin=True, json_body={"id": "other", "publisher": {"id": "alice-pub"}})
    assert r.status_code == 201
    with api.container.sessions() as s:
        node = s.get(Node, "curated")
        assert node is not None and node.publisher_id == "alice-pub" and node.tags_admin == ["reviewed"]
    assert api.get("/nodes/curated").get_json()["name"] == "Curated"
    [entry, _] = audit(api, "node.create")
    assert (entry.actor_id, entry.target_id, entry.details["publisher_id"]) == (ADMIN, "curated", "alice-pub")
    assert [e["node_id"] for e in events(api, "node.created")] == ["curated", "other"]

    before = snapshot(api)
    for bad, code in (
        ({"id": "Curated", "publisher_id": "alice-pub"}, 409),  # a look-alike
        ({"id": "cura_ted", "publisher_id": "alice-pub"}, 409),
        ({"id": "-bad-", "publisher_id": "alice-pub"}, 400),
        ({"id": "fine"}, 400),  # no publisher
        ({"id": "fine", "publisher_id": "nobody"}, 404),
        ({"id": "fine", "publisher_id": "alice-pub", "status": "NodeStatusBanned"}, 400),
        ({"id": "fine", "publisher_id": "alice-pub", "tags_admin": "x"}, 400),
    ):
        r = api.post("/admin/nodes", as_=ADMIN, admin=True, json_body=bad)
        assert r.status_code == code, (bad, r.get_data(as_text=True))
    good = {"id": "fine", "publisher_id": "alice-pub"}
    assert api.post("/admin/nodes", json_body=good).status_code == 401
    assert api.post("/admin/nodes", as_="alice", json_body=good).status_code == 403
    assert snapshot(api) == before

    api.post("/publishers/alice-pub/ban", as_=ADMIN, admin=True)
    r = api.post("/admin/nodes", as_=ADMIN, admin=True, json_body=good)
    assert r.status_code == 409 and r.get_json()["error"] == "publisher_banned"


def test_admin_updates_any_node(api: RegistryClient) -> None:
    token = api.owner_with_token("alice", "alice-pub")
    api.publish("alice-pub", "my-pack", "1.0.0", token)
    api.create_publisher("bob", "bob-pub")
    before = snapshot(api)
    assert api.put("/admin/nodes/my-pack", json_body={"name": "x"}).status_code == 401
    assert api.put("/admin/nodes/my-pack", as_="alice", json_body={"name": "x"}).status_code == 403  # the owner
    for bad in (
        {"id": "renamed"},
        {"publisher_id": "bob-pub"},
        {"publisher": {"id": "bob-pub"}},
        {"status": "NodeStatusBanned"},
        {"status": "NodeStatusSleeping"},
        {"tags_admin": [1, 2]},
    ):
        assert api.put("/admin/nodes/my-pack", as_=ADMIN, admin=True, json_body=bad).status_code == 400, bad
    assert api.put("/admin/nodes/nothing", as_=ADMIN, admin=True, json_body={"name": "x"}).status_code == 404
    assert snapshot(api) == before

    body = {
        "id": "my-pack",
        "publisher": {"id": "alice-pub"},
        "status": "NodeStatusActive",
        "name": "Renamed",
        "category": "video",
        "tags_admin": ["dangerous"],
        "status_detail": "under review",
        "downloads": 99999,  # read-only fields of the Node shape are ignored
    }
    r = api.put("/admin/nodes/my-pack", as_=ADMIN, admin=True, json_body=body)
    assert r.status_code == 200, r.get_data(as_text=True)
    got = r.get_json()
    assert (got["name"], got["category"], got["status_detail"], got["downloads"]) == (
        "Renamed",
        "video",
        "under review",
        0,
    )
    with api.container.sessions() as s:
        node = s.get(Node, "my-pack")
        assert node is not None and node.tags_admin == ["dangerous"] and node.publisher_id == "alice-pub"
        assert node.changed_at > before["nodes"]["my-pack"][3]
    [entry] = audit(api, "node.update")
    assert entry.actor_id == ADMIN and entry.details["fields"] == ["category", "name", "status_detail", "tags_admin"]

    # An admin may edit a banned node too, where its owner may not.
    api.post("/publishers/alice-pub/nodes/my-pack/ban", as_=ADMIN, admin=True)
    r = api.put(
        "/admin/nodes/my-pack", as_=ADMIN, admin=True, json_body={"status_detail": "malware", "status": "banned"}
    )
    assert r.status_code == 200 and r.get_json()["status"] == "NodeStatusBanned"


# -- the audit log ---------------------------------------------------------------------------------------------
def test_audit_log_lists_newest_first_with_filters(api: RegistryClient) -> None:
    catalogue(api)
    set_user(api, "ops", is_admin=True)
    api.post("/publishers/alice-pub/nodes/pack-a/ban", as_=ADMIN, admin=True, json_body={"reason": "one"})
    api.post("/publishers/alice-pub/nodes/pack-a/unban", as_="ops", json_body={"reason": "two"})
    api.post("/publishers/bob-pub/ban", as_=ADMIN, admin=True, json_body={"reason": "three"})
    api.put("/admin/nodes/my-missing", as_=ADMIN, admin=True, json_body={})  # refused: leaves no entry

    r = api.get("/admin/audit-log", as_=ADMIN, admin=True)
    assert r.status_code == 200
    body = r.get_json()
    with api.container.sessions() as s:  # the token issues of the set-up are in the log too
        total = s.scalar(select(func.count()).select_from(AuditEntry))
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (total, 1, 10, 1)
    assert [e["reason"] for e in body["entries"][:3]] == ["three", "two", "one"]
    newest = body["entries"][0]
    assert (newest["actor_id"], newest["action"], newest["target_type"], newest["target_id"]) == (
        ADMIN,
        "publisher.ban",
        "publisher",
        "bob-pub",
    )
    assert newest["details"]["user_ids"] == ["bob"] and newest["createdAt"].endswith("Z")

    def reasons(**query: object) -> list[str]:
        r = api.get("/admin/audit-log", as_="ops", query=query)
        assert r.status_code == 200, r.get_data(as_text=True)
        return [e["reason"] for e in r.get_json()["entries"]]

    assert reasons(target_type="node", limit=1, page=2) == ["one"]
    assert reasons(action="node.ban") == ["one"]
    assert reasons(target_type="node") == ["two", "one"]
    assert reasons(target_id="bob-pub", action="publisher.ban") == ["three"]
    assert reasons(actor_id="ops") == ["two"]
    assert reasons(actor_id="ops", action="node.ban") == []
    assert reasons(page=5) == []
    assert api.get("/admin/audit-log", as_="ops", query={"limit": 10_000}).get_json()["limit"] == 100
    assert api.get("/admin/audit-log", as_="ops", query={"page": "x"}).status_code == 400
    assert api.get("/admin/audit-log").status_code == 401
    r = api.get("/admin/audit-log", as_="alice")
    assert r.status_code == 403 and message(r) == "User is not admin"
    assert api.get("/admin/audit-log", as_="carol").status_code == 403


# -- the document and the models agree ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schema_name", "model"),
    [
        ("ModerationRequest", schemas_admin.ModerationIn),
        ("AdminNodeVersionRequest", schemas_admin.VersionStatusIn),
        ("AdminNodeRequest", schemas_admin.AdminNodeIn),
    ],
)
def test_request_schemas_match_the_models(schema_name: str, model: type[BaseModel]) -> None:
    schema = load_spec()["components"]["schemas"][schema_name]
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    assert set(schema["properties"]) == set(fields)
    assert set(schema.get("required", [])) == {name for name, f in fields.items() if f.is_required()}
