"""Request bodies of the comfy-node endpoints (the ComfyUI node classes a version provides)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from functions.registry.schemas import Body, Short, Text

# Bounds that fit the columns and keep one extraction report a reasonable size.
MAX_COMFY_NODES = 2000
Name = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Label = Annotated[str, StringConstraints(max_length=512)]
# Input and output definitions are JSON text written by the extractor; some node classes have long ones.
Definition = Annotated[str, StringConstraints(max_length=200_000)]
Policy = Literal["ComfyNodePolicyActive", "ComfyNodePolicyBanned", "ComfyNodePolicyLocalOnly"]
# Wire policy names and the short names stored in `comfy_nodes.policy`.
POLICY_BY_WIRE: dict[str, str] = {
    "ComfyNodePolicyActive": "active",
    "ComfyNodePolicyBanned": "banned",
    "ComfyNodePolicyLocalOnly": "local_only",
}


class ComfyNodeFields(Body):
    """What describes one node class; every field is optional (null counts as absent)."""

    category: Label | None = None
    description: Text | None = None
    input_types: Definition | None = None
    deprecated: bool | None = None
    experimental: bool | None = None
    output_is_list: Annotated[list[bool], Field(max_length=1000)] | None = None
    return_names: Definition | None = None
    return_types: Definition | None = None
    function: Label | None = None
    policy: Policy | None = None


class ComfyNodeIn(ComfyNodeFields):
    """One entry of an extraction report; the map key is the name, so `comfy_node_name` is informative only."""

    comfy_node_name: Name | None = None


class ComfyNodeUpdateIn(ComfyNodeFields):
    pass


class CloudBuildInfoIn(Body):
    project_id: Short | None = None
    project_number: Short | None = None
    location: Short | None = None
    build_id: Short | None = None


class ComfyNodesIn(Body):
    """The extractor's report for one version: the node classes it found, or why it found none."""

    success: bool | None = None
    status: Literal["success", "failed"] | None = None
    reason: Text | None = None
    cloud_build_info: CloudBuildInfoIn | None = None
    nodes: Annotated[dict[Name, ComfyNodeIn], Field(max_length=MAX_COMFY_NODES)] | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> ComfyNodesIn:
        if self.status is not None and self.success is not None and (self.status == "success") != self.success:
            raise ValueError(f"success={self.success} contradicts status={self.status!r}")
        return self

    @property
    def failed(self) -> bool:
        return self.success is False or self.status == "failed"
