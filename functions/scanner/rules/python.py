"""Every Python rule over one file: parsed once, then the AST rules, then the string patterns."""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from functions.scanner.rules import py_exec, py_process, py_secrets, pynames
from functions.scanner.rules.base import HIGH, MEDIUM, Hit, SourceText
from functions.scanner.rules.commands import downloader_hits
from functions.scanner.rules.patterns import find_credentials, find_endpoints
from functions.scanner.rules.pydecode import decoded_literals, looks_like_code
from functions.scanner.rules.pygate import interesting_lines
from functions.scanner.rules.pywalk import build_facts

_SEPARATOR = "\n\x00\n"
_FALLBACK_EXEC = re.compile(r"(?<![\w.])(?:exec|eval|compile)\b\s*[(\s]")  # `exec(x)`, and Python 2's `exec x`
_FALLBACK_DECODE = re.compile(r"b64decode|b85decode|decompress\s*\(|marshal\.loads|fromhex|unhexlify|rot_?13")
_PYARMOR = re.compile(r"__pyarmor__|pyarmor_runtime|__armor_enter__")
_SHELLISH = re.compile(r"\b(?:curl|wget|certutil|bitsadmin|powershell|Invoke-WebRequest|iwr)\b", re.IGNORECASE)


@dataclass
class PythonResult:
    hits: list[Hit] = field(default_factory=list)
    tree: ast.Module | None = None


def analyze(source: SourceText, data: bytes, max_ast_bytes: int, install_script: bool) -> PythonResult:
    result = PythonResult()
    if "armor" in source.text and _PYARMOR.search(source.text):
        result.hits.append(Hit("PACKED-CODE", MEDIUM, None, "protected with PyArmor: the real code is not readable"))
    if len(data) > max_ast_bytes:
        note = f"{len(data)} bytes, over the {max_ast_bytes}-byte limit for syntax analysis: patterns only"
        result.hits.append(Hit("SCAN-INCOMPLETE", MEDIUM, None, note))
        result.hits.extend(fallback_hits(source))
        return result
    tree = parse(data, source.path)
    if isinstance(tree, str):
        result.hits.append(Hit("SCAN-INCOMPLETE", MEDIUM, None, f"does not parse ({tree}): patterns only"))
        result.hits.extend(fallback_hits(source))
        return result
    result.tree = tree
    result.hits.extend(_ast_hits(source, tree, install_script))
    return result


def parse(data: bytes, path: str) -> ast.Module | str:
    """The module, or why it cannot be read (bytes, so a coding declaration is honoured)."""
    try:
        return ast.parse(data, filename=path)  # the engine silences the warnings of old code for the whole scan
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return type(exc).__name__


def _ast_hits(source: SourceText, tree: ast.Module, install_script: bool) -> Iterator[Hit]:
    lines = interesting_lines(source.text)
    if not lines:
        return  # nothing any rule reads (pygate): no need to walk the tree
    facts = build_facts(source.path, source, tree, install_script, lines)
    yield from py_exec.check(facts)
    yield from py_process.check(facts)
    yield from py_secrets.check(facts)
    yield from pynames.check(facts)
    decoded = list(decoded_literals(facts))
    for text, line in decoded:
        if looks_like_code(text):
            yield Hit("PY-OBFUSCATED-EXEC", HIGH, line, "an encoded literal that decodes to Python code")
    yield from string_hits([*facts.strings, *decoded])


def string_hits(items: Iterable[tuple[str, int]]) -> Iterator[Hit]:
    """Endpoint, miner and credential patterns over many strings at once (one regex pass over their join)."""
    starts: list[int] = []
    lines: list[int] = []
    pieces: list[str] = []
    position = 0
    for text, line in items:
        starts.append(position)
        lines.append(line)
        pieces.append(text)
        position += len(text) + len(_SEPARATOR)
    if not pieces:
        return
    blob = _SEPARATOR.join(pieces)
    lower = blob.lower()
    matches = [*find_endpoints(blob, lower)]
    matches += find_credentials(blob.replace("\\", "/"), lower.replace("\\", "/"))
    for match in matches:
        index = bisect.bisect_right(starts, match.start) - 1
        yield Hit(match.pattern.rule, match.pattern.severity, lines[index], match.pattern.message)


def fallback_hits(source: SourceText) -> Iterator[Hit]:
    """For Python we cannot parse: the strongest signals, by pattern over the raw text."""
    text = source.text
    exec_match = _FALLBACK_EXEC.search(text)
    if exec_match is not None and _FALLBACK_DECODE.search(text):
        line, _ = source.line_col(exec_match.start())
        yield Hit("PY-OBFUSCATED-EXEC", HIGH, line, "exec/eval alongside decoding, in a file we could not parse")
    for number, raw in enumerate(source.lines(), 1):
        if _SHELLISH.search(raw):
            yield from downloader_hits(raw, number)
    for match in find_endpoints(text):
        line, col = source.line_col(match.start)
        yield Hit(match.pattern.rule, match.pattern.severity, line, match.pattern.message, col)
    for match in find_credentials(text.replace("\\", "/")):
        line, col = source.line_col(match.start)
        yield Hit(match.pattern.rule, match.pattern.severity, line, match.pattern.message, col)
