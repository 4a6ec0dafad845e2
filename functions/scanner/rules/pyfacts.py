"""One pass over a module's AST collecting what the Python rules ask about, and a small name-level taint.

The pass only records; names are resolved afterwards, once every import (wherever it sits) is known. The taint
is flow-insensitive and per scope: a name assigned, anywhere in a function, from decoded or downloaded data
carries that kind. It only runs for the kinds the module produces at all, which for most files is none.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from functions.scanner.rules.base import SourceText
from functions.scanner.rules.pyexpr import is_decoder_call, is_fetch_call, is_reversed_literal, qualname

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
    bound: list[tuple[str, ast.expr]] = field(default_factory=list)
    returned: list[ast.expr] = field(default_factory=list)
    # Statements no rule reads (pygate), whose bindings and returns are only read if the taint needs them.
    deferred: list[ast.stmt] = field(default_factory=list)
    producing: set[str] = field(default_factory=set)  # kinds produced by expressions directly in this scope
    _taint: dict[str, set[str]] | None = None
    _parameters: frozenset[str] | None = None

    @property
    def parameters(self) -> frozenset[str]:
        """The names a function scope receives as arguments (run-time data, whatever an outer scope binds)."""
        if self._parameters is None:
            node = self.node
            found: frozenset[str] = frozenset()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                args = node.args
                found = frozenset(
                    a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg) if a
                )
            self._parameters = found
        return self._parameters

    @property
    def assigns(self) -> list[tuple[str, ast.expr]]:
        """(name, value) for every name this scope binds."""
        if self.deferred:
            self._expand()
        return self.bound

    @property
    def returns(self) -> list[ast.expr]:
        if self.deferred:
            self._expand()
        return self.returned

    def _expand(self) -> None:
        stack: list[ast.AST] = list(self.deferred)
        self.deferred = []
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind in _SCOPES:
                continue
            if kind is ast.Return and node.value is not None:  # type: ignore[attr-defined]
                self.returned.append(node.value)  # type: ignore[attr-defined]
            elif kind in _BINDING:
                self.bound += binding_pairs(node)
            if kind in _COMPOUND:
                for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                    stack.extend(getattr(node, name, ()))

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
    scopes: list[Scope] = field(default_factory=list)
    present: set[str] = field(default_factory=set)  # the kinds some expression of this module produces
    decoder_helpers: frozenset[str] = frozenset()
    fetch_helpers: frozenset[str] = frozenset()
    templates: list[ast.expr] = field(default_factory=list)
    environ_refs: list[tuple[ast.expr, ast.AST | None, Scope]] = field(default_factory=list)
    # Calls reached through a name built at run time, by id: their plain name (pynames); names bound to lookups.
    dynamic: dict[int, str] = field(default_factory=dict)
    dynamic_names: set[str] = field(default_factory=set)
    lookups_seen: set[int] = field(default_factory=set)
    _info: dict[int, ExprInfo] = field(default_factory=dict)
    _names: dict[int, str] = field(default_factory=dict)
    _imported: set[str] | None = None

    def qualname(self, node: ast.AST) -> str | None:
        return qualname(node, self.aliases)

    def call_name(self, call: ast.Call) -> str:
        name = self._names.get(id(call))
        if name is None:
            name = self.dynamic.get(id(call)) or qualname(call.func, self.aliases) or ""
            self._names[id(call)] = name
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
        for sub in iter_nodes(node):
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


def iter_nodes(root: ast.AST) -> list[ast.AST]:
    """Every node under `root` (itself included), faster than `ast.walk`; contexts (Load, Store) left out."""
    out: list[ast.AST] = []
    stack = [root]
    pop, push, extend, add = stack.pop, stack.append, stack.extend, out.append
    node_type, list_type = ast.AST, list
    while stack:
        node = pop()
        add(node)
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list_type:
                extend(item for item in value if isinstance(item, node_type))
            elif isinstance(value, node_type) and not isinstance(value, ast.expr_context):
                push(value)
    return out


def binding_pairs(node: ast.AST) -> list[tuple[str, ast.expr]]:
    pairs: list[tuple[ast.AST, ast.expr]] = []
    if isinstance(node, ast.Assign):
        pairs = [(target, node.value) for target in node.targets]
    elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and node.value is not None:
        pairs = [(node.target, node.value)]
    elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        pairs = [(node.target, node.iter)]
    elif isinstance(node, ast.With | ast.AsyncWith):
        pairs = [(item.optional_vars, item.context_expr) for item in node.items if item.optional_vars is not None]
    return [(name, value) for target, value in pairs for name in _target_names(target)]


_BINDING = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith})
_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
_COMPOUND = frozenset(
    {ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar, ast.Match,
     ast.ExceptHandler, ast.match_case}
)  # fmt: skip


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


def mark_kinds(facts: PyFacts) -> None:
    """What needs every import known: the kinds of data present, sweeps of the environment, helpers."""
    _mark_producers(facts)
    for node, parent, scope in facts.environ_refs:
        if facts.qualname(node) == "os.environ" and _is_sweep(parent):
            facts.sweeps.add(id(node))
            facts.present.add(SWEPT)
            scope.producing.add(SWEPT)
    if DECODED in facts.present or FETCHED in facts.present:
        _find_helpers(facts)


def reset_kinds(facts: PyFacts, names: bool = True) -> None:
    """Forgets what depends on the kinds and helpers; call names too, unless only the helpers changed (a call's
    name depends on the imports and the resolved lookups alone)."""
    facts._info.clear()
    if names:
        facts._names.clear()
    facts._imported = None
    for scope in facts.scopes:
        scope._taint = None


def _mark_producers(facts: PyFacts) -> None:
    for call, scope in facts.calls:
        name = facts.call_name(call)
        if is_decoder_call(call, facts.aliases, facts.decoder_helpers, name):
            facts.present.add(DECODED)
            scope.producing.add(DECODED)
        if is_fetch_call(call, facts.aliases, facts.fetch_helpers, name):
            facts.present.add(FETCHED)
            scope.producing.add(FETCHED)


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
        for scope in facts.scopes:
            if not isinstance(scope.node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not any(enclosing.producing for enclosing in scope.chain()):
                continue  # no such data in reach: neither a value nor a name it reads carries any
            for value in scope.returns:
                kinds = facts.kinds_of(value, scope)
                if DECODED in kinds:
                    decoders.add(scope.node.name)
                if FETCHED in kinds:
                    fetchers.add(scope.node.name)
        if decoders == facts.decoder_helpers and fetchers == facts.fetch_helpers:
            return
        facts.decoder_helpers, facts.fetch_helpers = frozenset(decoders), frozenset(fetchers)
        reset_kinds(facts, names=False)
        _mark_producers(facts)
