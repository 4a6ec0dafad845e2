"""Request bodies every area shares: the base model, field types, and a node as comfy-cli and the web app send it.
Unknown fields are ignored everywhere: clients send fields the old spec lacks."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from functions.registry.common.nodes import NodeFields

Short = Annotated[str, StringConstraints(max_length=256)]
Label = Annotated[str, StringConstraints(max_length=512)]
Url = Annotated[str, StringConstraints(max_length=2048)]
Text = Annotated[str, StringConstraints(max_length=20_000)]
Tag = Annotated[str, StringConstraints(max_length=128)]
Requirement = Annotated[str, StringConstraints(max_length=1024)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


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

    def fields(self) -> NodeFields:
        return NodeFields(**self.model_dump(include=set(NodeFields.__dataclass_fields__)))
