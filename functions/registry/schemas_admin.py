"""Request bodies of the moderation and admin endpoints. Unknown fields are ignored, as everywhere."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from functions.registry.schemas import Body, Compatibility, NodeIn, Tag, Text
from shared import wire

Reason = Annotated[str, StringConstraints(max_length=2000)]
PublisherRef = Annotated[str, StringConstraints(max_length=100)]


def _version_status(value: str) -> str:
    short = wire.parse_version_status(value)
    if short is None:
        raise ValueError(
            f"unknown version status {value!r}; use a NodeVersionStatus name such as NodeVersionStatusActive"
        )
    return short


def _node_status(value: str) -> str:
    for short in ("active", "deleted", "banned"):
        if value in (short, wire.node_status(short)):
            return short
    raise ValueError(f"unknown node status {value!r}")


class ModerationIn(Body):
    """Why a ban or an unban happens; the body itself is optional."""

    reason: Reason | None = None


class VersionStatusIn(Compatibility):
    # Parsed to the short (database) name; wire and short names are both accepted.
    status: Annotated[str, StringConstraints(max_length=64), AfterValidator(_version_status)]
    status_reason: Reason | None = None


class PublisherHandle(Body):
    id: PublisherRef | None = None


class AdminNodeIn(NodeIn):
    """A node as an admin writes it: the owner's fields plus the admin-only ones."""

    tags_admin: Annotated[list[Tag], Field(max_length=64)] | None = None
    status_detail: Text | None = None
    publisher_id: PublisherRef | None = None
    # The Node shape of the live service names the publisher as an object; either form is accepted.
    publisher: PublisherHandle | None = None
    # Only its current value is accepted: status changes go through ban and unban, which cascade and audit.
    status: Annotated[str, StringConstraints(max_length=64), AfterValidator(_node_status)] | None = None

    def target_publisher(self) -> str | None:
        return self.publisher_id or (self.publisher.id if self.publisher else None)
