"""The local blob store keeps Cloud Storage's rules: a private quarantine written only through signed, create-only,
size-bounded PUT URLs, and a release location only `release()` writes. (Chunked PUTs through the served stack are in
tests/test_local_server.py.)"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.test import Client, TestResponse

from shared.adapters.local_blobs import LocalBlobStore, persistent_key
from shared.errors import ArchiveMismatch, InvalidInput

PATH = "p/n/1.0.0/a1/node.zip"
RELEASE = "p/n/1.0.0/node.zip"


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(
        tmp_path, "http://127.0.0.1:8080/", b"k", incoming_bucket="in", releases_bucket="out", ttl_seconds=60
    )


def _put(store: LocalBlobStore, url: str, body: bytes, content_type: str = "application/zip") -> TestResponse:
    parts = urlsplit(url)
    return Client(store.wsgi).put(f"{parts.path}?{parts.query}", data=body, content_type=content_type)


def _get(store: LocalBlobStore, url: str) -> TestResponse:
    parts = urlsplit(url)
    return Client(store.wsgi).get(f"{parts.path}?{parts.query}" if parts.query else parts.path)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_upload_lands_in_the_private_quarantine(store: LocalBlobStore) -> None:
    finalized: list[tuple[str, str, int]] = []
    store.on_finalized(lambda bucket, path, size: finalized.append((bucket, path, size)))
    url = store.signed_upload_url(PATH, "application/zip", 100)
    assert url.startswith(f"http://127.0.0.1:8080/_local/blobs/in/{PATH}?")
    assert _put(store, url, b"zipdata").status_code == 200
    assert finalized == [("in", PATH, 7)]
    assert store.exists(PATH) and store.open_read(PATH).read() == b"zipdata"
    # Nobody reads the quarantine by its path; a signed GET from the registry does.
    plain = Client(store.wsgi).get(f"/_local/blobs/in/{PATH}")
    assert plain.status_code == 403 and b"AccessDenied" in plain.data
    signed = _get(store, store.signed_download_url(PATH))
    assert signed.status_code == 200 and signed.data == b"zipdata"
    assert _get(store, store.signed_download_url(PATH).replace("node.zip", "other.zip")).status_code == 403


def test_a_second_put_of_a_stored_object_fails_as_with_if_generation_match_0(store: LocalBlobStore) -> None:
    finalized: list[str] = []
    store.on_finalized(lambda bucket, path, size: finalized.append(path))
    url = store.signed_upload_url(PATH, "application/zip", 100)
    assert _put(store, url, b"first").status_code == 200
    again = _put(store, store.signed_upload_url(PATH, "application/zip", 100), b"second")
    assert again.status_code == 412 and b"<Code>PreconditionFailed</Code>" in again.data
    assert store.open_read(PATH).read() == b"first" and finalized == [PATH]


def test_the_signed_size_bound_is_enforced_before_and_while_reading(store: LocalBlobStore, tmp_path: Path) -> None:
    url = store.signed_upload_url(PATH, "application/zip", 10)
    refused = _put(store, url, b"x" * 11)
    assert refused.status_code == 400 and b"<Code>EntityTooLarge</Code>" in refused.data
    assert not store.exists(PATH)
    # A body that lies about its length (or is chunked) is cut off at the bound, leaving nothing behind.
    parts = urlsplit(url)
    lying = Client(store.wsgi).put(
        f"{parts.path}?{parts.query}",
        input_stream=io.BytesIO(b"y" * 50),
        content_type="application/zip",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert lying.status_code == 400 and not store.exists(PATH)
    assert not [p for p in tmp_path.rglob(".upload-*")]
    assert _put(store, url, b"z" * 10).status_code == 200


def test_signature_content_type_bound_and_expiry_are_enforced(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = store.signed_upload_url("a/b.zip", "application/zip", 100)
    assert _put(store, url, b"x", "application/octet-stream").status_code == 403
    assert _put(store, url.replace("a/b.zip", "a/c.zip"), b"x").status_code == 403
    assert _put(store, url.replace("max=100", "max=1000"), b"x").status_code == 403
    assert _put(store, url.split("?")[0], b"x").status_code == 403
    # Nothing is ever PUT into the releases, signed or not.
    assert _put(store, url.replace("/in/", "/out/"), b"x").status_code == 405
    monkeypatch.setattr("shared.adapters.local_blobs.time.time", lambda: 10**11)
    assert _put(store, url, b"x").status_code == 403
    assert not store.exists("a/b.zip")


def test_release_is_create_only_and_checked_by_sha256(store: LocalBlobStore) -> None:
    with pytest.raises(ArchiveMismatch):
        store.release(RELEASE, io.BytesIO(b"judged"), _sha(b"other bytes"))
    assert not store.is_released(RELEASE)
    store.release(RELEASE, io.BytesIO(b"judged"), _sha(b"judged"))
    store.release(RELEASE, io.BytesIO(b"judged"), _sha(b"judged"))  # a retried release of the same bytes
    with pytest.raises(ArchiveMismatch):
        store.release(RELEASE, io.BytesIO(b"replacement"), _sha(b"replacement"))
    public = _get(store, store.release_url(RELEASE))
    assert public.status_code == 200 and public.data == b"judged"
    assert public.headers["Cache-Control"] == "no-cache"
    store.withdraw(RELEASE)
    store.withdraw(RELEASE)  # withdrawing twice is fine
    assert _get(store, store.release_url(RELEASE)).status_code == 404


def test_paths_cannot_escape_and_errors_do_not_echo_markup(store: LocalBlobStore) -> None:
    for bad in ["../x", "a/../../x", "", "a/./b", "a/.upload-x"]:
        with pytest.raises(InvalidInput):
            store.exists(bad)
    r = Client(store.wsgi).get("/_local/blobs/out/..%2F<script>x</script>")
    assert r.status_code == 400 and b"<script>" not in r.data and b"&lt;script&gt;" in r.data
    assert Client(store.wsgi).get("/_local/blobs/elsewhere/a.zip").status_code == 404


def test_partial_uploads_are_removed_after_a_crash(store: LocalBlobStore, tmp_path: Path) -> None:
    def crashing() -> Iterator[bytes]:
        yield b"half an archive"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.write(PATH, crashing())
    assert not store.exists(PATH) and not list(tmp_path.rglob(".upload-*"))
    # What a killed process leaves behind is swept when the stack starts.
    (tmp_path / "in" / "p").mkdir(parents=True, exist_ok=True)
    (tmp_path / "in" / "p" / ".upload-abc").write_bytes(b"left by a crash")
    assert store.remove_partial_uploads() == 1 and not list(tmp_path.rglob(".upload-*"))


def test_the_signing_key_survives_a_restart(tmp_path: Path) -> None:
    key = persistent_key(tmp_path / "signing.key")
    assert persistent_key(tmp_path / "signing.key") == key and len(key) == 64
    assert stat.S_IMODE(os.stat(tmp_path / "signing.key").st_mode) == 0o600
    before = LocalBlobStore(tmp_path, "http://x", key, incoming_bucket="in", releases_bucket="out")
    url = before.signed_upload_url(PATH, "application/zip", 100)
    after = LocalBlobStore(tmp_path, "http://x", persistent_key(tmp_path / "signing.key"), incoming_bucket="in")
    assert _put(after, url, b"zip").status_code == 200


def test_data_objects_are_replaced_atomically_beside_the_releases(store: LocalBlobStore) -> None:
    path = "_scanner/osv-pypi-malicious.json"
    assert store.read_data(path) is None
    store.write_data(path, b"first")
    store.write_data(path, b"second")
    assert store.read_data(path) == b"second" and not store.exists(path)
    assert not list(store.root.rglob(".upload-*"))  # no temporary file left behind
    with pytest.raises(InvalidInput):
        store.write_data("../escape.json", b"x")
