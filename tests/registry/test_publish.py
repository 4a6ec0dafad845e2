"""Publishing through the registry function: the node, a pending version, the signed upload, the events."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from shared.db.models import NodeVersion, OutboxEvent
from shared.errors import BlobStoreUnavailable
from tests.support import RegistryClient, clean_pack, zip_bytes


def test_publish_creates_node_and_pending_version(api: RegistryClient) -> None:
    token = api.owner_with_token()
    body = api.publish_body(token, "my-node", "v1.2", supported_os=["OS Independent"], extra_field="kept out")
    body["node_version"]["changelog"] = "first"
    body["node_version"]["supported_accelerators"] = ["GPU :: NVIDIA CUDA"]
    r = api.post("/publishers/alice-pub/nodes/my-node/versions", json_body=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    data = r.get_json()
    nv = data["node_version"]
    assert nv["version"] == "1.2.0"  # normalized
    assert nv["status"] == "NodeVersionStatusPending"
    assert nv["changelog"] == "first" and nv["dependencies"] == ["numpy"]
    assert nv["supported_accelerators"] == ["GPU :: NVIDIA CUDA"]
    uuid.UUID(nv["id"])
    # One quarantined object per publish attempt; nothing public before the scanner passes it.
    quarantine = "http://127.0.0.1:8080/_local/blobs/comfy-registry-uploads/alice-pub/my-node/1.2.0/"
    assert data["signedUrl"].startswith(quarantine) and "/node.zip?" in data["signedUrl"]
    assert nv["downloadUrl"] == ""

    node = api.get("/nodes/my-node").get_json()
    assert node["name"] == "My-Node" and node["supported_os"] == ["OS Independent"]
    assert node["license"] == '{"text": "MIT"}' and node["repository"] == "https://github.com/x/y"
    assert "latest_version" not in node  # nothing is offered before it is uploaded and scanned
    r = api.get("/nodes/my-node/install", query={"version": "1.2.0"})
    assert r.status_code == 409 and r.get_json()["error"] == "version_pending"

    with api.container.sessions() as s:
        types = [e.type for e in s.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)).all()]
    assert "node.created" in types and "version.published" in types
    published = [m for m in api.container.publisher.delivered if b"version.published" in m.data]  # type: ignore[attr-defined]
    assert len(published) == 1 and published[0].attributes["event_type"] == "version.published"


def test_signed_url_accepts_the_zip_and_the_download_serves_it(api: RegistryClient) -> None:
    token = api.owner_with_token()
    data = api.publish("alice-pub", "my-node", "1.0.0", token, upload=False)
    archive = zip_bytes({"pyproject.toml": "[project]\nname='my-node'\n", "__init__.py": ""})
    assert api.upload(data["signedUrl"], archive, "text/plain").status_code == 403  # content type is bound
    assert api.upload(data["signedUrl"].replace("sig=", "sig=0"), archive).status_code == 403
    r = api.upload(data["signedUrl"], archive)
    assert r.status_code == 200
    with api.container.sessions() as s:
        row = s.scalars(select(NodeVersion)).one()
    assert api.container.blobs.open_read(row.storage_path).read() == archive
    # Passed, so released: the public download serves exactly the judged bytes.
    url = api.get("/nodes/my-node/install").get_json()["downloadUrl"]
    assert url == "http://127.0.0.1:8080/_local/blobs/comfy-registry-releases/alice-pub/my-node/1.0.0/node.zip"
    assert api.download(url).data == archive


def test_second_version_updates_the_node_without_erasing_fields(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token, name="Proper Name", description="desc")
    body = api.publish_body(token, "my-node", "1.1.0", name="", description="")
    r = api.post("/publishers/alice-pub/nodes/my-node/versions", json_body=body)
    assert r.status_code == 201
    assert api.upload(r.get_json()["signedUrl"], clean_pack("my-node", "1.1.0")).status_code == 200
    node = api.get("/nodes/my-node").get_json()
    assert (node["name"], node["description"]) == ("Proper Name", "desc")
    assert node["latest_version"]["version"] == "1.1.0"


def test_duplicate_version_is_409_even_when_spelled_differently(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "my-node", "1.0.0", token)
    r = api.post("/publishers/alice-pub/nodes/my-node/versions", json_body=api.publish_body(token, "my-node", "v1.0"))
    assert r.status_code == 409 and r.get_json()["message"] == "The node version already exists"
    with api.container.sessions() as s:
        assert len(s.scalars(select(NodeVersion)).all()) == 1


def test_bad_publish_input_is_a_clear_400(api: RegistryClient) -> None:
    token = api.owner_with_token()
    url = "/publishers/alice-pub/nodes/my-node/versions"
    for version in ["not-a-version", "1.2.3.4", "", "1..2"]:
        r = api.post(url, json_body=api.publish_body(token, "my-node", version))
        assert r.status_code == 400, version
    assert api.post(url, data="{").status_code == 400
    assert api.post(url, json_body={"personal_access_token": token}).status_code == 400  # no node_version
    r = api.post(url, json_body=api.publish_body(token, "other-id", "1.0.0"))
    assert r.status_code == 400 and r.get_json()["error"] == "node_id_mismatch"
    r = api.post("/publishers/alice-pub/nodes/-bad-/versions", json_body=api.publish_body(token, "-bad-", "1.0.0"))
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_id"
    r = api.post(url, json_body={**api.publish_body(token, "my-node", "1.0.0"), "personal_access_token": ""})
    assert r.status_code == 400
    long_description = api.publish_body(token, "my-node", "1.0.0", description="x" * 1001)
    assert api.post(url, json_body=long_description).status_code == 400
    assert api.get("/nodes/my-node").status_code == 404  # nothing half-created


def test_publish_to_unknown_publisher_or_someone_elses_node(api: RegistryClient) -> None:
    alice = api.owner_with_token("alice", "alice-pub")
    bob = api.owner_with_token("bob", "bob-pub")
    r = api.post("/publishers/ghost/nodes/n/versions", json_body=api.publish_body(alice, "n", "1.0.0"))
    assert r.status_code == 404
    api.publish("alice-pub", "shared-name", "1.0.0", alice)
    r = api.post(
        "/publishers/bob-pub/nodes/shared-name/versions", json_body=api.publish_body(bob, "shared-name", "2.0.0")
    )
    assert r.status_code == 403
    # Case-only variants of an existing id are refused too.
    r = api.post(
        "/publishers/bob-pub/nodes/Shared-Name/versions", json_body=api.publish_body(bob, "Shared-Name", "1.0.0")
    )
    assert r.status_code == 409 and "shared-name" in r.get_json()["message"]


def test_update_and_delete_version(api: RegistryClient) -> None:
    token = api.owner_with_token()
    version_id = api.publish("alice-pub", "my-node", "1.0.0", token)["node_version"]["id"]
    base = "/publishers/alice-pub/nodes/my-node/versions"
    r = api.put(f"{base}/{version_id}", as_="alice", json_body={"changelog": "fixed", "deprecated": True})
    assert r.status_code == 200
    assert (r.get_json()["changelog"], r.get_json()["deprecated"]) == ("fixed", True)
    assert api.put(f"{base}/{version_id}", as_="bob", json_body={"changelog": "x"}).status_code == 403
    assert api.put(f"{base}/{version_id}", json_body={"changelog": "x"}).status_code == 401
    assert api.put(f"{base}/not-a-uuid", as_="alice", json_body={}).status_code == 400
    assert api.put(f"{base}/{uuid.uuid4()}", as_="alice", json_body={}).status_code == 404
    assert api.put(f"{base}/{version_id}", as_="alice", json_body={"deprecated": "maybe"}).status_code == 400

    assert api.delete(f"{base}/not-a-uuid", as_="alice").status_code == 400
    assert api.delete(f"{base}/{version_id}", as_="bob").status_code == 403
    assert api.delete(f"{base}/{version_id}", as_="alice").status_code == 204
    got = api.get("/nodes/my-node/versions/1.0.0").get_json()
    assert got["status"] == "NodeVersionStatusDeleted"
    assert api.get("/nodes/my-node/install").status_code == 404
    assert api.get("/nodes/my-node/install", query={"version": "1.0.0"}).status_code == 404


def test_version_of_another_node_cannot_be_edited_through_this_one(api: RegistryClient) -> None:
    token = api.owner_with_token()
    api.publish("alice-pub", "node-a", "1.0.0", token)
    other = api.publish("alice-pub", "node-b", "1.0.0", token)["node_version"]["id"]
    r = api.put(f"/publishers/alice-pub/nodes/node-a/versions/{other}", as_="alice", json_body={"changelog": "x"})
    assert r.status_code == 404


class FailingBlobs:
    """A blob store whose signing fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def signed_upload_url(self, path: str, content_type: str, max_bytes: int) -> str:
        raise self.error

    def exists(self, path: str) -> bool:
        return False


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        # What the adapters raise when the store or its signer is down: retry later.
        (
            BlobStoreUnavailable(),
            503,
            {"error": "unavailable", "message": "The upload storage is unavailable; try again shortly."},
        ),
        # A bug is not an outage.
        (TypeError("unexpected keyword"), 500, {"error": "internal", "message": "Internal Server Error"}),
    ],
)
def test_blob_store_failure_leaves_nothing_half_created(
    api: RegistryClient, error: Exception, status: int, body: dict[str, str]
) -> None:
    token = api.owner_with_token()
    api.use(blobs=FailingBlobs(error))
    r = api.post("/publishers/alice-pub/nodes/my-node/versions", json_body=api.publish_body(token, "my-node", "1.0.0"))
    assert (r.status_code, r.get_json()) == (status, body)
    assert r.headers.get("Retry-After") == ("5" if status == 503 else None)
    with api.container.sessions() as s:
        assert s.scalars(select(NodeVersion)).all() == []
        assert s.scalars(select(OutboxEvent).where(OutboxEvent.type == "version.published")).all() == []
    assert api.get("/nodes/my-node").status_code == 404
