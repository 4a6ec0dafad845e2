"""Every path the registry function answers, with the operation ids of our OpenAPI document."""

from __future__ import annotations

from dataclasses import replace

from functions.registry.handlers import (
    ci,
    comfy_nodes,
    community,
    jobs,
    meta,
    moderation,
    nodes,
    publishers,
    reads,
    scans,
    search,
)
from functions.registry.handlers.common import container
from functions.registry.handlers.guard import guarded
from shared.http.router import Route, Router

CORE = [
    Route("GET", "/health", meta.health, "health"),
    Route("GET", "/openapi", meta.openapi, "getOpenapi"),
    # users and publishers
    Route("GET", "/users", publishers.get_user, "getUser"),
    Route("GET", "/users/publishers/", publishers.list_user_publishers, "listPublishersForUser"),
    Route("GET", "/publishers", publishers.list_publishers, "listPublishers"),
    Route("POST", "/publishers", publishers.create_publisher, "createPublisher"),
    Route("GET", "/publishers/validate", publishers.validate_publisher, "validatePublisher"),
    Route("GET", "/publishers/<publisher_id>", publishers.get_publisher, "getPublisher"),
    Route("PUT", "/publishers/<publisher_id>", publishers.update_publisher, "updatePublisher"),
    Route("DELETE", "/publishers/<publisher_id>", publishers.delete_publisher, "deletePublisher"),
    Route(
        "GET", "/publishers/<publisher_id>/permissions", publishers.publisher_permissions, "getPermissionOnPublisher"
    ),
    # personal access tokens
    Route("GET", "/publishers/<publisher_id>/tokens", publishers.list_tokens, "listPersonalAccessTokens"),
    Route("POST", "/publishers/<publisher_id>/tokens", publishers.create_token, "createPersonalAccessToken"),
    Route(
        "DELETE", "/publishers/<publisher_id>/tokens/<token_id>", publishers.delete_token, "deletePersonalAccessToken"
    ),
    # nodes under a publisher
    Route("GET", "/publishers/<publisher_id>/nodes", reads.publisher_nodes, "listNodesForPublisher"),
    Route("GET", "/publishers/<publisher_id>/nodes/v2", reads.publisher_nodes_v2, "listNodesForPublisherV2"),
    Route("POST", "/publishers/<publisher_id>/nodes", nodes.create_node, "createNode"),
    Route("PUT", "/publishers/<publisher_id>/nodes/<node_id>", nodes.update_node, "updateNode"),
    Route("DELETE", "/publishers/<publisher_id>/nodes/<node_id>", nodes.delete_node, "deleteNode"),
    Route(
        "GET",
        "/publishers/<publisher_id>/nodes/<node_id>/permissions",
        nodes.node_permissions,
        "getPermissionOnPublisherNodes",
    ),
    # versions
    Route("POST", "/publishers/<publisher_id>/nodes/<node_id>/versions", nodes.publish_version, "publishNodeVersion"),
    Route(
        "PUT",
        "/publishers/<publisher_id>/nodes/<node_id>/versions/<version_id>",
        nodes.update_version,
        "updateNodeVersion",
    ),
    Route(
        "DELETE",
        "/publishers/<publisher_id>/nodes/<node_id>/versions/<version_id>",
        nodes.delete_version,
        "deleteNodeVersion",
    ),
    # public reads
    Route("GET", "/nodes", reads.list_nodes, "listAllNodes"),
    Route("GET", "/nodes/<node_id>", reads.get_node, "getNode"),
    Route("GET", "/nodes/<node_id>/install", reads.install, "installNode"),
    Route("GET", "/nodes/<node_id>/versions", reads.list_versions, "listNodeVersions"),
    Route("GET", "/nodes/<node_id>/versions/<version>", reads.get_version, "getNodeVersion"),
    Route("GET", "/versions", reads.list_all_versions, "listAllNodeVersions"),
]

# Each area keeps its own routes next to its handlers.
ROUTES = [
    *CORE,
    *community.ROUTES,
    *moderation.ROUTES,
    *comfy_nodes.ROUTES,
    *ci.ROUTES,
    *jobs.ROUTES,
    *search.ROUTES,
    *scans.ROUTES,
]

# Every handler behind the same input guard (no NUL characters: PostgreSQL text cannot hold them).
router = Router(
    [replace(r, handler=guarded(r.handler)) for r in ROUTES],
    cors_origins=lambda: container().settings.cors_origin_list,
)
