"""API keys through the billing function: shown once, stored as a digest, used by X-API-KEY, deleted at once
everywhere, expiring, verified and synced with the admin secret, on both databases."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shared.db.billing_models import ApiKey
from tests.billing.test_customers import replace_settings
from tests.support import RegistryClient

SECRET = "admin-s3cret"


def new_key(api: RegistryClient, uid: str, **body: object) -> dict[str, object]:
    r = api.post("/customers/api-keys", as_=uid, json_body={"name": "laptop", **body})
    assert r.status_code == 201, r.get_data(as_text=True)
    return dict(r.get_json()["api_key"])


def test_a_key_is_shown_once_and_stored_as_a_digest(api: RegistryClient) -> None:
    api.post("/customers", as_="alice")
    created = new_key(api, "alice", description="my laptop")
    plaintext = str(created["plaintext_key"])
    assert plaintext.startswith("comfyui-") and len(plaintext) == 8 + 64
    assert plaintext.startswith(str(created["key_prefix"]))
    with api.container.sessions() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.id == created["id"]))
        assert row is not None
        assert row.digest == hashlib.sha256(plaintext.encode()).hexdigest()
        stored = [str(getattr(row, c.key)) for c in ApiKey.__table__.columns]
        assert not any(plaintext in value for value in stored)
    listed = api.get("/customers/api-keys", as_="alice").get_json()["api_keys"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "plaintext_key" not in listed[0]


def test_a_key_authenticates_and_records_its_last_use(api: RegistryClient) -> None:
    api.post("/customers", as_="bob")
    key = str(new_key(api, "bob")["plaintext_key"])
    for header in ("X-API-KEY", "X-Api-Key", "x-api-key"):
        me = api.get("/customers/me", headers={header: key})
        assert me.status_code == 200 and me.get_json()["id"] == "bob"
    bearer = api.get("/customers/me", headers={"Authorization": f"Bearer {key}"})
    assert bearer.get_json()["id"] == "bob"
    listed = api.get("/customers/api-keys", headers={"X-API-KEY": key}).get_json()["api_keys"]
    assert listed[0]["last_used_at"] is not None
    altered = key[:-1] + ("1" if key.endswith("0") else "0")
    assert api.get("/customers/me", headers={"X-API-KEY": altered}).status_code == 401
    assert api.get("/customers/me", headers={"X-API-KEY": "comfyui-nope"}).status_code == 401


def test_a_deleted_key_stops_at_once_and_only_its_owner_deletes_it(api: RegistryClient) -> None:
    api.post("/customers", as_="carol")
    api.post("/customers", as_="mallory")
    created = new_key(api, "carol")
    key = str(created["plaintext_key"])
    assert api.delete(f"/customers/api-keys/{created['id']}", as_="mallory").status_code == 404
    assert api.get("/customers/me", headers={"X-API-KEY": key}).status_code == 200
    assert api.delete(f"/customers/api-keys/{created['id']}", headers={"X-API-KEY": key}).status_code == 204
    assert api.get("/customers/me", headers={"X-API-KEY": key}).status_code == 401
    assert api.delete(f"/customers/api-keys/{created['id']}", as_="carol").status_code == 404
    assert api.get("/customers/api-keys", as_="carol").get_json()["api_keys"] == []
    trail = [e["event_type"] for e in api.get("/customers/events", as_="carol").get_json()["events"]]
    assert trail[:2] == ["api_key_deleted", "api_key_created"]


def test_an_expired_key_does_not_authenticate(api: RegistryClient) -> None:
    api.post("/customers", as_="dan")
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = new_key(api, "dan", expires_at=soon)
    key = str(created["plaintext_key"])
    assert api.get("/customers/me", headers={"X-API-KEY": key}).status_code == 200
    with api.container.sessions() as s:
        row = s.get(ApiKey, created["id"])
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        s.commit()
    assert api.get("/customers/me", headers={"X-API-KEY": key}).status_code == 401
    past = api.post("/customers/api-keys", as_="dan", json_body={"name": "x", "expires_at": "2001-01-01T00:00:00Z"})
    assert past.status_code == 400


def test_keys_need_a_customer_and_a_name(api: RegistryClient) -> None:
    assert api.post("/customers/api-keys", as_="nobody", json_body={"name": "x"}).status_code == 404
    api.post("/customers", as_="eve")
    assert api.post("/customers/api-keys", as_="eve", json_body={}).status_code == 400
    assert api.post("/customers/api-keys", as_="eve", json_body={"name": ""}).status_code == 400
    assert api.post("/customers/api-keys", json_body={"name": "x"}).status_code == 401


def test_verify_and_sync_take_the_admin_secret(api: RegistryClient) -> None:
    api.use(settings=replace_settings(api, ADMIN_SECRET_DIGEST=hashlib.sha256(SECRET.encode()).hexdigest()))
    api.post("/customers", as_="fay")
    created = new_key(api, "fay", description="ci")
    key = str(created["plaintext_key"])
    body = {"api_key": key, "include_customer_keys": True}
    assert api.post("/admin/verify-api-key", json_body=body).status_code == 401
    wrong = api.post("/admin/verify-api-key", json_body=body, headers={"X-Comfy-Admin-Secret": "nope"})
    assert wrong.status_code == 401
    ok = api.post("/admin/verify-api-key", json_body=body, headers={"X-Comfy-Admin-Secret": SECRET})
    assert ok.status_code == 200
    answer = ok.get_json()
    digest = hashlib.sha256(key.encode()).hexdigest()
    assert (answer["valid"], answer["firebase_uid"], answer["key_description"]) == (True, "fay", "ci")
    assert answer["customer_api_keys"] == [{"key_hash": digest, "key_prefix": created["key_prefix"], "name": "laptop"}]
    sync = {"event": "delete", "key_hash": digest, "customer_id": "fay"}
    headers = {"X-Comfy-Admin-Secret": SECRET}
    assert api.post(
        "/admin/sync-api-key-deletion", json_body={**sync, "customer_id": "other"}, headers=headers
    ).get_json() == {"result": "not_found"}
    assert api.post("/admin/sync-api-key-deletion", json_body=sync, headers=headers).get_json() == {"result": "deleted"}
    assert api.post("/admin/sync-api-key-deletion", json_body=sync, headers=headers).get_json() == {
        "result": "already_deleted"
    }
    assert api.get("/customers/me", headers={"X-API-KEY": key}).status_code == 401
    gone = api.post("/admin/verify-api-key", json_body=body, headers=headers)
    assert gone.status_code == 404
    bad = api.post("/admin/sync-api-key-deletion", json_body={**sync, "key_hash": "xyz"}, headers=headers)
    assert bad.status_code == 400


def test_admin_tokens_are_for_admins_and_expire(api: RegistryClient) -> None:
    assert api.post("/admin/generate-token", as_="gus").status_code == 403
    r = api.post("/admin/generate-token", as_="root", admin=True)
    assert r.status_code == 200
    token, expires = r.get_json()["token"], r.get_json()["expires_at"]
    assert datetime.fromisoformat(expires.replace("Z", "+00:00")) - datetime.now(UTC) <= timedelta(hours=1)
    me = api.get("/customers/me", headers={"X-API-KEY": token}).get_json()
    assert me["id"] == "root" and me["is_admin"] is True
