"""The data the fuzzer starts from: a publisher with an owner, a member and a token, nodes with versions in every
status (active, pending, flagged, deleted, and a banned node), a review, a translation, node classes and a CI run.

`Known` lists the ids it made, by path-parameter name, so that generated requests can name rows that exist and reach
the handlers' deeper branches instead of stopping at a 404."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from shared.auth import secrets
from shared.db.models import NodeVersion, PersonalAccessToken, PublisherPermission
from tests.support import RegistryClient

OWNER = "fuzz-owner"
MEMBER = "fuzz-member"
ADMIN = "fuzz-admin"
PUBLISHER = "fuzz-pub"
OTHER_PUBLISHER = "fuzz-other"
CI_KEY = "fuzz-ci-key-0123456789"
COMMIT = "f" * 40


@dataclass
class Known:
    """Values that name seeded rows, by the name of the parameter that takes them."""

    values: dict[str, list[str]] = field(default_factory=dict)
    token: str = ""  # the owner's personal access token, for publish bodies

    def add(self, name: str, *values: str) -> None:
        self.values.setdefault(name, [])
        self.values[name].extend(v for v in values if v not in self.values[name])


def ci_run(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "repo": "comfyanonymous/ComfyUI",
        "job_id": "fuzz-job",
        "run_id": "1",
        "os": "linux",
        "bucket_name": "comfy-ci-results",
        "output_files_gcs_paths": "out/a.png",
        "commit_hash": COMMIT,
        "commit_time": "2024-06-01T12:34:56Z",
        "commit_message": "seed",
        "workflow_name": "default.json",
        "branch_name": "master",
        "start_time": 1717238000,
        "end_time": 1717238100,
        "status": "WorkflowRunStatusCompleted",
        "python_version": "3.11",
        "job_trigger_user": "fuzz",
    }
    body.update(overrides)
    return body


def _version_ids(api: RegistryClient) -> dict[tuple[str, str], str]:
    with api.container.sessions() as s:
        rows = s.execute(select(NodeVersion.node_id, NodeVersion.version, NodeVersion.id)).all()
    return {(n, v): i for n, v, i in rows}


def _set_version_status(api: RegistryClient, node_id: str, version: str, status: str, reason: str) -> None:
    with api.container.sessions() as s:
        s.execute(
            update(NodeVersion)
            .where(NodeVersion.node_id == node_id, NodeVersion.version == version)
            .values(status=status, status_reason=reason)
        )
        s.commit()


def _expect(r: Any, status: int) -> None:
    assert r.status_code == status, r.get_data(as_text=True)


def seed(api: RegistryClient) -> Known:
    known = Known()
    api.create_publisher(OWNER, PUBLISHER)
    api.create_publisher(MEMBER, OTHER_PUBLISHER)
    token = api.create_token(OWNER, PUBLISHER)
    known.token = token
    with api.container.sessions() as s:
        s.add(PublisherPermission(publisher_id=PUBLISHER, user_id=MEMBER, permission="member"))
        token_ids = s.scalars(select(PersonalAccessToken.id)).all()
        s.commit()

    api.publish(PUBLISHER, "fuzz-active", "1.0.0", token, description="an active pack", tags=["video"])
    api.publish(PUBLISHER, "fuzz-active", "1.1.0", token, upload=False)  # stays pending
    api.publish(PUBLISHER, "fuzz-flagged", "0.1.0", token, upload=False)
    _set_version_status(api, "fuzz-flagged", "0.1.0", "flagged", "Flagged by automated checks: fuzz")
    api.publish(PUBLISHER, "fuzz-banned", "2.0.0", token)
    api.publish(PUBLISHER, "fuzz-gone", "1.0.0", token)
    _expect(api.delete(f"/publishers/{PUBLISHER}/nodes/fuzz-gone", as_=OWNER), 204)
    _expect(api.post(f"/publishers/{PUBLISHER}/nodes/fuzz-banned/ban", as_=ADMIN, admin=True, json_body={}), 204)
    ids = _version_ids(api)
    _expect(
        api.delete(f"/publishers/{PUBLISHER}/nodes/fuzz-active/versions/{ids['fuzz-active', '1.1.0']}", as_=OWNER),
        204,
    )
    api.publish(PUBLISHER, "fuzz-active", "1.2.0", token, upload=False)
    _expect(api.post("/nodes/fuzz-active/reviews", as_=MEMBER, query={"star": 4}), 200)
    translation = {"data": {"fr": {"name": "Paquet actif", "description": "un paquet"}}}
    _expect(api.post("/nodes/fuzz-active/translations", as_=OWNER, json_body=translation), 201)

    _expect(api.post("/upload-artifact", json_body=ci_run(), headers={"X-CI-Key": CI_KEY}), 200)
    r = api.get("/gitcommit", headers={"X-CI-Key": CI_KEY})
    _expect(r, 200)
    results = [j["id"] for j in r.get_json()["jobResults"]]

    ids = _version_ids(api)
    known.add("publisher_id", PUBLISHER, OTHER_PUBLISHER)
    known.add("node_id", "fuzz-active", "fuzz-flagged", "fuzz-banned", "fuzz-gone")
    known.add("version_id", *ids.values())
    known.add("version", *(v for _, v in ids))
    known.add("version_number", *(v for _, v in ids))
    known.add("token_id", *token_ids)
    known.add("comfy_node_name", "Hello")
    known.add("workflow_result_id", *results)
    _seed_billing(api, known)
    return known


def _seed_billing(api: RegistryClient, known: Known) -> None:
    """The owner and the member are customers; the owner has credit, a hold in flight and an API key."""
    from shared.ledger.accounts import EntryKind

    for uid in (OWNER, MEMBER):
        _expect(api.post("/customers", as_=uid, admin=uid == OWNER), 201)
    with api.container.billing_uow() as uow:
        uow.ledger.grant("fuzz-credit", EntryKind.PROMOTION, OWNER, 25_000_000)
        uow.ledger.place_hold("fuzz-hold", OWNER, 1_000_000)
        uow.commit()
    r = api.post("/customers/api-keys", as_=OWNER, json_body={"name": "fuzz"})
    _expect(r, 201)
    known.add("customer_id", OWNER, MEMBER)
    known.add("api_key_id", r.get_json()["api_key"]["id"])


def ci_key_digest() -> str:
    return secrets.digest(CI_KEY)


ADMIN_SECRET = "fuzz-admin-secret"


def admin_secret_digest() -> str:
    return secrets.digest(ADMIN_SECRET)
