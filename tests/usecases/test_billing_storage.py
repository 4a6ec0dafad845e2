"""Customer storage's rules on the fakes: accepted content types, a path under the customer's own prefix with a safe
name, the size bound in the signed URL, and content addressing by SHA-256 (a file already there is not sent again)."""

from __future__ import annotations

import hashlib
from typing import cast

import pytest

from functions.billing.storage.usecases import StorageLimits, create_upload
from shared.bootstrap import Container
from shared.errors import InvalidInput
from tests.fakes import FakeBlobs
from tests.usecases.billing_world import caller

ANN = caller("ann")


def limits(c: Container) -> StorageLimits:
    """As the handler builds them from the settings."""
    s = c.settings
    return StorageLimits(s.customer_storage_type_list, s.customer_storage_max_bytes, s.customer_storage_ttl_seconds)


def test_an_upload_lands_under_the_customers_prefix_within_the_size_bound(billing: Container) -> None:
    grant = create_upload(
        billing.customer_storage, ANN, "../../etc/My Photo!.png", "image/png; q=1", None, limits(billing)
    )
    assert grant.upload_url is not None and not grant.existing
    path = grant.upload_url.split("https://uploads.example/", 1)[1].split("?")[0]
    owner, folder, name = path.split("/")
    assert (owner, name, len(folder)) == ("ann", "My_Photo_.png", 32)
    assert f"max={billing.settings.customer_storage_max_bytes}" in grant.upload_url
    assert grant.download_url.startswith(f"https://uploads.example/{path}")


def test_content_types_and_names_are_checked(billing: Container) -> None:
    with pytest.raises(InvalidInput, match="not accepted") as refused:
        create_upload(billing.customer_storage, ANN, "a.exe", "application/x-msdownload", None, limits(billing))
    assert refused.value.code == "unsupported_content_type"
    # None given is application/octet-stream, accepted by default.
    assert create_upload(billing.customer_storage, ANN, "a.bin", None, None, limits(billing)).upload_url
    with pytest.raises(InvalidInput, match="name a file"):
        create_upload(billing.customer_storage, ANN, "dir/...", "image/png", None, limits(billing))
    with pytest.raises(InvalidInput, match="SHA-256"):
        create_upload(billing.customer_storage, ANN, "a.png", "image/png", "md5:abc", limits(billing))


def test_a_file_of_known_content_is_reused(billing: Container) -> None:
    digest = hashlib.sha256(b"pixels").hexdigest()
    blobs = billing.customer_storage
    first = create_upload(blobs, ANN, "a.png", "image/png", f"sha256:{digest.upper()}", limits(billing))
    assert first.upload_url is not None and f"ann/{digest}/a.png" in first.upload_url
    cast(FakeBlobs, blobs).uploads[f"ann/{digest}/a.png"] = b"pixels"
    again = create_upload(blobs, ANN, "a.png", "image/png", digest, limits(billing))
    assert again.existing and again.upload_url is None and f"ann/{digest}/a.png" in again.download_url
