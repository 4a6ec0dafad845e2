"""Request bodies of publishing (publishers, personal access tokens, nodes, the publish call), each turned into its
use case's command."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from functions.registry.common.schemas import Body, Compatibility, NodeIn, Requirement, Short, Text, Url
from functions.registry.publishing.usecases.commands import (
    NewToken,
    Publish,
    PublisherFields,
    VersionEdit,
    VersionFields,
)


class PublisherIn(Body):
    id: Annotated[str, StringConstraints(max_length=100)] | None = None
    name: Short | None = None
    description: Text | None = None
    website: Url | None = None
    support: Url | None = None
    source_code_repo: Url | None = None
    logo: Url | None = None

    def command(self) -> PublisherFields:
        return PublisherFields(**self.model_dump())


class NodeVersionIn(Compatibility):
    version: Annotated[str, StringConstraints(max_length=128)]
    changelog: Text | None = None
    dependencies: Annotated[list[Requirement], Field(max_length=500)] | None = None

    def command(self) -> VersionFields:
        return VersionFields(**self.model_dump())


class PublishIn(Body):
    personal_access_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    node: NodeIn = Field(default_factory=NodeIn)
    node_version: NodeVersionIn

    def command(self) -> Publish:
        return Publish(self.personal_access_token, self.node_version.command(), self.node.fields())


class NodeVersionUpdateIn(Body):
    changelog: Text | None = None
    deprecated: bool | None = None
    deprecation_reason: Annotated[str, StringConstraints(max_length=2000)] | None = None

    def command(self) -> VersionEdit:
        return VersionEdit(**self.model_dump())


class TokenIn(Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    description: Text | None = None
    # Optional expiry: an absolute time or a number of days from now.
    expires_at: datetime | None = Field(None, alias="expiresAt")
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    node_ids: Annotated[list[Annotated[str, StringConstraints(max_length=100)]], Field(max_length=100)] | None = None

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def command(self) -> NewToken:
        return NewToken(**self.model_dump())


class ClaimMyNodeIn(Body):
    """The GitHub token whose user must have admin or push rights on the node's repository (never stored)."""

    GH_TOKEN: Annotated[str, StringConstraints(max_length=1024)]
