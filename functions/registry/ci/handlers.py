"""The CI endpoints of ci.comfy.org: `/upload-artifact`, `/gitcommit`, `/gitcommitsummary`, `/workflowresult/{id}`,
`/branch`. Who may call is decided by the use cases (a CI key, a service account, or for the reads a person too)."""

from __future__ import annotations

from flask import Request, Response
from werkzeug.datastructures import MultiDict

from functions.registry.ci import schemas, serializers, usecases
from functions.registry.ci.callers import Verifiers
from shared.bootstrap import Container
from shared.errors import InvalidInput
from shared.http import params
from shared.http.pages import MAX_PAGE
from shared.http.responses import json_response


def _verifiers(c: Container) -> Verifiers:
    return Verifiers(c.settings.ci_upload_digest_list, c.verifier, c.service_verifier)


def _page(args: MultiDict[str, str], c: Container) -> tuple[int, int]:
    page = params.integer(args, "page", 1, minimum=1, maximum=MAX_PAGE, clamp=False)
    return page, params.integer(args, "pageSize", 10, minimum=1, maximum=c.settings.max_page_size)


def upload_artifact(request: Request, c: Container) -> Response:
    body = params.json_body(request, schemas.UploadArtifactIn).command()
    usecases.upload(c.uow(), _verifiers(c), schemas.credentials(request), body)
    return json_response({})


def list_job_results(request: Request, c: Container) -> Response:
    page, size = _page(request.args, c)
    query = schemas.result_query(request.args)
    result = usecases.list_results(c.uow(), _verifiers(c), schemas.credentials(request), query, page, size)
    return json_response(serializers.job_result_page(result))


def list_commit_summaries(request: Request, c: Container) -> Response:
    page, size = _page(request.args, c)
    repo, branch = request.args.get("repoName") or None, request.args.get("branchName")
    found = usecases.summaries(c.uow(), _verifiers(c), schemas.credentials(request), repo, branch, page, size)
    return json_response(serializers.summary_page(found))


def get_workflow_result(request: Request, c: Container, workflow_result_id: str) -> Response:
    result_id = params.uuid_param(workflow_result_id, "workflowResultId")
    found = usecases.get_result(c.uow(), _verifiers(c), schemas.credentials(request), result_id)
    return json_response(serializers.job_result(found))


def list_branches(request: Request, c: Container) -> Response:
    repo_name = (request.args.get("repo_name") or "").strip()
    if not repo_name:
        raise InvalidInput("Query parameter repo_name is required", code="missing_repo_name")
    found = usecases.branches(c.uow(), _verifiers(c), schemas.credentials(request), repo_name)
    return json_response({"branches": found})
