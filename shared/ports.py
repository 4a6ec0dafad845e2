"""The outside services the code talks to, each named for its role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class BlobStore(Protocol):
    def signed_upload_url(self, path: str, content_type: str) -> str:
        """A URL that accepts one PUT of `path` with exactly this content type, answering 200."""
        ...

    def download_url(self, path: str) -> str:
        """An absolute URL that serves the stored object by GET."""
        ...

    def exists(self, path: str) -> bool: ...

    def read(self, path: str) -> bytes: ...


class EventPublisher(Protocol):
    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        """Send one message; raise on failure so that the outbox keeps it."""
        ...
