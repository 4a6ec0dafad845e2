"""One pass over a module's AST collecting what the Python rules ask about, and a small name-level taint.

The pass only records; names are resolved afterwards, once every import (wherever it sits) is known. The taint
is flow-insensitive and per scope: a name assigned, anywhere in a function, from decoded or downloaded data
carries that kind. It only runs for the kinds the module produces at all, which for most files is none.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from functions.scanner.rules.base import SourceText
from functions.scanner.rules.pyexpr import is_decoder_call, is_fetch_call, is_reversed_literal, qualname, render

_MIN_STRING = 4
# `os.environ` used whole (a sweep) rather than for one variable.
_ENV_SINGLE_ATTRS = {"get", "setdefault", "pop", "__getitem__", "__contains__", "__setitem__", "update"}
_PATH_BUILDERS = {"os.path.join", "posixpath.join", "ntpath.join", "pathlib.Path", "pathlib.PurePath"}
DECODED, FETCHED, SWEPT = "decoded", "fetched", "swept"
KINDS = (DECODED, FETCHED, SWEPT)


@dataclass(eq=False)
class Scope:
    node: ast.AST
    parent: Scope | None
    assigns: list[tuple[str, ast.expr]] = field(default_factory=list)
    producing: set[str] = field(default_factory=set)  # kinds produced by expressions directly in this scope
    _taint: dict[str, set[str]] | None = None

    def chain(self) -> list[Scope]:
        scopes: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            scopes.append(scope)
            scope = scope.parent
        return scopes


@dataclass(frozen=True, slots=True)
class ExprInfo:
    names: frozenset[str]
    kinds: frozenset[str]


_NO_INFO = ExprInfo(frozenset(), frozenset())


@dataclass
class PyFacts:
    path: str
    source: SourceText
    tree: ast.Module
    install_script: bool
    aliases: dict[str, str] = field(default_factory=dict)
    imports: list[tuple[str, int]] = field(default_factory=list)
    calls: list[tuple[ast.Call, Scope]] = field(default_factory=list)
    strings: list[tuple[str, int]] = field(default_factory=list)
    sweeps: set[int] = field(default_factory=set)  # ids of `os.environ` nodes used whole
    returns: list[tuple[ast.expr, Scope]] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    present: set[str] = field(default_factory=set)  # the kinds some expression of this module produces
    decoder_helpers: frozenset[str] = frozenset()
    fetch_helpers: frozenset[str] = frozenset()
    templates: list[ast.expr] = field(default_factory=list)
    environ_refs: list[tuple[ast.expr, ast.AST | None, Scope]] = field(default_factory=list)
    _info: dict[int, ExprInfo] = field(default_factory=dict)
    _names: dict[int, str] = field(default_factory=dict)
    _imported: set[str] | None = None

    def qualname(self, node: ast.AST) -> str | None:
        return qualname(node, self.aliases)

    def call_name(self, call: ast.Call) -> str:
        name = self._names.get(id(call))
        if name is None:
            name = self._names[id(call)] = qualname(call.func, self.aliases) or ""
        return name

    @property
    def imported(self) -> set[str]:
        """Local names bound by imports (modules and imported objects), which never name a file."""
        if self._imported is None:
            self._imported = {module.split(".")[0] for module, _ in self.imports} | set(self.aliases)
        return self._imported

    def info(self, node: ast.AST) -> ExprInfo:
        """Names an expression reads and which kinds of data it produces by itself (cached)."""
        cached = self._info.get(id(node))
        if cached is None:
            cached = self._compute_info(node)
            self._info[id(node)] = cached
        return cached

    def _compute_info(self, node: ast.AST) -> ExprInfo:
        names: set[str] = set()
        kinds: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                names.add(sub.id)
            elif isinstance(sub, ast.Call):
                name = self.call_name(sub)
                if DECODED in self.present and is_decoder_call(sub, self.aliases, self.decoder_helpers, name):
                    kinds.add(DECODED)
                if FETCHED in self.present and is_fetch_call(sub, self.aliases, self.fetch_helpers, name):
                    kinds.add(FETCHED)
            elif is_reversed_literal(sub):
                kinds.add(DECODED)
            if id(sub) in self.sweeps:
                kinds.add(SWEPT)
        return ExprInfo(frozenset(names), frozenset(kinds))

    def kinds_of(self, node: ast.AST, scope: Scope) -> set[str]:
        """The kinds of data an expression carries, directly or through names assigned in reach."""
        if not self.present:
            return set()
        info = self.info(node)
        kinds = set(info.kinds)
        for enclosing in scope.chain():
            tainted = self.taint(enclosing)
            kinds.update(kind for kind, names in tainted.items() if names & info.names)
        return kinds

    def taint(self, scope: Scope) -> dict[str, set[str]]:
        """Per kind, the names this scope assigns from such data (a fixpoint over its assignments)."""
        if scope._taint is None:
            tainted: dict[str, set[str]] = {kind: set() for kind in self.present}
            inherited = scope.parent is not None and any(self.taint(scope.parent).values())
            # Most scopes neither produce such data nor see a tainted outer name: nothing to propagate.
            if scope.producing or inherited:
                for _ in range(6):
                    if not self._propagate(scope, tainted):
                        break
            scope._taint = tainted
        return scope._taint

    def _propagate(self, scope: Scope, tainted: dict[str, set[str]]) -> bool:
        changed = False
        for name, value in scope.assigns:
            info = self.info(value)
            for kind, names in tainted.items():
                if name not in names and (kind in info.kinds or info.names & names):
                    names.add(name)
                    changed = True
        return changed


def build_facts(path: str, source: SourceText, tree: ast.Module, install_script: bool) -> PyFacts:
    facts = PyFacts(path=path, source=source, tree=tree, install_script=install_script)
    module = Scope(tree, None)
    facts.scopes.append(module)
    stack: list[tuple[ast.AST, Scope, ast.AST | None]] = [(tree, module, None)]
    while stack:
        node, scope, parent = stack.pop()
        kind = type(node)
        handler = _HANDLERS.get(kind)
        inner = handler(facts, node, scope, parent) if handler is not None else scope
        if kind in _LEAVES:
            continue
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend((item, inner, node) for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
                stack.append((value, inner, node))
    _resolve(facts)
    return facts


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
        facts.returns.append((node.value, scope))
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
    pairs: list[tuple[ast.AST, ast.expr]] = []
    if isinstance(node, ast.Assign):
        pairs = [(target, node.value) for target in node.targets]
    elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and node.value is not None:
        pairs = [(node.target, node.value)]
    elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        pairs = [(node.target, node.iter)]
    elif isinstance(node, ast.With | ast.AsyncWith):
        pairs = [(item.optional_vars, item.context_expr) for item in node.items if item.optional_vars is not None]
    for target, value in pairs:
        scope.assigns.extend((name, value) for name in _target_names(target))
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


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List | ast.Starred):
        elts = target.elts if not isinstance(target, ast.Starred) else [target.value]
        return [name for elt in elts for name in _target_names(elt)]
    if isinstance(target, ast.Attribute | ast.Subscript):
        # `obj.attr = x` and `d[k] = x` taint the object, conservatively.
        base = target.value
        while isinstance(base, ast.Attribute | ast.Subscript):
            base = base.value
        return [base.id] if isinstance(base, ast.Name) else []
    return []


def _resolve(facts: PyFacts) -> None:
    """What needs every import known: strings built from templates and paths, sweeps, the kinds present."""
    for node in facts.templates:
        _add_template(facts, node)
    for call, _ in facts.calls:
        if facts.call_name(call) in _PATH_BUILDERS:
            _add_template(facts, call)
    _mark_producers(facts)
    for node, parent, scope in facts.environ_refs:
        if facts.qualname(node) == "os.environ" and _is_sweep(parent):
            facts.sweeps.add(id(node))
            facts.present.add(SWEPT)
            scope.producing.add(SWEPT)
    if DECODED in facts.present or FETCHED in facts.present:
        _find_helpers(facts)


def _mark_producers(facts: PyFacts) -> None:
    for call, scope in facts.calls:
        name = facts.call_name(call)
        if is_decoder_call(call, facts.aliases, facts.decoder_helpers, name):
            facts.present.add(DECODED)
            scope.producing.add(DECODED)
        if is_fetch_call(call, facts.aliases, facts.fetch_helpers, name):
            facts.present.add(FETCHED)
            scope.producing.add(FETCHED)


def _add_template(facts: PyFacts, node: ast.expr) -> None:
    text = render(node, facts.aliases)
    if text and len(text.replace("{}", "")) >= _MIN_STRING:
        facts.strings.append((text, node.lineno))


def _is_sweep(parent: ast.AST | None) -> bool:
    if isinstance(parent, ast.Subscript | ast.Compare):
        return False
    if isinstance(parent, ast.Attribute):
        return parent.attr not in _ENV_SINGLE_ATTRS
    if isinstance(parent, ast.keyword):
        return parent.arg != "env"
    return isinstance(parent, ast.Call | ast.For | ast.comprehension | ast.Dict | ast.Assign | ast.FormattedValue)


def _find_helpers(facts: PyFacts) -> None:
    """Functions that return decoded or fetched data count as decoders or fetchers at their call sites."""
    for _ in range(3):
        decoders, fetchers = set(facts.decoder_helpers), set(facts.fetch_helpers)
        for value, scope in facts.returns:
            if not isinstance(scope.node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            kinds = facts.kinds_of(value, scope)
            if DECODED in kinds:
                decoders.add(scope.node.name)
            if FETCHED in kinds:
                fetchers.add(scope.node.name)
        if decoders == facts.decoder_helpers and fetchers == facts.fetch_helpers:
            return
        facts.decoder_helpers, facts.fetch_helpers = frozenset(decoders), frozenset(fetchers)
        facts._info.clear()
        for scope in facts.scopes:
            scope._taint = None
        _mark_producers(facts)
