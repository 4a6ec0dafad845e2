"""The public reads and install (deployed as `registry`, which also answers every path no other function owns)."""

from __future__ import annotations

from functions.registry.reads import handlers
from shared.http.router import Route

ROUTES = [
    Route("GET", "/nodes", handlers.list_nodes, "listAllNodes"),
    Route("GET", "/nodes/search", handlers.search_nodes, "searchNodes"),
    Route("GET", "/nodes/<node_id>", handlers.get_node, "getNode"),
    Route("GET", "/nodes/<node_id>/install", handlers.install, "installNode"),
    Route("GET", "/nodes/<node_id>/versions", handlers.list_versions, "listNodeVersions"),
    Route("GET", "/nodes/<node_id>/versions/<version>", handlers.get_version, "getNodeVersion"),
    Route("GET", "/versions", handlers.list_all_versions, "listAllNodeVersions"),
    Route("POST", "/bulk/nodes/versions", handlers.bulk_versions, "getBulkNodeVersions"),
]
