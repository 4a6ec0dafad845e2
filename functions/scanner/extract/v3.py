"""ComfyUI's V3 node API, read statically: `comfy_entrypoint` returns a `ComfyExtension` whose `get_node_list`
names `io.ComfyNode` subclasses, each describing itself in `define_schema` with `io.Schema(node_id=...,
display_name=..., category=..., inputs=[io.Image.Input("image"), ...], outputs=[...])`.

Nodes come out in the V1 shape (input_types as {"required": {...}, "optional": {...}}, return_types, ...).
"""

from __future__ import annotations

import ast
import re
from typing import Any

from functions.scanner.extract.literal import Renderer

Ref = tuple[str, ...]
_SCHEMA_FIELDS = {
    "node_id", "display_name", "category", "description", "inputs", "outputs", "is_output_node", "is_deprecated",
    "is_experimental", "hidden",
}  # fmt: skip


def schema_of(node: ast.ClassDef, renderer: Renderer) -> dict[str, Any] | None:
    """The rendered `io.Schema(...)` that `define_schema` returns, or None when the class has none."""
    method = _method(node, "define_schema")
    if method is None:
        return None
    call = _returned_call(method)
    if call is None or _last(call.func) != "Schema":
        return {}
    schema: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg == "inputs" and isinstance(keyword.value, ast.List | ast.Tuple):
            schema["inputs"] = [_socket(e, renderer) for e in keyword.value.elts]
        elif keyword.arg == "outputs" and isinstance(keyword.value, ast.List | ast.Tuple):
            schema["outputs"] = [_socket(e, renderer) for e in keyword.value.elts]
        elif keyword.arg in _SCHEMA_FIELDS:
            schema[keyword.arg] = renderer.render(keyword.value)
    return schema


def node_list(node: ast.ClassDef) -> list[Ref] | None:
    """The classes an extension's `get_node_list` returns (None when the class has no such method)."""
    method = _method(node, "get_node_list")
    if method is None:
        return None
    for statement in ast.walk(method):
        if isinstance(statement, ast.Return) and isinstance(statement.value, ast.List | ast.Tuple):
            return [ref for e in statement.value.elts if (ref := ref_of(e)) is not None]
    return []


def entrypoint_class(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Ref | None:
    """What `comfy_entrypoint` returns: `return MyExtension()` names the extension class."""
    call = _returned_call(function)
    return ref_of(call.func) if call is not None else None


def input_types(schema: dict[str, Any]) -> dict[str, Any]:
    required: dict[str, Any] = {}
    optional: dict[str, Any] = {}
    for socket in schema.get("inputs", []):
        if not isinstance(socket, dict) or not socket.get("name"):
            continue
        options = {k: v for k, v in socket["options"].items() if k != "optional"}
        kind: Any = socket["type"]
        if kind == "COMBO" and isinstance(options.get("options"), list):
            kind = options.pop("options")  # V1 writes a combo as its list of choices
        entry = [kind, options] if options else [kind]
        (optional if socket["options"].get("optional") is True else required)[socket["name"]] = entry
    out: dict[str, Any] = {"required": required}
    if optional:
        out["optional"] = optional
    return out


def outputs(schema: dict[str, Any]) -> tuple[list[str], list[str], list[bool]]:
    sockets = [s for s in schema.get("outputs", []) if isinstance(s, dict)]
    types = [s["type"] for s in sockets]
    names = [str(s["options"].get("display_name") or s["name"] or s["type"]) for s in sockets]
    lists = [s["options"].get("is_output_list") is True for s in sockets]
    return types, names, lists


def _socket(node: ast.expr, renderer: Renderer) -> dict[str, Any] | str:
    """`io.Int.Input("steps", default=20)` -> {"type": "INT", "name": "steps", "options": {"default": 20}}."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return renderer.text(node)
    kind = _io_type(node.func.value)
    name = renderer.render(node.args[0]) if node.args else ""
    options = {k.arg: renderer.render(k.value) for k in node.keywords if k.arg is not None}
    if node.func.attr == "Output" and "display_name" not in options and len(node.args) > 1:
        options["display_name"] = renderer.render(node.args[1])
    return {"type": kind, "name": name if node.func.attr == "Input" else (name or ""), "options": options}


def _io_type(node: ast.expr) -> str:
    """`io.ClipVision` -> CLIP_VISION, `io.Custom("MY_TYPE")` -> MY_TYPE."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        return str(node.args[0].value)
    last = _last(node) or "ANY"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", last).upper()


def _method(node: ast.ClassDef, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for statement in node.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and statement.name == name:
            return statement
    return None


def _returned_call(function: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.Call | None:
    """The call a function returns, directly or through a local name assigned once."""
    assigned: dict[str, ast.expr] = {}
    for statement in ast.walk(function):
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                assigned.setdefault(target.id, statement.value)
        if isinstance(statement, ast.Return) and statement.value is not None:
            value = statement.value
            if isinstance(value, ast.Name):
                value = assigned.get(value.id, value)
            return value if isinstance(value, ast.Call) else None
    return None


def _last(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def ref_of(node: ast.AST) -> Ref | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return (node.id, *reversed(parts)) if isinstance(node, ast.Name) else None
