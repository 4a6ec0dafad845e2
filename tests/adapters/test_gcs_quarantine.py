"""Quarantine and release through the real entry points with the Cloud Storage adapter, against gcp-storage-emulator:
the registry signs the upload, the PUT goes to the emulator, the scanner (its CloudEvent entry point) judges and
releases, installs are served from the releases bucket.

The emulator keeps neither preconditions nor retention, so a second PUT to the signed URL succeeds there (Cloud
Storage refuses it: the quarantine bucket's retention policy in terraform/storage.tf). This is the case the release
copy exists for: whatever lands in the quarantine later, installs keep being served the bytes that were judged."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from local.events import deliver_to_releases
from shared.adapters.gcs_blobs import GcsBlobStore
from shared.adapters.inprocess_publisher import InProcessPublisher
from shared.bootstrap import bootstrap
from shared.db.models import NodeVersion
from tests.adapters.test_gcs_blobs import BUCKET, RELEASES, emulator, endpoint, gcs, key, sa_credentials
from tests.conftest import make_settings
from tests.scanner.test_function import finalize, scanner_app
from tests.support import RegistryClient, clean_pack, client_of

__all__ = ["emulator", "endpoint", "key", "sa_credentials", "scanner_app"]
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def cloud(
    database_url: str, tmp_path: Path, endpoint: str, sa_credentials: Any, registry_app: Any
) -> Iterator[RegistryClient]:
    """The registry and the scanner with their archives in the emulator's two buckets."""
    settings = make_settings(database_url, tmp_path / "data", UPLOADS_BUCKET=BUCKET, RELEASES_BUCKET=RELEASES)
    events = InProcessPublisher()
    events.subscribe(settings.events_topic, deliver_to_releases)
    c = bootstrap(settings, blobs=gcs(endpoint, sa_credentials), publisher=events)
    with client_of(c, registry_app) as client:
        yield client


def put(url: str, data: bytes) -> int:
    return requests.put(url, data=data, headers={"Content-Type": "application/zip"}, timeout=10).status_code


def test_an_overwrite_after_the_verdict_never_reaches_installs(
    cloud: RegistryClient, scanner_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api = cloud
    assert isinstance(api.container.blobs, GcsBlobStore)
    token = api.owner_with_token()
    r = api.post("/publishers/alice-pub/nodes/pack/versions", json_body=api.publish_body(token, "pack", "1.0.0"))
    assert r.status_code == 201, r.get_data(as_text=True)
    signed = r.get_json()["signedUrl"]
    with api.container.sessions() as s:
        path = s.scalars(select(NodeVersion.storage_path)).one()
    judged = clean_pack("pack", "1.0.0")

    assert put(signed, judged) == 200
    assert finalize(scanner_app, BUCKET, path, event_id="upload-1") == 200
    install = api.get("/nodes/pack/install").get_json()
    assert install["status"] == "NodeVersionStatusActive"
    assert install["downloadUrl"].startswith(f"{api.container.blobs.release_url('')}")
    assert requests.get(install["downloadUrl"], timeout=10).content == judged

    caplog.set_level(logging.WARNING, logger="functions.scanner.apply")
    assert put(signed, b"PK other bytes, never scanned") == 200  # the emulator keeps no retention policy
    assert finalize(scanner_app, BUCKET, path, event_id="upload-2") == 200
    assert "arrived after its verdict" in caplog.text
    again = api.get("/nodes/pack/install").get_json()
    assert again["archive_sha256"] == hashlib.sha256(judged).hexdigest() == install["archive_sha256"]
    assert requests.get(again["downloadUrl"], timeout=10).content == judged


def test_a_ban_withdraws_from_the_releases_bucket_and_an_unban_restores(
    cloud: RegistryClient, scanner_app: Any
) -> None:
    api = cloud
    token = api.owner_with_token()
    r = api.post("/publishers/alice-pub/nodes/pack/versions", json_body=api.publish_body(token, "pack", "1.0.0"))
    judged = clean_pack("pack", "1.0.0")
    assert put(r.get_json()["signedUrl"], judged) == 200
    with api.container.sessions() as s:
        path = s.scalars(select(NodeVersion.storage_path)).one()
    assert finalize(scanner_app, BUCKET, path) == 200
    public = api.get("/nodes/pack/install").get_json()["downloadUrl"]
    assert requests.get(public, timeout=10).content == judged

    admin: dict[str, Any] = {"as_": "root", "admin": True, "json_body": {"reason": "test"}}
    assert api.post("/publishers/alice-pub/nodes/pack/ban", **admin).status_code == 204
    assert requests.get(public, timeout=10).status_code == 404
    assert api.post("/publishers/alice-pub/nodes/pack/unban", **admin).status_code == 204
    assert requests.get(public, timeout=10).content == judged
