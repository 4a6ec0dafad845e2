"""CI rows to the wire shapes of ci.comfy.org (ActionJobResult, GitCommitSummary)."""

from __future__ import annotations

from typing import Any

from functions.registry.ci.usecases import CommitSummary, JobResult, JobResultPage, SummaryPage
from shared import wire

_STATUS_OUT = {stored: name for name, stored in wire.CI_RUN_STATUS_IN.items()}
_STAT_TEXT = (
    "machine_name",
    "os_version",
    "gpu_type",
    "cpu_capacity",
    "initial_cpu",
    "memory_capacity",
    "initial_ram",
    "disk_capacity",
    "initial_disk",
    "pip_freeze",
)


def machine_stats(data: dict[str, Any]) -> dict[str, Any]:
    """Only the documented fields, with the documented types: the column is free-form JSON."""
    out: dict[str, Any] = {k: data[k] for k in _STAT_TEXT if isinstance(data.get(k), str)}
    if isinstance(data.get("vram_time_series"), dict):
        out["vram_time_series"] = data["vram_time_series"]
    return out


def job_result(j: JobResult) -> dict[str, Any]:
    r, c = j.result, j.commit
    data: dict[str, Any] = {
        "id": r.id,
        "workflow_name": r.workflow_name,
        "operating_system": r.operating_system,
        "python_version": r.python_version,
        "pytorch_version": r.pytorch_version,
        "action_run_id": r.run_id,
        "action_job_id": r.job_id,
        "cuda_version": r.cuda_version,
        "branch_name": c.branch_name,
        "commit_hash": c.commit_hash,
        "commit_id": c.id,
        "commit_time": int(c.commit_timestamp.timestamp()),
        "commit_message": c.commit_message,
        "comfy_run_flags": r.comfy_run_flags,
        "git_repo": c.repo_name,
        "pr_number": c.pr_number,
        "start_time": r.start_time or 0,
        "end_time": r.end_time or 0,
        "avg_vram": r.avg_vram or 0,
        "peak_vram": r.peak_vram or 0,
        "job_trigger_user": r.job_trigger_user,
        "author": c.author or r.author,
        "status": _STATUS_OUT.get(r.status, "WorkflowRunStatusStarted"),
    }
    # Unset objects are left out, as the old service did.
    if r.machine_stats is not None:
        data["machine_stats"] = machine_stats(r.machine_stats)
    if j.artifact is not None:
        data["storage_file"] = {"public_url": j.artifact.file_url}
    return data


def commit_summary(s: CommitSummary) -> dict[str, Any]:
    c = s.commit
    return {
        "commit_hash": c.commit_hash,
        "commit_name": c.commit_message,
        "branch_name": c.branch_name,
        "author": c.author,
        "timestamp": wire.time(c.commit_timestamp),
        "status_summary": dict(s.status_by_os),
    }


def job_result_page(result: JobResultPage) -> dict[str, Any]:
    return {
        "jobResults": [job_result(j) for j in result.results],
        "totalNumberOfPages": wire.total_pages(result.total, result.size),
    }


def summary_page(result: SummaryPage) -> dict[str, Any]:
    return {
        "commitSummaries": [commit_summary(s) for s in result.summaries],
        "totalNumberOfPages": wire.total_pages(result.total, result.size),
    }
