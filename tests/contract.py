"""Check bodies against our OpenAPI document (functions/registry/openapi.yaml), for any test to call.

    from tests.contract import validate_response
    validate_response("GET", "/nodes/{node_id}", 200, response.get_json())

`path` may be a template as the document spells it (`/nodes/{node_id}`), a werkzeug rule (`/nodes/<node_id>`)
or a concrete request path (`/nodes/comfyui-foo?x=1`), which is matched as the router would: static segments
win over parameters. Failures raise `ContractError`, an AssertionError, so pytest shows them as test failures.

OpenAPI 3.0 schemas are translated to JSON Schema (2020-12) first: `nullable: true` becomes a `"null"` type
(and a None enum member), and `$ref`s to `#/components/schemas/X` point into `$defs`. By default the check is
strict: an object schema with `properties` and no `additionalProperties` is taken as closed, so a field a
handler sends but the document does not describe fails the check too. `strict=False` allows extra fields.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

__all__ = [
    "ContractError",
    "find_operation",
    "load_spec",
    "operations",
    "response_schema",
    "validate_response",
    "validate_schema",
    "validate_test_response",
]

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SCHEMA_REF = "#/components/schemas/"
_NO_BODY = object()
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_WERKZEUG_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


class ContractError(AssertionError):
    """A body, status or path that the document does not allow."""


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    """The registry's document, billing's and the gateway's, as one: their paths are disjoint, and a component two
    define (the security schemes) must be the same in each."""
    from functions.billing.common import meta as billing
    from functions.proxy import meta as proxy
    from functions.registry.common import meta as registry

    merged = copy.deepcopy(registry.spec())
    for other in (billing.spec(), proxy.spec()):
        merged["paths"].update(other["paths"])
        for section, entries in other.get("components", {}).items():
            target = merged.setdefault("components", {}).setdefault(section, {})
            for name, value in entries.items():
                if name in target and target[name] != value:
                    raise ValueError(f"components.{section}.{name} differs between the functions' documents")
                target[name] = value
    return merged


def load_spec() -> dict[str, Any]:
    """A fresh copy of the document, safe to modify."""
    return copy.deepcopy(_spec())


def operations() -> set[tuple[str, str, str]]:
    """Every (METHOD, path template, operationId) the document declares."""
    out = set()
    for path, item in _spec()["paths"].items():
        for method in METHODS:
            if method in item:
                out.add((method.upper(), path, item[method].get("operationId", "")))
    return out


# -- formats -----------------------------------------------------------------------------------------
_FORMATS = FormatChecker(formats=())


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value[:-1] + "+00:00" if value[-1] in "Zz" else value)
    return True


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    uuid.UUID(value)
    return True


_FORMATS.checks("date-time", raises=ValueError)(_is_date_time)
_FORMATS.checks("uuid", raises=ValueError)(_is_uuid)


# -- OpenAPI 3.0 schema -> JSON Schema ------------------------------------------------------------------
def _translate(node: Any, *, strict: bool, close: bool = True) -> Any:
    if isinstance(node, list):
        return [_translate(item, strict=strict) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith(SCHEMA_REF):
            raise ContractError(f"unsupported $ref {ref!r} in a schema")
        return {"$ref": "#/$defs/" + ref[len(SCHEMA_REF) :]}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("nullable", "example", "discriminator", "xml", "externalDocs"):
            continue
        if key in ("allOf", "anyOf", "oneOf"):
            # Parts of a combination describe one object between them: closing each would refuse the others'.
            out[key] = [_translate(part, strict=strict, close=key != "allOf") for part in value]
        elif key in ("properties", "patternProperties"):
            out[key] = {name: _translate(sub, strict=strict) for name, sub in value.items()}
        elif key in ("items", "not", "additionalProperties"):
            out[key] = _translate(value, strict=strict)
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if value and bound in node:
                out[key] = node[bound]
        else:
            out[key] = copy.deepcopy(value)
    if node.get("exclusiveMinimum") is True:
        out.pop("minimum", None)
    if node.get("exclusiveMaximum") is True:
        out.pop("maximum", None)
    if node.get("nullable") is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    if (
        strict
        and close
        and "properties" in out
        and out.get("type", "object") == "object"
        and "additionalProperties" not in out
    ):
        out["additionalProperties"] = False
    return out


@lru_cache(maxsize=2)
def _defs(strict: bool) -> dict[str, Any]:
    schemas = _spec().get("components", {}).get("schemas", {})
    return {name: _translate(schema, strict=strict) for name, schema in schemas.items()}


def _resolve(obj: dict[str, Any]) -> dict[str, Any]:
    """Follow a `#/components/...` reference (responses, parameters, request bodies) to its target."""
    seen = set()
    while "$ref" in obj:
        ref = obj["$ref"]
        if ref in seen or not ref.startswith("#/"):
            raise ContractError(f"cannot resolve {ref!r}")
        seen.add(ref)
        target: Any = _spec()
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        obj = target
    return obj


def _validate(schema: dict[str, Any], instance: Any, what: str, *, strict: bool) -> None:
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **_translate(schema, strict=strict)}
    root["$defs"] = _defs(strict)
    validator = Draft202012Validator(root, format_checker=_FORMATS)
    errors = list(validator.iter_errors(instance))
    if errors:
        worst = best_match(errors)
        where = "/".join(str(p) for p in worst.absolute_path) or "(root)"
        extra = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ContractError(f"{what}: at {where}: {worst.message}{extra}")


def validate_schema(name: str, instance: Any, *, strict: bool = True) -> None:
    """Check `instance` against `#/components/schemas/<name>`."""
    if name not in _spec().get("components", {}).get("schemas", {}):
        raise ContractError(f"no schema named {name!r} in the document")
    _validate({"$ref": SCHEMA_REF + name}, instance, f"schema {name}", strict=strict)


# -- operations --------------------------------------------------------------------------------------------
def _template(path: str) -> str:
    return _WERKZEUG_PARAM.sub(r"{\1}", path.split("?", 1)[0])


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s != ""] if path.strip("/") else []


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """(path template, operation object) for a method and a template or concrete path."""
    paths: dict[str, Any] = _spec()["paths"]
    wanted = method.lower()
    path = _template(path)
    if path in paths and wanted in paths[path]:
        return path, paths[path][wanted]
    segments = _segments(path)
    candidates = []
    for template, item in paths.items():
        if wanted not in item:
            continue
        parts = _segments(template)
        if len(parts) != len(segments):
            continue
        params = 0
        for want, have in zip(parts, segments, strict=True):
            if want.startswith("{") and want.endswith("}"):
                params += 1
            elif want != have:
                break
        else:
            candidates.append((params, template))
    if not candidates:
        known = sorted(f"{m.upper()} {p}" for p, item in paths.items() for m in METHODS if m in item)
        raise ContractError(f"no operation for {method.upper()} {path}; the document has: {', '.join(known)}")
    template = min(candidates)[1]
    return template, paths[template][wanted]


def _response(method: str, path: str, status: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    template, op = find_operation(method, path)
    responses: dict[str, Any] = op.get("responses", {})
    for key in (str(status), f"{str(status)[0]}XX", "default"):
        if key in responses:
            return template, op, _resolve(responses[key])
    raise ContractError(
        f"{method.upper()} {template} ({op.get('operationId')}) does not document status {status}; "
        f"it documents {sorted(responses)}"
    )


def response_schema(
    method: str, path: str, status: int, content_type: str = "application/json"
) -> dict[str, Any] | None:
    """The OpenAPI schema of that response's body, or None when the response has no body."""
    _, _, response = _response(method, path, status)
    content = response.get("content")
    if not content:
        return None
    if content_type not in content:
        raise ContractError(f"{method.upper()} {path} {status} has no {content_type} body; it has {sorted(content)}")
    schema: dict[str, Any] = content[content_type].get("schema", {})
    return schema


def validate_response(
    method: str,
    path_template: str,
    status: int,
    body: Any = _NO_BODY,
    *,
    content_type: str | None = None,
    strict: bool = True,
) -> None:
    """Check that `status` is documented for the operation and that `body` fits its schema.

    `body` is the decoded value (dict, list, str, ...); raw `bytes` are decoded as JSON, or as text for a
    text/plain response. For a response documented without a body, pass nothing, None, "" or b"".
    """
    template, op, response = _response(method, path_template, status)
    what = f"{method.upper()} {template} ({op.get('operationId')}) {status}"
    content: dict[str, Any] = response.get("content") or {}
    if not content:
        if body not in (_NO_BODY, None, "", b""):
            raise ContractError(f"{what}: the document has no body for this response, got {body!r:.200}")
        return
    if body is _NO_BODY:
        raise ContractError(f"{what}: a body is documented but none was given")
    media = content_type or ("application/json" if "application/json" in content else next(iter(content)))
    media = media.split(";", 1)[0].strip()
    if media not in content:
        raise ContractError(f"{what}: {media} is not documented; the response has {sorted(content)}")
    if isinstance(body, bytes):
        try:
            body = json.loads(body) if media.endswith("json") else body.decode("utf-8")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContractError(f"{what}: the body is not {media}: {exc}") from exc
    _validate(content[media].get("schema", {}), body, what, strict=strict)


def validate_test_response(method: str, path: str, response: Any, *, strict: bool = True) -> None:
    """Check a werkzeug/Flask test response (status, media type and body) for the operation."""
    data: bytes = response.get_data()
    mimetype = response.mimetype if data else None
    validate_response(method, path, response.status_code, data, content_type=mimetype, strict=strict)
