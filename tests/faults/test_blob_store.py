"""The blob store fails: while signing the upload URL of a publish (nothing is half-created, and the same publish
succeeds once the store is back), and while the scanner reads an uploaded archive (the version stays pending and
the redelivered event scans it)."""

from __future__ import annotations

from typing import IO, Any, BinaryIO

import pytest
from sqlalchemy import select

from shared.adapters.local_blobs import LocalBlobStore
from shared.db.models import NodeVersion
from shared.errors import BlobStoreUnavailable
from tests.conftest import ROOT
from tests.faults.support import changes, snapshot
from tests.scanner.test_function import finalize
from tests.support import RegistryClient, clean_pack


class Flaky:
    """The container's blob store, failing while `down` names the operation (sign, read, release, withdraw)."""

    def __init__(self, store: LocalBlobStore) -> None:
        self.store = store
        self.down: set[str] = set()

    def _check(self, operation: str) -> None:
        if operation in self.down:
            # The store's operations fail as the adapters report an outage (they translate their vendor's errors);
            # a read fails as the scanner sees it, with the transport's own error.
            if operation == "read":
                raise ConnectionError(f"blob store unreachable ({operation})")
            raise BlobStoreUnavailable()

    def signed_upload_url(self, path: str, content_type: str, max_bytes: int) -> str:
        self._check("sign")
        return self.store.signed_upload_url(path, content_type, max_bytes)

    def signed_download_url(self, path: str) -> str:
        self._check("sign")
        return self.store.signed_download_url(path)

    def exists(self, path: str) -> bool:
        return self.store.exists(path)

    def open_read(self, path: str) -> BinaryIO:
        self._check("read")
        return self.store.open_read(path)

    def release(self, path: str, data: IO[bytes], sha256: str) -> None:
        self._check("release")
        self.store.release(path, data, sha256)

    def withdraw(self, path: str) -> None:
        self._check("withdraw")
        self.store.withdraw(path)

    def release_url(self, path: str) -> str:
        return self.store.release_url(path)

    def is_released(self, path: str) -> bool:
        return self.store.is_released(path)


@pytest.fixture
def flaky(api: RegistryClient) -> Flaky:
    wrapper = Flaky(api.container.blobs)  # type: ignore[arg-type]
    api.use(blobs=wrapper)
    return wrapper


def test_signing_failure_creates_nothing_and_the_retry_succeeds(api: RegistryClient, flaky: Flaky) -> None:
    token = api.owner_with_token()
    url = "/publishers/alice-pub/nodes/new-pack/versions"
    body = api.publish_body(token, "new-pack", "1.0.0")
    before = snapshot(api.container)
    flaky.down.add("sign")
    r = api.post(url, json_body=body)
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.get_json() == {"error": "unavailable", "message": "The upload storage is unavailable; try again shortly."}
    # No node, version, event, token use or rate-limit spend: every table is as it was.
    assert not changes(before, snapshot(api.container))
    flaky.down.clear()
    r = api.post(url, json_body=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json()["node_version"]["status"] == "NodeVersionStatusPending"


def test_read_failure_during_the_scan_leaves_the_version_pending_for_the_retry(
    api: RegistryClient, flaky: Flaky
) -> None:
    import functions_framework

    scanner: Any = functions_framework.create_app("scanner", str(ROOT / "functions/scanner/main.py"), "cloudevent")
    token = api.owner_with_token()
    path = api.publish("alice-pub", "pack", "1.0.0", token, upload=False)["storage_path"]
    flaky.store._hooks.clear()  # the event is delivered by hand below
    flaky.store.write(path, [clean_pack("pack", "1.0.0")])
    bucket = api.container.settings.uploads_bucket
    flaky.down.add("read")
    # The function fails, so Eventarc delivers the event again later.
    assert finalize(scanner, bucket, path, event_id="upload-1") == 500
    with api.container.sessions() as s:
        row = s.scalar(select(NodeVersion).where(NodeVersion.node_id == "pack"))
        assert row is not None and (row.status, row.scanned_at) == ("pending", None)
    flaky.down.clear()
    assert finalize(scanner, bucket, path, event_id="upload-1") == 200
    assert api.get("/nodes/pack/install").get_json()["status"] == "NodeVersionStatusActive"
