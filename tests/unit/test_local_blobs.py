"""The local blob store answers its signed URLs the way Cloud Storage does."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.test import Client

from shared.adapters.local_blobs import LocalBlobStore
from shared.errors import InvalidInput


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path, "http://127.0.0.1:8080/", b"k", ttl_seconds=60)


def _put(store: LocalBlobStore, url: str, body: bytes, content_type: str = "application/zip") -> int:
    parts = urlsplit(url)
    return Client(store.wsgi).put(f"{parts.path}?{parts.query}", data=body, content_type=content_type).status_code


def test_put_then_get(store: LocalBlobStore) -> None:
    finalized: list[tuple[str, str, int]] = []
    store.on_finalized(lambda bucket, path, size: finalized.append((bucket, path, size)))
    url = store.signed_upload_url("p/n/1.0.0/node.zip", "application/zip")
    assert url.startswith("http://127.0.0.1:8080/_local/blobs/p/n/1.0.0/node.zip?")
    assert _put(store, url, b"zipdata") == 200
    assert finalized == [("local", "p/n/1.0.0/node.zip", 7)]
    assert store.exists("p/n/1.0.0/node.zip") and store.read("p/n/1.0.0/node.zip") == b"zipdata"
    got = Client(store.wsgi).get(urlsplit(store.download_url("p/n/1.0.0/node.zip")).path)
    assert got.status_code == 200 and got.data == b"zipdata"
    assert Client(store.wsgi).get("/_local/blobs/p/missing.zip").status_code == 404


def test_signature_content_type_and_expiry_are_enforced(store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    url = store.signed_upload_url("a/b.zip", "application/zip")
    assert _put(store, url, b"x", "application/octet-stream") == 403
    assert _put(store, url.replace("a/b.zip", "a/c.zip"), b"x") == 403
    assert _put(store, url.split("?")[0], b"x") == 403
    monkeypatch.setattr("shared.adapters.local_blobs.time.time", lambda: 10**11)
    assert _put(store, url, b"x") == 403
    assert not store.exists("a/b.zip")


def test_paths_cannot_escape_the_root(store: LocalBlobStore) -> None:
    for bad in ["../x", "a/../../x", "", "a/./b"]:
        with pytest.raises(InvalidInput):
            store.exists(bad)
    assert Client(store.wsgi).get("/_local/blobs/..%2F..%2Fetc%2Fpasswd").status_code == 400
