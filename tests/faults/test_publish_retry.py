"""Publishing is safe to retry (issue 11, defect 3): an answer lost after the commit (the process crashed, the
connection dropped) leaves a pending version that the same publish, sent again, gets back with a fresh upload URL;
a version whose archive never arrived, swept to `deleted`, may be published again. Anything else under an existing
number stays a 409."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from functions.scanner import apply
from shared.db.models import NodeVersion
from shared.db.types import utcnow
from shared.events import EventType
from shared.http.responses import json_response
from tests.faults.support import changes, events, snapshot
from tests.support import RegistryClient, clean_pack

URL = "/publishers/alice-pub/nodes/pack/versions"


def versions_of(api: RegistryClient) -> list[NodeVersion]:
    with api.container.sessions() as s:
        return list(s.scalars(select(NodeVersion).where(NodeVersion.node_id == "pack")).all())


def crash_after_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next publish commits, then its process dies before the answer is written (the client sees a 500, as
    it would see a reset connection)."""
    target = "functions.registry.publishing.handlers.json_response"
    real = json_response

    def dying(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(target, real)
        raise SystemError("the instance was stopped between the commit and the answer")

    monkeypatch.setattr(target, dying)


def test_a_publish_whose_answer_was_lost_is_answered_again(
    api: RegistryClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = api.owner_with_token()
    body = api.publish_body(token, "pack", "1.0.0")
    crash_after_commit(monkeypatch)
    lost = api.post(URL, json_body=body)
    assert lost.status_code == 500
    [first] = versions_of(api)
    assert first.status == "pending"

    before = snapshot(api.container)
    retry = api.post(URL, json_body=body)
    assert retry.status_code == 201, retry.get_data(as_text=True)
    data = retry.get_json()
    assert data["node_version"]["id"] == first.id and data["node_version"]["status"] == "NodeVersionStatusPending"
    assert [v.id for v in versions_of(api)] == [first.id] and events(api, EventType.VERSION_PUBLISHED) == 1
    # No second version, token use aside; the rate limits were not spent again.
    assert set(changes(before, snapshot(api.container))) <= {
        "node_versions",
        "nodes",
        "outbox_events",
        "personal_access_tokens",
        "catalog_epoch",
        "search_documents",
    }
    assert api.upload(data["signedUrl"], clean_pack("pack", "1.0.0")).status_code == 200
    assert api.get("/nodes/pack/install").get_json()["version"] == "1.0.0"
    # Once the archive has arrived, the number is taken for good.
    r = api.post(URL, json_body=body)
    assert r.status_code == 409 and r.get_json()["error"] == "version_exists"


def test_a_retry_describes_the_version_as_the_retry_says(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.post(URL, json_body=api.publish_body(token, "pack", "1.0.0"))
    body = api.publish_body(token, "pack", "1.0.0")
    body["node_version"]["changelog"] = "second try"
    r = api.post(URL, json_body=body)
    assert r.status_code == 201 and r.get_json()["node_version"]["changelog"] == "second try"


def test_another_token_cannot_take_over_a_pending_version(api: RegistryClient) -> None:
    token = api.owner_with_token()
    other = api.create_token("alice", "alice-pub")
    assert api.post(URL, json_body=api.publish_body(token, "pack", "1.0.0")).status_code == 201
    r = api.post(URL, json_body=api.publish_body(other, "pack", "1.0.0"))
    assert r.status_code == 409 and r.get_json()["error"] == "version_exists"


def test_a_version_whose_archive_never_arrived_can_be_published_again(api: RegistryClient) -> None:
    token = api.owner_with_token()
    first = api.publish("alice-pub", "pack", "1.0.0", token, upload=False)
    with api.container.sessions() as s:
        s.execute(update(NodeVersion).values(created_at=utcnow() - timedelta(hours=2)))
        s.commit()
    c = api.container
    assert apply.sweep(c.uow, c.blobs, apply.limits_from(c.settings), older_than_minutes=30) == {"missing": 1}
    assert versions_of(api)[0].status == "deleted"

    # A late PUT to the first URL lands on an object no version points to any more, once republished.
    again = api.post(URL, json_body=api.publish_body(token, "pack", "1.0.0"))
    assert again.status_code == 201, again.get_data(as_text=True)
    data = again.get_json()
    assert data["node_version"]["status"] == "NodeVersionStatusPending"
    assert data["signedUrl"].split("?")[0] != first["signedUrl"].split("?")[0]
    assert len(versions_of(api)) == 1
    assert api.upload(first["signedUrl"], b"a late upload to the old URL").status_code == 200
    assert versions_of(api)[0].status == "pending"
    assert api.upload(data["signedUrl"], clean_pack("pack", "1.0.0")).status_code == 200
    assert api.get("/nodes/pack/install").get_json()["status"] == "NodeVersionStatusActive"


def test_a_deleted_version_that_was_released_keeps_its_number(api: RegistryClient) -> None:
    token = api.owner_with_token()
    version_id = api.publish("alice-pub", "pack", "1.0.0", token)["node_version"]["id"]
    assert api.delete(f"{URL}/{version_id}", as_="alice").status_code == 204
    r = api.post(URL, json_body=api.publish_body(token, "pack", "1.0.0"))
    assert r.status_code == 409 and r.get_json()["error"] == "version_exists"
