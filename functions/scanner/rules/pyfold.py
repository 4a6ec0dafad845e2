"""A small constant folder over the AST: the text an expression builds from literals, never running anything.

Folds concatenation, `%`, `str.format`, f-strings, `join`, slicing (a reversed string), `chr`/`ord` arithmetic,
`bytes.fromhex`, base64 and the other static decoders of a literal, and names bound once, in reach, to something
that folds. Whatever else (a parameter, a call result, a name bound twice) does not fold: None.
"""

from __future__ import annotations

import ast
from typing import Any

from functions.scanner.rules.pydecode import apply_decoder
from functions.scanner.rules.pyfacts import PyFacts, Scope

_MAX_DEPTH = 24
_MAX_TEXT = 4096
_DECODE_ERRORS = (ValueError, TypeError, LookupError, OverflowError, UnicodeError, MemoryError)
_PURE = {"chr", "ord", "str", "bytes", "bytearray", "list", "tuple", "map", "reversed", "int", "codecs.decode"}
_PURE_LASTS = {
    "b64decode", "b32decode", "b16decode", "a85decode", "b85decode", "decodebytes", "decodestring", "unhexlify",
    "a2b_base64", "a2b_hex", "fromhex", "urlsafe_b64decode", "standard_b64decode", "decompress",
}  # fmt: skip
_PURE_METHODS = {"join", "format", "decode", "encode", "replace", "lower", "upper", "strip", "translate"}
_STR_METHODS = {"lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize", "swapcase", "casefold"}


class Folder:
    """Folds expressions of one module; `budget` bounds the work of one top-level question."""

    def __init__(self, facts: PyFacts) -> None:
        self.facts = facts
        self.budget = 0

    def text(self, node: ast.AST, scope: Scope) -> str | None:
        self.budget = 2000
        value = self._fold(node, scope, {}, 0)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return value if isinstance(value, str) else None

    def is_static(self, node: ast.AST, scope: Scope) -> bool:
        """Whether the value is built from literals only (through names bound in reach, pure builtins, decoders
        and string methods): a payload that ships inside the code, as opposed to data received at run time."""
        self.budget = 2000
        return self._static(node, scope, frozenset(), 0)

    def _static(self, node: ast.AST, scope: Scope, local: frozenset[str], depth: int) -> bool:
        self.budget -= 1
        if self.budget < 0 or depth > _MAX_DEPTH:
            return False
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            if node.id in local:
                return True
            found = self.binding(node.id, scope)
            return found is not None and self._static(found[0], found[1], frozenset(), depth + 1)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            bound = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            inner = local | bound
            parts = [g.iter for g in node.generators] + [c for g in node.generators for c in g.ifs]
            return all(self._static(p, scope, inner, depth + 1) for p in [*parts, node.elt])
        if isinstance(node, ast.Call):
            return self._static_call(node, scope, local, depth)
        if isinstance(node, ast.Attribute):
            return False
        children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, ast.expr_context | ast.operator |
                                                                            ast.unaryop)]  # fmt: skip
        allowed = ast.BinOp | ast.UnaryOp | ast.JoinedStr | ast.FormattedValue | ast.Subscript | ast.Slice | ast.List
        return isinstance(node, allowed | ast.Tuple) and all(self._static(c, scope, local, depth + 1) for c in children)

    def _static_call(self, node: ast.Call, scope: Scope, local: frozenset[str], depth: int) -> bool:
        func = node.func
        name = self.facts.qualname(func) or ""
        pure = name in _PURE or name.rsplit(".", 1)[-1] in _PURE_LASTS
        owner_ok = isinstance(func, ast.Attribute) and func.attr in _PURE_METHODS and (
            self._static(func.value, scope, local, depth + 1))  # fmt: skip
        if not (pure or owner_ok):
            return False
        values = [*node.args, *(k.value for k in node.keywords)]
        return all(self._static(v, scope, local, depth + 1) for v in values)

    def binding(self, name: str, scope: Scope) -> tuple[ast.expr, Scope] | None:
        """The one value `name` is bound to in the nearest scope that binds it (None if bound more than once)."""
        for enclosing in scope.chain():
            if name in enclosing.parameters:
                return None
            # By identity: a statement read twice (deferred, then walked) binds once.
            values = list({id(value): value for bound, value in enclosing.assigns if bound == name}.values())
            if values:
                return (values[0], enclosing) if len(values) == 1 else None
        return None

    def _fold(self, node: ast.AST, scope: Scope, env: dict[str, Any], depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0 or depth > _MAX_DEPTH:
            return None
        value = self._fold_node(node, scope, env, depth + 1)
        if isinstance(value, str | bytes) and len(value) > _MAX_TEXT:
            return None
        return value

    def _fold_node(self, node: ast.AST, scope: Scope, env: dict[str, Any], depth: int) -> Any:
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str | bytes | int) else None
        if isinstance(node, ast.Name):
            return self._name(node.id, scope, env, depth)
        if isinstance(node, ast.BinOp):
            return self._binop(node, scope, env, depth)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = self._fold(node.operand, scope, env, depth)
            return -operand if isinstance(operand, int) else None
        if isinstance(node, ast.JoinedStr):
            parts = [self._fold(v, scope, env, depth) for v in node.values]
            return "".join(parts) if all(isinstance(p, str) for p in parts) else None
        if isinstance(node, ast.FormattedValue):
            inner = self._fold(node.value, scope, env, depth)
            return str(inner) if isinstance(inner, str | int) and node.format_spec is None else None
        if isinstance(node, ast.Subscript):
            return self._subscript(node, scope, env, depth)
        if isinstance(node, ast.List | ast.Tuple):
            items = [self._fold(e, scope, env, depth) for e in node.elts]
            return items if all(i is not None for i in items) else None
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            return self._comprehension(node, scope, env, depth)
        if isinstance(node, ast.Call):
            return self._call(node, scope, env, depth)
        return None

    def _name(self, name: str, scope: Scope, env: dict[str, Any], depth: int) -> Any:
        if name in env:
            return env[name]
        found = self.binding(name, scope)
        if found is None:
            return None
        value, where = found
        return self._fold(value, where, {}, depth)

    def _binop(self, node: ast.BinOp, scope: Scope, env: dict[str, Any], depth: int) -> Any:
        left = self._fold(node.left, scope, env, depth)
        right = self._fold(node.right, scope, env, depth)
        if left is None or right is None:
            return None
        try:
            if isinstance(node.op, ast.Add | ast.Sub) and isinstance(left, int) and isinstance(right, int):
                return left + right if isinstance(node.op, ast.Add) else left - right
            if isinstance(node.op, ast.Add) and type(left) is type(right):
                return left + right
            if isinstance(node.op, ast.Mult) and isinstance(right, int) and 0 <= right <= 64:
                return left * right
            if isinstance(node.op, ast.BitXor) and isinstance(left, int) and isinstance(right, int):
                return left ^ right
            if isinstance(node.op, ast.Mod) and isinstance(left, str):
                return left % (tuple(right) if isinstance(right, list) else right)
        except _DECODE_ERRORS:
            return None
        return None

    def _subscript(self, node: ast.Subscript, scope: Scope, env: dict[str, Any], depth: int) -> Any:
        base = self._fold(node.value, scope, env, depth)
        if not isinstance(base, str | bytes | list):
            return None
        index = node.slice
        try:
            if isinstance(index, ast.Slice):
                parts = [self._fold(p, scope, env, depth) if p is not None else None for p in
                         (index.lower, index.upper, index.step)]  # fmt: skip
                if any(p is not None and not isinstance(p, int) for p in parts):
                    return None
                return base[slice(*parts)]
            position = self._fold(index, scope, env, depth)
            return base[position] if isinstance(position, int) else None
        except (IndexError, ValueError, TypeError):
            return None

    def _comprehension(
        self, node: ast.ListComp | ast.GeneratorExp, scope: Scope, env: dict[str, Any], depth: int
    ) -> Any:
        if len(node.generators) != 1 or node.generators[0].ifs or not isinstance(node.generators[0].target, ast.Name):
            return None
        generator = node.generators[0]
        items = self._fold(generator.iter, scope, env, depth)
        if not isinstance(items, list | str | bytes) or len(items) > 512:
            return None
        target = generator.target
        if not isinstance(target, ast.Name):
            return None
        out = [self._fold(node.elt, scope, {**env, target.id: item}, depth) for item in items]
        return out if all(o is not None for o in out) else None

    def _call(self, node: ast.Call, scope: Scope, env: dict[str, Any], depth: int) -> Any:
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id == "map"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Name)
        ):
            items = self._fold(node.args[1], scope, env, depth)
            try:
                return [_apply_builtin(node.args[0].id, i) for i in items] if isinstance(items, list | str) else None
            except ValueError:
                return None
        args = [self._fold(a, scope, env, depth) for a in node.args] if not node.keywords else None
        if args is None or any(a is None for a in args):
            return None
        name = self.facts.qualname(func) or ""
        try:
            if name == "chr" and len(args) == 1 and isinstance(args[0], int):
                return chr(args[0])
            if name == "ord" and len(args) == 1 and isinstance(args[0], str) and len(args[0]) == 1:
                return ord(args[0])
            if name in ("str", "bytes", "bytearray", "list") and len(args) == 1:
                return _convert(name, args[0])
            if isinstance(func, ast.Attribute):
                return self._method(func, name, args, scope, env, depth)
        except _DECODE_ERRORS:
            return None
        return None

    def _method(
        self, func: ast.Attribute, name: str, args: list[Any], scope: Scope, env: dict[str, Any], depth: int
    ) -> Any:
        decoded = apply_decoder(name, args[0], self.facts.aliases, args[1:]) if args and isinstance(
            args[0], str | bytes) else None  # fmt: skip
        if decoded is not None:
            return decoded
        owner = self._fold(func.value, scope, env, depth)
        method = func.attr
        if isinstance(owner, str) and method == "join" and len(args) == 1 and isinstance(args[0], list | str):
            return owner.join(str(a) if isinstance(a, str) else "\x00" for a in args[0])
        if isinstance(owner, str) and method == "format":
            return owner.format(*args)
        if isinstance(owner, str | bytes) and method in _STR_METHODS and not args:
            return getattr(owner, method)()
        if isinstance(owner, str) and method == "replace" and len(args) == 2:
            return owner.replace(args[0], args[1])
        if isinstance(owner, bytes) and method == "decode":
            return owner.decode(args[0] if args else "utf-8")
        if isinstance(owner, str) and method == "encode":
            return owner.encode(args[0] if args else "utf-8")
        return None


def _convert(kind: str, value: Any) -> Any:
    if kind == "str":
        return value if isinstance(value, str) else str(value) if isinstance(value, int) else None
    if kind == "list":
        return list(value) if isinstance(value, str | list) else None
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return bytes(value)
    return value if isinstance(value, bytes) else None


def _apply_builtin(name: str, item: Any) -> Any:
    if name == "chr" and isinstance(item, int):
        return chr(item)
    if name == "ord" and isinstance(item, str) and len(item) == 1:
        return ord(item)
    if name == "str":
        return str(item)
    raise ValueError(name)
