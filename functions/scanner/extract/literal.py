"""Python expressions as JSON values, statically: literals as themselves, anything computed as its source text."""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from typing import Any

_MAX_NODES = 5_000  # one node's INPUT_TYPES never needs more; a generated table would
_MAX_TEXT = 200
_MAX_DEPTH = 40


class Renderer:
    """Renders with a budget; `constants` maps module-level names to already rendered values."""

    def __init__(self, constants: Mapping[str, Any] | None = None) -> None:
        self.constants = constants or {}
        self.budget = _MAX_NODES
        self.computed: list[str] = []  # source texts of the parts that are not literals

    def render(self, node: ast.AST, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0 or depth > _MAX_DEPTH:
            return "…"
        if isinstance(node, ast.Constant):
            return _constant(node.value)
        if isinstance(node, ast.Dict):
            return self._dict(node, depth)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return [self.render(e, depth + 1) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            value = node.operand.value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return -value
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.constants[node.id]
        return self.text(node)

    def _dict(self, node: ast.Dict, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                out["**" + self.text(value)] = None
                continue
            rendered = self.render(key, depth + 1)
            out[rendered if isinstance(rendered, str) else str(rendered)] = self.render(value, depth + 1)
        return out

    def text(self, node: ast.AST) -> str:
        try:
            source = ast.unparse(node)
        except (ValueError, RecursionError, AttributeError):
            source = type(node).__name__
        source = source if len(source) <= _MAX_TEXT else source[: _MAX_TEXT - 1] + "…"
        self.computed.append(source)
        return source


def _constant(value: object) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # JSON has no infinity
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")[:_MAX_TEXT]
    return repr(value)[:_MAX_TEXT]


def is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True
