"""What the CDN in front of the public reads may hold about a node: the paths to invalidate when it must go now."""

from __future__ import annotations

from collections.abc import Sequence

# Past this many nodes (a publisher's ban), everything under /nodes is invalidated instead, in one request.
MAX_NODE_PATHS = 20
# Listings and search that show any node (each invalidation covers every query string of its path).
LISTINGS = ("/nodes", "/nodes/search", "/versions")


def node_paths(node_ids: Sequence[str]) -> list[str]:
    """Each node's own reads (`/nodes/{id}` and everything under it), then the listings it may appear in."""
    if not node_ids:
        return []
    if len(node_ids) > MAX_NODE_PATHS:
        own = ["/nodes/*"]
    else:
        own = [path for node_id in dict.fromkeys(node_ids) for path in (f"/nodes/{node_id}", f"/nodes/{node_id}/*")]
    return [*own, *LISTINGS]
