"""Names built at run time: a module or attribute reached through `__import__`, `importlib.import_module`,
`getattr`, `globals()[...]`, `vars(...)[...]` or `__builtins__` with a name assembled from pieces.

What folds (pyfold) is resolved to its plain spelling, so every other rule judges `getattr(__import__("o"+"s"),
"sys"+"tem")(cmd)` as it judges `os.system(cmd)`; reaching a process, code or native-loading function that way is
itself reported. Plugin loading (`import_module(f".nodes.{name}", __package__)`) and `getattr(self, name)` do not
fold, or fold to something harmless, and stay quiet.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from functions.scanner.rules.base import HIGH, Hit
from functions.scanner.rules.pyfacts import PyFacts, Scope
from functions.scanner.rules.pyfold import Folder

_IMPORTERS = {"__import__", "importlib.import_module", "importlib.__import__", "builtins.__import__"}
_BUILTIN_NAMESPACES = {"__builtins__", "builtins", "__builtin__", "builtins.__dict__", "__builtins__.__dict__"}
# What reaching by a built name is worth reporting: processes, code, native code, raw sockets.
_DANGEROUS_PREFIXES = (
    "os.system", "os.popen", "os.exec", "os.spawn", "os.posix_spawn", "os.startfile", "subprocess.", "pty.",
    "commands.", "builtins.exec", "builtins.eval", "builtins.compile", "builtins.__import__", "marshal.loads",
    "pickle.loads", "ctypes.", "_ctypes.", "socket.", "urllib.request.urlopen", "requests.", "runpy.",
    "importlib.import_module", "types.FunctionType", "types.CodeType",
)  # fmt: skip
_PLAIN_BUILTINS = {"exec", "eval", "compile", "__import__", "open", "getattr"}
_MAX_DEPTH = 12


LOOKUP_WORDS = ("getattr", "__import__", "import_module", "globals", "vars", "locals", "builtins", "__dict__")


def note_lookups(facts: PyFacts) -> None:
    """Names bound to a lookup that resolves (`f = getattr(os, "sys" + "tem")`), and functions returning one:
    calls through them are read even where no rule's word shows (pygate)."""
    resolver = _Resolver(facts)
    seen = facts.lookups_seen  # values already judged in an earlier round of the walk
    for scope in facts.scopes:
        node = scope.node
        function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in facts.dynamic_names
        if function and any(_is_lookup(facts, v) and resolver.name(v, scope, 0) for v in scope.returned):
            facts.dynamic_names.add(node.name)  # type: ignore[attr-defined]
    for scope in facts.scopes:
        for name, value in scope.bound:
            # `self.f = getattr(...)` binds `self` for the taint, but a parameter is never the function looked up.
            if name in facts.dynamic_names or id(value) in seen:
                continue
            seen.add(id(value))
            if _is_lookup(facts, value) and not _by_parameter(value, scope) and resolver.name(value, scope, 0):
                facts.dynamic_names.update({name} - scope.parameters)


def _by_parameter(value: ast.AST, scope: Scope) -> bool:
    """`getattr(self, name)`, `import_module(name)`: the name is the caller's, so nothing here folds it."""
    if not isinstance(value, ast.Call) or not value.args:
        return False
    key = value.args[1] if len(value.args) > 1 else value.args[0]
    return isinstance(key, ast.Name) and key.id in scope.parameters


def resolve_calls(facts: PyFacts) -> dict[int, str]:
    """For each call reached through a built name that folds: id(call) -> the plain name (`os.system`)."""
    if not any(_looks_dynamic(facts, call.func) for call, _ in facts.calls):
        return {}
    resolver = _Resolver(facts)
    resolved: dict[int, str] = {}
    for call, scope in facts.calls:
        if _looks_dynamic(facts, call.func):
            name = resolver.name(call.func, scope, 0)
            if name:
                resolved[id(call)] = name
    return resolved


def check(facts: PyFacts) -> Iterator[Hit]:
    for call, _ in facts.calls:
        name = facts.dynamic.get(id(call))
        if name and _dangerous(name):
            yield Hit("PY-DYNAMIC-NAME", HIGH, call.lineno, f"{name} reached through a name built at run time")


def _dangerous(name: str) -> bool:
    plain = name.removeprefix("__builtins__.").removeprefix("__builtin__.")
    if plain in _PLAIN_BUILTINS - {"open", "getattr"}:
        plain = "builtins." + plain
    return plain.startswith(_DANGEROUS_PREFIXES)


def _is_lookup(facts: PyFacts, value: ast.AST) -> bool:
    """`getattr(...)`, `__import__(...)`, `import_module(...)` or a subscript of a namespace, maybe attributed."""
    return isinstance(value, ast.Call | ast.Subscript | ast.Attribute) and _looks_dynamic(facts, value)


def _looks_dynamic(facts: PyFacts, func: ast.AST) -> bool:
    """A call whose callee is looked up at run time (cheap test before any folding)."""
    while isinstance(func, ast.Attribute):
        func = func.value
    if isinstance(func, ast.Subscript):
        return True
    if isinstance(func, ast.Call):
        callee = facts.qualname(func.func) or ""
        return callee in {"getattr", *_IMPORTERS} or callee in facts.dynamic_names or _looks_dynamic(facts, func.func)
    return isinstance(func, ast.Name) and func.id in facts.dynamic_names


class _Resolver:
    def __init__(self, facts: PyFacts) -> None:
        self.facts = facts
        self.folder = Folder(facts)

    def name(self, node: ast.AST, scope: Scope, depth: int) -> str | None:
        """The dotted name an expression designates (a module, or a module's attribute), if it can be told."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Attribute):
            base = self.name(node.value, scope, depth + 1)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Name):
            return self._bound(node.id, scope, depth)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, scope, depth)
        if isinstance(node, ast.Call):
            return self._call(node, scope, depth)
        return None

    def _bound(self, name: str, scope: Scope, depth: int) -> str | None:
        if name in self.facts.imported or name in _BUILTIN_NAMESPACES:
            return self.facts.aliases.get(name, name)
        found = self.folder.binding(name, scope)
        if found is None:
            return name if name in _PLAIN_BUILTINS else None
        value, where = found
        return self.name(value, where, depth + 1) if isinstance(value, ast.Attribute | ast.Call | ast.Subscript |
                                                                ast.Name) else None  # fmt: skip

    def _call(self, node: ast.Call, scope: Scope, depth: int) -> str | None:
        callee = self.facts.qualname(node.func) or ""
        if callee in _IMPORTERS and node.args:
            module = self.folder.text(node.args[0], scope)
            return module if module and not module.startswith(".") else None
        if callee == "getattr" and len(node.args) >= 2:
            owner = self.name(node.args[0], scope, depth + 1)
            attribute = self.folder.text(node.args[1], scope)
            return f"{owner}.{attribute}" if owner and attribute else None
        if callee == "vars" and node.args:
            return self.name(node.args[0], scope, depth + 1)
        if callee in self.facts.dynamic_names and not node.args:
            return self._helper(callee, depth)
        return None

    def _helper(self, function: str, depth: int) -> str | None:
        """What a module function returning a lookup returns, when all its returns agree."""
        found = {
            self.name(value, scope, depth + 1)
            for scope in self.facts.scopes
            if isinstance(scope.node, ast.FunctionDef | ast.AsyncFunctionDef) and scope.node.name == function
            for value in scope.returns
        }
        return found.pop() if len(found) == 1 else None

    def _subscript(self, node: ast.Subscript, scope: Scope, depth: int) -> str | None:
        key = self.folder.text(node.slice, scope)
        if not key:
            return None
        base = node.value
        if isinstance(base, ast.Call) and (self.facts.qualname(base.func) or "") in ("globals", "locals"):
            return self.facts.aliases.get(key, "builtins" if key == "__builtins__" else key)
        if isinstance(base, ast.Attribute) and base.attr == "__dict__":
            owner = self.name(base.value, scope, depth + 1)
            return f"{owner}.{key}" if owner else None
        owner = self.name(base, scope, depth + 1)
        if owner in _BUILTIN_NAMESPACES:
            return f"builtins.{key}"
        return f"{owner}.{key}" if owner else None
