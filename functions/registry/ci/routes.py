"""The CI results of ci.comfy.org (deployed as `registry-ci`)."""

from __future__ import annotations

from functions.registry.ci import handlers as h
from shared.http.router import Route

ROUTES = [
    Route("POST", "/upload-artifact", h.upload_artifact, "postUploadArtifact"),
    Route("GET", "/gitcommit", h.list_job_results, "getGitcommit"),
    Route("GET", "/gitcommitsummary", h.list_commit_summaries, "getGitcommitsummary"),
    Route("GET", "/workflowresult/<workflow_result_id>", h.get_workflow_result, "getWorkflowResult"),
    Route("GET", "/branch", h.list_branches, "getBranch"),
]
