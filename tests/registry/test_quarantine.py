"""Quarantine, then release (issue 11, defects 1 and 2): an upload is never readable by the public until the scanner
passed it, what is served is exactly what was judged, and a ban or a flag takes it back at once."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pytest
from sqlalchemy import update

from functions.scanner import apply
from shared.db.models import Node, NodeVersion
from shared.db.types import utcnow
from tests.scanner.test_function import MALICIOUS
from tests.support import RegistryClient, clean_pack, version_row

ADMIN: dict[str, Any] = {"as_": "root", "admin": True}
REASON = {"reason": "test"}


def release_url(api: RegistryClient, node_id: str, version: str = "1.0.0") -> str:
    return api.container.blobs.release_url(f"alice-pub/{node_id}/{version}/node.zip")


def public_bytes(api: RegistryClient, url: str) -> bytes | None:
    r = api.download(url)
    return bytes(r.data) if r.status_code == 200 else None


def download_urls(api: RegistryClient, status: str) -> list[str]:
    r = api.get("/versions", query={"statuses": status})
    assert r.status_code == 200
    return [v["downloadUrl"] for v in r.get_json()["versions"]]


# -- defect 1: the archive cannot be replaced after it was scanned ---------------------------------------------
def test_a_second_upload_after_the_verdict_is_refused_and_the_judged_bytes_stay_served(api: RegistryClient) -> None:
    token = api.owner_with_token()
    data = api.publish("alice-pub", "pack", "1.0.0", token, upload=False)
    judged = clean_pack("pack", "1.0.0")
    assert api.upload(data["signedUrl"], judged).status_code == 200
    assert version_row(api, "pack").status == "active"

    evil = clean_pack("pack", "1.0.0") + b"appended after the scan"
    again = api.upload(data["signedUrl"], evil)
    assert again.status_code == 412 and b"PreconditionFailed" in again.data

    install = api.get("/nodes/pack/install").get_json()
    assert install["archive_sha256"] == hashlib.sha256(judged).hexdigest()
    assert public_bytes(api, install["downloadUrl"]) == judged


def test_bytes_replaced_behind_the_store_never_reach_installs(
    api: RegistryClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A store that does not keep create-only (a Cloud Storage emulator) lets the quarantined object be replaced:
    the late finalize event changes nothing and is logged, installs keep the judged copy, and the next rescan
    notices the bytes differ from what was judged and withdraws the version."""
    token = api.owner_with_token()
    data = api.publish("alice-pub", "pack", "1.0.0", token)
    judged = clean_pack("pack", "1.0.0")
    quarantined = api.container.blobs.root / api.container.settings.uploads_bucket / data["storage_path"]  # type: ignore[attr-defined]
    quarantined.write_bytes(b"PK replaced behind the store's back")
    caplog.set_level(logging.WARNING, logger="functions.scanner.apply")
    from local.events import deliver_finalized

    deliver_finalized(api.container.settings.uploads_bucket, data["storage_path"], 1)
    assert "arrived after its verdict" in caplog.text
    assert version_row(api, "pack").status == "active"
    assert public_bytes(api, api.get("/nodes/pack/install").get_json()["downloadUrl"]) == judged

    c = api.container
    counts = apply.sweep(c.uow, c.blobs, apply.limits_from(c.settings), older_than_minutes=1, rescan_all=True)
    assert counts == {"scanned": 1}
    row = version_row(api, "pack")
    assert row.status == "flagged" and "changed after it was judged" in row.status_reason
    assert row.archive_sha256 == hashlib.sha256(judged).hexdigest() and row.release_path is None
    assert public_bytes(api, release_url(api, "pack")) is None


# -- defect 2: nothing unjudged is readable by the public ------------------------------------------------------
def test_pending_and_flagged_archives_have_no_public_url(api: RegistryClient) -> None:
    token = api.owner_with_token()
    pending = api.publish("alice-pub", "waiting", "1.0.0", token, upload=False)
    assert pending["node_version"]["downloadUrl"] == ""
    # Uploaded but not yet judged: the finalize event is held back.
    api.container.blobs._hooks.clear()  # type: ignore[attr-defined]
    assert api.upload(pending["signedUrl"], clean_pack("waiting", "1.0.0")).status_code == 200
    flagged = api.publish("alice-pub", "evil", "1.0.0", token, upload=False)
    from local.events import deliver_finalized

    api.container.blobs.on_finalized(deliver_finalized)  # type: ignore[attr-defined]
    assert api.upload(flagged["signedUrl"], MALICIOUS).status_code == 200
    assert version_row(api, "evil").status == "flagged"

    assert download_urls(api, "NodeVersionStatusPending") == [""]
    assert download_urls(api, "NodeVersionStatusFlagged") == [""]
    assert api.get("/nodes/evil/versions/1.0.0").get_json()["downloadUrl"] == ""
    # Guessing names gets nothing: the quarantine answers no unsigned read, the releases hold neither.
    for data in (pending, flagged):
        quarantined = api.download(data["signedUrl"].split("?")[0])
        assert quarantined.status_code == 403
    assert public_bytes(api, release_url(api, "waiting")) is None
    assert public_bytes(api, release_url(api, "evil")) is None


def test_publisher_and_admins_fetch_any_archive_through_a_short_signed_link(api: RegistryClient) -> None:
    token = api.owner_with_token()
    data = api.publish("alice-pub", "evil", "1.0.0", token, upload=False)
    assert api.upload(data["signedUrl"], MALICIOUS).status_code == 200
    url = f"/publishers/alice-pub/nodes/evil/versions/{data['node_version']['id']}/archive"
    for who in ({"as_": "alice"}, ADMIN):
        r = api.get(url, **who)
        assert r.status_code == 200, r.get_data(as_text=True)
        body = r.get_json()
        assert body["status"] == "NodeVersionStatusFlagged"
        assert body["archive_sha256"] == hashlib.sha256(MALICIOUS).hexdigest()
        assert public_bytes(api, body["downloadUrl"]) == MALICIOUS
    assert api.get(url, as_="bob").status_code == 403
    assert api.get(url).status_code == 401
    never_uploaded = api.publish("alice-pub", "evil", "1.1.0", token, upload=False)["node_version"]["id"]
    r = api.get(f"/publishers/alice-pub/nodes/evil/versions/{never_uploaded}/archive", as_="alice")
    assert r.status_code == 404 and r.get_json()["error"] == "archive_not_found"


def test_a_ban_withdraws_at_once_and_an_unban_releases_again(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "pack", "1.0.0", token)
    api.publish("alice-pub", "pack", "1.1.0", token)
    judged = clean_pack("pack", "1.0.0")
    assert public_bytes(api, release_url(api, "pack")) == judged

    assert api.post("/publishers/alice-pub/nodes/pack/ban", json_body=REASON, **ADMIN).status_code == 204
    assert public_bytes(api, release_url(api, "pack")) is None
    assert public_bytes(api, release_url(api, "pack", "1.1.0")) is None
    assert set(download_urls(api, "NodeVersionStatusActive")) == {""}

    assert api.post("/publishers/alice-pub/nodes/pack/unban", json_body=REASON, **ADMIN).status_code == 204
    assert public_bytes(api, release_url(api, "pack")) == judged  # the scanner copied the judged bytes back
    assert api.get("/nodes/pack/install").get_json()["downloadUrl"] == release_url(api, "pack", "1.1.0")


def test_a_publisher_ban_withdraws_every_archive_it_has(api: RegistryClient) -> None:
    token = api.owner_with_token()
    for node in ("one", "two"):
        api.publish("alice-pub", node, "1.0.0", token)
    assert api.delete("/publishers/alice-pub/nodes/two", as_="alice").status_code == 204  # deleted, still released
    assert public_bytes(api, release_url(api, "two")) is not None
    assert api.post("/publishers/alice-pub/ban", json_body=REASON, **ADMIN).status_code == 204
    assert public_bytes(api, release_url(api, "one")) is None
    assert public_bytes(api, release_url(api, "two")) is None
    assert api.post("/publishers/alice-pub/unban", json_body=REASON, **ADMIN).status_code == 204
    assert public_bytes(api, release_url(api, "one")) == clean_pack("one", "1.0.0")
    assert public_bytes(api, release_url(api, "two")) == clean_pack("two", "1.0.0")


def test_admin_flags_and_restores_a_version(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "pack", "1.0.0", token)
    url = "/admin/nodes/pack/versions/1.0.0"
    flag = {"status": "NodeVersionStatusFlagged", "status_reason": "reported"}
    r = api.put(url, json_body=flag, **ADMIN)
    assert r.status_code == 200 and r.get_json()["downloadUrl"] == ""
    assert public_bytes(api, release_url(api, "pack")) is None
    r = api.put(url, json_body={"status": "NodeVersionStatusActive"}, **ADMIN)
    assert r.status_code == 200
    # The admin's answer comes before the scanner's release; the next read shows it.
    assert api.get("/nodes/pack/versions/1.0.0").get_json()["downloadUrl"] == release_url(api, "pack")
    assert public_bytes(api, release_url(api, "pack")) == clean_pack("pack", "1.0.0")


def test_an_admin_may_activate_a_version_the_scanner_flagged(api: RegistryClient) -> None:
    """A false positive: the admin's decision releases exactly the bytes that were flagged, nothing else."""
    token = api.owner_with_token()
    data = api.publish("alice-pub", "evil", "1.0.0", token, upload=False)
    assert api.upload(data["signedUrl"], MALICIOUS).status_code == 200
    r = api.put("/admin/nodes/evil/versions/1.0.0", json_body={"status": "NodeVersionStatusActive"}, **ADMIN)
    assert r.status_code == 200
    assert public_bytes(api, api.get("/nodes/evil/install").get_json()["downloadUrl"]) == MALICIOUS


def test_deleting_a_version_withdraws_it(api: RegistryClient) -> None:
    token = api.owner_with_token()
    version_id = api.publish("alice-pub", "pack", "1.0.0", token)["node_version"]["id"]
    assert public_bytes(api, release_url(api, "pack")) is not None
    r = api.delete(f"/publishers/alice-pub/nodes/pack/versions/{version_id}", as_="alice")
    assert r.status_code == 204
    assert public_bytes(api, release_url(api, "pack")) is None


def test_the_sweep_releases_versions_active_before_quarantine_existed(api: RegistryClient) -> None:
    """After migration 0006 existing active versions have no release: installs wait (409), the sweep copies each
    archive after checking it is the one judged, and refuses one that is not."""
    token = api.owner_with_token()
    api.publish("alice-pub", "old", "1.0.0", token)
    api.publish("alice-pub", "tampered", "1.0.0", token)
    for node in ("old", "tampered"):
        api.container.blobs.withdraw(f"alice-pub/{node}/1.0.0/node.zip")
    with api.container.sessions() as s:
        s.execute(update(NodeVersion).values(release_path=None, updated_at=utcnow()))
        s.commit()
    r = api.get("/nodes/old/install")
    assert r.status_code == 409 and r.get_json()["error"] == "version_pending"
    root = api.container.blobs.root  # type: ignore[attr-defined]
    tampered = root / api.container.settings.uploads_bucket / version_row(api, "tampered").storage_path
    tampered.write_bytes(b"not what was judged")

    c = api.container
    counts = apply.sweep(c.uow, c.blobs, apply.limits_from(c.settings), older_than_minutes=60)
    assert counts == {"release_released": 1, "release_mismatch": 1}
    assert public_bytes(api, api.get("/nodes/old/install").get_json()["downloadUrl"]) == clean_pack("old", "1.0.0")
    assert version_row(api, "tampered").status == "flagged" and public_bytes(api, release_url(api, "tampered")) is None
    assert apply.sweep(c.uow, c.blobs, apply.limits_from(c.settings), older_than_minutes=60) == {}


def test_the_release_entry_point_takes_registry_events_as_pub_sub_pushes_them(api: RegistryClient) -> None:
    """In the cloud an unban reaches `scanner_release` as a push on registry-events, some time after the commit."""
    import functions_framework

    from shared.adapters.inprocess_publisher import Message
    from tests.conftest import ROOT
    from tests.search.support import deliver

    token = api.owner_with_token()
    api.publish("alice-pub", "pack", "1.0.0", token)
    assert api.post("/publishers/alice-pub/nodes/pack/ban", json_body=REASON, **ADMIN).status_code == 204
    with api.container.sessions() as s:  # the unban committed; its event is still on its way
        s.execute(update(Node).where(Node.id == "pack").values(status="active"))
        s.commit()
    assert public_bytes(api, release_url(api, "pack")) is None

    app = functions_framework.create_app("scanner_release", str(ROOT / "functions/scanner/main.py"), "cloudevent")
    client = app.test_client()
    body = {"id": "e1", "type": "node.unbanned", "payload": {"node_id": "pack"}, "created_at": "2026-12-01T00:00:00"}
    event = Message("registry-events", json.dumps(body).encode(), {"event_id": "e1", "event_type": "node.unbanned"})
    assert deliver(client, event).status_code == 200
    assert public_bytes(api, release_url(api, "pack")) == clean_pack("pack", "1.0.0")
    assert deliver(client, event).status_code == 200  # delivered again: nothing more to do
    unrelated = Message("registry-events", b"not json", {"event_id": "e2", "event_type": "node.unbanned"})
    assert deliver(client, unrelated).status_code == 200  # acknowledged and logged, never retried
