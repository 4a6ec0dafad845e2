"""The body of `POST /upload-artifact`, as the ComfyUI CI GitHub Action (comfy-action) sends it.

Lengths follow the columns, so an oversized value is a 400 here rather than a database error. Unknown fields are
ignored; optional fields may be null (the action sends null for inputs it was not given)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from flask import Request
from pydantic import Field, StringConstraints, field_validator
from werkzeug.datastructures import MultiDict

from functions.registry.ci.callers import Credentials
from functions.registry.ci.usecases import DEFAULT_REPO, ResultQuery, UploadArtifact
from functions.registry.common.schemas import Body, Label, Short
from shared import wire
from shared.http import params

# Full RFC 3339: a date, a time and a zone (`Z` or an offset), as Go's time.RFC3339 parser required.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Version = Annotated[str, StringConstraints(max_length=64)]
Stat = Annotated[str, StringConstraints(max_length=1024)]
Long = Annotated[str, StringConstraints(max_length=100_000)]
UnixTime = Annotated[int, Field(strict=True, ge=-(2**62), le=2**62)]
Vram = Annotated[int, Field(strict=True, ge=-(2**31), le=2**31 - 1)]


class MachineStatsIn(Body):
    machine_name: Stat | None = None
    os_version: Stat | None = None
    gpu_type: Stat | None = None
    cpu_capacity: Stat | None = None
    initial_cpu: Stat | None = None
    memory_capacity: Stat | None = None
    initial_ram: Stat | None = None
    vram_time_series: dict[str, Any] | None = None
    disk_capacity: Stat | None = None
    initial_disk: Stat | None = None
    pip_freeze: Long | None = None


class UploadArtifactIn(Body):
    repo: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    job_id: Short
    run_id: Short
    os: Name
    commit_hash: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    commit_time: str
    commit_message: Long
    branch_name: Label
    workflow_name: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    start_time: UnixTime
    end_time: UnixTime
    python_version: Version
    job_trigger_user: Short
    status: str
    # The action omits `author` and sends `pr_number: null` outside pull requests.
    pr_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    author: Label | None = None
    cuda_version: Version | None = None
    pytorch_version: Version | None = None
    bucket_name: Short | None = None
    output_files_gcs_paths: Long | None = None
    comfy_logs_gcs_path: Long | None = None  # accepted and not stored, as before
    comfy_run_flags: Long | None = None
    avg_vram: Vram | None = None
    peak_vram: Vram | None = None
    machine_stats: MachineStatsIn | None = None

    @field_validator("commit_time")
    @classmethod
    def _rfc3339(cls, value: str) -> str:
        if not _RFC3339.match(value.strip()):
            raise ValueError("must be an RFC 3339 time such as 2024-06-01T12:34:56Z")
        try:
            wire.parse_time(value)
        except ValueError as exc:
            raise ValueError(f"is not a valid time: {exc}") from exc
        return value.strip()

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        if value not in wire.CI_RUN_STATUS_IN:
            raise ValueError(f"must be one of {', '.join(wire.CI_RUN_STATUS_IN)}")
        return value

    def command(self) -> UploadArtifact:
        data = self.model_dump(exclude={"commit_time", "comfy_logs_gcs_path", "machine_stats", "status"})
        return UploadArtifact(
            **data,
            commit_timestamp=wire.parse_time(self.commit_time),
            status=wire.CI_RUN_STATUS_IN[self.status],
            machine_stats=self.machine_stats.model_dump(exclude_none=True) if self.machine_stats else None,
        )


CI_KEY_HEADER = "X-CI-Key"


def credentials(request: Request) -> Credentials:
    return Credentials(request.path, request.headers.get(CI_KEY_HEADER), request.headers.get("Authorization"))


def result_query(args: MultiDict[str, str]) -> ResultQuery:
    commit_id = args.get("commitId") or None
    return ResultQuery(
        repo_name=args.get("repoName") or DEFAULT_REPO,
        commit_id=params.uuid_param(commit_id, "commitId") if commit_id else None,
        branch_name=args.get("branch") or None,
        operating_system=args.get("operatingSystem") or None,
        workflow_name=args.get("workflowName") or None,
    )
