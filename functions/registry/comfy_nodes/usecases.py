"""The ComfyUI node classes a version provides (the extractor's report, the public reads, and edits), and the
scheduled jobs that ask for scans, extractions and reindexing.

Who may edit one (`update`): the owner of the node's publisher, or an admin. Only an admin may change a class's
`policy` (it is how a class is banned or kept local-only), and an admin's edit is written to the audit log.
Service accounts only report extractions; they do not edit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from functions.registry.common.access import (
    active_user,
    find_version,
    is_admin,
    readable_node,
    require_owner_or_admin,
)
from functions.registry.common.github import repository_of
from shared import version_numbers
from shared.auth.identity import Identity
from shared.db.models import ComfyNode, Node, NodeVersion
from shared.db.types import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited, Unavailable
from shared.events import AuditAction, EventType
from shared.ports import GitHubClient
from shared.repositories.ports import ComfyNodeFilter
from shared.statuses import ComfyNodePolicy, NodeStatus
from shared.uow import UnitOfWork

SUCCESS, FAILED = "success", "failed"


@dataclass(frozen=True)
class ComfyNodeChange:
    """What describes one node class; None leaves a field as it is. `policy` as stored (active, banned,
    local_only)."""

    category: str | None = None
    description: str | None = None
    input_types: str | None = None
    deprecated: bool | None = None
    experimental: bool | None = None
    output_is_list: list[bool] | None = None
    return_names: str | None = None
    return_types: str | None = None
    function: str | None = None
    policy: str | None = None

    def given(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class ExtractionReport:
    """The extractor's report for one version: the node classes it found, or that it failed and why."""

    failed: bool
    nodes: dict[str, ComfyNodeChange] = field(default_factory=dict)
    reason: str = ""
    cloud_build_info: dict[str, Any] | None = None


@dataclass(frozen=True)
class ComfyNodeQuery:
    node_id: str | None = None
    version: str | None = None  # as given; normalised here
    name: str | None = None


@dataclass(frozen=True)
class ComfyNodePage:
    comfy_nodes: Sequence[ComfyNode]
    total: int


def _version_not_found() -> NotFound:
    return NotFound("Node version not found", code="version_not_found")


def _apply(row: ComfyNode, body: ComfyNodeChange) -> None:
    for name, value in body.given().items():
        setattr(row, name, list(value) if name == "output_is_list" else value)


def record_extraction(
    uow: UnitOfWork, service_account: str, node_id: str, version: str, body: ExtractionReport
) -> None:
    """Store the extractor's report once: its node classes and `success`, or `failed` with the build info.

    A version whose extraction already succeeded (or that already has node classes) refuses a second report
    with 409; a failed one may be reported again, since the backfill re-runs it."""
    canonical = version_numbers.normalize_or_none(version)
    with uow:
        row = uow.versions.find(node_id, canonical, lock=True) if canonical else None
        if row is None:
            raise _version_not_found()
        if row.comfy_node_extract_status == SUCCESS or uow.comfy_nodes.count_for_version(row.id):
            raise Conflict("Comfy nodes were already extracted for this version", code="comfy_nodes_exist")
        count = 0
        if body.failed:
            row.comfy_node_extract_status = FAILED
        else:
            nodes = []
            for name, fields in body.nodes.items():
                node = ComfyNode(node_version_id=row.id, name=name, output_is_list=[], policy=ComfyNodePolicy.ACTIVE)
                _apply(node, fields)
                nodes.append(node)
            uow.comfy_nodes.add_all(nodes)
            row.comfy_node_extract_status = SUCCESS
            count = len(nodes)
        if body.cloud_build_info is not None:
            row.comfy_node_cloud_build_info = body.cloud_build_info
        uow.emit(
            EventType.VERSION_COMFY_NODES_EXTRACTED,
            node_id=row.node_id,
            version=row.version,
            version_id=row.id,
            status=row.comfy_node_extract_status,
            reason=body.reason,
            comfy_nodes=count,
            by=service_account,
        )
        uow.commit()


def _readable_version(uow: UnitOfWork, node_id: str, version: str) -> NodeVersion:
    node = readable_node(uow, node_id)
    row = find_version(uow, node.id, version)
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


def list_all(uow: UnitOfWork, query: ComfyNodeQuery, page: int, size: int) -> ComfyNodePage:
    canonical = None
    if query.version is not None:
        try:
            canonical = version_numbers.normalize(query.version)
        except InvalidInput as exc:
            raise InvalidInput(f"Query parameter node_version: {exc.message}", code="invalid_version") from exc
    f = ComfyNodeFilter(node_id=query.node_id, version=canonical, name=query.name)
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
    uow: UnitOfWork, identity: Identity, node_id: str, version: str, name: str, body: ComfyNodeChange
) -> ComfyNode:
    with uow:
        user = active_user(uow, identity)
        admin = is_admin(user, identity)
        node = uow.nodes.get(node_id)
        if node is None or node.status == NodeStatus.DELETED:
            raise NotFound("Node not found", code="node_not_found")
        require_owner_or_admin(uow, user, identity, node.publisher_id)
        if not admin and node.status == NodeStatus.BANNED:
            raise Forbidden("Node Banned", code="node_banned")
        version_row = find_version(uow, node.id, version)
        if version_row is None:
            raise _version_not_found()
        row = uow.comfy_nodes.get(version_row.id, name)
        if row is None:
            raise NotFound("Comfy node not found", code="comfy_node_not_found")
        if body.policy is not None and body.policy != row.policy and not admin:
            raise Forbidden("Only an admin may change a comfy node's policy", code="not_admin")
        changes = body.given()
        _apply(row, body)
        row.updated_at = utcnow()
        target = f"{node.id}@{version_row.version}/{name}"
        if admin:
            uow.audit(user.id, AuditAction.COMFY_NODE_UPDATE, "comfy_node", target, "", changes=changes)
        uow.emit(
            EventType.COMFY_NODE_UPDATED, node_id=node.id, version=version_row.version, comfy_node_name=name, by=user.id
        )
        uow.commit()
        return row


# -- the scheduled jobs ----------------------------------------------------------------------------------------
# Each finds work and hands it on as outbox events, one per item.
# Events (payloads) for their consumers:
# - `version.scan_requested` {node_id, version, version_id, storage_path, by}: the scanner re-checks a version that
#   is still `pending`.
# - `version.extract_requested` {node_id, version, version_id, storage_path, by}: the node-class extraction runs
#   again for a version whose extraction never reported.
# - `index.reindex_requested` {max_batch, min_age_seconds, by}: the indexer rebuilds the search index (`null`
#   means its own default).


@dataclass(frozen=True)
class Requested:
    versions: Sequence[NodeVersion]


def _emit_each(uow: UnitOfWork, type_: EventType, rows: Sequence[NodeVersion], by: str) -> None:
    for row in rows:
        uow.emit(
            type_, node_id=row.node_id, version=row.version, version_id=row.id, storage_path=row.storage_path, by=by
        )


def request_scans(uow: UnitOfWork, service_account: str, min_age: timedelta, max_nodes: int) -> Requested:
    """Ask for a scan of up to `max_nodes` versions still pending at least `min_age` after publishing."""
    with uow:
        rows = uow.comfy_nodes.awaiting_scan(utcnow() - min_age, max_nodes)
        _emit_each(uow, EventType.VERSION_SCAN_REQUESTED, rows, service_account)
        uow.commit()
        return Requested(rows)


def request_extractions(uow: UnitOfWork, service_account: str, max_versions: int) -> Requested:
    """Re-run extraction for up to `max_versions` versions whose extraction is still pending, oldest first."""
    with uow:
        rows = uow.comfy_nodes.awaiting_extraction(max_versions)
        _emit_each(uow, EventType.VERSION_EXTRACT_REQUESTED, rows, service_account)
        uow.commit()
        return Requested(rows)


def request_reindex(uow: UnitOfWork, service_account: str, max_batch: int | None, min_age: timedelta | None) -> None:
    with uow:
        uow.emit(
            EventType.INDEX_REINDEX_REQUESTED,
            max_batch=max_batch,
            min_age_seconds=min_age.total_seconds() if min_age is not None else None,
            by=service_account,
        )
        uow.commit()


# -- GitHub stars ---------------------------------------------------------------------------------------------------
STARS_JOB = "github-stars"
STARS_CHUNK = 25  # results written per transaction: a run cut short keeps what it had learned
STARS_FAILURES = 3  # GitHub failing this many repositories in a row ends the run (the next one goes on)


@dataclass
class StarsRun:
    checked: int = 0  # nodes looked at (each moves to the back of the queue)
    updated: int = 0  # nodes whose count was stored
    missing: int = 0  # repositories GitHub no longer has, or URLs that name none
    failed: int = 0  # repositories GitHub failed to answer for
    paused_until: datetime | None = None  # GitHub's rate limit is spent until then: runs before it do nothing


def refresh_stars(uow: UnitOfWork, github: GitHubClient, service_account: str, max_batch: int) -> StarsRun:
    """Ask GitHub for the stars of up to `max_batch` nodes, those looked at longest ago first. A spent rate limit
    stops the run and pauses the job until GitHub's reset; the next run after it goes on where this one stopped."""
    now = utcnow()
    with uow:
        until = uow.github_stars.paused_until(STARS_JOB)
        if until is not None and until > now:
            return StarsRun(paused_until=until)
        due = uow.github_stars.due(max_batch)
    run, failures = StarsRun(), 0
    results: list[tuple[str, int | None]] = []
    for node_id, url in due:
        repository = repository_of(url)
        try:
            stars = github.stars(*repository) if repository is not None else None
        except RateLimited as exc:
            run.paused_until = now + timedelta(seconds=exc.retry_after)
            break
        except Unavailable:
            failures += 1
            run.failed += 1
            results.append((node_id, None))
            if failures >= STARS_FAILURES:
                break
            continue
        failures = 0
        run.updated += stars is not None
        run.missing += stars is None
        results.append((node_id, stars))
        if len(results) >= STARS_CHUNK:
            _record_stars(uow, results, now, None, keep_pause=True)
            run.checked, results = run.checked + len(results), []
    _record_stars(uow, results, now, run.paused_until, keep_pause=False)
    run.checked += len(results)
    return run


def _record_stars(
    uow: UnitOfWork, results: list[tuple[str, int | None]], now: datetime, pause: datetime | None, *, keep_pause: bool
) -> None:
    with uow:
        for node_id, stars in results:
            uow.github_stars.record(node_id, stars, now)
        if not keep_pause:
            uow.github_stars.pause(STARS_JOB, pause)
        uow.commit()
