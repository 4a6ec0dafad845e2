"""Wire conventions shared by every function: enum names, RFC 3339 times, list shapes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shared.statuses import ComfyNodePolicy

_NODE_STATUS = {"active": "NodeStatusActive", "deleted": "NodeStatusDeleted", "banned": "NodeStatusBanned"}
_VERSION_STATUS = {
    "active": "NodeVersionStatusActive",
    "deleted": "NodeVersionStatusDeleted",
    "banned": "NodeVersionStatusBanned",
    "pending": "NodeVersionStatusPending",
    "flagged": "NodeVersionStatusFlagged",
}
_PUBLISHER_STATUS = {"active": "PublisherStatusActive", "banned": "PublisherStatusBanned"}
_VERSION_STATUS_IN = {v: k for k, v in _VERSION_STATUS.items()}
# CI workflow runs: wire status (the reference's long enum values) -> stored status.
CI_RUN_STATUS_IN = {
    "WorkflowRunStatusStarted": "STARTED",
    "WorkflowRunStatusFailed": "FAILED",
    "WorkflowRunStatusCompleted": "COMPLETED",
}
# A comfy node's policy: wire name -> the short name stored in `comfy_nodes.policy`.
COMFY_NODE_POLICY_IN = {
    "ComfyNodePolicyActive": ComfyNodePolicy.ACTIVE,
    "ComfyNodePolicyBanned": ComfyNodePolicy.BANNED,
    "ComfyNodePolicyLocalOnly": ComfyNodePolicy.LOCAL_ONLY,
}


def node_status(value: str) -> str:
    return _NODE_STATUS.get(value, "")


def version_status(value: str) -> str:
    return _VERSION_STATUS.get(value, "")


def publisher_status(value: str) -> str:
    return _PUBLISHER_STATUS.get(value, "")


def parse_version_status(value: str) -> str | None:
    """The short name for a wire (or short) version status; None if it is not one."""
    if value in _VERSION_STATUS_IN:
        return _VERSION_STATUS_IN[value]
    return value if value in _VERSION_STATUS else None


def time(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with microseconds and a `Z`, as the Go service wrote it."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat is a fifth of strftime's cost (a page of 30 nodes writes 90 times); in UTC it ends with +00:00.
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_time(value: str) -> datetime:
    """RFC 3339 (`Z` or an offset); a time without a zone is taken as UTC. Raises ValueError."""
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def total_pages(total: int, limit: int) -> int:
    return math.ceil(total / limit) if limit > 0 else 0


def node_page(nodes: Sequence[dict[str, Any]], total: int, page: int, limit: int) -> dict[str, Any]:
    return {"total": total, "nodes": list(nodes), "page": page, "limit": limit, "totalPages": total_pages(total, limit)}
