"""Walking a module's AST once into PyFacts: what each node tells, and which functions and statements the
text gate (pygate) says no rule reads, left out of the walk or only read for their bindings."""

from __future__ import annotations

import ast
import bisect
from itertools import repeat

from functions.scanner.rules import pygate
from functions.scanner.rules.base import SourceText
from functions.scanner.rules.pyexpr import is_reversed_literal, render
from functions.scanner.rules.pyfacts import (
    DECODED,
    FETCHED,
    PyFacts,
    Scope,
    binding_pairs,
    mark_kinds,
    reset_kinds,
)

_MIN_STRING = 4
_PATH_BUILDERS = {"os.path.join", "posixpath.join", "ntpath.join", "pathlib.Path", "pathlib.PurePath"}
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_ALWAYS = frozenset({ast.Import, ast.ImportFrom})  # what names mean, wherever they are used


def build_facts(
    path: str, source: SourceText, tree: ast.Module, install_script: bool, lines: list[int] | None = None
) -> PyFacts:
    """The facts of one module; given the lines some rule could read (pygate), only the functions holding one
    are walked, and the others only if a name imported or found to fetch or decode data gives them a meaning."""
    facts = PyFacts(path=path, source=source, tree=tree, install_script=install_script)
    module = Scope(tree, None)
    facts.scopes.append(module)
    skipped = _walk(facts, tree, module, None, lines)
    named: set[str] = set()
    while skipped:
        _resolve_names(facts)
        mark_kinds(facts)
        later = _later(facts, skipped, named)
        if not later:
            break
        taken = {id(node) for node, _ in later}
        skipped = [item for item in skipped if id(item[0]) not in taken]
        for node, scope in later:
            _walk(facts, node, scope, None, None)
        reset_kinds(facts)
    if not skipped:
        _resolve_names(facts)
        mark_kinds(facts)
    _add_strings(facts)
    return facts


def _later(facts: PyFacts, skipped: list[tuple[ast.AST, Scope]], named: set[str]) -> list[tuple[ast.AST, Scope]]:
    """What was left out and now needs reading: statements naming what an import, a helper or a run-time lookup
    gave a meaning, and in a scope that downloads, the `open` that may write the file (py_exec)."""
    names = pygate.alias_words(facts.aliases) | facts.decoder_helpers | facts.fetch_helpers | facts.dynamic_names
    lines = pygate.lines_naming(facts.source.text, names - named) if names - named else []
    named |= names
    opens: list[int] | None = None
    later = []
    for node, scope in skipped:
        if FETCHED in scope.producing:
            opens = pygate.lines_naming(facts.source.text, ["open"]) if opens is None else opens
            if _covers(opens, node):
                later.append((node, scope))
                continue
        if lines and _covers(lines, node):
            later.append((node, scope))
    return later


def _covers(lines: list[int], node: ast.AST) -> bool:
    start: int = node.lineno  # type: ignore[attr-defined]
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        start = min(start, *(d.lineno for d in decorators))
    index = bisect.bisect_left(lines, start)
    return index < len(lines) and lines[index] <= (node.end_lineno or start)  # type: ignore[attr-defined]


def _header(node: ast.AST) -> list[ast.expr | None]:
    """A function's decorators, defaults and annotations (what runs or names something outside its body)."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    args = node.args
    annotations = [
        a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg) if a
    ]
    return [*node.decorator_list, *args.defaults, *args.kw_defaults, *annotations, node.returns]


def _header_covered(lines: list[int], node: ast.AST) -> bool:
    """Whether a function's decorators, signature or defaults hold one of the lines (the lines before its body)."""
    body = getattr(node, "body", None)
    start: int = node.lineno  # type: ignore[attr-defined]
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        start = min(start, *(d.lineno for d in decorators))
    end = body[0].lineno - 1 if body else start
    return pygate.covers(lines, start, max(start, end))


def _walk(
    facts: PyFacts, root: ast.AST, scope: Scope, parent: ast.AST | None, lines: list[int] | None
) -> list[tuple[ast.AST, Scope]]:
    """Records what the rules ask about under `root`. Given `lines`, a statement holding none of them is only
    read for the names it binds and what it returns, and is returned (with its scope) for a later look."""
    skipped: list[tuple[ast.AST, Scope]] = []
    stack: list[tuple[ast.AST | None, Scope, ast.AST | None]] = [(root, scope, parent)]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node, scope, parent = pop()
        if node is None:
            continue  # `{**x}` leaves a None among a dict's keys
        kind = type(node)
        if lines is not None and kind in _STATEMENTS and node is not root and not _covers(lines, node):
            skipped.append((node, scope))
            scope.deferred.append(node)  # type: ignore[arg-type]
            continue
        handler = _HANDLERS.get(kind)
        inner = handler(facts, node, scope, parent) if handler is not None else scope
        if kind in _LEAVES:
            continue
        fields = _child_fields(kind)
        if kind in _DEFS and lines is not None and not _header_covered(lines, node):
            fields = ("body",)  # arguments, defaults, annotations and decorators hold nothing a rule reads yet
            skipped += [(part, inner) for part in _header(node) if part is not None]
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                extend(zip(value, repeat(inner), repeat(node)))
            elif value is not None:
                push((value, inner, node))
    return skipped


# Fields that never hold a node (names, flags, contexts), and the statements the gate may leave out.
_NOT_NODES = frozenset(
    {"ctx", "type_comment", "id", "attr", "arg", "kind", "conversion", "level", "module", "is_async", "simple",
     "tag", "kwd_attrs", "type_ignores"}
)  # fmt: skip
_STATEMENTS = frozenset(
    t for t in vars(ast).values() if isinstance(t, type) and issubclass(t, ast.stmt) and t not in _ALWAYS
)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    fields = _FIELDS.get(kind)
    if fields is None:
        excluded = set(_NOT_NODES)
        if kind in (ast.Constant, ast.MatchSingleton):
            excluded.add("value")
        if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.alias, ast.ExceptHandler,
                    ast.MatchStar, ast.MatchAs, ast.Global, ast.Nonlocal):  # fmt: skip
            excluded |= {"name", "names"} if kind in (ast.Global, ast.Nonlocal) else {"name"}
        fields = _FIELDS[kind] = tuple(f for f in getattr(kind, "_fields", ()) if f not in excluded)
    return fields


def _scope(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    inner = Scope(node, scope)
    facts.scopes.append(inner)
    return inner


def _import(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    assert isinstance(node, ast.Import | ast.ImportFrom)
    if isinstance(node, ast.Import):
        for alias in node.names:
            facts.imports.append((alias.name, node.lineno))
            if alias.asname:
                facts.aliases[alias.asname] = alias.name
        return scope
    base = "." * node.level + (node.module or "")
    for alias in node.names:
        full = f"{base}.{alias.name}" if node.module else base + alias.name
        facts.imports.append((full, node.lineno))
        facts.aliases[alias.asname or alias.name] = full
    return scope


def _call(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    assert isinstance(node, ast.Call)
    facts.calls.append((node, scope))
    return scope


def _return(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    assert isinstance(node, ast.Return)
    if node.value is not None:
        scope.returned.append(node.value)
    return scope


def _constant(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    assert isinstance(node, ast.Constant)
    value = node.value
    # A bare string statement is a docstring or a comment in disguise, not data the code uses.
    if isinstance(value, str | bytes) and len(value) >= _MIN_STRING and not isinstance(parent, ast.Expr):
        facts.strings.append((value if isinstance(value, str) else value.decode("latin-1"), node.lineno))
    return scope


def _template(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    assert isinstance(node, ast.expr)
    if not isinstance(parent, ast.BinOp | ast.JoinedStr) and (isinstance(node, ast.JoinedStr) or _builds_text(node)):
        facts.templates.append(node)
    return scope


def _builds_text(node: ast.expr) -> bool:
    """`"a" + b`, `b + "a"`, `"%s" % x` or `path / "x"`, not arithmetic: a text literal along the chain."""
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod | ast.Div):
        right = node.right
        if isinstance(right, ast.JoinedStr) or (isinstance(right, ast.Constant) and isinstance(right.value, str)):
            return True
        node = node.left
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str | bytes))


def _environ(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    if (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    ):
        facts.environ_refs.append((node, parent, scope))
    return scope


def _assign(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    scope.bound += binding_pairs(node)
    return scope


def _subscript(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    if is_reversed_literal(node):
        facts.present.add(DECODED)
        scope.producing.add(DECODED)
    return scope


_HANDLERS = {
    ast.Subscript: _subscript,
    ast.FunctionDef: _scope,
    ast.AsyncFunctionDef: _scope,
    ast.Lambda: _scope,
    ast.ClassDef: _scope,
    ast.Import: _import,
    ast.ImportFrom: _import,
    ast.Call: _call,
    ast.Return: _return,
    ast.Constant: _constant,
    ast.JoinedStr: _template,
    ast.BinOp: _template,
    ast.Attribute: _environ,
    ast.Name: _environ,
    ast.Assign: _assign,
    ast.AnnAssign: _assign,
    ast.AugAssign: _assign,
    ast.NamedExpr: _assign,
    ast.For: _assign,
    ast.AsyncFor: _assign,
    ast.comprehension: _assign,
    ast.With: _assign,
    ast.AsyncWith: _assign,
}


# Nodes without children worth visiting (a name's context, a constant's kind): most of any tree.
_LEAVES = frozenset({ast.Name, ast.Constant, ast.alias, ast.Pass, ast.Break, ast.Continue})


def _resolve_names(facts: PyFacts) -> None:
    """Names bound to a run-time lookup (`f = getattr(m, n)`), and calls reached through built names (pynames)."""
    from functions.scanner.rules import pynames  # it reads PyFacts, which this module fills

    if not any(word in facts.source.text for word in pynames.LOOKUP_WORDS):
        return
    pynames.note_lookups(facts)
    facts.dynamic = pynames.resolve_calls(facts)
    facts._names.clear()


def _add_strings(facts: PyFacts) -> None:
    """Strings built from templates and joined paths, once every import is known."""
    for node in facts.templates:
        _add_template(facts, node)
    for call, _ in facts.calls:
        if facts.call_name(call) in _PATH_BUILDERS:
            _add_template(facts, call)


def _add_template(facts: PyFacts, node: ast.expr) -> None:
    text = render(node, facts.aliases)
    if text and len(text.replace("{}", "")) >= _MIN_STRING:
        facts.strings.append((text, node.lineno))
