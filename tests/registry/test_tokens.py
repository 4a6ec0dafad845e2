"""Personal access tokens: shown once, stored hashed, expiring, scoped."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from shared.db.models import PersonalAccessToken
from tests.support import RegistryClient


def test_token_is_shown_once_and_stored_as_a_digest(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    r = api.post("/publishers/alice-pub/tokens", as_="alice", json_body={"name": "ci", "description": "gh"})
    assert r.status_code == 201
    created = r.get_json()
    value = created["token"]
    assert value.startswith("cpat_") and len(value) > 40
    assert created["expiresAt"] is None

    listed = api.get("/publishers/alice-pub/tokens", as_="alice").get_json()
    assert len(listed) == 1
    assert listed[0]["token"] == value[:9] + "***"
    assert listed[0]["name"] == "ci" and listed[0]["description"] == "gh"
    assert listed[0]["id"] == created["id"]

    with api.container.sessions() as s:
        row = s.scalars(select(PersonalAccessToken)).one()
        assert row.token_digest == hashlib.sha256(value.encode()).hexdigest()
        dump = " ".join(str(v) for v in s.execute(text("SELECT * FROM personal_access_tokens")).one())
    assert value not in dump


def test_token_endpoints_need_the_owner(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    assert api.post("/publishers/alice-pub/tokens", as_="bob", json_body={"name": "x"}).status_code == 403
    assert api.get("/publishers/alice-pub/tokens", as_="bob").status_code == 403
    assert api.get("/publishers/alice-pub/tokens").status_code == 401
    assert api.post("/publishers/nope/tokens", as_="alice", json_body={"name": "x"}).status_code == 404


def test_token_name_is_required(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    assert api.post("/publishers/alice-pub/tokens", as_="alice", json_body={}).status_code == 400
    assert api.post("/publishers/alice-pub/tokens", as_="alice", json_body={"name": ""}).status_code == 400


def test_delete_token(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    api.create_publisher("bob", "bob-pub")
    value = api.create_token("alice", "alice-pub")
    token_id = api.get("/publishers/alice-pub/tokens", as_="alice").get_json()[0]["id"]
    assert api.delete("/publishers/alice-pub/tokens/not-a-uuid", as_="alice").status_code == 400
    # Bob cannot delete Alice's token through his own publisher.
    assert api.delete(f"/publishers/bob-pub/tokens/{token_id}", as_="bob").status_code == 404
    assert api.delete(f"/publishers/alice-pub/tokens/{token_id}", as_="alice").status_code == 204
    assert api.get("/publishers/alice-pub/tokens", as_="alice").get_json() == []
    r = api.post("/publishers/alice-pub/nodes/n1/versions", json_body=api.publish_body(value, "n1", "1.0.0"))
    assert r.status_code == 400 and r.get_json()["message"] == "Invalid personal access token"


def test_expired_token_is_refused(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    value = api.create_token("alice", "alice-pub", expires_in_days=1)
    listed = api.get("/publishers/alice-pub/tokens", as_="alice").get_json()[0]
    assert listed["expiresAt"] is not None and listed["lastUsedAt"] is None
    api.publish("alice-pub", "n1", "1.0.0", value)
    assert api.get("/publishers/alice-pub/tokens", as_="alice").get_json()[0]["lastUsedAt"] is not None

    with api.container.sessions() as s:
        row = s.scalars(select(PersonalAccessToken)).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        s.commit()
    r = api.post("/publishers/alice-pub/nodes/n1/versions", json_body=api.publish_body(value, "n1", "1.0.1"))
    assert r.status_code == 400 and r.get_json()["error"] == "token_expired"


def test_expiry_must_be_in_the_future(api: RegistryClient) -> None:
    api.create_publisher("alice", "alice-pub")
    r = api.post(
        "/publishers/alice-pub/tokens", as_="alice", json_body={"name": "x", "expiresAt": "2001-01-01T00:00:00Z"}
    )
    assert r.status_code == 400
    r = api.post(
        "/publishers/alice-pub/tokens", as_="alice", json_body={"name": "x", "expiresAt": "2999-01-01T00:00:00Z"}
    )
    assert r.status_code == 201 and r.get_json()["expiresAt"].startswith("2999-01-01T00:00:00")


def test_token_of_another_publisher_and_node_scope(api: RegistryClient) -> None:
    alice = api.owner_with_token("alice", "alice-pub")
    api.create_publisher("bob", "bob-pub")
    r = api.post("/publishers/bob-pub/nodes/n1/versions", json_body=api.publish_body(alice, "n1", "1.0.0"))
    assert r.status_code == 400 and r.get_json()["message"] == "Invalid personal access token"

    scoped = api.create_token("alice", "alice-pub", node_ids=["only-this"])
    api.publish("alice-pub", "only-this", "1.0.0", scoped)
    r = api.post("/publishers/alice-pub/nodes/other/versions", json_body=api.publish_body(scoped, "other", "1.0.0"))
    assert r.status_code == 400 and r.get_json()["error"] == "token_scope"
