"""GcsBlobStore against gcp-storage-emulator, run in a thread on 127.0.0.1: the quarantine bucket (signed PUT and
GET URLs) and the releases bucket (create-only copies checked by SHA-256, withdrawals).

What the emulator does and does not check (read from its server.py / handlers/objects.py): a PUT to
`/{bucket}/{object}` is its XML-API upload (`objects.xml_upload`); it ignores the query string, so it
neither verifies the V4 signature nor the expiry, and it stores whatever Content-Type the PUT carries.
So the PUT through the signed URL proves the URL's shape (endpoint, bucket, quoted path) and the 200;
the signature, its expiry and its binding to the content type are proved here by rebuilding the V4
canonical request independently and verifying the RSA signature with the key's public half."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gcp_storage_emulator.server import create_server
from google.auth.credentials import AnonymousCredentials
from google.auth.credentials import Credentials as BaseCredentials
from google.auth.exceptions import DefaultCredentialsError, TransportError
from google.cloud import storage
from google.oauth2 import service_account

from shared.adapters.gcs_blobs import GcsBlobStore
from shared.errors import ArchiveMismatch, BlobStoreUnavailable

pytestmark = pytest.mark.timeout(60)

BUCKET = "comfy-registry-uploads"
RELEASES = "comfy-registry-releases"
PROJECT = "demo-comfy-registry"
SA_EMAIL = "uploader@demo-comfy-registry.iam.gserviceaccount.com"
# A space and a "+" make quoting mistakes visible; "+" must become %2B, never a space.
PATH = "acme/my-node/1.0.0/node pack+extra.zip"
ZIP = b"PK\x03\x04 not really a zip, but bytes"
RELEASE = "acme/my-node/1.0.0/node.zip"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def sa_credentials(key: rsa.RSAPrivateKey) -> Any:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "test-key-1",
        "private_key": pem,
        "client_email": SA_EMAIL,
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",  # never called: signing is local
    }
    return service_account.Credentials.from_service_account_info(info)


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[Any, str]]:
    # Port 0: the OS picks a free port, no race with other tests; read back the bound address.
    server = create_server("127.0.0.1", 0, in_memory=True, default_bucket=BUCKET)
    server.start()
    try:
        host, port = server._api._httpd.server_address
        yield server, f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def endpoint(emulator: tuple[Any, str]) -> str:
    server, url = emulator
    server.wipe(keep_buckets=True)  # each test starts with empty buckets
    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": url})
    if client.lookup_bucket(RELEASES) is None:
        client.create_bucket(RELEASES)
    return url


def gcs(endpoint: str | None, credentials: Any = None, **kw: Any) -> GcsBlobStore:
    return GcsBlobStore(
        BUCKET, releases_bucket=RELEASES, project=PROJECT, endpoint=endpoint, credentials=credentials, **kw
    )


@pytest.fixture
def store(endpoint: str, sa_credentials: Any) -> GcsBlobStore:
    return gcs(endpoint, sa_credentials)


@pytest.fixture
def raw_bucket(endpoint: str) -> Any:
    """A plain client, to look at what the emulator holds without going through the adapter."""
    client = storage.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
    )
    return client.bucket(BUCKET)


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _verify_v4(url: str, content_type: str | None, public_key: Any, method: str = "PUT") -> None:
    """Rebuild the V4 string-to-sign from the spec and check the signature; raises InvalidSignature."""
    parts = urlsplit(url)
    params = _query(url)
    signature = bytes.fromhex(params.pop("X-Goog-Signature"))
    canonical_query = "&".join(sorted(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in params.items()))
    headers = f"content-type:{content_type}\n" if content_type is not None else ""
    canonical_request = "\n".join(
        [
            method,
            parts.path,
            canonical_query,
            f"{headers}host:{parts.netloc}\n",
            params["X-Goog-SignedHeaders"],
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = params["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        [
            "GOOG4-RSA-SHA256",
            params["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    public_key.verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_signed_url_is_v4_points_at_the_endpoint_and_binds_the_content_type(
    endpoint: str, sa_credentials: Any, key: rsa.RSAPrivateKey
) -> None:
    store = gcs(endpoint, sa_credentials, ttl_seconds=600)
    url = store.signed_upload_url(PATH, "application/zip", 1000)

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == endpoint
    assert parts.path == f"/{BUCKET}/acme/my-node/1.0.0/node%20pack%2Bextra.zip"
    params = _query(url)
    assert params["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert params["X-Goog-Expires"] == "600"
    # Exactly the headers comfy-cli sends with its PUT: any other signed header would make every upload fail.
    assert params["X-Goog-SignedHeaders"] == "content-type;host"
    email, date, region, service, kind = params["X-Goog-Credential"].split("/")
    assert (email, region, service, kind) == (
        SA_EMAIL,
        "auto",
        "storage",
        "goog4_request",
    )
    signed_at = datetime.strptime(params["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 60
    assert date == signed_at.strftime("%Y%m%d")

    _verify_v4(url, "application/zip", key.public_key())
    # Cloud Storage recomputes the same string with the PUT's Content-Type: any other type fails.
    with pytest.raises(InvalidSignature):
        _verify_v4(url, "application/octet-stream", key.public_key())


def test_put_to_the_signed_url_answers_200_and_the_object_is_then_readable(
    store: GcsBlobStore, raw_bucket: Any
) -> None:
    assert store.exists(PATH) is False
    url = store.signed_upload_url(PATH, "application/zip", 1000)

    response = requests.put(url, data=ZIP, headers={"Content-Type": "application/zip"}, timeout=10)

    assert response.status_code == 200
    assert store.exists(PATH) is True
    with store.open_read(PATH) as handle:
        assert handle.read() == ZIP
    assert raw_bucket.get_blob(PATH).content_type == "application/zip"
    assert store.exists("acme/my-node/1.0.0/other.zip") is False


def test_the_quarantine_is_read_through_a_short_signed_get(
    store: GcsBlobStore, raw_bucket: Any, key: rsa.RSAPrivateKey
) -> None:
    raw_bucket.blob(PATH).upload_from_string(ZIP, content_type="application/zip")
    url = store.signed_download_url(PATH)
    params = _query(url)
    assert urlsplit(url).path == f"/{BUCKET}/acme/my-node/1.0.0/node%20pack%2Bextra.zip"
    assert params["X-Goog-Expires"] == "300" and params["X-Goog-SignedHeaders"] == "host"
    _verify_v4(url, None, key.public_key(), method="GET")
    with pytest.raises(InvalidSignature):
        _verify_v4(url, None, key.public_key(), method="PUT")  # a download link cannot upload
    assert requests.get(url, timeout=10).content == ZIP


def test_read_of_a_missing_object_raises_file_not_found(store: GcsBlobStore) -> None:
    with pytest.raises(FileNotFoundError):
        store.open_read("acme/nothing/here.zip")


def test_release_copies_the_judged_bytes_create_only_and_withdraw_removes_them(
    store: GcsBlobStore, endpoint: str
) -> None:
    digest = hashlib.sha256(ZIP).hexdigest()
    with pytest.raises(ArchiveMismatch):
        store.release(RELEASE, io.BytesIO(ZIP), hashlib.sha256(b"what was judged").hexdigest())
    assert not store.is_released(RELEASE)

    store.release(RELEASE, io.BytesIO(ZIP), digest)
    store.release(RELEASE, io.BytesIO(ZIP), digest)  # a retried release of the same bytes succeeds
    with pytest.raises(ArchiveMismatch):
        store.release(RELEASE, io.BytesIO(b"other bytes"), hashlib.sha256(b"other bytes").hexdigest())

    url = store.release_url(RELEASE)
    assert url == f"{endpoint}/{RELEASES}/acme/my-node/1.0.0/node.zip"
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == ZIP
    client = storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": endpoint}
    )
    released = client.bucket(RELEASES).get_blob(RELEASE)
    assert released.metadata == {"sha256": digest} and released.cache_control == "no-cache"

    store.withdraw(RELEASE)
    store.withdraw(RELEASE)  # a missing object is fine
    assert not store.is_released(RELEASE) and requests.get(url, timeout=10).status_code == 404


def test_release_urls_are_absolute_and_quoted_without_any_io() -> None:
    # No endpoint and no credentials: building the URL must not touch the network or ADC.
    plain = gcs(None)
    assert plain.release_url(PATH) == (
        f"https://storage.googleapis.com/{RELEASES}/acme/my-node/1.0.0/node%20pack%2Bextra.zip"
    )
    cdn = GcsBlobStore(BUCKET, releases_bucket=RELEASES, project=PROJECT, public_base_url="https://cdn.example.com/")
    assert cdn.release_url("a/b~c#d?.zip") == f"https://cdn.example.com/{RELEASES}/a/b~c%23d%3F.zip"


class _TokenOnlyCredentials(BaseCredentials):
    """What Cloud Functions' metadata server gives: an access token, no private key."""

    def __init__(self) -> None:
        super().__init__()
        self.refreshes = 0
        self.service_account_email = "default"  # as compute_engine.Credentials before a refresh

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = f"token-{self.refreshes}"
        self.service_account_email = SA_EMAIL


def test_credentials_without_a_key_sign_through_iam_sign_blob(
    endpoint: str, key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []

    def fake_sign_blob(message: Any, access_token: str, service_account_email: str, *args: Any) -> str:
        # Stands in for POST iamcredentials.../serviceAccounts/{email}:signBlob (no network here).
        calls.append((access_token, service_account_email))
        data = message.encode() if isinstance(message, str) else message
        return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()

    monkeypatch.setattr("google.cloud.storage._signing._sign_message", fake_sign_blob)
    credentials = _TokenOnlyCredentials()
    store = gcs(endpoint, credentials)

    first = store.signed_upload_url(PATH, "application/zip", 1000)
    second = store.signed_upload_url(PATH, "application/zip", 1000)

    assert calls == [
        ("token-1", SA_EMAIL),
        ("token-1", SA_EMAIL),
    ]  # refreshed once, while valid
    assert credentials.refreshes == 1
    assert _query(first)["X-Goog-Credential"].startswith(f"{SA_EMAIL}/")
    _verify_v4(first, "application/zip", key.public_key())
    _verify_v4(second, "application/zip", key.public_key())


def _closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _UnreachableMetadataCredentials(BaseCredentials):
    """Token-only credentials whose metadata server does not answer; the refresh goes through the real transport."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.service_account_email = "default"

    def refresh(self, request: Any) -> None:
        request(url=self.url, method="GET", timeout=5)


def test_an_unreachable_metadata_server_makes_signing_unavailable() -> None:
    credentials = _UnreachableMetadataCredentials(f"http://127.0.0.1:{_closed_port()}/token")
    store = gcs("127.0.0.1:9", credentials)

    with pytest.raises(BlobStoreUnavailable) as caught:
        store.signed_upload_url(PATH, "application/zip", 1000)

    assert isinstance(caught.value.__cause__, TransportError)
    assert caught.value.retry_after > 0


def test_a_failing_iam_sign_blob_makes_signing_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any) -> str:
        # What the library raises when signBlob answers anything but 200.
        raise TransportError("Error calling the IAM signBytes API: 503 Service Unavailable")

    monkeypatch.setattr("google.cloud.storage._signing._sign_message", refused)
    store = gcs("127.0.0.1:9", _TokenOnlyCredentials())

    with pytest.raises(BlobStoreUnavailable):
        store.signed_upload_url(PATH, "application/zip", 1000)


def test_credentials_that_cannot_be_found_make_signing_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    store = gcs("127.0.0.1:9")

    with pytest.raises(BlobStoreUnavailable) as caught:
        store.signed_upload_url(PATH, "application/zip", 1000)

    assert isinstance(caught.value.__cause__, DefaultCredentialsError)


def test_a_bug_while_signing_is_not_an_outage() -> None:
    class Broken(_TokenOnlyCredentials):
        def refresh(self, request: Any) -> None:
            raise TypeError("refresh() got an unexpected keyword argument")

    store = gcs("127.0.0.1:9", Broken())

    with pytest.raises(TypeError):
        store.signed_upload_url(PATH, "application/zip", 1000)


def test_importing_the_adapter_does_not_import_the_sdk() -> None:
    code = (
        "import sys, shared.adapters.gcs_blobs; "
        "loaded = [m for m in ('google.cloud.storage', 'google.auth') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_data_objects_are_replaced_in_place_and_missing_ones_read_as_none(store: GcsBlobStore, endpoint: str) -> None:
    path = "_scanner/osv-pypi-malicious.json"
    assert store.read_data(path) is None
    store.write_data(path, b'{"records": []}')
    store.write_data(path, b'{"records": [1]}')  # the refresh replaces the snapshot: no create-only here
    assert store.read_data(path) == b'{"records": [1]}'
    assert not store.exists(path)  # never in the quarantine
