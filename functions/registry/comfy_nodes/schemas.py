"""What the comfy-node and job endpoints take: the extractor's report, an edit of one node class, the listing's and
the jobs' query strings; each turned into its use case's command."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator
from werkzeug.datastructures import MultiDict

from functions.registry.comfy_nodes.usecases import ComfyNodeChange, ComfyNodeQuery, ExtractionReport
from functions.registry.common.schemas import Body, Label, Short, Text
from shared import wire

# Bounds that fit the columns and keep one extraction report a reasonable size.
MAX_COMFY_NODES = 2000
Name = Annotated[str, StringConstraints(min_length=1, max_length=512)]
# Input and output definitions are JSON text written by the extractor; some node classes have long ones.
Definition = Annotated[str, StringConstraints(max_length=200_000)]
Policy = Literal["ComfyNodePolicyActive", "ComfyNodePolicyBanned", "ComfyNodePolicyLocalOnly"]


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

    def change(self) -> ComfyNodeChange:
        data = self.model_dump(include=set(ComfyNodeChange.__dataclass_fields__))
        data["policy"] = wire.COMFY_NODE_POLICY_IN[self.policy] if self.policy is not None else None
        return ComfyNodeChange(**data)


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

    def command(self) -> ExtractionReport:
        return ExtractionReport(
            failed=self.success is False or self.status == "failed",
            nodes={name: entry.change() for name, entry in (self.nodes or {}).items()},
            reason=self.reason or "",
            cloud_build_info=self.cloud_build_info.model_dump(exclude_none=True) if self.cloud_build_info else None,
        )


def comfy_node_query(args: MultiDict[str, str]) -> ComfyNodeQuery:
    return ComfyNodeQuery(
        node_id=args.get("node_id") or None,
        version=args.get("node_version") or None,
        name=args.get("comfy_node_name") or None,
    )
