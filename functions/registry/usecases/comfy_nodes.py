"""The ComfyUI node classes a version provides: the extractor's report, the public reads, and edits.

Who may edit one (`update`): the owner of the node's publisher, or an admin. Only an admin may change a class's
`policy` (it is how a class is banned or kept local-only), and an admin's edit is written to the audit log.
Service accounts only report extractions; they do not edit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from functions.registry.schemas_comfy import POLICY_BY_WIRE, ComfyNodeFields, ComfyNodesIn, ComfyNodeUpdateIn
from functions.registry.usecases.access import active_user, readable_node
from shared import versions
from shared.auth.identity import Identity
from shared.db.models import ComfyNode, Node, NodeVersion
from shared.db.types import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.repositories.comfy import ComfyNodeFilter
from shared.uow import UnitOfWork

SUCCESS, FAILED = "success", "failed"
_FIELDS = (
    "category",
    "description",
    "input_types",
    "deprecated",
    "experimental",
    "output_is_list",
    "return_names",
    "return_types",
    "function",
)


@dataclass(frozen=True)
class ComfyNodePage:
    comfy_nodes: Sequence[ComfyNode]
    total: int


def _canonical(version: str) -> str | None:
    try:
        return versions.normalize(version)
    except InvalidInput:
        return None


def _version_not_found() -> NotFound:
    return NotFound("Node version not found", code="version_not_found")


def _apply(row: ComfyNode, body: ComfyNodeFields) -> None:
    for name in _FIELDS:
        value = getattr(body, name)
        if value is not None:
            setattr(row, name, list(value) if name == "output_is_list" else value)
    if body.policy is not None:
        row.policy = POLICY_BY_WIRE[body.policy]


def record_extraction(uow: UnitOfWork, service_account: str, node_id: str, version: str, body: ComfyNodesIn) -> None:
    """Store the extractor's report once: its node classes and `success`, or `failed` with the build info.

    A version whose extraction already succeeded (or that already has node classes) refuses a second report
    with 409; a failed one may be reported again, since the backfill re-runs it."""
    canonical = _canonical(version)
    with uow:
        row = uow.comfy_nodes.version_for_update(node_id, canonical) if canonical else None
        if row is None:
            raise _version_not_found()
        if row.comfy_node_extract_status == SUCCESS or uow.comfy_nodes.count_for_version(row.id):
            raise Conflict("Comfy nodes were already extracted for this version", code="comfy_nodes_exist")
        count = 0
        if body.failed:
            row.comfy_node_extract_status = FAILED
        else:
            nodes = []
            for name, fields in (body.nodes or {}).items():
                node = ComfyNode(node_version_id=row.id, name=name, output_is_list=[], policy="active")
                _apply(node, fields)
                nodes.append(node)
            uow.comfy_nodes.add_all(nodes)
            row.comfy_node_extract_status = SUCCESS
            count = len(nodes)
        if body.cloud_build_info is not None:
            row.comfy_node_cloud_build_info = body.cloud_build_info.model_dump(exclude_none=True)
        uow.emit(
            "version.comfy_nodes_extracted",
            node_id=row.node_id,
            version=row.version,
            version_id=row.id,
            status=row.comfy_node_extract_status,
            reason=body.reason or "",
            comfy_nodes=count,
            by=service_account,
        )
        uow.commit()


def _readable_version(uow: UnitOfWork, node_id: str, version: str) -> NodeVersion:
    node = readable_node(uow, node_id)
    canonical = _canonical(version)
    row = uow.versions.find(node.id, canonical) if canonical else None
    if row is None:
        raise _version_not_found()
    return row


def list_for_version(uow: UnitOfWork, node_id: str, version: str, page: int, limit: int) -> ComfyNodePage:
    with uow:
        row = _readable_version(uow, node_id, version)
        rows, total = uow.comfy_nodes.for_version(row.id, page, limit)
        return ComfyNodePage(rows, total)


def get(uow: UnitOfWork, node_id: str, version: str, name: str) -> ComfyNode:
    with uow:
        row = _readable_version(uow, node_id, version)
        found = uow.comfy_nodes.get(row.id, name)
        if found is None:
            raise NotFound("Comfy node not found", code="comfy_node_not_found")
        return found


def list_all(uow: UnitOfWork, f: ComfyNodeFilter, page: int, size: int) -> ComfyNodePage:
    with uow:
        rows, total = uow.comfy_nodes.page(f, page, size)
        return ComfyNodePage(rows, total)


def providing_node(uow: UnitOfWork, name: str) -> tuple[Node, NodeVersion | None]:
    with uow:
        node = uow.comfy_nodes.providing_node(name)
        if node is None:
            raise NotFound(f"No node provides the comfy node {name!r}", code="comfy_node_not_found")
        return node, uow.versions.latest(node.id)


def update(
    uow: UnitOfWork, identity: Identity, node_id: str, version: str, name: str, body: ComfyNodeUpdateIn
) -> ComfyNode:
    with uow:
        user = active_user(uow, identity)
        admin = user.is_admin or identity.admin_claim
        node = uow.nodes.get(node_id)
        if node is None or node.status == "deleted":
            raise NotFound("Node not found", code="node_not_found")
        if not admin:
            if uow.publishers.permission(node.publisher_id, user.id) != "owner":
                raise Forbidden("Permission denied", code="permission_denied")
            if node.status == "banned":
                raise Forbidden("Node Banned", code="node_banned")
        canonical = _canonical(version)
        version_row = uow.versions.find(node.id, canonical) if canonical else None
        if version_row is None:
            raise _version_not_found()
        row = uow.comfy_nodes.get(version_row.id, name)
        if row is None:
            raise NotFound("Comfy node not found", code="comfy_node_not_found")
        if body.policy is not None and POLICY_BY_WIRE[body.policy] != row.policy and not admin:
            raise Forbidden("Only an admin may change a comfy node's policy", code="not_admin")
        changes = body.model_dump(exclude_none=True)
        _apply(row, body)
        row.updated_at = utcnow()
        target = f"{node.id}@{version_row.version}/{name}"
        if admin:
            uow.audit(user.id, "comfy_node.update", "comfy_node", target, "", changes=changes)
        uow.emit("comfy_node.updated", node_id=node.id, version=version_row.version, comfy_node_name=name, by=user.id)
        uow.commit()
        return row
