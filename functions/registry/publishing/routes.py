"""Users, publishers, tokens, nodes and versions under a publisher (deployed as `registry-publishing`)."""

from __future__ import annotations

from functions.registry.publishing import handlers as h
from shared.http.router import Route

PUBLISHER = "/publishers/<publisher_id>"
NODE = f"{PUBLISHER}/nodes/<node_id>"
VERSION = f"{NODE}/versions/<version_id>"

ROUTES = [
    Route("GET", "/users", h.get_user, "getUser"),
    Route("GET", "/users/publishers/", h.list_user_publishers, "listPublishersForUser"),
    Route("GET", "/publishers", h.list_publishers, "listPublishers"),
    Route("POST", "/publishers", h.create_publisher, "createPublisher"),
    Route("GET", "/publishers/validate", h.validate_publisher, "validatePublisher"),
    Route("GET", PUBLISHER, h.get_publisher, "getPublisher"),
    Route("PUT", PUBLISHER, h.update_publisher, "updatePublisher"),
    Route("DELETE", PUBLISHER, h.delete_publisher, "deletePublisher"),
    Route("GET", f"{PUBLISHER}/permissions", h.publisher_permissions, "getPermissionOnPublisher"),
    Route("GET", f"{PUBLISHER}/tokens", h.list_tokens, "listPersonalAccessTokens"),
    Route("POST", f"{PUBLISHER}/tokens", h.create_token, "createPersonalAccessToken"),
    Route("DELETE", f"{PUBLISHER}/tokens/<token_id>", h.delete_token, "deletePersonalAccessToken"),
    Route("GET", f"{PUBLISHER}/nodes", h.publisher_nodes, "listNodesForPublisher"),
    Route("GET", f"{PUBLISHER}/nodes/v2", h.publisher_nodes_v2, "listNodesForPublisherV2"),
    Route("POST", f"{PUBLISHER}/nodes", h.create_node, "createNode"),
    Route("PUT", NODE, h.update_node, "updateNode"),
    Route("DELETE", NODE, h.delete_node, "deleteNode"),
    Route("GET", f"{NODE}/permissions", h.node_permissions, "getPermissionOnPublisherNodes"),
    Route("POST", f"{NODE}/claim-my-node", h.claim_my_node, "ClaimMyNode"),
    Route("POST", f"{NODE}/versions", h.publish_version, "publishNodeVersion"),
    Route("PUT", VERSION, h.update_version, "updateNodeVersion"),
    Route("DELETE", VERSION, h.delete_version, "deleteNodeVersion"),
    Route("GET", f"{VERSION}/scan", h.get_scan, "getNodeVersionScan"),
    Route("GET", f"{VERSION}/archive", h.get_archive, "getNodeVersionArchive"),
]
