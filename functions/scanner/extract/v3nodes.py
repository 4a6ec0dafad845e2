"""V3 nodes across the pack: from `comfy_entrypoint` to the extension class, its node list, each node's schema."""

from __future__ import annotations

from typing import Any

from functions.scanner.extract import v3
from functions.scanner.extract.resolve import Resolver
from functions.scanner.extract.summary import ClassInfo
from functions.scanner.report import ExtractedNode


def v3_extension_nodes(resolver: Resolver) -> list[ExtractedNode]:
    """The nodes of every extension a `comfy_entrypoint` returns (the root's first), in the V1 shape."""
    nodes: list[ExtractedNode] = []
    seen: set[str] = set()
    modules = resolver.pack.modules
    for module in sorted(m for m in modules if modules[m].entrypoint):
        ref = modules[module].entrypoint_ref
        extension = resolver.resolve(module, ref) if ref is not None else None
        if extension is None or extension[0] != "class":
            resolver.note(f"comfy_entrypoint in {modules[module].path} returns no extension class of the pack")
            continue
        info = modules[extension[1]].classes[extension[2]]
        if info.node_list is None:
            resolver.note(f"{info.name} has no get_node_list returning a list")
            continue
        for node_ref in info.node_list:
            target = resolver.resolve(extension[1], node_ref)
            if target is None or target[0] != "class":
                resolver.note(f"{'.'.join(node_ref)} in {info.name}.get_node_list is not a class of the pack")
                continue
            node = _node(resolver, target[1], modules[target[1]].classes[target[2]])
            if node.name not in seen:
                seen.add(node.name)
                nodes.append(node)
    return nodes


def _node(resolver: Resolver, module: str, info: ClassInfo) -> ExtractedNode:
    schema = info.schema or {}
    types, names, lists = v3.outputs(schema)
    node = ExtractedNode(
        name=_text(schema.get("node_id")) or info.name,
        display_name=_text(schema.get("display_name")),
        class_name=info.name,
        file=resolver.pack.modules[module].path,
        line=info.line,
        category=_text(schema.get("category")),
        description=_text(schema.get("description")),
        function="execute",
        input_types=v3.input_types(schema),
        return_types=types,
        return_names=names,
        output_is_list=lists,
        output_node=schema.get("is_output_node") is True,
        deprecated=schema.get("is_deprecated") is True,
        experimental=schema.get("is_experimental") is True,
    )
    if not schema:
        node.unresolved = ["define_schema"]
    return node


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))
