"""Node definitions read statically: NODE_CLASS_MAPPINGS from the pack's `__init__.py`, and each class's attributes."""

from __future__ import annotations

from typing import Any

from functions.scanner.extract.resolve import Mapping, Pack, Resolver, root_prefix
from functions.scanner.extract.summary import ClassInfo, ModuleSummary, summarize
from functions.scanner.extract.v3nodes import v3_extension_nodes
from functions.scanner.report import ExtractedNode, Extraction

__all__ = ["extract_nodes", "summarize"]

_CLASS_MAP = "NODE_CLASS_MAPPINGS"
_DISPLAY_MAP = "NODE_DISPLAY_NAME_MAPPINGS"
_REQUIRED = ("INPUT_TYPES", "RETURN_TYPES", "FUNCTION")
_MAX_BASES = 8


def extract_nodes(summaries: list[ModuleSummary], unparsed: list[str], max_nodes: int) -> Extraction:
    """`unparsed` lists the Python files that could not be read (their classes cannot be found)."""
    prefix = root_prefix([s.path for s in summaries] + unparsed)
    if prefix is None:
        return Extraction(status="failed", reason="no __init__.py at the root of the pack")
    if f"{prefix}__init__.py" in unparsed:
        return Extraction(status="failed", reason=f"{prefix}__init__.py could not be parsed")
    resolver = Resolver(Pack.build(summaries, prefix))
    root = resolver.pack.modules[""]
    classes = resolver.mapping("", _CLASS_MAP)
    if resolver.dynamic:
        _collect_submodules(resolver, classes)
    v3_nodes = v3_extension_nodes(resolver)
    if not classes and not v3_nodes:
        if unparsed:
            resolver.note(f"{len(unparsed)} Python file(s) could not be parsed")
        return _nothing_found(resolver, root)
    displays = resolver.mapping("", _DISPLAY_MAP)
    nodes = [_node(resolver, key, module, entry, displays) for key, (module, entry) in classes.items()]
    nodes += [node for node in v3_nodes if node.name not in classes]
    notes = list(resolver.notes)
    if len(nodes) > max_nodes:
        notes.append(f"{len(nodes)} nodes, only the first {max_nodes} kept")
        nodes = nodes[:max_nodes]
    incomplete = [n.name for n in nodes if n.unresolved]
    if incomplete:
        notes.append(f"{len(incomplete)} node(s) not fully readable: {', '.join(incomplete[:5])}")
    if unparsed:
        notes.append(f"{len(unparsed)} Python file(s) could not be parsed")
    status = "partial" if notes else "success"
    return Extraction(status=status, reason="; ".join(notes)[:2000], nodes=nodes)


def _nothing_found(resolver: Resolver, root: ModuleSummary) -> Extraction:
    if root.entrypoint:
        reason = "comfy_entrypoint (V3 API) names no extension class whose node list could be read"
        return Extraction(status="failed", reason=reason)
    if _CLASS_MAP in root.ops or resolver.imported("", _CLASS_MAP) is not None:
        reason = "; ".join(resolver.notes) or f"{_CLASS_MAP} is empty"
        return Extraction(status="partial" if resolver.notes else "success", reason=reason)
    return Extraction(status="failed", reason=f"no {_CLASS_MAP} in {root.path}")


def _collect_submodules(resolver: Resolver, classes: Mapping) -> None:
    """When the root builds its mapping in a loop, the mappings its submodules define are the best reading."""
    for module in sorted(resolver.pack.modules):
        if module and _CLASS_MAP in resolver.pack.modules[module].ops:
            for key, value in resolver.mapping(module, _CLASS_MAP).items():
                classes.setdefault(key, value)
    resolver.note(f"{_CLASS_MAP} collected from the submodules that define one")


def _node(resolver: Resolver, key: str, module: str, entry: Any, displays: Mapping) -> ExtractedNode:
    display = displays.get(key)
    node = ExtractedNode(name=key, display_name=(display[1].text or "") if display else "")
    found = resolver.class_of(module, entry)
    if found is None:
        node.unresolved = ["class"]
        return node
    class_module, info = found
    attrs, computed, missing = _attributes(resolver, class_module, info, 0)
    node.class_name, node.line = info.name, info.line
    node.file = resolver.pack.modules[class_module].path
    node.category = _text(attrs.get("CATEGORY"))
    node.description = _text(attrs.get("DESCRIPTION"))
    node.function = _text(attrs.get("FUNCTION"))
    node.input_types = attrs.get("INPUT_TYPES")
    node.return_types = attrs.get("RETURN_TYPES")
    node.return_names = attrs.get("RETURN_NAMES")
    node.output_is_list = attrs.get("OUTPUT_IS_LIST")
    node.output_node = attrs.get("OUTPUT_NODE") is True
    node.deprecated = attrs.get("DEPRECATED") is True
    node.experimental = attrs.get("EXPERIMENTAL") is True
    node.computed = sorted(set(computed))
    node.unresolved = sorted({*missing, *(name for name in _REQUIRED if name not in attrs)})
    return node


def _attributes(
    resolver: Resolver, module: str, info: ClassInfo, depth: int
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The class's node attributes, inherited ones first (bases inside the pack only)."""
    attrs: dict[str, Any] = {}
    computed: list[str] = []
    missing: list[str] = []
    if depth < _MAX_BASES:
        for base in reversed(info.bases):
            target = resolver.resolve(module, base)
            if target is not None and target[0] == "class":
                base_info = resolver.pack.modules[target[1]].classes[target[2]]
                inherited, base_computed, base_missing = _attributes(resolver, target[1], base_info, depth + 1)
                attrs.update(inherited)
                computed += base_computed
                missing += base_missing
    attrs.update(info.attrs)
    return attrs, computed + info.computed, [m for m in missing if m not in info.attrs] + info.missing


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))
