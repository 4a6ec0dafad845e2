"""Users and publishers through the registry function, on both databases."""

from __future__ import annotations

from sqlalchemy import select

from shared.db.models import OutboxEvent, User
from tests.support import RegistryClient


def test_get_user_creates_the_row_from_the_token(api: RegistryClient) -> None:
    r = api.get("/users", as_="alice")
    assert r.status_code == 200
    assert r.get_json() == {
        "id": "alice",
        "email": "alice@example.com",
        "name": "Alice",
        "isApproved": False,
        "isAdmin": False,
    }
    with api.container.sessions() as s:
        assert s.get(User, "alice") is not None


def test_login_is_required_and_bad_tokens_are_401(api: RegistryClient) -> None:
    assert api.get("/users").status_code == 401
    assert api.get("/users").get_json()["message"] == "missing auth token for path: /users"
    r = api.get("/users", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and r.get_json()["message"] == "token is not in Bearer format"
    r = api.get("/users", headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_token"


def test_create_get_update_and_list_publishers(api: RegistryClient) -> None:
    created = api.create_publisher("alice", "alice-pub", "Alice's nodes")
    assert created["id"] == "alice-pub"
    assert created["status"] == "PublisherStatusActive"
    assert created["members"] == [{"user": {"name": "Alice"}, "role": "owner"}]
    assert created["createdAt"].endswith("Z")

    r = api.get("/publishers/alice-pub")
    assert r.status_code == 200 and r.get_json()["name"] == "Alice's nodes"
    assert "email" not in str(r.get_json()["members"])  # no member e-mail leaks to the public

    r = api.put(
        "/publishers/alice-pub",
        as_="alice",
        json_body={"description": "d", "website": "https://w", "logo": "https://l", "unknown": 1},
    )
    assert r.status_code == 200
    body = r.get_json()
    assert (body["description"], body["website"], body["logo"]) == ("d", "https://w", "https://l")

    assert [p["id"] for p in api.get("/users/publishers/", as_="alice").get_json()] == ["alice-pub"]
    assert api.get("/users/publishers/", as_="bob").get_json() == []
    assert [p["id"] for p in api.get("/publishers", as_="bob").get_json()] == ["alice-pub"]
    assert api.get("/publishers").status_code == 401


def test_publisher_creation_emits_an_event(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    with api.container.sessions() as s:
        rows = s.scalars(select(OutboxEvent).where(OutboxEvent.type == "publisher.created")).all()
    assert len(rows) == 1 and rows[0].payload["publisher_id"] == "alice-pub"
    assert rows[0].published_at is not None  # the in-process publisher took it after commit


def test_publisher_id_rules(api: RegistryClient) -> None:
    for bad in ["Alice", "1abc", "a_b", "", "a" * 101, "ab cd"]:
        r = api.post("/publishers", as_="alice", json_body={"id": bad, "name": "x"})
        assert r.status_code == 400, bad
    r = api.post("/publishers", as_="alice", json_body={"id": "ok-id"})
    assert r.status_code == 400 and "name" in r.get_json()["message"]


def test_duplicate_publisher_is_409_and_validate_reports_it(api: RegistryClient) -> None:
    assert api.get("/publishers/validate", query={"username": "taken"}).get_json() == {"isAvailable": True}
    api.create_publisher("alice", "taken")
    r = api.post("/publishers", as_="bob", json_body={"id": "taken", "name": "Bob"})
    assert r.status_code == 409 and "taken" in r.get_json()["message"]
    r = api.get("/publishers/validate", query={"username": "taken"})
    assert r.status_code == 400 and r.get_json()["message"] == "Publisher ID already exists."
    assert api.get("/publishers/validate").status_code == 400
    assert api.get("/publishers/validate", query={"username": "Bad_Id"}).status_code == 400


def test_at_most_five_publishers_per_user(api: RegistryClient) -> None:
    for i in range(5):
        api.create_publisher("alice", f"pub-{i}")
    r = api.post("/publishers", as_="alice", json_body={"id": "pub-5", "name": "x"})
    assert r.status_code == 403
    assert r.get_json()["message"] == "User has reached the maximum number of publishers."


def test_only_the_owner_may_change_or_delete(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    assert api.put("/publishers/alice-pub", as_="bob", json_body={"name": "mine"}).status_code == 403
    assert api.delete("/publishers/alice-pub", as_="bob").status_code == 403
    assert api.get("/publishers/alice-pub/permissions", as_="bob").status_code == 403
    assert api.get("/publishers/alice-pub/permissions", as_="alice").get_json() == {"canEdit": True}
    assert api.get("/publishers/nope/permissions", as_="alice").status_code == 404
    assert api.put("/publishers/alice-pub", as_="alice", json_body={"id": "other"}).status_code == 400
    assert api.get("/publishers/alice-pub").get_json()["name"] == "alice-pub"


def test_delete_publisher(api: RegistryClient) -> None:
    token = api.owner_with_token("alice", "alice-pub")
    api.publish("alice-pub", "node-a", "1.0.0", token)
    r = api.delete("/publishers/alice-pub", as_="alice")
    assert r.status_code == 409 and r.get_json()["error"] == "publisher_has_nodes"

    api.create_publisher("alice", "empty-pub")
    api.create_token("alice", "empty-pub")
    assert api.delete("/publishers/empty-pub", as_="alice").status_code == 204
    assert api.get("/publishers/empty-pub").status_code == 404
    assert api.delete("/publishers/empty-pub", as_="alice").status_code == 404


def test_unknown_publisher_is_404(api: RegistryClient) -> None:
    r = api.get("/publishers/nobody")
    assert r.status_code == 404 and r.get_json() == {"error": "publisher_not_found", "message": "Publisher not found"}
    assert api.get("/publishers/nobody/nodes").status_code == 404
    assert api.get("/publishers/nobody/nodes/v2").status_code == 404


def test_malformed_bodies_are_400(api: RegistryClient) -> None:
    r = api.post("/publishers", as_="alice", data="{not json")
    assert r.status_code == 400 and r.get_json()["error"] == "malformed_json"
    assert api.post("/publishers", as_="alice", data="[1, 2]").status_code == 400
    r = api.post("/publishers", as_="alice", json_body={"id": "x-y", "name": 12})
    assert r.status_code == 400 and "name" in r.get_json()["message"]


def test_banned_user_cannot_create(api: RegistryClient) -> None:
    api.get("/users", as_="mallory")
    with api.container.sessions() as s:
        user = s.get(User, "mallory")
        assert user is not None
        user.status = "banned"
        s.commit()
    r = api.post("/publishers", as_="mallory", json_body={"id": "m-pub", "name": "M"})
    assert r.status_code == 403 and r.get_json()["message"] == "user/publisher is banned"
