"""The CI endpoints of ci.comfy.org: `/upload-artifact`, `/gitcommit`, `/gitcommitsummary`, `/workflowresult/{id}`,
`/branch`. Who calls is one of: a CI key (`X-CI-Key: <key>` or `Authorization: Bearer <key>`), a Google
service-account ID token, or (for the reads) a signed-in person's Firebase ID token."""

from __future__ import annotations

import base64
import binascii
import json

from flask import Request, Response
from werkzeug.datastructures import MultiDict

from functions.registry import serializers_ci
from functions.registry.handlers.common import caller, container
from functions.registry.schemas_ci import UploadArtifactIn
from functions.registry.usecases import ci
from functions.registry.usecases.ci import DEFAULT_REPO, CiCaller
from shared import wire
from shared.auth import secrets
from shared.auth.firebase import bearer_token
from shared.auth.google_oidc import ISSUERS
from shared.errors import InvalidInput, Unauthenticated
from shared.http import params
from shared.http.responses import json_response
from shared.http.router import Route
from shared.repositories.ci import ResultFilter

CI_KEY_HEADER = "X-CI-Key"
MAX_PAGE = 1_000_000


def ci_caller(request: Request) -> CiCaller:
    """Identify the caller from a CI key, a service-account token or a Firebase login; 401/403 otherwise."""
    key = request.headers.get(CI_KEY_HEADER)
    if key is not None:
        return _ci_key(key.strip())
    authorization = request.headers.get("Authorization")
    if not authorization:
        raise Unauthenticated(
            f"missing credentials for path: {request.path}; send a CI key ({CI_KEY_HEADER} or "
            "Authorization: Bearer) or a Google ID token (Authorization: Bearer)",
            code="missing_token",
        )
    token = bearer_token(authorization, request.path)
    if _key_matches(token):
        return CiCaller("ci_key", _key_name(token))
    issuer = _unverified_issuer(token)
    if not issuer:
        raise Unauthenticated("Invalid CI key", code="invalid_ci_key")
    if issuer in ISSUERS:
        email = container().service_verifier.verify(authorization, request.path)
        return CiCaller("service_account", email)
    identity = caller(request)
    return CiCaller("user", identity.uid, identity)


def _ci_key(key: str) -> CiCaller:
    if not key:
        raise Unauthenticated(f"The {CI_KEY_HEADER} header is empty", code="missing_token")
    if not _key_matches(key):
        raise Unauthenticated("Invalid CI key", code="invalid_ci_key")
    return CiCaller("ci_key", _key_name(key))


def _key_matches(key: str) -> bool:
    # Compare with every configured digest, without stopping early.
    found = False
    for stored in container().settings.ci_upload_digest_list:
        found |= secrets.matches(key, stored)
    return found


def _key_name(key: str) -> str:
    return secrets.digest(key)[:12]  # names the key in events without revealing it


def _unverified_issuer(token: str) -> str:
    """The `iss` claim of a JWT-shaped token, only to choose which verifier checks it; "" if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return ""
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, RecursionError, binascii.Error):
        return ""
    return str(claims.get("iss") or "") if isinstance(claims, dict) else ""


# -- handlers -------------------------------------------------------------------------------------------------
def upload_artifact(request: Request) -> Response:
    who = ci_caller(request)
    body = params.json_body(request, UploadArtifactIn)
    ci.upload(container().uow(), who, body)
    return json_response({})


def _page(args: MultiDict[str, str]) -> tuple[int, int]:
    page = params.integer(args, "page", 1, minimum=1, maximum=MAX_PAGE, clamp=False)
    size = params.integer(args, "pageSize", 10, minimum=1, maximum=container().settings.max_page_size)
    return page, size


def list_job_results(request: Request) -> Response:
    who = ci_caller(request)
    args = request.args
    commit_id = args.get("commitId") or None
    f = ResultFilter(
        repo_name=(args.get("repoName") or DEFAULT_REPO).lower(),
        commit_id=params.uuid_param(commit_id, "commitId") if commit_id else None,
        branch_name=args.get("branch") or None,
        operating_system=args.get("operatingSystem") or None,
        workflow_name=args.get("workflowName") or None,
    )
    page, size = _page(args)
    result = ci.list_results(container().uow(), who, f, page, size)
    return json_response(
        {
            "jobResults": [serializers_ci.job_result(j) for j in result.results],
            "totalNumberOfPages": wire.total_pages(result.total, result.size),
        }
    )


def list_commit_summaries(request: Request) -> Response:
    who = ci_caller(request)
    page, size = _page(request.args)
    result = ci.summaries(
        container().uow(), who, request.args.get("repoName") or None, request.args.get("branchName"), page, size
    )
    return json_response(
        {
            "commitSummaries": [serializers_ci.commit_summary(s) for s in result.summaries],
            "totalNumberOfPages": wire.total_pages(result.total, result.size),
        }
    )


def get_workflow_result(request: Request, workflow_result_id: str) -> Response:
    who = ci_caller(request)
    result_id = params.uuid_param(workflow_result_id, "workflowResultId")
    return json_response(serializers_ci.job_result(ci.get_result(container().uow(), who, result_id)))


def list_branches(request: Request) -> Response:
    who = ci_caller(request)
    repo_name = (request.args.get("repo_name") or "").strip()
    if not repo_name:
        raise InvalidInput("Query parameter repo_name is required", code="missing_repo_name")
    return json_response({"branches": ci.branches(container().uow(), who, repo_name)})


ROUTES: list[Route] = [
    Route("POST", "/upload-artifact", upload_artifact, "postUploadArtifact"),
    Route("GET", "/gitcommit", list_job_results, "getGitcommit"),
    Route("GET", "/gitcommitsummary", list_commit_summaries, "getGitcommitsummary"),
    Route("GET", "/workflowresult/<workflow_result_id>", get_workflow_result, "getWorkflowResult"),
    Route("GET", "/branch", list_branches, "getBranch"),
]
