"""Scanning a published version and recording the verdict: the scanner function's use cases.

The scan itself holds no database transaction (it can take seconds); the verdict is then applied in one
unit of work that re-checks the version, records the event as applied, and emits the status change."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Literal

from functions.scanner.advisories_job import load_stored
from functions.scanner.engine import scan_archive
from functions.scanner.limits import ScanLimits
from functions.scanner.release import CHANGED_AFTER_VERDICT, FLAGGED_BY_SCANNER, RELEASE_CONFLICT, release_judged
from functions.scanner.report import ExtractedNode, ScanReport, Severity, Verdict
from functions.scanner.source import spool_copy
from shared import releases, statuses
from shared.db.models import ComfyNode, Node, NodeVersion
from shared.db.types import utcnow
from shared.events import EventType
from shared.ports import BlobStore
from shared.settings import Settings
from shared.statuses import VersionStatus
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
CONSUMER = "scanner"
RESCANNABLE = (VersionStatus.PENDING, VersionStatus.ACTIVE, VersionStatus.FLAGGED)
Outcome = Literal["scanned", "missing", "unknown", "duplicate", "unchanged", "timed_out"]


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    status: str | None = None
    reason: str = ""


def limits_from(settings: Settings) -> ScanLimits:
    return ScanLimits(
        max_archive_bytes=settings.scan_max_archive_bytes,
        max_total_uncompressed_bytes=settings.scan_max_total_uncompressed_bytes,
        max_file_bytes=settings.scan_max_file_bytes,
        max_files=settings.scan_max_files,
        max_compression_ratio=settings.scan_max_compression_ratio,
        flag_at=Severity(settings.scan_flag_at),
        max_scan_seconds=settings.scan_max_seconds,
        max_scan_seconds_cap=settings.scan_max_seconds_cap,
    )


def scan_stored(
    uow: UnitOfWork, blobs: BlobStore, limits: ScanLimits, path: str, event_id: str, *, rescan: bool = False
) -> Result:
    """Scan the quarantined archive at `path` and move its version out of `pending` (or re-judge it, with rescan).
    A clean verdict releases the exact bytes judged before the version turns active. The scan's budget doubles with
    each earlier scan of the version that ran out of time; running out again is no verdict (`_ran_out_of_time`)."""
    with uow:
        row = uow.versions.by_storage_path(path)
        if row is None:
            log.warning("scanner: %s is no version's upload (a stray or superseded PUT); nothing changes", path)
            return Result("unknown")
        if not _scannable(row, rescan):
            log.warning("scanner: an upload of %s arrived after its verdict (%s); nothing changes", path, row.status)
            return Result("unchanged", row.status)
        limits = limits.model_copy(update={"max_scan_seconds": limits.budget(row.scan_timeouts or 0)})
    try:
        local = _fetch(blobs, path, limits)
    except FileNotFoundError:
        return _record(uow, blobs, path, event_id, None, None, rescan=rescan)
    # A store failure above raises, so the event is delivered again; only the archive itself is judged here.
    load_stored(blobs)  # the refreshed advisory snapshot for DEP-COMPROMISED, else the shipped one
    with local:
        started = time.monotonic()
        report = scan_archive(local, limits)
        # The engine gives up between members once the budget is spent and calls the archive unreadable; whatever it
        # met after the budget ran out, a larger budget decides it.
        if report.verdict == Verdict.UNREADABLE and time.monotonic() - started >= limits.max_scan_seconds:
            return _ran_out_of_time(uow, path, event_id, limits, rescan=rescan)
        return _record(uow, blobs, path, event_id, report, local, rescan=rescan)


def _fetch(blobs: BlobStore, path: str, limits: ScanLimits) -> IO[bytes]:
    """A local copy of the quarantined archive: the scan and the release both read it, so what is released is exactly
    what was judged. One byte past the limit at most, so that the engine still sees an archive too big."""
    with blobs.open_read(path) as handle:
        return spool_copy(handle, cap=limits.max_archive_bytes + 1, memory_bytes=limits.spool_memory_bytes)


def _scannable(row: NodeVersion, rescan: bool) -> bool:
    if rescan:
        return row.status in RESCANNABLE
    return row.status == VersionStatus.PENDING


def _ran_out_of_time(uow: UnitOfWork, path: str, event_id: str, limits: ScanLimits, *, rescan: bool) -> Result:
    """Never a verdict against the publisher: the version keeps its status (a pending one says why it waits) and the
    sweep retries it with twice the budget; past the cap it waits for an admin, who can activate or flag it."""
    with uow:
        if not uow.applied_events.first_time(CONSUMER, event_id):
            return Result("duplicate")
        row = uow.versions.by_storage_path(path, lock=True)
        if row is None or not _scannable(row, rescan):
            uow.commit()
            return Result("unknown" if row is None else "unchanged", row.status if row else None)
        row.scan_timeouts = (row.scan_timeouts or 0) + 1
        exhausted = row.scan_timeouts >= limits.attempts()
        if row.status == VersionStatus.PENDING:
            row.status_reason = (
                f"{statuses.SCAN_PENDING_REASON}: the scan ran out of time ({limits.max_scan_seconds:g} seconds) "
                + ("at the largest budget; an admin reviews it" if exhausted else "and is retried with a larger budget")
            )
        row.updated_at = utcnow()
        log.warning("scanner: %s ran out of %gs (%d time(s))", path, limits.max_scan_seconds, row.scan_timeouts)
        uow.commit()
        return Result("timed_out", row.status, row.status_reason)


def _record(
    uow: UnitOfWork,
    blobs: BlobStore,
    path: str,
    event_id: str,
    report: ScanReport | None,
    local: IO[bytes] | None,
    *,
    rescan: bool,
) -> Result:
    """Apply the verdict in one transaction, holding the version's row: the release (or withdrawal) happens before
    the commit, so an active version always has its public archive and a flagged one never does."""
    with uow:
        if not uow.applied_events.first_time(CONSUMER, event_id):
            return Result("duplicate")
        row = uow.versions.by_storage_path(path, lock=True)
        if row is None:
            uow.commit()
            return Result("unknown")
        if not _scannable(row, rescan):  # another delivery got here first
            uow.commit()
            return Result("unchanged", row.status)
        node = uow.nodes.get(row.node_id)
        assert node is not None  # a version's node is never removed (node_versions cascades with it)
        before = row.status
        _judge(uow, blobs, node, row, report, local)
        row.scanned_at = row.updated_at = utcnow()
        uow.nodes.touch(row.node_id)
        uow.emit(
            EventType.VERSION_SCANNED,
            node_id=row.node_id,
            version=row.version,
            version_id=row.id,
            status=row.status,
            verdict=report.verdict.value if report else "missing",
        )
        if row.status != before:
            uow.emit(
                EventType.VERSION_STATUS_CHANGED,
                node_id=row.node_id,
                version=row.version,
                version_id=row.id,
                old_status=before,
                new_status=row.status,
                by=CONSUMER,
            )
        uow.commit()
        return Result("scanned" if report else "missing", row.status, row.status_reason)


def _judge(
    uow: UnitOfWork,
    blobs: BlobStore,
    node: Node,
    row: NodeVersion,
    report: ScanReport | None,
    local: IO[bytes] | None,
) -> None:
    if report is None:
        row.status, row.status_reason = VersionStatus.DELETED, statuses.MISSING_ARCHIVE_REASON
    elif row.archive_sha256 is not None and report.sha256 != row.archive_sha256:
        # A rescan met other bytes than those judged before: the quarantine was written twice. Never serve either.
        log.error(
            "scanner: %s changed after its verdict (%s, now %s)", row.storage_path, row.archive_sha256, report.sha256
        )
        row.status, row.status_reason = VersionStatus.FLAGGED, CHANGED_AFTER_VERDICT
    else:
        _apply_report(uow, row, report)
        if releases.servable(row, node) and local is not None and report.sha256:
            release_judged(blobs, node, row, local, report.sha256, RELEASE_CONFLICT)
            return
    releases.withdraw(blobs, [(node, row)])


def _apply_report(uow: UnitOfWork, row: NodeVersion, report: ScanReport) -> None:
    row.archive_sha256, row.archive_size = report.sha256, report.size
    row.scanner_version, row.scan_timeouts = report.scanner_version, 0
    row.scan_findings = [f.model_dump(mode="json") for f in report.findings]
    row.status = statuses.status_after_scan(report.flagged)
    row.status_reason = (
        f"{FLAGGED_BY_SCANNER}: {report.status_reason()}" if report.flagged else statuses.SCAN_PASSED_REASON
    )
    extraction = report.extraction
    row.comfy_node_extract_status = "success" if extraction.status in ("success", "partial") else "failed"
    uow.comfy_nodes.delete_for_version(row.id)
    uow.comfy_nodes.add_all(
        [
            ComfyNode(
                node_version_id=row.id,
                name=n.name[:512],
                display_name=n.display_name[:512],
                category=n.category[:512],
                description=n.description,
                function=n.function[:512],
                input_types=_text(n.input_types),
                return_types=_text(n.return_types),
                return_names=_text(n.return_names),
                output_is_list=n.output_is_list if isinstance(n.output_is_list, list) else [],
                output_node=n.output_node,
                deprecated=n.deprecated,
                experimental=n.experimental,
            )
            for n in _unique(extraction.nodes)
        ]
    )


def _unique(nodes: list[ExtractedNode]) -> list[ExtractedNode]:
    seen: set[str] = set()
    out = []
    for node in nodes:
        if node.name not in seen:
            seen.add(node.name)
            out.append(node)
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def sweep(
    uow_factory: Callable[[], UnitOfWork], blobs: BlobStore, limits: ScanLimits, **options: Any
) -> dict[str, int]:
    """The scanner's sweep (`functions/scanner/sweep.py`), where the use cases' callers look for it."""
    from functions.scanner.sweep import sweep as run

    return run(uow_factory, blobs, limits, **options)
