"""Request bodies. Unknown fields are ignored: clients send fields the old spec lacks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Short = Annotated[str, StringConstraints(max_length=256)]
Url = Annotated[str, StringConstraints(max_length=2048)]
Text = Annotated[str, StringConstraints(max_length=20_000)]
Tag = Annotated[str, StringConstraints(max_length=128)]
Requirement = Annotated[str, StringConstraints(max_length=1024)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class PublisherIn(Body):
    id: Annotated[str, StringConstraints(max_length=100)] | None = None
    name: Short | None = None
    description: Text | None = None
    website: Url | None = None
    support: Url | None = None
    source_code_repo: Url | None = None
    logo: Url | None = None


class Compatibility(Body):
    """What a node or a version says it runs on (comfy-cli sends these on both)."""

    supported_os: Annotated[list[Short], Field(max_length=32)] | None = None
    supported_accelerators: Annotated[list[Short], Field(max_length=32)] | None = None
    supported_comfyui_version: Short | None = None
    supported_comfyui_frontend_version: Short | None = None


class NodeIn(Compatibility):
    id: Annotated[str, StringConstraints(max_length=100)] | None = None
    name: Short | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    category: Short | None = None
    author: Short | None = None
    license: Text | None = None
    icon: Url | None = None
    repository: Url | None = None
    banner_url: Url | None = None
    tags: Annotated[list[Tag], Field(max_length=64)] | None = None


class NodeVersionIn(Compatibility):
    version: Annotated[str, StringConstraints(max_length=128)]
    changelog: Text | None = None
    dependencies: Annotated[list[Requirement], Field(max_length=500)] | None = None


class PublishIn(Body):
    personal_access_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    node: NodeIn = Field(default_factory=NodeIn)
    node_version: NodeVersionIn


class NodeVersionUpdateIn(Body):
    changelog: Text | None = None
    deprecated: bool | None = None
    deprecation_reason: Annotated[str, StringConstraints(max_length=2000)] | None = None


class TranslationsIn(Body):
    """`{"data": {"<language>": {...}}}`; the languages and sizes are checked by the use case."""

    data: dict[str, dict[str, Any]]


class VersionIdentifier(Body):
    node_id: Annotated[str, StringConstraints(max_length=256)]
    version: Annotated[str, StringConstraints(max_length=256)]


class BulkVersionsIn(Body):
    # Between 1 and Settings.bulk_max_items items: the use case checks, with a message that names the bound.
    node_versions: list[VersionIdentifier]


class TokenIn(Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    description: Text | None = None
    # Optional expiry: an absolute time or a number of days from now.
    expires_at: datetime | None = Field(None, alias="expiresAt")
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    node_ids: Annotated[list[Annotated[str, StringConstraints(max_length=100)]], Field(max_length=100)] | None = None

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
