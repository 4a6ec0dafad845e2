"""Where node archives live: a private quarantine that uploads land in, and the public release location that only
a clean verdict copies into. The registry, the scanner and the adapters all name objects through this module.

Quarantine objects carry an attempt id, so that a version published again after its archive never arrived gets a
new object (a late PUT to the old URL then lands on a name no version points to). Release objects keep the
service's historical shape, `<publisher>/<node>/<version>/node.zip`."""

from __future__ import annotations

import hashlib
import secrets
from typing import IO

ARCHIVE_NAME = "node.zip"
ARCHIVE_TYPE = "application/zip"


def new_attempt() -> str:
    return secrets.token_hex(8)


def upload_path(publisher_id: str, node_id: str, version: str, attempt: str) -> str:
    return f"{publisher_id}/{node_id}/{version}/{attempt}/{ARCHIVE_NAME}"


def release_path(publisher_id: str, node_id: str, version: str) -> str:
    return f"{publisher_id}/{node_id}/{version}/{ARCHIVE_NAME}"


def digest(stream: IO[bytes]) -> tuple[str, int]:
    """The SHA-256 (hex) and size of what is left to read in `stream`, read in chunks."""
    sha, size = hashlib.sha256(), 0
    while chunk := stream.read(1 << 20):
        sha.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def is_archive(name: str) -> bool:
    return name.endswith("/" + ARCHIVE_NAME)
