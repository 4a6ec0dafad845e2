"""What one module tells about its nodes, kept small so the AST can be dropped right after the scan of the file."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from functions.scanner.extract import v3
from functions.scanner.extract.literal import Renderer

Ref = tuple[str, ...]  # a dotted name as written: ("Foo",) or ("nodes", "Foo")
NODE_ATTRS = (
    "RETURN_TYPES",
    "RETURN_NAMES",
    "FUNCTION",
    "CATEGORY",
    "OUTPUT_NODE",
    "DEPRECATED",
    "EXPERIMENTAL",
    "OUTPUT_IS_LIST",
    "DESCRIPTION",
)


# Not frozen: a frozen dataclass costs three times as much to build, and these are built per module statement.
@dataclass(slots=True)
class Item:
    key: str | None  # None when the key is computed
    ref: Ref | None  # what the value names (a class), when it is a name
    text: str | None  # the value when it is a string literal (display names)


@dataclass(slots=True)
class Spread:
    ref: Ref


Entry = Item | Spread


@dataclass(slots=True)
class MapOp:
    kind: Literal["assign", "update", "set", "alias", "dynamic"]
    entries: tuple[Entry, ...] = ()
    ref: Ref | None = None
    line: int = 0


@dataclass(slots=True)
class ImportRef:
    level: int
    module: str  # as written, without the leading dots
    name: str | None  # None for `import module`


@dataclass(slots=True)
class ClassInfo:
    name: str
    line: int
    bases: list[Ref]
    attrs: dict[str, Any]
    computed: list[str]  # attributes with parts the code computes (rendered as source text)
    missing: list[str]  # attributes that could not be read at all
    schema: dict[str, Any] | None = None  # V3: what `define_schema` returns (extract/v3.py)
    node_list: list[Ref] | None = None  # V3: the classes an extension's `get_node_list` returns


@dataclass(slots=True)
class ModuleSummary:
    path: str
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    imports: dict[str, ImportRef] = field(default_factory=dict)
    star_imports: list[ImportRef] = field(default_factory=list)
    ops: dict[str, list[MapOp]] = field(default_factory=dict)
    entrypoint: bool = False  # defines `comfy_entrypoint` (the V3 extension API)
    entrypoint_ref: Ref | None = None  # the extension class it returns


def ref_of(node: ast.AST) -> Ref | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return (node.id, *reversed(parts))
    return None


def summarize(path: str, tree: ast.Module) -> ModuleSummary:
    summary = ModuleSummary(path)
    kinds = {type(statement) for statement in tree.body}
    statements = _top_level(tree.body) if not _NESTING.isdisjoint(kinds) else tree.body  # most modules: no block
    # Only class attributes read the module's constants: most modules of a large pack define no class.
    if statements is not tree.body:
        kinds = {type(statement) for statement in statements}
    constants = _constants(tree) if ast.ClassDef in kinds else {}
    for statement in statements:
        handler = _HANDLERS.get(type(statement))
        if handler is not None:
            handler(summary, statement, constants)
    return summary


_NESTING = frozenset({ast.If, ast.With, ast.AsyncWith, ast.Try, ast.TryStar})


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module-level statements, including those inside if/try/with blocks (both branches, in order)."""
    flat: list[ast.stmt] = []
    stack = list(reversed(body))
    while stack:
        statement = stack.pop()
        flat.append(statement)
        nested: list[ast.stmt] = []
        if isinstance(statement, ast.If | ast.With | ast.AsyncWith):
            nested = [*statement.body, *getattr(statement, "orelse", [])]
        elif isinstance(statement, ast.Try | ast.TryStar):
            nested = [*statement.body, *[s for h in statement.handlers for s in h.body], *statement.orelse]
            nested += statement.finalbody
        stack.extend(reversed(nested))
    return flat


def _constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level names bound to literals (a type constant such as `MAX_RESOLUTION = 16384`)."""
    renderer: Renderer | None = None
    found: dict[str, Any] = {}
    for statement in tree.body:
        if type(statement) is ast.Assign and type(statement.value) in _LITERAL_NODES:
            for target in statement.targets:
                if type(target) is ast.Name:
                    renderer = renderer or Renderer()
                    found[target.id] = renderer.render(statement.value)
    return found


_LITERAL_NODES = frozenset({ast.Constant, ast.Tuple, ast.List})


def _class(summary: ModuleSummary, statement: ast.ClassDef, constants: dict[str, Any]) -> None:
    summary.classes[statement.name] = _class_info(statement, constants)


def _function(summary: ModuleSummary, statement: ast.FunctionDef | ast.AsyncFunctionDef, _: dict[str, Any]) -> None:
    if statement.name == "comfy_entrypoint":
        summary.entrypoint = True
        summary.entrypoint_ref = v3.entrypoint_class(statement)


def _assign(summary: ModuleSummary, statement: ast.Assign | ast.AnnAssign, constants: dict[str, Any]) -> None:
    if statement.value is None:
        return
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    for target in targets:
        _assignment(summary, target, statement.value, statement.lineno)


def _augmented(summary: ModuleSummary, statement: ast.AugAssign, constants: dict[str, Any]) -> None:
    if isinstance(statement.target, ast.Name):
        _op(summary, statement.target.id, _mapping_op(statement.value, "update", statement.lineno))


def _expression(summary: ModuleSummary, statement: ast.Expr, constants: dict[str, Any]) -> None:
    if isinstance(statement.value, ast.Call):
        _update_call(summary, statement.value)


def _imports(summary: ModuleSummary, statement: ast.Import | ast.ImportFrom, _: dict[str, Any]) -> None:
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            local = alias.asname or alias.name.split(".")[0]
            module = alias.name if alias.asname else alias.name.split(".")[0]
            summary.imports[local] = ImportRef(0, module, None)
        return
    for alias in statement.names:
        ref = ImportRef(statement.level, statement.module or "", alias.name)
        if alias.name == "*":
            summary.star_imports.append(ref)
        else:
            summary.imports[alias.asname or alias.name] = ref


def _op(summary: ModuleSummary, name: str, op: MapOp) -> None:
    summary.ops.setdefault(name, []).append(op)


def _assignment(summary: ModuleSummary, target: ast.AST, value: ast.expr, line: int) -> None:
    if isinstance(target, ast.Name):
        _op(summary, target.id, _mapping_op(value, "assign", line))
    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        key = target.slice
        text = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        item = Item(text, ref_of(value), _string(value))
        _op(summary, target.value.id, MapOp("set", (item,), line=line))


def _string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _mapping_op(value: ast.expr, kind: Literal["assign", "update"], line: int) -> MapOp:
    """A dict literal, `dict(...)`, `a | b`, or a name: what the assignment puts in the mapping."""
    if isinstance(value, ast.Dict):
        return MapOp(kind, tuple(_dict_entries(value)), line=line)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr):
        left, right = ref_of(value.left), ref_of(value.right)
        if left is not None and right is not None:
            return MapOp(kind, (Spread(left), Spread(right)), line=line)
    if isinstance(value, ast.Call) and ref_of(value.func) == ("dict",):
        return MapOp(kind, tuple(_dict_call_entries(value)), line=line)
    ref = ref_of(value)
    if ref is not None:
        return MapOp("alias", ref=ref, line=line) if kind == "assign" else MapOp(kind, (Spread(ref),), line=line)
    return MapOp("dynamic", line=line)


def _dict_entries(node: ast.Dict) -> list[Entry]:
    entries: list[Entry] = []
    for key, value in zip(node.keys, node.values, strict=True):
        if key is None:
            ref = ref_of(value)
            entries.append(Spread(ref) if ref is not None else Item(None, None, None))
        else:
            entries.append(Item(_string(key), ref_of(value), _string(value)))
    return entries


def _dict_call_entries(call: ast.Call) -> list[Entry]:
    entries: list[Entry] = []
    for arg in call.args:
        ref = ref_of(arg)
        if isinstance(arg, ast.Dict):
            entries.extend(_dict_entries(arg))
        elif ref is not None:
            entries.append(Spread(ref))
    for keyword in call.keywords:
        if keyword.arg is None:
            ref = ref_of(keyword.value)
            if ref is not None:
                entries.append(Spread(ref))
        else:
            entries.append(Item(keyword.arg, ref_of(keyword.value), _string(keyword.value)))
    return entries


def _update_call(summary: ModuleSummary, call: ast.Call) -> None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "update" and isinstance(func.value, ast.Name)):
        return
    entries: list[Entry] = []
    for arg in call.args:
        op = _mapping_op(arg, "update", call.lineno)
        if op.kind == "dynamic":
            _op(summary, func.value.id, op)
        entries.extend(op.entries)
    entries.extend(_dict_call_entries(ast.Call(func=func, args=[], keywords=call.keywords)))
    _op(summary, func.value.id, MapOp("update", tuple(entries), line=call.lineno))


def _loop(summary: ModuleSummary, loop: ast.For | ast.AsyncFor | ast.While, _: dict[str, Any]) -> None:
    """Mappings filled in a loop cannot be read without running it."""
    for node in ast.walk(loop):
        target: ast.AST | None = None
        if isinstance(node, ast.Assign | ast.AugAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update":
            target = node.func.value
        base = target.value if isinstance(target, ast.Subscript) else target
        if isinstance(base, ast.Name):
            _op(summary, base.id, MapOp("dynamic", line=getattr(node, "lineno", 0)))


def _class_info(node: ast.ClassDef, constants: dict[str, Any]) -> ClassInfo:
    renderer = Renderer(constants)
    bases = [r for b in node.bases if (r := ref_of(b)) is not None]
    info = ClassInfo(node.name, node.lineno, bases, {}, [], [])
    for statement in node.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in NODE_ATTRS:
                    info.attrs[target.id] = _rendered(renderer, statement.value, target.id, info)
        elif isinstance(statement, ast.FunctionDef) and statement.name == "INPUT_TYPES":
            input_types = _input_types(statement, renderer, info)
            if input_types is not None:
                info.attrs["INPUT_TYPES"] = input_types
    info.schema = v3.schema_of(node, renderer)
    info.node_list = v3.node_list(node)
    return info


def _rendered(renderer: Renderer, value: ast.expr, name: str, info: ClassInfo) -> Any:
    before = len(renderer.computed)
    rendered = renderer.render(value)
    if len(renderer.computed) > before:
        info.computed.append(name)
    return rendered


def _input_types(function: ast.FunctionDef, renderer: Renderer, info: ClassInfo) -> Any:
    """The dict INPUT_TYPES returns; a returned local name is followed to the dict assigned to it."""
    locals_: dict[str, ast.expr] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            locals_.setdefault(node.targets[0].id, node.value)
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Name) and value.id in locals_:
                value = locals_[value.id]
                info.computed.append("INPUT_TYPES")  # later changes to the local are not seen
            return _rendered(renderer, value, "INPUT_TYPES", info)
    info.missing.append("INPUT_TYPES")
    return None


# By statement type: what each kind of module-level statement tells (dispatch on the type, not a chain of checks).
_HANDLERS: dict[type, Callable[[ModuleSummary, Any, dict[str, Any]], None]] = {
    ast.ClassDef: _class,
    ast.Import: _imports,
    ast.ImportFrom: _imports,
    ast.FunctionDef: _function,
    ast.AsyncFunctionDef: _function,
    ast.Assign: _assign,
    ast.AnnAssign: _assign,
    ast.AugAssign: _augmented,
    ast.Expr: _expression,
    ast.For: _loop,
    ast.AsyncFor: _loop,
    ast.While: _loop,
}
