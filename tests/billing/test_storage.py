"""POST /customers/storage: a signed upload URL under the caller's prefix, bounded in type and size, reused by
content hash; the local blob store answers the URL as Cloud Storage would."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from werkzeug.test import Client

from tests.support import RegistryClient


def put(api: RegistryClient, url: str, data: bytes, content_type: str) -> int:
    parts = urlsplit(url)
    client = Client(api.container.customer_storage.wsgi)  # type: ignore[attr-defined]
    return client.put(parts.path, query_string=parts.query, data=data, content_type=content_type).status_code


def test_an_upload_lands_under_the_customer_and_is_reused_by_hash(api: RegistryClient) -> None:
    api.post("/customers", as_="alice")
    data = b"\x89PNG fake image"
    digest = hashlib.sha256(data).hexdigest()
    body = {"file_name": "../../input image.png", "content_type": "image/png", "file_hash": digest}
    first = api.post("/customers/storage", as_="alice", json_body=body)
    assert first.status_code == 200, first.get_data(as_text=True)
    grant = first.get_json()
    assert grant["existing_file"] is False
    bucket = api.container.settings.customer_storage_bucket
    assert f"/{bucket}/alice/{digest}/input_image.png" in grant["upload_url"]
    assert put(api, grant["upload_url"], data, "image/jpeg") != 200  # the signed content type only
    assert put(api, grant["upload_url"], data, "image/png") == 200
    again = api.post("/customers/storage", as_="alice", json_body=body).get_json()
    assert again["existing_file"] is True and "upload_url" not in again
    assert put(api, grant["upload_url"], data, "image/png") != 200  # create-only


def test_type_size_and_input_are_bounded(api: RegistryClient) -> None:
    api.post("/customers", as_="bob")
    refused = api.post("/customers/storage", as_="bob", json_body={"file_name": "x.exe", "content_type": "text/html"})
    assert refused.status_code == 400 and refused.get_json()["error"] == "unsupported_content_type"
    bad_hash = api.post("/customers/storage", as_="bob", json_body={"file_name": "x.png", "file_hash": "abc"})
    assert bad_hash.status_code == 400
    assert api.post("/customers/storage", as_="bob", json_body={"file_name": "/"}).status_code == 400
    assert api.post("/customers/storage", json_body={"file_name": "x.png"}).status_code == 401
    grant = api.post("/customers/storage", as_="bob", json_body={"file_name": "big.bin"}).get_json()
    too_big = b"x" * (api.container.settings.customer_storage_max_bytes + 1)
    assert put(api, grant["upload_url"], too_big, "application/octet-stream") != 200
