"""The CI endpoints of ci.comfy.org: results uploaded by the ComfyUI CI action, and the dashboard's reads.

The old service left all of these open; here uploads need a CI key or a service account, and reads a login too."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from functions.registry.ci.callers import CiCaller, Credentials, Verifiers, identify
from functions.registry.common.access import active_user
from shared.db.models import CiArtifact, CiWorkflowResult, GitCommit
from shared.db.types import utcnow
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.events import EventType
from shared.repositories.ci import CommitIn, ResultFilter
from shared.uow import UnitOfWork

DEFAULT_REPO = "comfyanonymous/ComfyUI"
PUBLIC_STORAGE = "https://storage.googleapis.com"
MAX_ARTIFACTS = 100
_PR_BRANCH = re.compile(r"^(\d+)/merge$")  # GitHub's ref name for a pull request's merge commit


@dataclass(frozen=True)
class UploadArtifact:
    """One workflow run's result, as the ComfyUI CI action reports it (status as stored: STARTED, FAILED...)."""

    repo: str
    job_id: str
    run_id: str
    os: str
    commit_hash: str
    commit_timestamp: datetime
    commit_message: str
    branch_name: str
    workflow_name: str
    start_time: int
    end_time: int
    python_version: str
    job_trigger_user: str
    status: str
    pr_number: str | None = None
    author: str | None = None
    cuda_version: str | None = None
    pytorch_version: str | None = None
    bucket_name: str | None = None
    output_files_gcs_paths: str | None = None
    comfy_run_flags: str | None = None
    avg_vram: int | None = None
    peak_vram: int | None = None
    machine_stats: dict[str, Any] | None = None


@dataclass(frozen=True)
class ResultQuery:
    repo_name: str = DEFAULT_REPO
    commit_id: str | None = None
    branch_name: str | None = None
    operating_system: str | None = None
    workflow_name: str | None = None


@dataclass(frozen=True)
class JobResult:
    result: CiWorkflowResult
    commit: GitCommit
    artifact: CiArtifact | None


@dataclass(frozen=True)
class JobResultPage:
    results: Sequence[JobResult]
    total: int
    size: int


@dataclass(frozen=True)
class CommitSummary:
    commit: GitCommit
    status_by_os: dict[str, str]


@dataclass(frozen=True)
class SummaryPage:
    summaries: Sequence[CommitSummary]
    total: int
    size: int


def _admit(uow: UnitOfWork, caller: CiCaller) -> None:
    """A person must be an active user (the login refreshes their row); keys and service accounts pass."""
    if caller.identity is not None:
        active_user(uow, caller.identity)


# -- upload ---------------------------------------------------------------------------------------------------
def upload(uow: UnitOfWork, verifiers: Verifiers, creds: Credentials, body: UploadArtifact) -> str:
    """Record one workflow run's result, replacing earlier ones of the same commit, workflow and OS."""
    caller = identify(creds, verifiers)
    if caller.kind == "user":
        raise Forbidden("Only a CI key or a service account may upload CI results", code="ci_uploader_required")
    artifacts = _artifacts(body.bucket_name, body.output_files_gcs_paths)
    with uow:
        commit_id = uow.ci.upsert_commit(_commit(body))
        uow.ci.delete_results(commit_id, body.workflow_name, body.os)
        row = _result_row(body, commit_id)
        uow.ci.add_result(row, artifacts)
        uow.emit(
            EventType.CI_RESULT_UPLOADED,
            workflow_result_id=row.id,
            commit_id=commit_id,
            repo=body.repo.lower(),
            commit_hash=body.commit_hash,
            workflow_name=body.workflow_name,
            operating_system=body.os,
            status=row.status,
            by=f"{caller.kind}:{caller.name}",
        )
        uow.commit()
        return row.id


def _result_row(body: UploadArtifact, commit_id: str) -> CiWorkflowResult:
    return CiWorkflowResult(
        git_commit_id=commit_id,
        operating_system=body.os,
        workflow_name=body.workflow_name,
        run_id=body.run_id,
        job_id=body.job_id,
        status=body.status,
        start_time=body.start_time,
        end_time=body.end_time,
        python_version=body.python_version,
        pytorch_version=body.pytorch_version or "",
        cuda_version=body.cuda_version or "",
        comfy_run_flags=body.comfy_run_flags or "",
        avg_vram=body.avg_vram,
        peak_vram=body.peak_vram,
        job_trigger_user=body.job_trigger_user,
        author=body.author or "",
        machine_stats=body.machine_stats,
    )


def _commit(body: UploadArtifact) -> CommitIn:
    pr_number = body.pr_number or ""
    if not pr_number and (match := _PR_BRANCH.match(body.branch_name)):
        pr_number = match.group(1)
    return CommitIn(
        repo_name=body.repo.lower(),
        commit_hash=body.commit_hash,
        branch_name=body.branch_name,
        commit_message=body.commit_message,
        commit_timestamp=body.commit_timestamp,
        author=body.author or "",
        pr_number=pr_number,
    )


def _artifacts(bucket: str | None, paths: str | None) -> list[CiArtifact]:
    """One row per comma-separated object path, in the order given (the first is the one reads show).

    Without a bucket there is no URL to build: the paths are ignored, as the old service did."""
    entries = [p.strip() for p in (paths or "").split(",") if p.strip()]
    if not bucket or not entries:
        return []
    if len(entries) > MAX_ARTIFACTS:
        raise InvalidInput(f"At most {MAX_ARTIFACTS} output files per result", code="too_many_files")
    start = utcnow()
    rows = []
    for i, path in enumerate(entries):
        if len(path) > 2048:
            raise InvalidInput("An output file path is longer than 2048 characters", code="invalid_path")
        rows.append(
            CiArtifact(
                file_type="image",
                bucket_name=bucket,
                file_path=path,
                file_url=f"{PUBLIC_STORAGE}/{quote(bucket)}/{quote(path)}",
                # Distinct, increasing times keep the upload's order for "first file" reads.
                created_at=start + timedelta(microseconds=i),
            )
        )
    return rows


# -- reads ----------------------------------------------------------------------------------------------------
def list_results(
    uow: UnitOfWork, verifiers: Verifiers, creds: Credentials, q: ResultQuery, page: int, size: int
) -> JobResultPage:
    caller = identify(creds, verifiers)
    f = ResultFilter(
        repo_name=q.repo_name.lower(),
        commit_id=q.commit_id,
        branch_name=q.branch_name,
        operating_system=q.operating_system,
        workflow_name=q.workflow_name,
    )
    with uow:
        _admit(uow, caller)
        if f.commit_id is not None and uow.ci.get_commit(f.commit_id) is None:
            raise NotFound("Commit not found", code="commit_not_found")
        rows, total = uow.ci.page_results(f, page, size)
        first = uow.ci.first_artifacts([r.id for r, _ in rows])
        uow.commit()
        return JobResultPage([JobResult(r, c, first.get(r.id)) for r, c in rows], total, size)


def get_result(uow: UnitOfWork, verifiers: Verifiers, creds: Credentials, result_id: str) -> JobResult:
    caller = identify(creds, verifiers)
    with uow:
        _admit(uow, caller)
        found = uow.ci.get_result(result_id)
        if found is None:
            raise NotFound("Workflow result not found", code="workflow_result_not_found")
        result, commit = found
        artifact = uow.ci.first_artifacts([result.id]).get(result.id)
        uow.commit()
        return JobResult(result, commit, artifact)


def summaries(
    uow: UnitOfWork,
    verifiers: Verifiers,
    creds: Credentials,
    repo_name: str | None,
    branch_name: str | None,
    page: int,
    size: int,
) -> SummaryPage:
    """One summary per commit with results, newest first; per OS, FAILED wins, then STARTED, then COMPLETED."""
    caller = identify(creds, verifiers)
    with uow:
        _admit(uow, caller)
        commits, total = uow.ci.page_commits_with_results(
            repo_name.lower() if repo_name else None, branch_name or None, page, size
        )
        statuses = uow.ci.status_by_os([c.id for c in commits])
        uow.commit()
        return SummaryPage([CommitSummary(c, statuses.get(c.id, {})) for c in commits], total, size)


def branches(uow: UnitOfWork, verifiers: Verifiers, creds: Credentials, repo_name: str) -> list[str]:
    caller = identify(creds, verifiers)
    with uow:
        _admit(uow, caller)
        names = uow.ci.branches(repo_name.lower())
        uow.commit()
        return names
