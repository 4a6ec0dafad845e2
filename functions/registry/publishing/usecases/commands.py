"""What publishing's use cases take: plain commands, built by the schemas from request bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from functions.registry.common.nodes import NodeFields


@dataclass(frozen=True)
class PublisherFields:
    """A publisher as its owner describes it; None leaves a field as it is."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    website: str | None = None
    support: str | None = None
    source_code_repo: str | None = None
    logo: str | None = None


@dataclass(frozen=True)
class NewToken:
    name: str
    description: str | None = None
    expires_at: datetime | None = None  # an absolute expiry, or
    expires_in_days: int | None = None  # one this many days from now
    node_ids: list[str] | None = None  # None: every node of the publisher


@dataclass(frozen=True)
class VersionFields:
    """A version as comfy-cli publishes it."""

    version: str
    changelog: str | None = None
    dependencies: list[str] | None = None
    supported_os: list[str] | None = None
    supported_accelerators: list[str] | None = None
    supported_comfyui_version: str | None = None
    supported_comfyui_frontend_version: str | None = None


@dataclass(frozen=True)
class Publish:
    """comfy-cli's one call: the personal access token, the node and the version."""

    token: str
    version: VersionFields
    node: NodeFields = field(default_factory=NodeFields)


@dataclass(frozen=True)
class VersionEdit:
    changelog: str | None = None
    deprecated: bool | None = None
    deprecation_reason: str | None = None
