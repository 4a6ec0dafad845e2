"""Comfy node classes and the scheduled jobs (deployed as `registry-comfy-nodes`)."""

from __future__ import annotations

from functions.registry.comfy_nodes import handlers as h
from shared.http.router import Route

VERSION_NODES = "/nodes/<node_id>/versions/<version>/comfy-nodes"
ONE = f"{VERSION_NODES}/<path:comfy_node_name>"

ROUTES = [
    Route("POST", VERSION_NODES, h.create_comfy_nodes, "CreateComfyNodes"),
    Route("GET", VERSION_NODES, h.list_comfy_nodes, "ListComfyNodes"),
    Route("GET", ONE, h.get_comfy_node, "GetComfyNode"),
    Route("PUT", ONE, h.update_comfy_node, "UpdateComfyNode"),
    Route("GET", "/comfy-nodes", h.list_all_comfy_nodes, "ListAllComfyNodes"),
    Route("GET", "/comfy-nodes/<path:comfy_node_name>/node", h.node_for_comfy_node, "getNodeByComfyNodeName"),
    Route("GET", "/security-scan", h.security_scan, "securityScan"),
    Route("POST", "/nodes/reindex", h.reindex, "reindexNodes"),
    Route("POST", "/nodes/update-github-stars", h.update_github_stars, "UpdateGithubStars"),
    Route("POST", "/comfy-nodes/backfill", h.backfill, "ComfyNodesBackfill"),
]
