"""The CI endpoints of ci.comfy.org: `/upload-artifact`, `/gitcommit`, `/gitcommitsummary`, `/workflowresult/{id}`,
`/branch`. Who may call is decided by the use cases (a CI key, a service account, or for the reads a person too)."""

from __future__ import annotations

from flask import Request, Response
from werkzeug.datastructures import MultiDict

from functions.registry.ci import schemas, serializers, usecases
from shared.bootstrap import Container
from shared.errors import InvalidInput
from shared.http import params
from shared.http.responses import json_response

MAX_PAGE = 1_000_000


def _caller(request: Request, c: Container) -> usecases.CiCaller:
    verifiers = usecases.Verifiers(c.settings.ci_upload_digest_list, c.verifier, c.service_verifier)
    return usecases.identify(schemas.credentials(request), verifiers)


def _page(args: MultiDict[str, str], c: Container) -> tuple[int, int]:
    page = params.integer(args, "page", 1, minimum=1, maximum=MAX_PAGE, clamp=False)
    return page, params.integer(args, "pageSize", 10, minimum=1, maximum=c.settings.max_page_size)


def upload_artifact(request: Request, c: Container) -> Response:
    who = _caller(request, c)
    usecases.upload(c.uow(), who, params.json_body(request, schemas.UploadArtifactIn).command())
    return json_response({})


def list_job_results(request: Request, c: Container) -> Response:
    who = _caller(request, c)
    page, size = _page(request.args, c)
    result = usecases.list_results(c.uow(), who, schemas.result_query(request.args), page, size)
    return json_response(serializers.job_result_page(result))


def list_commit_summaries(request: Request, c: Container) -> Response:
    who = _caller(request, c)
    page, size = _page(request.args, c)
    repo, branch = request.args.get("repoName") or None, request.args.get("branchName")
    return json_response(serializers.summary_page(usecases.summaries(c.uow(), who, repo, branch, page, size)))


def get_workflow_result(request: Request, c: Container, workflow_result_id: str) -> Response:
    who = _caller(request, c)
    result_id = params.uuid_param(workflow_result_id, "workflowResultId")
    return json_response(serializers.job_result(usecases.get_result(c.uow(), who, result_id)))


def list_branches(request: Request, c: Container) -> Response:
    who = _caller(request, c)
    repo_name = (request.args.get("repo_name") or "").strip()
    if not repo_name:
        raise InvalidInput("Query parameter repo_name is required", code="missing_repo_name")
    return json_response({"branches": usecases.branches(c.uow(), who, repo_name)})
