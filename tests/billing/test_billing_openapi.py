"""Billing's OpenAPI document (functions/billing/openapi.yaml and each area's fragment, served at /billing/openapi)
against the routes and handlers it describes. The answers themselves are checked against it in every test that calls
billing through tests.support (tests/contract.py) and by the schema fuzzing."""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import validate

from functions.billing.app import all_routes, router
from functions.billing.common import meta
from tests.support import RegistryClient

METHODS = ("get", "put", "post", "delete", "patch")
ERROR_REF = "#/components/schemas/ErrorResponse"
NO_DATABASE = ("billingHealth", "getBillingOpenapi", "getBillingDocs", "getBillingDocsAsset")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return copy.deepcopy(meta.spec())


def each_operation(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def resolve(spec: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in obj:
        target: Any = spec
        for part in obj["$ref"][2:].split("/"):
            target = target[part]
        obj = target
    return obj


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)
    assert json.loads(json.dumps(spec)) == spec


def test_every_operation_is_a_route_and_every_route_an_operation(spec: dict[str, Any]) -> None:
    documented = {(m.upper(), p, op["operationId"]) for m, p, op in each_operation(spec)}
    routed = {(r.method, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", r.path), r.operation_id) for r in all_routes()}
    assert documented == routed


def test_every_operation_says_who_may_call_it_and_how_it_fails(spec: dict[str, Any]) -> None:
    problems = []
    for method, path, op in each_operation(spec):
        name = f"{method.upper()} {path} ({op['operationId']})"
        if not op.get("summary") or "security" not in op:
            problems.append(f"{name}: needs a summary and an explicit security ([] for none)")
        codes = op["responses"]
        if not any(code.startswith("2") for code in codes):
            problems.append(f"{name}: no success response")
        for code, response in codes.items():
            schema = resolve(spec, response).get("content", {}).get("application/json", {}).get("schema", {})
            if code[0] in "45" and schema.get("$ref") != ERROR_REF:
                problems.append(f"{name}: {code} must be an application/json ErrorResponse")
        if op["operationId"] not in NO_DATABASE:
            problems += [f"{name}: documents no {c}" for c in ("500", "503") if c not in codes]
    assert not problems, "\n".join(problems)


def test_security_is_declared_exactly_where_handlers_check_it(spec: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in each_operation(spec)}
    wrong = []
    for route in all_routes():
        source = inspect.getsource(route.handler)
        declared = {name for requirement in by_id[route.operation_id]["security"] for name in requirement}
        person = "caller(request, c)" in source or "admin(request, c)" in source
        secret = "admin_secret(request, c)" in source
        if person != ("BearerAuth" in declared):
            wrong.append(f"{route.operation_id}: the handler asks for a person={person}, declared {declared}")
        if secret != ("ComfyAdminSecretAuth" in declared):
            wrong.append(f"{route.operation_id}: the handler checks the admin secret={secret}, declared {declared}")
        if (person or secret) and "401" not in by_id[route.operation_id]["responses"]:
            wrong.append(f"{route.operation_id}: authenticates but documents no 401")
    assert not wrong, "\n".join(wrong)


def test_the_served_document_is_the_assembled_yaml(api: RegistryClient) -> None:
    served = api.get("/billing/openapi")
    assert served.status_code == 200 and {**served.get_json(), "servers": meta.spec()["servers"]} == meta.spec()
    assert router().matches("GET", "/billing/health")
