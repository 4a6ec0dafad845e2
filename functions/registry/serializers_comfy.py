"""Comfy-node rows to their wire shape (the live service's `ComfyNode`)."""

from __future__ import annotations

from typing import Any

from functions.registry.schemas_comfy import POLICY_BY_WIRE
from shared.db.models import ComfyNode

_WIRE_POLICY = {short: wire for wire, short in POLICY_BY_WIRE.items()}


def comfy_node(c: ComfyNode) -> dict[str, Any]:
    return {
        "comfy_node_name": c.name,
        "category": c.category or "",
        "description": c.description or "",
        "input_types": c.input_types or "",
        "deprecated": bool(c.deprecated),
        "experimental": bool(c.experimental),
        "output_is_list": list(c.output_is_list or []),
        "return_names": c.return_names or "",
        "return_types": c.return_types or "",
        "function": c.function or "",
        "policy": _WIRE_POLICY.get(c.policy, "ComfyNodePolicyActive"),
    }
