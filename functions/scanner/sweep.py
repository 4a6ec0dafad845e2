"""The scanner's sweep (`scanner_sweep`, every 15 minutes; locally `POST /_local/jobs/scan-sweep`), in this order:

1. scans that ran out of time, again with twice the budget (`ScanLimits.budget`), until the cap;
2. versions left pending too long (their upload event was lost), or with `rescan_all` every live version;
3. versions an older rule set judged (`SCANNER_VERSION` moved), at most `rescans_per_run` a run; only verdicts the
   scanner gave itself, never a status an admin set;
4. releases of installable versions that have no public archive yet (`release_*` counts).

Each scan gets a synthetic event id, so reruns of the sweep itself are harmless. The run stops starting scans when
what is left of `time_budget_seconds` is less than the next scan's budget, so it ends before its function's timeout;
what it did not reach waits for the next run."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from functions.scanner.apply import RESCANNABLE, scan_stored
from functions.scanner.limits import ScanLimits
from functions.scanner.release import FLAGGED_BY_SCANNER, sweep_unreleased
from functions.scanner.report import SCANNER_VERSION
from shared import statuses
from shared.db.models import NodeVersion
from shared.db.types import utcnow
from shared.ports import BlobStore
from shared.statuses import VersionStatus
from shared.uow import UnitOfWork

Fetch = Callable[[UnitOfWork, str, int], Sequence[NodeVersion]]


@dataclass
class _Run:
    uow_factory: Callable[[], UnitOfWork]
    blobs: BlobStore
    limits: ScanLimits
    deadline: float | None
    batch: int
    stamp: str = field(default_factory=lambda: utcnow().isoformat())
    counts: dict[str, int] = field(default_factory=dict)
    out_of_time: bool = False

    def phase(
        self, fetch: Fetch, wanted: Callable[[NodeVersion], bool], *, prefix: str, rescan: bool, most: int
    ) -> None:
        after, done = "", 0
        while done < most and not self.out_of_time:
            with self.uow_factory() as uow:
                rows = fetch(uow, after, self.batch)
                due = [(r.id, r.storage_path, r.scan_timeouts or 0) for r in rows if wanted(r)]
            if not rows:
                return
            for version_id, path, timeouts in due[: most - done]:
                if self.deadline is not None and time.monotonic() + self.limits.budget(timeouts) > self.deadline:
                    self.out_of_time = True
                    self._count("deferred")
                    return
                event_id = f"sweep:{self.stamp}:{prefix}{version_id}"
                result = scan_stored(self.uow_factory(), self.blobs, self.limits, path, event_id, rescan=rescan)
                self._count(prefix + result.outcome)
                done += 1
            after = rows[-1].id

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1


def sweep(
    uow_factory: Callable[[], UnitOfWork],
    blobs: BlobStore,
    limits: ScanLimits,
    *,
    older_than_minutes: int,
    rescan_all: bool = False,
    batch: int = 100,
    max_versions: int = 10_000,
    rescans_per_run: int = 200,
    time_budget_seconds: float | None = None,
) -> dict[str, int]:
    deadline = None if time_budget_seconds is None else time.monotonic() + time_budget_seconds
    run = _Run(uow_factory, blobs, limits, deadline, batch)
    attempts = limits.attempts()

    def timed_out(uow: UnitOfWork, after: str, limit: int) -> Sequence[NodeVersion]:
        return uow.versions.timed_out(below=attempts, statuses=RESCANNABLE, after_id=after, limit=limit)

    run.phase(timed_out, lambda r: True, prefix="retry_", rescan=True, most=max_versions)
    wanted = RESCANNABLE if rescan_all else (VersionStatus.PENDING,)
    cutoff = None if rescan_all else utcnow() - timedelta(minutes=older_than_minutes)

    def lost(uow: UnitOfWork, after: str, limit: int) -> Sequence[NodeVersion]:
        return uow.versions.to_scan(created_before=cutoff, statuses=wanted, after_id=after, limit=limit)

    # A pending version whose scan ran out of time is the first phase's (or waits for an admin), not a lost event.
    run.phase(lost, lambda r: rescan_all or not r.scan_timeouts, prefix="", rescan=rescan_all, most=max_versions)
    if not rescan_all:

        def stale(uow: UnitOfWork, after: str, limit: int) -> Sequence[NodeVersion]:
            judged = (VersionStatus.ACTIVE, VersionStatus.FLAGGED)
            return uow.versions.judged_before(
                scanner_version=SCANNER_VERSION, statuses=judged, after_id=after, limit=limit
            )

        run.phase(stale, scanners_verdict, prefix="rules_", rescan=True, most=rescans_per_run)
    for outcome, count in sweep_unreleased(uow_factory, blobs, batch=batch, max_versions=max_versions).items():
        run.counts[f"release_{outcome}"] = count
    return run.counts


def scanners_verdict(row: NodeVersion) -> bool:
    """Whether the version's status is the scanner's own verdict (an admin's activation or flag says otherwise)."""
    if row.status == VersionStatus.ACTIVE:
        return row.status_reason == statuses.SCAN_PASSED_REASON
    return row.status_reason.startswith(FLAGGED_BY_SCANNER)
