"""Comfy-node rows to their wire shape (the live service's `ComfyNode`)."""

from __future__ import annotations

from typing import Any

from functions.registry.comfy_nodes.usecases import ComfyNodePage, Requested, StarsRun
from shared import wire
from shared.db.models import ComfyNode

_WIRE_POLICY: dict[str, str] = {short: name for name, short in wire.COMFY_NODE_POLICY_IN.items()}


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


def version_page(result: ComfyNodePage, limit: int) -> dict[str, Any]:
    return {
        "comfy_nodes": [comfy_node(c) for c in result.comfy_nodes],
        "totalNumberOfPages": wire.total_pages(result.total, limit),
    }


def listing(result: ComfyNodePage) -> dict[str, Any]:
    return {"comfy_nodes": [comfy_node(c) for c in result.comfy_nodes], "total": result.total}


def requested(result: Requested) -> dict[str, Any]:
    """What a job queued: each version it asked to be scanned or extracted."""
    return {
        "requested": len(result.versions),
        "versions": [{"node_id": v.node_id, "version": v.version} for v in result.versions],
    }


def stars_run(run: StarsRun) -> dict[str, Any]:
    return {
        "checked": run.checked,
        "updated": run.updated,
        "missing": run.missing,
        "failed": run.failed,
        "paused_until": wire.time(run.paused_until),
    }
