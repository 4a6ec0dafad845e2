"""One pass over a module's AST collecting what the Python rules ask about, and a small name-level taint."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from functions.scanner.rules.base import SourceText
from functions.scanner.rules.pyexpr import is_decoder_call, is_fetch_call, is_reversed_literal, qualname, render

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_MIN_STRING = 4
# `os.environ` used whole (a sweep) rather than for one variable.
_ENV_SINGLE_ATTRS = {"get", "setdefault", "pop", "__getitem__", "__contains__", "__setitem__", "update"}
DECODED, FETCHED, SWEPT = "decoded", "fetched", "swept"
KINDS = (DECODED, FETCHED, SWEPT)


@dataclass(eq=False)
class Scope:
    node: ast.AST
    parent: Scope | None
    assigns: list[tuple[str, ast.expr]] = field(default_factory=list)
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
    env_loops: list[ast.AST] = field(default_factory=list)
    returns: list[tuple[ast.expr, Scope]] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    decoder_helpers: frozenset[str] = frozenset()
    fetch_helpers: frozenset[str] = frozenset()
    _info: dict[int, ExprInfo] = field(default_factory=dict)

    def qualname(self, node: ast.AST) -> str | None:
        return qualname(node, self.aliases)

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
                if is_decoder_call(sub, self.aliases, self.decoder_helpers):
                    kinds.add(DECODED)
                if is_fetch_call(sub, self.aliases, self.fetch_helpers):
                    kinds.add(FETCHED)
            elif is_reversed_literal(sub):
                kinds.add(DECODED)
            if id(sub) in self.sweeps:
                kinds.add(SWEPT)
        return ExprInfo(frozenset(names), frozenset(kinds))

    def kinds_of(self, node: ast.AST, scope: Scope) -> set[str]:
        """The kinds of data an expression carries, directly or through names assigned in reach."""
        info = self.info(node)
        kinds = set(info.kinds)
        for enclosing in scope.chain():
            tainted = self.taint(enclosing)
            kinds.update(kind for kind, names in tainted.items() if names & info.names)
        return kinds

    def taint(self, scope: Scope) -> dict[str, set[str]]:
        """Per kind, the names this scope assigns from such data (a fixpoint over its assignments)."""
        if scope._taint is None:
            tainted: dict[str, set[str]] = {kind: set() for kind in KINDS}
            for _ in range(6):
                if not self._propagate(scope, tainted):
                    break
            scope._taint = tainted
        return scope._taint

    def _propagate(self, scope: Scope, tainted: dict[str, set[str]]) -> bool:
        changed = False
        for name, value in scope.assigns:
            info = self.info(value)
            for kind in KINDS:
                if name not in tainted[kind] and (kind in info.kinds or info.names & tainted[kind]):
                    tainted[kind].add(name)
                    changed = True
        return changed


def build_facts(path: str, source: SourceText, tree: ast.Module, install_script: bool) -> PyFacts:
    facts = PyFacts(path=path, source=source, tree=tree, install_script=install_script)
    module = Scope(tree, None)
    facts.scopes.append(module)
    stack: list[tuple[ast.AST, Scope, ast.AST | None]] = [(tree, module, None)]
    while stack:
        node, scope, parent = stack.pop()
        inner = _visit(facts, node, scope, parent)
        stack.extend((child, inner, node) for child in ast.iter_child_nodes(node))
    _find_helpers(facts)
    return facts


def _visit(facts: PyFacts, node: ast.AST, scope: Scope, parent: ast.AST | None) -> Scope:
    if isinstance(node, _SCOPES):
        inner = Scope(node, scope)
        facts.scopes.append(inner)
        return inner
    if isinstance(node, ast.Import | ast.ImportFrom):
        _record_import(facts, node)
    elif isinstance(node, ast.Call):
        facts.calls.append((node, scope))
    elif isinstance(node, ast.Return) and node.value is not None:
        facts.returns.append((node.value, scope))
    elif isinstance(node, ast.Constant):
        # A bare string statement is a docstring or a comment in disguise, not data the code uses.
        if isinstance(node.value, str | bytes) and len(node.value) >= _MIN_STRING and not isinstance(parent, ast.Expr):
            facts.strings.append((_as_text(node.value), node.lineno))
    elif isinstance(node, ast.JoinedStr | ast.BinOp) and not isinstance(parent, ast.BinOp | ast.JoinedStr):
        _record_template(facts, node)
    elif isinstance(node, ast.Attribute | ast.Name):
        _record_environ(facts, node, parent)
    _record_assignment(scope, node)
    return scope


def _as_text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("latin-1")


def _record_template(facts: PyFacts, node: ast.JoinedStr | ast.BinOp) -> None:
    text = render(node, facts.aliases)
    if text and len(text.replace("{}", "")) >= _MIN_STRING:
        facts.strings.append((text, node.lineno))


def _record_import(facts: PyFacts, node: ast.Import | ast.ImportFrom) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            facts.imports.append((alias.name, node.lineno))
            if alias.asname:
                facts.aliases[alias.asname] = alias.name
        return
    base = "." * node.level + (node.module or "")
    for alias in node.names:
        full = f"{base}.{alias.name}" if node.module else base + alias.name
        facts.imports.append((full, node.lineno))
        facts.aliases[alias.asname or alias.name] = full


def _record_environ(facts: PyFacts, node: ast.Attribute | ast.Name, parent: ast.AST | None) -> None:
    if isinstance(node, ast.Attribute) and node.attr != "environ":
        return
    if isinstance(node, ast.Name) and facts.aliases.get(node.id) != "os.environ":
        return
    if facts.qualname(node) != "os.environ" or not _is_sweep(node, parent):
        return
    facts.sweeps.add(id(node))
    if isinstance(parent, ast.For | ast.comprehension):
        facts.env_loops.append(parent)


def _is_sweep(node: ast.AST, parent: ast.AST | None) -> bool:
    if isinstance(parent, ast.Subscript | ast.Compare):
        return False
    if isinstance(parent, ast.Attribute):
        return parent.attr not in _ENV_SINGLE_ATTRS
    if isinstance(parent, ast.keyword):
        return parent.arg != "env"
    return isinstance(parent, ast.Call | ast.For | ast.comprehension | ast.Dict | ast.Assign | ast.FormattedValue)


def _record_assignment(scope: Scope, node: ast.AST) -> None:
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
