"""Our OpenAPI document: valid, in step with the route table, the handlers and the serializers.

No database: the handlers that need one are only inspected, and the serializers are fed unsaved rows."""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Request
from pydantic import BaseModel
from werkzeug.test import EnvironBuilder

from functions.registry.app import AREAS, all_routes, router
from functions.registry.common import meta, serializers
from functions.registry.common.schemas import NodeIn
from functions.registry.publishing import schemas
from shared import wire
from shared.adapters.local_blobs import LocalBlobStore
from shared.db.models import Node, NodeVersion, PersonalAccessToken, Publisher, PublisherPermission, User
from shared.openapi import merge
from tests.contract import (
    ContractError,
    find_operation,
    response_schema,
    validate_response,
    validate_schema,
    validate_test_response,
)

SPEC_FILE = Path(meta.SPEC_PATH)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PATH_PARAM = re.compile(r"{([^{}]+)}")
WERKZEUG_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The registry's own document (the checks of billing's are in tests/billing/test_billing_openapi.py)."""
    return copy.deepcopy(meta.spec())


def each_operation(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item, item[method]


def resolve(spec: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in obj:
        target: Any = spec
        for part in obj["$ref"][2:].split("/"):
            target = target[part]
        obj = target
    return obj


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{where}/{i}")


def route_template(path: str) -> str:
    return WERKZEUG_PARAM.sub(r"{\1}", path)


# -- 1. a valid OpenAPI 3.0 document ------------------------------------------------------------------------
def test_document_passes_the_openapi_validator(spec: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)


def test_document_structure(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.0.3"
    info = spec["info"]
    assert info["title"] and info["version"]
    assert "Bearer" in info["description"] and "personal_access_token" in info["description"]
    assert any(s["url"] == "http://127.0.0.1:8080" for s in spec["servers"])
    bearer = spec["components"]["securitySchemes"]["BearerAuth"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    for method, path, _, op in each_operation(spec):
        assert op.get("operationId"), f"{method.upper()} {path} has no operationId"
        assert op.get("summary"), f"{op['operationId']} has no summary"
        assert op.get("responses"), f"{op['operationId']} has no responses"
        assert "security" in op, f"{op['operationId']} must say its security explicitly ([] for none)"
    ids = [op["operationId"] for _, _, _, op in each_operation(spec)]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_every_ref_resolves(spec: dict[str, Any]) -> None:
    broken = []
    for where, node in walk(spec):
        if isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            target: Any = spec
            try:
                assert ref.startswith("#/")
                for part in ref[2:].split("/"):
                    target = target[part]
            except (AssertionError, KeyError, TypeError):
                broken.append(f"{where}: {ref}")
    assert not broken, "unresolved $refs:\n" + "\n".join(broken)


def test_spec_is_plain_json_data(spec: dict[str, Any]) -> None:
    """What GET /openapi serves: YAML must not have produced dates, sets or other non-JSON values."""
    assert json.loads(json.dumps(spec)) == spec


# -- 2. the operations are exactly the routes -----------------------------------------------------------------
def test_operations_match_the_route_table() -> None:
    in_spec = {
        (method.upper(), path, op["operationId"]) for method, path, _, op in each_operation(copy.deepcopy(meta.spec()))
    }
    in_routes = {(r.method.upper(), route_template(r.path), r.operation_id) for r in [*meta.ROUTES, *all_routes()]}
    missing = sorted(in_routes - in_spec)
    extra = sorted(in_spec - in_routes)
    message = []
    if missing:
        message.append("routes the document lacks:\n  " + "\n  ".join(" ".join(t) for t in missing))
    if extra:
        message.append("operations with no route:\n  " + "\n  ".join(" ".join(t) for t in extra))
    assert not message, "\n".join(message)


# -- 3. parameters -------------------------------------------------------------------------------------------
def test_every_path_parameter_is_declared(spec: dict[str, Any]) -> None:
    problems = []
    for method, path, item, op in each_operation(spec):
        declared = [resolve(spec, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]]
        in_path = {p["name"]: p for p in declared if p["in"] == "path"}
        wanted = set(PATH_PARAM.findall(path))
        if set(in_path) != wanted:
            problems.append(f"{method.upper()} {path}: path has {sorted(wanted)}, declared {sorted(in_path)}")
        for name, param in in_path.items():
            if param.get("required") is not True:
                problems.append(f"{method.upper()} {path}: path parameter {name} must be required")
        names = [(p["in"], p["name"]) for p in declared]
        if len(names) != len(set(names)):
            problems.append(f"{method.upper()} {path}: a parameter is declared twice")
        for param in declared:
            if "type" not in param.get("schema", {}):
                problems.append(f"{method.upper()} {path}: parameter {param['name']} has no schema type")
    assert not problems, "\n".join(problems)


def _query(spec: dict[str, Any], operation_id: str) -> dict[str, dict[str, Any]]:
    for _, _, item, op in each_operation(spec):
        if op["operationId"] == operation_id:
            params = [resolve(spec, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]]
            return {p["name"]: p for p in params if p["in"] == "query"}
    raise AssertionError(operation_id)


def test_query_parameters_the_handlers_read(spec: dict[str, Any]) -> None:
    nodes = _query(spec, "listAllNodes")
    assert set(nodes) >= {
        "page",
        "limit",
        "include_banned",
        "timestamp",
        "sort",
        "node_id",
        "supported_os",
        "supported_accelerator",
        "comfyui_version",
        "form_factor",
        "latest",
    }
    assert nodes["page"]["schema"]["type"] == nodes["limit"]["schema"]["type"] == "integer"
    assert nodes["include_banned"]["schema"]["type"] == "boolean"
    assert nodes["timestamp"]["schema"] == {"type": "string", "format": "date-time"}
    for name in ("sort", "node_id", "supported_os", "supported_accelerator"):
        assert nodes[name]["schema"]["type"] == "array", name
        assert (nodes[name]["style"], nodes[name]["explode"]) == ("form", True), name
    for op in ("listNodeVersions", "listAllNodeVersions"):
        statuses = _query(spec, op)["statuses"]
        assert statuses["schema"]["type"] == "array"
        assert (statuses["style"], statuses["explode"]) == ("form", True)
        assert set(wire._VERSION_STATUS.values()) <= set(statuses["schema"]["items"]["enum"])
        assert _query(spec, op)["include_status_reason"]["schema"]["type"] == "boolean"
    assert set(_query(spec, "listAllNodeVersions")) == {
        "statuses",
        "include_status_reason",
        "nodeId",
        "page",
        "pageSize",
    }
    assert set(_query(spec, "listNodesForPublisherV2")) == {"include_banned", "page", "limit"}
    assert set(_query(spec, "listNodesForPublisher")) == {"include_banned"}
    assert set(_query(spec, "installNode")) == {"version"}
    assert _query(spec, "validatePublisher")["username"]["required"] is True


# -- security and responses ----------------------------------------------------------------------------------
def test_bearer_security_is_declared_exactly_where_handlers_ask_for_the_caller(spec: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, _, op in each_operation(spec)}
    wrong = []
    for route in [*meta.ROUTES, *all_routes()]:
        source = inspect.getsource(route.handler)
        # A person's login (common/http.caller), or the CI credentials, among which a bearer token is one kind.
        needs_bearer = "caller(request, c)" in source or "credentials(request)" in source
        declared = {name for requirement in by_id[route.operation_id]["security"] for name in requirement}
        if needs_bearer != ("BearerAuth" in declared):
            wrong.append(f"{route.operation_id}: handler needs the bearer={needs_bearer}, declared {declared}")
        if needs_bearer and "401" not in by_id[route.operation_id]["responses"]:
            wrong.append(f"{route.operation_id}: needs the bearer but documents no 401")
    assert not wrong, "\n".join(wrong)


def test_responses_have_the_right_shapes(spec: dict[str, Any]) -> None:
    problems = []
    for method, path, _, op in each_operation(spec):
        name = f"{method.upper()} {path} ({op['operationId']})"
        codes = op["responses"]
        if not any(code.startswith("2") for code in codes):
            problems.append(f"{name}: no success response")
        for code, response in codes.items():
            response = resolve(spec, response)
            content = response.get("content", {})
            if code == "204" and content:
                problems.append(f"{name}: 204 must have no body")
            if code[0] in "45":
                schema = content.get("application/json", {}).get("schema", {})
                if schema.get("$ref") != ERROR_REF:
                    problems.append(f"{name}: {code} must be an application/json ErrorResponse")
        if op["operationId"] not in ("health", "getOpenapi", "getDocs", "getDocsAsset"):
            for code in ("500", "503"):
                if code not in codes:
                    problems.append(f"{name}: touches the database but documents no {code}")
    assert not problems, "\n".join(problems)


def test_notable_response_shapes(spec: dict[str, Any]) -> None:
    assert set(resolve(spec, spec["paths"]["/health"]["get"]["responses"]["200"])["content"]) == {"text/plain"}
    versions = response_schema("GET", "/nodes/{node_id}/versions", 200)
    assert versions is not None and versions["type"] == "array"
    assert response_schema("DELETE", "/publishers/{publisher_id}", 204) is None
    for method, path, status in [
        ("POST", "/publishers", 201),
        ("POST", "/publishers/{publisher_id}/nodes", 201),
        ("POST", "/publishers/{publisher_id}/tokens", 201),
        ("POST", "/publishers/{publisher_id}/nodes/{node_id}/versions", 201),
        ("DELETE", "/publishers/{publisher_id}/nodes/{node_id}", 204),
        ("DELETE", "/publishers/{publisher_id}/tokens/{token_id}", 204),
        ("DELETE", "/publishers/{publisher_id}/nodes/{node_id}/versions/{version_id}", 204),
    ]:
        response_schema(method, path, status)  # raises if the status is not documented


def test_request_bodies_accept_unknown_fields(spec: dict[str, Any]) -> None:
    closed = []
    for method, path, _, op in each_operation(spec):
        if "requestBody" not in op:
            continue
        pending = [op["requestBody"]["content"]["application/json"]["schema"]]
        seen: set[int] = set()
        while pending:
            schema = resolve(spec, pending.pop())
            if id(schema) in seen:
                continue
            seen.add(id(schema))
            if schema.get("additionalProperties") is False:
                closed.append(f"{method.upper()} {path}")
            pending.extend(schema.get("properties", {}).values())
            if "items" in schema:
                pending.append(schema["items"])
    assert not closed, f"request bodies must accept unknown fields: {closed}"


@pytest.mark.parametrize(
    ("schema_name", "model"),
    [
        ("PublisherRequest", schemas.PublisherIn),
        ("NodeRequest", NodeIn),
        ("NodeVersionRequest", schemas.NodeVersionIn),
        ("PublishRequest", schemas.PublishIn),
        ("NodeVersionUpdateRequest", schemas.NodeVersionUpdateIn),
        ("PersonalAccessTokenRequest", schemas.TokenIn),
    ],
)
def test_request_schemas_match_the_pydantic_models(
    spec: dict[str, Any], schema_name: str, model: type[BaseModel]
) -> None:
    schema = spec["components"]["schemas"][schema_name]
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    assert set(schema["properties"]) == set(fields), f"{schema_name} vs {model.__name__}"
    required = {name for name, f in fields.items() if f.is_required()}
    assert set(schema.get("required", [])) == required, f"{schema_name} required vs {model.__name__}"


# -- enums ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schema_name", "mapping"),
    [
        ("NodeStatus", wire._NODE_STATUS),
        ("NodeVersionStatus", wire._VERSION_STATUS),
        ("PublisherStatus", wire._PUBLISHER_STATUS),
    ],
)
def test_enums_are_the_wire_names(spec: dict[str, Any], schema_name: str, mapping: dict[str, str]) -> None:
    assert set(spec["components"]["schemas"][schema_name]["enum"]) == set(mapping.values())


# -- GET /openapi and the router's own answers ---------------------------------------------------------------
def dispatch(method: str, path: str, area: str = "reads") -> Any:
    environ = EnvironBuilder(path=path, method=method).get_environ()
    return router(area).dispatch(Request(environ))


def test_get_openapi_serves_the_yaml() -> None:
    with SPEC_FILE.open(encoding="utf-8") as fh:
        from_file = yaml.safe_load(fh)
    for area in sorted(AREAS):
        with (meta.REGISTRY / area / "openapi.yaml").open(encoding="utf-8") as fh:
            merge(from_file, yaml.safe_load(fh) or {}, area)
    assert meta.spec() == from_file
    response = dispatch("GET", "/openapi")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    served = json.loads(response.get_data())
    # `servers` names where the document was asked for (tests/test_docs.py); the rest is the assembled YAML.
    assert {**served, "servers": from_file["servers"]} == from_file
    validate_test_response("GET", "/openapi", response)


def test_health_matches_the_document() -> None:
    response = dispatch("GET", "/health")
    assert response.get_data() == b"OK"
    validate_test_response("GET", "/health", response)


def test_unknown_routes_and_methods_answer_with_the_error_body() -> None:
    missing = dispatch("GET", "/no/such/route")
    assert missing.status_code == 404
    validate_schema("ErrorResponse", json.loads(missing.get_data()))
    wrong_method = dispatch("PATCH", "/nodes")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["Allow"].split(", ")
    validate_schema("ErrorResponse", json.loads(wrong_method.get_data()))


# -- the serializers emit what the document describes --------------------------------------------------------
NOW = datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
VERSION_ID = "6f1c2a5e-1111-4222-8333-444455556666"
TOKEN_ID = "0b6f7c1e-aaaa-4bbb-8ccc-ddddeeeeffff"


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path, "http://127.0.0.1:8080", b"key")


def make_user() -> User:
    return User(id="uid-1", email=None, name="Ada", is_approved=False, is_admin=False, status="active")


def make_publisher() -> Publisher:
    publisher = Publisher(
        id="ada",
        name="Ada",
        description="",
        website="",
        support_email="",
        source_code_repo="",
        logo_url="",
        status="active",
        created_at=NOW,
    )
    publisher.permissions.append(PublisherPermission(user=make_user(), permission="owner"))
    return publisher


def make_version(status: str = "active") -> NodeVersion:
    return NodeVersion(
        id=VERSION_ID,
        node_id="comfyui-foo",
        version="1.2.0",
        changelog="",
        pip_dependencies=["numpy"],
        deprecated=False,
        status=status,
        status_reason="passed",
        storage_path="ada/comfyui-foo/1.2.0/upload/node.zip",
        release_path="ada/comfyui-foo/1.2.0/node.zip" if status == "active" else None,
        supported_os=[],
        supported_accelerators=[],
        supported_comfyui_version="",
        supported_comfyui_frontend_version="",
        comfy_node_extract_status="pending",
        created_at=NOW,
    )


def make_node(publisher: Publisher) -> Node:
    return Node(
        id="comfyui-foo",
        publisher_id=publisher.id,
        publisher=publisher,
        name="Foo",
        description="",
        category="",
        author="",
        license='{"file": "LICENSE"}',
        repository_url="https://example.com/foo",
        icon_url="",
        banner_url="",
        tags=["x"],
        total_install=3,
        total_star=9,
        total_review=2,
        status="active",
        status_detail="",
        supported_os=["OS Independent"],
        supported_accelerators=[],
        supported_comfyui_version="",
        supported_comfyui_frontend_version="",
        created_at=NOW,
    )


def test_serialized_rows_match_the_schemas(blobs: LocalBlobStore) -> None:
    publisher = make_publisher()
    node = make_node(publisher)
    version = make_version()
    validate_schema("User", serializers.user(make_user()))
    validate_schema("Publisher", serializers.publisher(publisher))
    validate_schema("Publisher", serializers.publisher(publisher, members=False))
    validate_schema("NodeVersion", serializers.version(version, blobs))
    validate_schema("Node", serializers.node(node, None, blobs))
    full = serializers.node(node, version, blobs, with_publisher=True, include_reason=False)
    validate_schema("Node", full)
    assert {"latest_version", "publisher"} <= set(full)
    validate_schema("NodePage", wire.node_page([full], total=1, page=1, limit=10))


@pytest.mark.parametrize("status", sorted(wire._VERSION_STATUS))
def test_every_version_status_serializes_into_the_enum(blobs: LocalBlobStore, status: str) -> None:
    validate_schema("NodeVersion", serializers.version(make_version(status), blobs))


def test_tokens_match_the_schemas() -> None:
    row = PersonalAccessToken(
        id=TOKEN_ID,
        publisher_id="ada",
        name="ci",
        description="",
        token_prefix="cpat_AbCd",
        expires_at=None,
        last_used_at=None,
        node_ids=None,
        created_at=NOW,
    )
    validate_schema("PersonalAccessToken", serializers.token(row))
    validate_schema("PersonalAccessTokenCreated", serializers.token(row, value="cpat_AbCdEfGh-_123"))
    row.expires_at = NOW
    row.last_used_at = NOW
    validate_schema("PersonalAccessToken", serializers.token(row))
    with pytest.raises(ContractError):
        validate_schema("PersonalAccessTokenCreated", serializers.token(row))  # masked is not the full token


# -- 4. the validate_response helper itself ------------------------------------------------------------------
def node_body() -> dict[str, Any]:
    return {
        "id": "comfyui-foo",
        "name": "Foo",
        "description": "",
        "category": "",
        "author": "",
        "license": "",
        "icon": "",
        "banner_url": "",
        "repository": "",
        "tags": [],
        "rating": 4.5,
        "downloads": 12,
        "status": "NodeStatusActive",
        "status_detail": "",
        "supported_os": [],
        "supported_accelerators": [],
        "supported_comfyui_version": "",
        "supported_comfyui_frontend_version": "",
        "created_at": "2025-01-02T03:04:05.123456Z",
    }


def test_validate_response_accepts_a_valid_node() -> None:
    validate_response("GET", "/nodes/{node_id}", 200, node_body())
    validate_response("GET", "/nodes/<node_id>", 200, node_body())  # a werkzeug rule works too
    validate_response("GET", "/nodes/comfyui-foo?x=1", 200, json.dumps(node_body()).encode())


def test_validate_response_rejects_a_node_without_id() -> None:
    body = node_body()
    del body["id"]
    with pytest.raises(ContractError, match="'id' is a required property"):
        validate_response("GET", "/nodes/{node_id}", 200, body)


def test_validate_response_rejects_a_status_outside_the_enum() -> None:
    body = node_body()
    body["status"] = "active"
    with pytest.raises(ContractError, match="status"):
        validate_response("GET", "/nodes/{node_id}", 200, body)


def test_validate_response_checks_times_and_nullability() -> None:
    body = node_body()
    body["created_at"] = "2025-01-02 03:04:05"
    with pytest.raises(ContractError, match="created_at"):
        validate_response("GET", "/nodes/{node_id}", 200, body)
    token: dict[str, Any] = {
        "id": TOKEN_ID,
        "name": "ci",
        "description": "",
        "createdAt": "2025-01-02T03:04:05.000000Z",
        "expiresAt": None,
        "lastUsedAt": None,
        "node_ids": [],
        "token": "cpat_AbCd***",
    }
    validate_response("GET", "/publishers/ada/tokens", 200, [token])
    with pytest.raises(ContractError, match="createdAt"):
        validate_response("GET", "/publishers/ada/tokens", 200, [{**token, "createdAt": None}])


def test_validate_response_is_strict_about_extra_fields_unless_asked() -> None:
    body = {**node_body(), "surprise": 1}
    with pytest.raises(ContractError, match="surprise"):
        validate_response("GET", "/nodes/{node_id}", 200, body)
    validate_response("GET", "/nodes/{node_id}", 200, body, strict=False)


def test_validate_response_checks_status_codes_and_bodies() -> None:
    error = {"error": "node_not_found", "message": "Node not found"}
    validate_response("GET", "/nodes/x", 404, error)
    with pytest.raises(ContractError, match="does not document status 409"):
        validate_response("GET", "/nodes/x", 409, error)
    with pytest.raises(ContractError, match="message"):
        validate_response("GET", "/nodes/x", 404, {"error": "node_not_found"})
    validate_response("DELETE", "/publishers/ada/nodes/foo", 204)
    validate_response("DELETE", "/publishers/ada/nodes/foo", 204, b"")
    with pytest.raises(ContractError, match="no body"):
        validate_response("DELETE", "/publishers/ada/nodes/foo", 204, {"ok": True})
    validate_response("GET", "/health", 200, "OK", content_type="text/plain")
    with pytest.raises(ContractError):
        validate_response("GET", "/health", 200, "nope", content_type="text/plain")
    validate_response("GET", "/nodes/x/versions", 200, [])
    with pytest.raises(ContractError, match="array"):
        validate_response("GET", "/nodes/x/versions", 200, {"versions": []})


def test_concrete_paths_resolve_like_the_router() -> None:
    assert find_operation("GET", "/publishers/validate")[1]["operationId"] == "validatePublisher"
    assert find_operation("GET", "/publishers/ada")[1]["operationId"] == "getPublisher"
    assert find_operation("GET", "/publishers/ada/nodes/v2")[1]["operationId"] == "listNodesForPublisherV2"
    assert find_operation("PUT", "/publishers/ada/nodes/v2")[1]["operationId"] == "updateNode"
    assert find_operation("GET", "/users/publishers")[1]["operationId"] == "listPublishersForUser"
    assert find_operation("GET", "/nodes/a/versions/1.0.0")[1]["operationId"] == "getNodeVersion"
    with pytest.raises(ContractError, match="no operation"):
        find_operation("PATCH", "/nodes")
